//! The requests and responses of the identity socket (docs/identity-protocol.md).
//!
//! ```text
//! frame    = u32 body-length | body
//! body     = u16 version (1) | u16 tag | fields of that tag, in the order declared
//! u32      = 4 bytes little-endian;  string = u32 byte-length | UTF-8
//! list     = u32 count | items
//! ```

use zeroize::Zeroizing;

use crate::wire::{Reader, Writer};
use crate::{PROTOCOL_VERSION, ProtoError};

/// A passwd entry (`struct passwd` without the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    /// The login name.
    pub name: String,
    /// The uid.
    pub uid: u32,
    /// The primary gid.
    pub gid: u32,
    /// The GECOS field (display name).
    pub gecos: String,
    /// The home directory.
    pub dir: String,
    /// The login shell.
    pub shell: String,
}

/// A group entry (`struct group` without the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group name.
    pub name: String,
    /// The gid.
    pub gid: u32,
    /// Its members' login names.
    pub members: Vec<String>,
}

/// A password on the wire: wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a password.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a client asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A user by name (any form).
    GetPwNam {
        /// The name.
        name: String,
    },
    /// A user by uid.
    GetPwUid {
        /// The uid.
        uid: u32,
    },
    /// A group by name.
    GetGrNam {
        /// The name.
        name: String,
    },
    /// A group by gid.
    GetGrGid {
        /// The gid.
        gid: u32,
    },
    /// Every gid of a user (primary first).
    InitGroups {
        /// The user's name.
        name: String,
    },
    /// Every user.
    EnumUsers,
    /// Every group.
    EnumGroups,
    /// PAM auth (root only).
    Authenticate {
        /// The PAM service.
        service: String,
        /// The user as typed.
        user: String,
        /// Her password.
        password: Secret,
        /// PAM_RHOST.
        remote_host: String,
    },
    /// PAM account (root only).
    AccountCheck {
        /// The PAM service.
        service: String,
        /// The user.
        user: String,
    },
    /// PAM session open (root only).
    OpenSession {
        /// The PAM service.
        service: String,
        /// The user.
        user: String,
    },
    /// PAM session close (root only).
    CloseSession {
        /// The PAM service.
        service: String,
        /// The user.
        user: String,
    },
    /// PAM password (root only).
    ChangePassword {
        /// The user.
        user: String,
        /// Her current password.
        old_password: Secret,
        /// The new one.
        new_password: Secret,
    },
    /// The service's state (JSON).
    Status,
    /// The cache's counts (JSON; root only).
    CacheShow,
    /// Forget the cache (root only).
    CacheFlush,
    /// The SMB server's statistics (JSON; root only), zeroed after reading when `reset`.
    ServerStats {
        /// Zero the counters after this answer.
        reset: bool,
    },
}

/// What the daemon answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A user.
    Passwd(Passwd),
    /// A group.
    Group(Group),
    /// A user's gids.
    Gids(Vec<u32>),
    /// Users.
    Users(Vec<Passwd>),
    /// Groups.
    Groups(Vec<Group>),
    /// No such user or group.
    NotFound,
    /// A PAM answer.
    Pam(PamReply),
    /// A JSON document (status, cache counts).
    Json(String),
    /// Done.
    Ok,
    /// The request was not answered.
    Error {
        /// Why, in a word.
        kind: ErrorKind,
        /// Why, for a person.
        message: String,
    },
}

/// The answer to a PAM request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamReply {
    /// What pam_sm_* returns.
    pub status: PamStatus,
    /// Shown to the user (an error when the status is not success), if not empty.
    pub message: String,
    /// The user's canonical name.
    pub user: String,
    /// Environment to set (`KRB5CCNAME`).
    pub env: Vec<(String, String)>,
}

/// Linux-PAM's return codes (security/_pam_types.h).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PamStatus {
    /// PAM_SUCCESS.
    Success = 0,
    /// PAM_PERM_DENIED.
    PermDenied = 6,
    /// PAM_AUTH_ERR.
    AuthErr = 7,
    /// PAM_CRED_INSUFFICIENT.
    CredInsufficient = 8,
    /// PAM_AUTHINFO_UNAVAIL.
    AuthinfoUnavail = 9,
    /// PAM_USER_UNKNOWN.
    UserUnknown = 10,
    /// PAM_MAXTRIES.
    MaxTries = 11,
    /// PAM_NEW_AUTHTOK_REQD.
    NewAuthtokReqd = 12,
    /// PAM_ACCT_EXPIRED.
    AcctExpired = 13,
    /// PAM_AUTHTOK_ERR.
    AuthtokErr = 20,
    /// PAM_IGNORE.
    Ignore = 25,
}

impl PamStatus {
    const ALL: [Self; 11] = [
        Self::Success,
        Self::PermDenied,
        Self::AuthErr,
        Self::CredInsufficient,
        Self::AuthinfoUnavail,
        Self::UserUnknown,
        Self::MaxTries,
        Self::NewAuthtokReqd,
        Self::AcctExpired,
        Self::AuthtokErr,
        Self::Ignore,
    ];

    fn from_code(code: i32) -> Result<Self, ProtoError> {
        Self::ALL
            .into_iter()
            .find(|s| *s as i32 == code)
            .ok_or(ProtoError::BadValue)
    }
}

/// Why a request was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The peer may not ask this (not root).
    Denied,
    /// The request could not be decoded.
    Malformed,
    /// No DC answered and the cache has nothing.
    Unavailable,
    /// Another protocol version.
    Version,
    /// The daemon failed.
    Internal,
}

impl ErrorKind {
    const ALL: [Self; 5] = [
        Self::Denied,
        Self::Malformed,
        Self::Unavailable,
        Self::Version,
        Self::Internal,
    ];
}

fn header(tag: u16) -> Writer {
    let mut w = Writer::default();
    w.u16(PROTOCOL_VERSION);
    w.u16(tag);
    w
}

/// The version and tag of a body.
fn open(body: &[u8]) -> Result<(u16, Reader<'_>), ProtoError> {
    let mut r = Reader::new(body);
    let version = r.u16()?;
    if version != PROTOCOL_VERSION {
        return Err(ProtoError::Version { got: version });
    }
    Ok((r.u16()?, r))
}

impl Request {
    /// The whole frame.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, fill): (u16, &dyn Fn(&mut Writer)) = match self {
            Self::GetPwNam { name } => (1, &|w| w.string(name)),
            Self::GetPwUid { uid } => (2, &|w| w.u32(*uid)),
            Self::GetGrNam { name } => (3, &|w| w.string(name)),
            Self::GetGrGid { gid } => (4, &|w| w.u32(*gid)),
            Self::InitGroups { name } => (5, &|w| w.string(name)),
            Self::EnumUsers => (6, &|_| {}),
            Self::EnumGroups => (7, &|_| {}),
            Self::Authenticate {
                service,
                user,
                password,
                remote_host,
            } => (16, &|w| {
                w.string(service);
                w.string(user);
                w.string(password.expose());
                w.string(remote_host);
            }),
            Self::AccountCheck { service, user } => (17, &|w| {
                w.string(service);
                w.string(user);
            }),
            Self::OpenSession { service, user } => (18, &|w| {
                w.string(service);
                w.string(user);
            }),
            Self::CloseSession { service, user } => (19, &|w| {
                w.string(service);
                w.string(user);
            }),
            Self::ChangePassword {
                user,
                old_password,
                new_password,
            } => (20, &|w| {
                w.string(user);
                w.string(old_password.expose());
                w.string(new_password.expose());
            }),
            Self::Status => (32, &|_| {}),
            Self::CacheShow => (33, &|_| {}),
            Self::CacheFlush => (34, &|_| {}),
            Self::ServerStats { reset } => (35, &|w| w.u32(u32::from(*reset))),
        };
        let mut w = header(tag);
        fill(&mut w);
        let frame = w.frame();
        // A frame with a password in it leaves no copy behind in freed memory.
        if matches!(
            self,
            Self::Authenticate { .. } | Self::ChangePassword { .. }
        ) {
            let mut wiped = Zeroizing::new(frame);
            return std::mem::take(&mut *wiped);
        }
        frame
    }

    /// Decodes a body (the frame without its length).
    pub fn decode(body: &[u8]) -> Result<Self, ProtoError> {
        let (tag, mut r) = open(body)?;
        let secret = |r: &mut Reader<'_>| r.string().map(Secret::new);
        let req = match tag {
            1 => Self::GetPwNam { name: r.string()? },
            2 => Self::GetPwUid { uid: r.u32()? },
            3 => Self::GetGrNam { name: r.string()? },
            4 => Self::GetGrGid { gid: r.u32()? },
            5 => Self::InitGroups { name: r.string()? },
            6 => Self::EnumUsers,
            7 => Self::EnumGroups,
            16 => Self::Authenticate {
                service: r.string()?,
                user: r.string()?,
                password: secret(&mut r)?,
                remote_host: r.string()?,
            },
            17 => Self::AccountCheck {
                service: r.string()?,
                user: r.string()?,
            },
            18 => Self::OpenSession {
                service: r.string()?,
                user: r.string()?,
            },
            19 => Self::CloseSession {
                service: r.string()?,
                user: r.string()?,
            },
            20 => Self::ChangePassword {
                user: r.string()?,
                old_password: secret(&mut r)?,
                new_password: secret(&mut r)?,
            },
            32 => Self::Status,
            33 => Self::CacheShow,
            34 => Self::CacheFlush,
            35 => Self::ServerStats {
                reset: r.u32()? != 0,
            },
            other => return Err(ProtoError::UnknownTag(other)),
        };
        r.finish()?;
        Ok(req)
    }
}

fn put_passwd(w: &mut Writer, p: &Passwd) {
    w.string(&p.name);
    w.u32(p.uid);
    w.u32(p.gid);
    w.string(&p.gecos);
    w.string(&p.dir);
    w.string(&p.shell);
}

fn get_passwd(r: &mut Reader<'_>) -> Result<Passwd, ProtoError> {
    Ok(Passwd {
        name: r.string()?,
        uid: r.u32()?,
        gid: r.u32()?,
        gecos: r.string()?,
        dir: r.string()?,
        shell: r.string()?,
    })
}

fn put_group(w: &mut Writer, g: &Group) {
    w.string(&g.name);
    w.u32(g.gid);
    w.strings(&g.members);
}

fn get_group(r: &mut Reader<'_>) -> Result<Group, ProtoError> {
    Ok(Group {
        name: r.string()?,
        gid: r.u32()?,
        members: r.strings()?,
    })
}

impl Response {
    /// The whole frame.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, fill): (u16, &dyn Fn(&mut Writer)) = match self {
            Self::Passwd(p) => (1, &|w| put_passwd(w, p)),
            Self::Group(g) => (2, &|w| put_group(w, g)),
            Self::Gids(g) => (3, &|w| w.u32s(g)),
            Self::Users(list) => (4, &|w| {
                w.len(list.len());
                list.iter().for_each(|p| put_passwd(w, p));
            }),
            Self::Groups(list) => (5, &|w| {
                w.len(list.len());
                list.iter().for_each(|g| put_group(w, g));
            }),
            Self::NotFound => (6, &|_| {}),
            Self::Pam(p) => (7, &|w| {
                w.i32(p.status as i32);
                w.string(&p.message);
                w.string(&p.user);
                w.len(p.env.len());
                for (k, v) in &p.env {
                    w.string(k);
                    w.string(v);
                }
            }),
            Self::Json(text) => (8, &|w| w.string(text)),
            Self::Ok => (9, &|_| {}),
            Self::Error { kind, message } => (10, &|w| {
                w.u32(*kind as u32);
                w.string(message);
            }),
        };
        let mut w = header(tag);
        fill(&mut w);
        w.frame()
    }

    /// Decodes a body (the frame without its length).
    pub fn decode(body: &[u8]) -> Result<Self, ProtoError> {
        let (tag, mut r) = open(body)?;
        let resp = match tag {
            1 => Self::Passwd(get_passwd(&mut r)?),
            2 => Self::Group(get_group(&mut r)?),
            3 => Self::Gids(r.u32s()?),
            4 => {
                let n = r.count(32)?;
                Self::Users(
                    (0..n)
                        .map(|_| get_passwd(&mut r))
                        .collect::<Result<_, _>>()?,
                )
            }
            5 => {
                let n = r.count(12)?;
                Self::Groups(
                    (0..n)
                        .map(|_| get_group(&mut r))
                        .collect::<Result<_, _>>()?,
                )
            }
            6 => Self::NotFound,
            7 => {
                let status = PamStatus::from_code(r.i32()?)?;
                let message = r.string()?;
                let user = r.string()?;
                let n = r.count(8)?;
                let env = (0..n)
                    .map(|_| Ok((r.string()?, r.string()?)))
                    .collect::<Result<_, ProtoError>>()?;
                Self::Pam(PamReply {
                    status,
                    message,
                    user,
                    env,
                })
            }
            8 => Self::Json(r.string()?),
            9 => Self::Ok,
            10 => {
                let kind = ErrorKind::ALL
                    .get(r.u32()? as usize)
                    .copied()
                    .ok_or(ProtoError::BadValue)?;
                Self::Error {
                    kind,
                    message: r.string()?,
                }
            }
            other => return Err(ProtoError::UnknownTag(other)),
        };
        r.finish()?;
        Ok(resp)
    }
}

/// The body length a frame's 4-byte prefix announces, refused over `max`.
pub fn frame_len(prefix: [u8; 4], max: usize) -> Result<usize, ProtoError> {
    let len = u32::from_le_bytes(prefix) as usize;
    if len > max {
        return Err(ProtoError::TooLarge { len, max });
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Passwd {
        Passwd {
            name: "alice".into(),
            uid: 1_001_103,
            gid: 1_000_513,
            gecos: "Alice Liddell".into(),
            dir: "/home/EXAMPLE/alice".into(),
            shell: "/bin/bash".into(),
        }
    }

    fn group() -> Group {
        Group {
            name: "engineers".into(),
            gid: 1_001_104,
            members: vec!["alice".into(), "zoë".into()],
        }
    }

    fn requests() -> Vec<Request> {
        let s = |t: &str| Secret::new(t.into());
        vec![
            Request::GetPwNam {
                name: "EXAMPLE\\zoë".into(),
            },
            Request::GetPwUid { uid: 7 },
            Request::GetGrNam {
                name: "domain users".into(),
            },
            Request::GetGrGid { gid: 9 },
            Request::InitGroups {
                name: "alice".into(),
            },
            Request::EnumUsers,
            Request::EnumGroups,
            Request::Authenticate {
                service: "sshd".into(),
                user: "alice".into(),
                password: s("pw"),
                remote_host: "h".into(),
            },
            Request::AccountCheck {
                service: "sshd".into(),
                user: "alice".into(),
            },
            Request::OpenSession {
                service: "su".into(),
                user: "alice".into(),
            },
            Request::CloseSession {
                service: "su".into(),
                user: "alice".into(),
            },
            Request::ChangePassword {
                user: "alice".into(),
                old_password: s("a"),
                new_password: s("b"),
            },
            Request::Status,
            Request::CacheShow,
            Request::CacheFlush,
            Request::ServerStats { reset: true },
        ]
    }

    fn responses() -> Vec<Response> {
        vec![
            Response::Passwd(alice()),
            Response::Group(group()),
            Response::Gids(vec![1, 2, 3]),
            Response::Users(vec![alice(), alice()]),
            Response::Groups(vec![group()]),
            Response::NotFound,
            Response::Pam(PamReply {
                status: PamStatus::NewAuthtokReqd,
                message: "change it".into(),
                user: "carol".into(),
                env: vec![("KRB5CCNAME".into(), "FILE:/tmp/x".into())],
            }),
            Response::Json("{}".into()),
            Response::Ok,
            Response::Error {
                kind: ErrorKind::Unavailable,
                message: "no DC".into(),
            },
        ]
    }

    #[test]
    fn every_request_and_response_round_trips() {
        for req in requests() {
            let frame = req.encode();
            assert_eq!(
                frame_len(frame[..4].try_into().unwrap(), usize::MAX).unwrap(),
                frame.len() - 4
            );
            assert_eq!(Request::decode(&frame[4..]).unwrap(), req);
        }
        for resp in responses() {
            let frame = resp.encode();
            assert_eq!(Response::decode(&frame[4..]).unwrap(), resp);
        }
    }

    #[test]
    fn every_truncation_and_any_trailing_byte_is_an_error() {
        for req in requests() {
            let frame = req.encode();
            for cut in 0..frame.len() - 4 {
                assert!(
                    Request::decode(&frame[4..4 + cut]).is_err(),
                    "{req:?} cut at {cut}"
                );
            }
            let mut long = frame[4..].to_vec();
            long.push(0);
            assert!(matches!(
                Request::decode(&long),
                Err(ProtoError::Trailing(1))
            ));
        }
        for resp in responses() {
            let frame = resp.encode();
            for cut in 0..frame.len() - 4 {
                assert!(
                    Response::decode(&frame[4..4 + cut]).is_err(),
                    "{resp:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn versions_tags_and_sizes_are_checked() {
        assert!(matches!(
            Request::decode(&[2, 0, 1, 0]),
            Err(ProtoError::Version { got: 2 })
        ));
        assert!(matches!(
            Request::decode(&[1, 0, 99, 0]),
            Err(ProtoError::UnknownTag(99))
        ));
        assert!(matches!(
            frame_len(65_537u32.to_le_bytes(), 65_536),
            Err(ProtoError::TooLarge { .. })
        ));
        // A list count larger than the bytes that follow is refused before allocating.
        let mut body = vec![1, 0, 3, 0];
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Response::decode(&body),
            Err(ProtoError::Truncated)
        ));
        // Bad UTF-8 in a name.
        let body = [1, 0, 1, 0, 1, 0, 0, 0, 0xff];
        assert!(matches!(Request::decode(&body), Err(ProtoError::BadUtf8)));
    }

    #[test]
    fn secrets_do_not_print() {
        let r = Request::Authenticate {
            service: "login".into(),
            user: "alice".into(),
            password: Secret::new("hunter2".into()),
            remote_host: String::new(),
        };
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = Request::decode(&body);
            let _ = Response::decode(&body);
        }
    }
}
