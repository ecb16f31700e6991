//! The module's arguments (`debug use_first_pass try_first_pass socket=PATH timeout=S`)
//! and how a daemon reply is shown: the parts that need no PAM handle.

use std::path::PathBuf;
use std::time::Duration;

use adjoin_idproto::{PamReply, PamStatus};

/// What the PAM configuration line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Log to syslog at debug level (unused so far; accepted).
    pub debug: bool,
    /// Take the password an earlier module set, and fail without one.
    pub use_first_pass: bool,
    /// Take the password an earlier module set, else ask.
    pub try_first_pass: bool,
    /// adjoind's socket.
    pub socket: PathBuf,
    /// How long to wait for adjoind (a logon may wait for the DC).
    pub timeout: Duration,
}

impl Options {
    /// Parses the module arguments; unknown ones are ignored (and returned for a log line).
    pub fn parse<'a>(
        args: impl IntoIterator<Item = &'a str>,
        env_socket: Option<PathBuf>,
    ) -> (Self, Vec<String>) {
        let mut o = Self {
            debug: false,
            use_first_pass: false,
            try_first_pass: false,
            socket: env_socket.unwrap_or_else(|| PathBuf::from(adjoin_idproto::DEFAULT_SOCKET)),
            timeout: Duration::from_secs(30),
        };
        let mut unknown = Vec::new();
        for a in args {
            match a {
                "debug" => o.debug = true,
                "use_first_pass" => o.use_first_pass = true,
                "try_first_pass" => o.try_first_pass = true,
                _ => {
                    if let Some(p) = a.strip_prefix("socket=") {
                        o.socket = PathBuf::from(p);
                    } else if let Some(t) = a
                        .strip_prefix("timeout=")
                        .and_then(|t| t.parse::<u64>().ok())
                    {
                        o.timeout = Duration::from_secs(t.clamp(1, 600));
                    } else {
                        unknown.push(a.to_owned());
                    }
                }
            }
        }
        (o, unknown)
    }
}

/// How a reply's message is shown: as an error unless the call succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// PAM_ERROR_MSG.
    Error,
    /// PAM_TEXT_INFO.
    Info,
}

/// The message to show for `reply`, if any.
pub fn message(reply: &PamReply) -> Option<(Show, &str)> {
    if reply.message.is_empty() {
        return None;
    }
    let style = if reply.status == PamStatus::Success {
        Show::Info
    } else {
        Show::Error
    };
    Some((style, &reply.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_with_defaults_and_overrides() {
        let (o, unknown) = Options::parse(
            ["use_first_pass", "socket=/tmp/s", "timeout=5", "bogus"],
            None,
        );
        assert!(o.use_first_pass && !o.try_first_pass && !o.debug);
        assert_eq!(o.socket, PathBuf::from("/tmp/s"));
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(unknown, ["bogus"]);
        let (o, _) = Options::parse([], Some(PathBuf::from("/env/sock")));
        assert_eq!(o.socket, PathBuf::from("/env/sock"));
        assert_eq!(o.timeout, Duration::from_secs(30));
        let (o, _) = Options::parse(["socket=/x"], Some(PathBuf::from("/env/sock")));
        assert_eq!(
            o.socket,
            PathBuf::from("/x"),
            "the module argument wins over the environment"
        );
    }

    #[test]
    fn messages_are_errors_unless_the_call_succeeded() {
        let mut r = PamReply {
            status: PamStatus::PermDenied,
            message: "disabled".into(),
            user: "dave".into(),
            env: vec![],
        };
        assert_eq!(message(&r), Some((Show::Error, "disabled")));
        r.status = PamStatus::Success;
        assert_eq!(message(&r), Some((Show::Info, "disabled")));
        r.message.clear();
        assert_eq!(message(&r), None);
    }
}
