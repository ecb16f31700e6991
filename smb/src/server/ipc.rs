//! CREATE, CLOSE, READ, WRITE and IOCTL, sent to the pipe code (IPC$: the `srvsvc`,
//! `wkssvc` and `lsarpc` pipes and those a program adds, FSCTL_PIPE_TRANSCEIVE) or to
//! the file code (disk shares) by the tree or open they name; FSCTL_VALIDATE_NEGOTIATE_INFO for any tree; the
//! file-system controls of disk files in `fsctl`.
//!
//! A pipe's service is made for the session that opens it: srvsvc answers its
//! administrative calls (share paths, sessions, connections, files) to administrators
//! only, and lsarpc knows its caller for LsarGetUserName.

use std::sync::Arc;

use adjoin_rpc::codec::Codec;
use adjoin_rpc::lsa::{Caller, LsaService, MemberDomains};
use adjoin_rpc::ndr::Uuid;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::server::Service;
use adjoin_rpc::srvsvc::{ServerActivity, Share, SrvsvcService};
use adjoin_rpc::wkssvc::WkssvcService;

use super::files::Created;
use super::pending::Waiting;
use super::pipe::PipeOpen;
use super::token::UserToken;
use super::tree::Tree;
use super::{CAPABILITIES, MAX_OPENS, Open, Refusal, SECURITY_MODE, ServerConnection};
use crate::proto::{
    Body, CloseRequest, CloseResponse, CreateRequest, CreateResponse, FSCTL_PIPE_TRANSCEIVE,
    FSCTL_VALIDATE_NEGOTIATE_INFO, FileId, Header, IoctlRequest, IoctlResponse, MAX_IO,
    ReadRequest, ReadResponse, ValidateNegotiateInfoResponse, WriteRequest, WriteResponse,
};

impl ServerConnection {
    pub(super) fn create(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CreateRequest::from_message(msg)?;
        match self.tree_kind(header)? {
            Tree::Ipc => self.create_pipe(header, &req),
            Tree::Disk(share) => match self.create_file(header, &req, Arc::clone(&share))? {
                Created::Reply(reply) => Ok(reply),
                Created::Wait(deadline, key) => self.go_async(
                    header,
                    Waiting::Create {
                        req: Box::new(req),
                        share,
                        key,
                    },
                    deadline,
                ),
            },
        }
    }

    /// Opens `srvsvc`, `wkssvc` or `lsarpc` (`lsass` is its other name) for the
    /// session's user.
    fn create_pipe(&mut self, header: &Header, req: &CreateRequest) -> Result<Vec<u8>, Refusal> {
        let name = req.name.trim_start_matches('\\').to_ascii_lowercase();
        let token = self.tree(header)?.token.clone();
        let service = self
            .pipe_service(&name, token.as_deref())
            .ok_or(Refusal::Status(NtStatus::OBJECT_NAME_NOT_FOUND))?;
        let volatile = self.id();
        let session = self.tree(header)?;
        if session.opens.len() >= MAX_OPENS {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        session.opens.insert(
            volatile,
            Open::Pipe(header.tree_id, PipeOpen::new(service, &name)),
        );
        let file_id = FileId {
            persistent: volatile,
            volatile,
        };
        self.chain_file = Some(Ok(file_id));
        let resp = CreateResponse {
            create_action: 1,
            file_attributes: 0x80,
            file_id,
            ..CreateResponse::default()
        };
        Ok(self.reply(header, &resp, NtStatus::SUCCESS))
    }

    /// The RPC service behind pipe `name`, made for `token`'s user; `None` for a pipe
    /// this server does not have (lsarpc outside a domain).
    fn pipe_service(&self, name: &str, token: Option<&UserToken>) -> Option<Box<dyn Service>> {
        let config = &self.config;
        let ipc = &config.ipc;
        let admin = token.is_some_and(|t| ipc.is_admin(t));
        tracing::debug!(pipe = name, admin, "opening a pipe");
        Some(match name {
            "srvsvc" => {
                let mut shares = vec![Share::ipc("IPC Service")];
                shares.extend(config.shares.all().iter().map(|s| s.listing()));
                let activity: Arc<dyn ServerActivity> = ipc.tables.clone();
                Box::new(
                    SrvsvcService::new(&config.identity.netbios_computer, &config.comment, shares)
                        .in_domain(&config.identity.netbios_domain)
                        .administrator(admin)
                        .with_activity(activity),
                )
            }
            "wkssvc" => Box::new(WkssvcService::new(
                &config.identity.netbios_computer,
                &config.identity.netbios_domain,
            )),
            "lsarpc" | "lsass" => {
                let identity = &config.identity;
                let domains = MemberDomains {
                    netbios_domain: identity.netbios_domain.clone(),
                    dns_domain: identity.dns_domain.clone(),
                    // The join records neither the forest nor the domain's GUID.
                    dns_forest: identity.dns_domain.clone(),
                    domain_guid: Uuid::NIL,
                    domain_sid: ipc.domain_sid.clone()?,
                    computer: identity.netbios_computer.clone(),
                    machine_sid: ipc.machine_sid.clone()?,
                };
                let caller = token.map(|t| {
                    let (domain, user) = t.name.split_once('\\').unwrap_or(("", &t.name));
                    Caller {
                        domain: domain.to_owned(),
                        user: user.to_owned(),
                        admin,
                    }
                });
                Box::new(LsaService::new(
                    Arc::new(domains),
                    ipc.resolver.clone(),
                    caller,
                ))
            }
            other => return ipc.pipes.open(other, token),
        })
    }

    fn pipe(&mut self, header: &Header, file: FileId) -> Result<&mut PipeOpen, Refusal> {
        match self.open(header, file)? {
            Open::Pipe(_, pipe) => Ok(pipe),
            Open::File(_) => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
        }
    }

    pub(super) fn close(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CloseRequest::from_message(msg)?;
        let file = self.file_id(req.file_id)?;
        self.open(header, file)?;
        let open = self
            .tree(header)?
            .opens
            .remove(&file.volatile)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))?;
        let resp = match open {
            Open::Pipe(..) => CloseResponse::default(),
            Open::File(file) => self.close_file(header, file, req.flags)?,
        };
        Ok(self.reply(header, &resp, NtStatus::SUCCESS))
    }

    pub(super) fn write(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req, data) = WriteRequest::from_message_borrowed(msg)?;
        if let Open::File(_) = self.open(header, req.file_id)? {
            return self.write_file(header, &req, data);
        }
        let pipe = self.pipe(header, req.file_id)?;
        if !pipe.write(data) {
            return Err(Refusal::Status(NtStatus::PIPE_BROKEN));
        }
        let count = u32::try_from(data.len()).unwrap_or(u32::MAX);
        Ok(self.reply(header, &WriteResponse { count }, NtStatus::SUCCESS))
    }

    pub(super) fn read(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = ReadRequest::from_message(msg)?;
        if let Open::File(_) = self.open(header, req.file_id)? {
            return self.read_file(header, &req);
        }
        let max = req.length.min(MAX_IO) as usize;
        let (data, more) = self
            .pipe(header, req.file_id)?
            .read(max)
            .ok_or(Refusal::Status(NtStatus::PIPE_EMPTY))?;
        let resp = ReadResponse {
            data_remaining: 0,
            data,
        };
        Ok(self.reply(header, &resp, pipe_read_status(more)))
    }

    pub(super) fn ioctl(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = IoctlRequest::from_message(msg)?;
        self.check_ioctl(&req)?;
        match req.ctl_code {
            FSCTL_PIPE_TRANSCEIVE => {
                let open = self.pipe(header, req.file_id)?;
                if !open.write(&req.input) {
                    return Err(Refusal::Status(NtStatus::PIPE_BROKEN));
                }
                let max = req.max_output_response.min(MAX_IO) as usize;
                let (output, more) = open.read(max).unwrap_or_default();
                let resp = IoctlResponse {
                    ctl_code: req.ctl_code,
                    file_id: req.file_id,
                    output,
                };
                Ok(self.reply(header, &resp, pipe_read_status(more)))
            }
            // MS-SMB2 3.3.5.15.12: the signed answer a 3.0.x client checks.
            FSCTL_VALIDATE_NEGOTIATE_INFO => {
                self.session(header)?;
                if !self.validate_negotiate(&req) {
                    return Err(Refusal::Disconnect);
                }
                let info = ValidateNegotiateInfoResponse {
                    capabilities: CAPABILITIES,
                    guid: self.config.server_guid,
                    security_mode: SECURITY_MODE,
                    dialect: self.dialect.unwrap_or_default(),
                };
                let resp = IoctlResponse {
                    ctl_code: req.ctl_code,
                    file_id: req.file_id,
                    output: info.to_bytes(),
                };
                Ok(self.reply(header, &resp, NtStatus::SUCCESS))
            }
            // The file-system controls of disk files (`fsctl`); a pipe serves no others.
            _ => match self.open(header, req.file_id)? {
                Open::File(_) => self.fsctl(header, &req),
                Open::Pipe(..) => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
            },
        }
    }
}

/// A pipe read's status: STATUS_BUFFER_OVERFLOW when more of the message remains
/// (message mode), success otherwise.
fn pipe_read_status(more: bool) -> NtStatus {
    if more {
        NtStatus::BUFFER_OVERFLOW
    } else {
        NtStatus::SUCCESS
    }
}
