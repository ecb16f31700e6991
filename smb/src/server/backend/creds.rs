//! Running a file-system call as the session's user: the calling thread (only it: the raw
//! setresuid/setresgid/setgroups system calls, not libc's process-wide wrappers) takes the
//! user's uid, gid and groups, and gets root back when the call returns.

use adjoin_rpc::ntstatus::NtStatus;

use crate::server::token::UserToken;

/// Runs `f` with `token`'s credentials on this thread.
///
/// A daemon that is not root cannot change user: it then serves only a token of its own
/// uid and refuses others (ACCESS_DENIED) rather than acting for them with its own rights.
pub fn as_user<T>(token: &UserToken, f: impl FnOnce() -> T) -> Result<T, NtStatus> {
    let guard = Become::new(token)?;
    let out = f();
    drop(guard);
    Ok(out)
}

/// The thread's changed credentials; dropping it restores root.
struct Become {
    switched: bool,
}

#[cfg(target_os = "linux")]
impl Become {
    fn new(token: &UserToken) -> Result<Self, NtStatus> {
        use rustix::process::{Gid, Uid, geteuid};
        use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
        let me = geteuid();
        if !me.is_root() {
            return if me.as_raw() == token.uid {
                Ok(Self { switched: false })
            } else {
                tracing::warn!(user = %token.name, "adjoind is not root: it cannot act as another user");
                Err(NtStatus::ACCESS_DENIED)
            };
        }
        // Root is never a session's user: a mapping that produced uid 0 is refused.
        if token.uid == 0 || token.gid == 0 {
            return Err(NtStatus::ACCESS_DENIED);
        }
        let groups: Vec<Gid> = token
            .groups
            .iter()
            .filter(|g| **g != 0)
            .map(|g| Gid::from_raw(*g))
            .collect();
        // Groups and gid first, while this thread is still root; the effective uid last.
        // The saved ids stay root so the guard can switch back.
        let switched = Self { switched: true };
        set_thread_groups(&groups).map_err(|_| NtStatus::ACCESS_DENIED)?;
        set_thread_res_gid(None, Gid::from_raw(token.gid), None)
            .map_err(|_| NtStatus::ACCESS_DENIED)?;
        set_thread_res_uid(None, Uid::from_raw(token.uid), None)
            .map_err(|_| NtStatus::ACCESS_DENIED)?;
        Ok(switched)
    }
}

#[cfg(not(target_os = "linux"))]
impl Become {
    fn new(token: &UserToken) -> Result<Self, NtStatus> {
        let _ = token;
        // Per-thread credentials are Linux's; other systems get their own module.
        Err(NtStatus::NOT_SUPPORTED)
    }
}

impl Drop for Become {
    fn drop(&mut self) {
        if !self.switched {
            return;
        }
        #[cfg(target_os = "linux")]
        {
            use rustix::process::{Gid, Uid};
            use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
            let restored = set_thread_res_uid(None, Uid::ROOT, None)
                .and_then(|()| set_thread_res_gid(None, Gid::ROOT, None))
                .and_then(|()| set_thread_groups(&[]));
            if let Err(e) = restored {
                // A thread left running as a user would serve the next session with that
                // user's rights: stopping the daemon is the only safe answer.
                tracing::error!(error = %e, "cannot restore root credentials on a file-server thread; stopping");
                std::process::abort();
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use adjoin_rpc::ndr::Sid;

    fn token(uid: u32) -> UserToken {
        UserToken {
            name: "TEST\\user".into(),
            user_sid: "S-1-5-21-1-2-3-1000".parse::<Sid>().unwrap(),
            group_sids: Vec::new(),
            uid,
            gid: uid,
            groups: vec![uid, uid + 1],
        }
    }

    #[test]
    fn the_thread_acts_as_the_user_and_gets_root_back() {
        if !rustix::process::geteuid().is_root() {
            // As a plain user only the daemon's own uid is served.
            let me = rustix::process::geteuid().as_raw();
            assert_eq!(as_user(&token(me), || 1), Ok(1));
            assert_eq!(as_user(&token(me + 1), || 1), Err(NtStatus::ACCESS_DENIED));
            return;
        }
        // On a thread of its own, so a failure cannot leave the test harness's thread changed.
        std::thread::spawn(|| {
            let inside = as_user(&token(4242), || {
                (
                    rustix::process::geteuid().as_raw(),
                    rustix::process::getegid().as_raw(),
                    // A root-only file is now out of reach.
                    std::fs::read("/etc/shadow").map_err(|e| e.kind()),
                )
            })
            .unwrap();
            assert_eq!(inside.0, 4242);
            assert_eq!(inside.1, 4242);
            assert_eq!(inside.2, Err(std::io::ErrorKind::PermissionDenied));
            assert!(rustix::process::geteuid().is_root());
            assert_eq!(as_user(&token(0), || ()), Err(NtStatus::ACCESS_DENIED));
        })
        .join()
        .unwrap();
    }
}
