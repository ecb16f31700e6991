//! Opens on IPC$: CREATE of the `srvsvc` and `wkssvc` pipes, and CLOSE, READ, WRITE and
//! IOCTL (FSCTL_PIPE_TRANSCEIVE, FSCTL_VALIDATE_NEGOTIATE_INFO) on them.

use std::sync::Arc;

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::srvsvc::{Share, SrvsvcService};
use adjoin_rpc::wkssvc::WkssvcService;

use super::pipe::PipeOpen;
use super::{CAPABILITIES, MAX_OPENS, Refusal, SECURITY_MODE, ServerConnection};
use crate::proto::{
    Body, CloseRequest, CloseResponse, CreateRequest, CreateResponse, FSCTL_PIPE_TRANSCEIVE,
    FSCTL_VALIDATE_NEGOTIATE_INFO, FileId, Header, IoctlRequest, IoctlResponse, MAX_IO,
    ReadRequest, ReadResponse, ValidateNegotiateInfoResponse, WriteRequest, WriteResponse,
};

impl ServerConnection {
    /// Opens `srvsvc` or `wkssvc`.
    pub(super) fn create(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CreateRequest::from_message(msg)?;
        let name = req.name.trim_start_matches('\\').to_ascii_lowercase();
        let config = Arc::clone(&self.config);
        let service: Box<dyn adjoin_rpc::server::Service> = match name.as_str() {
            "srvsvc" => {
                let mut shares = vec![Share::ipc("IPC Service")];
                shares.extend(config.shares.iter().cloned());
                Box::new(SrvsvcService::new(
                    &config.identity.netbios_computer,
                    &config.comment,
                    shares,
                ))
            }
            "wkssvc" => Box::new(WkssvcService::new(
                &config.identity.netbios_computer,
                &config.identity.netbios_domain,
            )),
            _ => return Err(Refusal::Status(NtStatus::OBJECT_NAME_NOT_FOUND)),
        };
        let volatile = self.id();
        let session = self.tree(header)?;
        if session.opens.len() >= MAX_OPENS {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        session
            .opens
            .insert(volatile, PipeOpen::new(service, &name));
        let resp = CreateResponse {
            create_action: 1,
            file_attributes: 0x80,
            file_id: FileId {
                persistent: volatile,
                volatile,
            },
            ..CreateResponse::default()
        };
        Ok(self.reply(header, &resp, NtStatus::SUCCESS))
    }

    pub(super) fn open(&mut self, header: &Header, file: FileId) -> Result<&mut PipeOpen, Refusal> {
        self.tree(header)?
            .opens
            .get_mut(&file.volatile)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))
    }

    pub(super) fn close(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CloseRequest::from_message(msg)?;
        self.tree(header)?
            .opens
            .remove(&req.file_id.volatile)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))?;
        Ok(self.reply(header, &CloseResponse::default(), NtStatus::SUCCESS))
    }

    pub(super) fn write(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = WriteRequest::from_message(msg)?;
        let open = self.open(header, req.file_id)?;
        if !open.write(&req.data) {
            return Err(Refusal::Status(NtStatus::PIPE_BROKEN));
        }
        let count = u32::try_from(req.data.len()).unwrap_or(u32::MAX);
        Ok(self.reply(header, &WriteResponse { count }, NtStatus::SUCCESS))
    }

    pub(super) fn read(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = ReadRequest::from_message(msg)?;
        let max = req.length.min(MAX_IO) as usize;
        let (data, more) = self
            .open(header, req.file_id)?
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
        match req.ctl_code {
            FSCTL_PIPE_TRANSCEIVE => {
                let open = self.open(header, req.file_id)?;
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
            _ => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
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
