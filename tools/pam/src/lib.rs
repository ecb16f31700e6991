//! pam_adjoin.so: Linux-PAM's module for domain users, a thin client of adjoind.
//!
//! Every stack asks adjoind over its socket (root only): `auth` sends the password
//! (adjoind runs Kerberos and verifies the KDC with the host's keytab, or the offline
//! verifier), `account` the account checks and the allow-list, `password` the change
//! through kpasswd, `session` her credential cache and home directory (KRB5CCNAME is put
//! into the PAM environment). Messages from adjoind are shown through the conversation.
//! See docs/pam_adjoin.md.

mod ffi;
pub mod options;

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use adjoin_idproto::{Client, PamReply, PamStatus, Request, Response, Secret};
use zeroize::Zeroizing;

pub use crate::ffi::PamHandle;
use crate::ffi::*;
use crate::options::{Options, Show, message};

/// Whether environment overrides apply (not in setuid/setgid programs).
fn trusted_env() -> bool {
    // SAFETY: getauxval reads the auxiliary vector; it has no preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) == 0 }
}

/// The module arguments.
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings (PAM's contract).
unsafe fn options(argc: c_int, argv: *const *const c_char) -> Options {
    let mut args = Vec::new();
    if !argv.is_null() {
        for i in 0..usize::try_from(argc).unwrap_or(0) {
            // SAFETY: i < argc entries, each NUL-terminated.
            let p = unsafe { *argv.add(i) };
            if !p.is_null() {
                // SAFETY: as above.
                args.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
            }
        }
    }
    let env = std::env::var_os(adjoin_idproto::SOCKET_ENV)
        .filter(|_| trusted_env())
        .map(PathBuf::from);
    Options::parse(args.iter().map(String::as_str), env).0
}

/// The handle and what every call needs.
struct Call {
    pamh: *mut PamHandle,
    flags: c_int,
    opts: Options,
}

impl Call {
    fn item_string(&self, item: c_int) -> Option<String> {
        let mut p: *const c_void = std::ptr::null();
        // SAFETY: pamh is PAM's handle; `p` receives a pointer PAM owns.
        let rc = unsafe { pam_get_item(self.pamh, item, &mut p) };
        if rc != PAM_SUCCESS || p.is_null() {
            return None;
        }
        // SAFETY: string items are NUL-terminated strings PAM owns.
        Some(
            unsafe { CStr::from_ptr(p.cast::<c_char>()) }
                .to_string_lossy()
                .into_owned(),
        )
    }

    fn secret_item(&self, item: c_int) -> Option<Secret> {
        self.item_string(item).map(Secret::new)
    }

    fn set_item_string(&self, item: c_int, value: &str) {
        if let Ok(c) = CString::new(value) {
            let c = Zeroizing::new(c.into_bytes_with_nul());
            // SAFETY: PAM copies the string; `c` lives across the call.
            unsafe { pam_set_item(self.pamh, item, c.as_ptr().cast()) };
        }
    }

    fn user(&self) -> Result<String, c_int> {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: pamh is PAM's handle; PAM owns the returned string.
        let rc = unsafe { pam_get_user(self.pamh, &mut p, std::ptr::null()) };
        if rc != PAM_SUCCESS || p.is_null() {
            return Err(if rc == PAM_SUCCESS {
                PAM_SERVICE_ERR
            } else {
                rc
            });
        }
        // SAFETY: a NUL-terminated string PAM owns.
        Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    /// One conversation message; the answer for a prompt.
    fn converse(&self, style: c_int, text: &str) -> Result<Option<Secret>, c_int> {
        let mut conv: *const c_void = std::ptr::null();
        // SAFETY: pamh is PAM's handle.
        if unsafe { pam_get_item(self.pamh, PAM_CONV, &mut conv) } != PAM_SUCCESS || conv.is_null()
        {
            return Err(PAM_CONV_ERR);
        }
        // SAFETY: the PAM_CONV item is a struct pam_conv.
        let conv = unsafe { &*conv.cast::<PamConv>() };
        let Some(f) = conv.conv else {
            return Err(PAM_CONV_ERR);
        };
        let text = CString::new(text.replace('\0', " ")).map_err(|_| PAM_CONV_ERR)?;
        let msg = PamMessage {
            msg_style: style,
            msg: text.as_ptr(),
        };
        let mut msgs = [&msg as *const PamMessage];
        let mut resp: *mut PamResponse = std::ptr::null_mut();
        // SAFETY: one message, as the conversation function expects; it allocates `resp`.
        let rc = unsafe { f(1, msgs.as_mut_ptr(), &mut resp, conv.appdata_ptr) };
        if rc != PAM_SUCCESS {
            return Err(PAM_CONV_ERR);
        }
        if resp.is_null() {
            return Ok(None);
        }
        // SAFETY: the application malloc'd one response; we own it now.
        let answer = unsafe {
            let r = (*resp).resp;
            let text = if r.is_null() {
                None
            } else {
                let s = CStr::from_ptr(r);
                let len = s.to_bytes().len();
                let out = Secret::new(s.to_string_lossy().into_owned());
                // Wipe the application's copy of the password before freeing it (zeroize's
                // volatile writes are not removed as dead stores before free).
                zeroize::Zeroize::zeroize(std::slice::from_raw_parts_mut(r.cast::<u8>(), len));
                libc::free(r.cast());
                Some(out)
            };
            libc::free(resp.cast());
            text
        };
        Ok(answer)
    }

    fn show(&self, reply: &PamReply) {
        if self.flags & PAM_SILENT != 0 {
            return;
        }
        if let Some((style, text)) = message(reply) {
            let style = match style {
                Show::Error => PAM_ERROR_MSG,
                Show::Info => PAM_TEXT_INFO,
            };
            let _ = self.converse(style, text);
        }
    }

    fn ask(&self, req: &Request) -> Result<PamReply, c_int> {
        let mut client = Client::connect(&self.opts.socket, self.opts.timeout)
            .map_err(|_| PAM_AUTHINFO_UNAVAIL)?;
        match client.call(req) {
            Ok(Response::Pam(reply)) => Ok(reply),
            _ => Err(PAM_AUTHINFO_UNAVAIL),
        }
    }

    /// Whether adjoind knows `user` (a lookup anyone may make); no answer is
    /// PAM_AUTHINFO_UNAVAIL.
    fn domain_user(&self, user: &str) -> Result<bool, c_int> {
        let mut client = Client::connect(&self.opts.socket, self.opts.timeout)
            .map_err(|_| PAM_AUTHINFO_UNAVAIL)?;
        match client.call(&Request::GetPwNam {
            name: user.to_owned(),
        }) {
            Ok(Response::Passwd(_)) => Ok(true),
            Ok(Response::NotFound) => Ok(false),
            _ => Err(PAM_AUTHINFO_UNAVAIL),
        }
    }

    fn password(&self, item: c_int, prompt: &str) -> Result<Secret, c_int> {
        if self.opts.use_first_pass || self.opts.try_first_pass {
            if let Some(p) = self.secret_item(item) {
                return Ok(p);
            }
            if self.opts.use_first_pass {
                return Err(PAM_AUTH_ERR);
            }
        }
        self.converse(PAM_PROMPT_ECHO_OFF, prompt)?
            .ok_or(PAM_CONV_ERR)
    }

    fn service(&self) -> String {
        self.item_string(PAM_SERVICE).unwrap_or_default()
    }
}

/// Runs one entry point: never unwinds into C.
///
/// # Safety
/// PAM's arguments to a `pam_sm_*` function.
unsafe fn entry(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
    f: impl FnOnce(&Call) -> Result<c_int, c_int>,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| {
        if pamh.is_null() {
            return PAM_SERVICE_ERR;
        }
        // SAFETY: forwarded from PAM.
        let opts = unsafe { options(argc, argv) };
        let call = Call { pamh, flags, opts };
        f(&call).unwrap_or_else(|rc| rc)
    }))
    .unwrap_or(PAM_SERVICE_ERR)
}

fn finish(call: &Call, reply: &PamReply) -> c_int {
    call.show(reply);
    reply.status as c_int
}

/// PAM auth: the password, checked by adjoind.
///
/// # Safety
/// Called by Linux-PAM with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_authenticate(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: PAM's arguments, forwarded.
    unsafe {
        entry(pamh, flags, argc, argv, |call| {
            let user = call.user()?;
            // A user adjoind does not know (root, local accounts) is not asked for a
            // password here: the next module asks, once, and it never reaches adjoind.
            if !call.domain_user(&user)? {
                return Ok(PAM_USER_UNKNOWN);
            }
            let password = call.password(PAM_AUTHTOK, "Password: ")?;
            // Stacked modules reuse it whatever adjoind says: one prompt in all.
            call.set_item_string(PAM_AUTHTOK, password.expose());
            let req = Request::Authenticate {
                service: call.service(),
                user: user.clone(),
                password: password.clone(),
                remote_host: call.item_string(PAM_RHOST).unwrap_or_default(),
            };
            let reply = call.ask(&req)?;
            if reply.status == PamStatus::Success && !reply.user.is_empty() && reply.user != user {
                call.set_item_string(PAM_USER, &reply.user);
            }
            Ok(finish(call, &reply))
        })
    }
}

/// PAM setcred: credentials are written when the session opens.
#[unsafe(no_mangle)]
pub extern "C" fn pam_sm_setcred(
    _pamh: *mut PamHandle,
    _flags: c_int,
    _argc: c_int,
    _argv: *const *const c_char,
) -> c_int {
    PAM_SUCCESS
}

/// PAM account: disabled, expired password, allow-list.
///
/// # Safety
/// Called by Linux-PAM with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_acct_mgmt(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: PAM's arguments, forwarded.
    unsafe {
        entry(pamh, flags, argc, argv, |call| {
            let reply = call.ask(&Request::AccountCheck {
                service: call.service(),
                user: call.user()?,
            })?;
            Ok(finish(call, &reply))
        })
    }
}

/// PAM session open: the ccache and home directory; KRB5CCNAME into the environment.
///
/// # Safety
/// Called by Linux-PAM with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_open_session(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: PAM's arguments, forwarded.
    unsafe {
        entry(pamh, flags, argc, argv, |call| {
            let reply = call.ask(&Request::OpenSession {
                service: call.service(),
                user: call.user()?,
            })?;
            for (k, v) in &reply.env {
                if let Ok(kv) = CString::new(format!("{k}={v}")) {
                    // SAFETY: PAM copies the string.
                    pam_putenv(call.pamh, kv.as_ptr());
                }
            }
            Ok(finish(call, &reply))
        })
    }
}

/// PAM session close.
///
/// # Safety
/// Called by Linux-PAM with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_close_session(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: PAM's arguments, forwarded.
    unsafe {
        entry(pamh, flags, argc, argv, |call| {
            let reply = call.ask(&Request::CloseSession {
                service: call.service(),
                user: call.user()?,
            })?;
            Ok(finish(call, &reply))
        })
    }
}

/// PAM password: the change through kpasswd.
///
/// # Safety
/// Called by Linux-PAM with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_chauthtok(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: PAM's arguments, forwarded.
    unsafe {
        entry(pamh, flags, argc, argv, |call| {
            let user = call.user()?;
            if flags & PAM_PRELIM_CHECK != 0 {
                // The daemon must be there to take the change.
                Client::connect(&call.opts.socket, call.opts.timeout)
                    .map_err(|_| PAM_AUTHINFO_UNAVAIL)?;
                return Ok(PAM_SUCCESS);
            }
            let old = match call.secret_item(PAM_OLDAUTHTOK) {
                Some(p) => p,
                None => call
                    .converse(PAM_PROMPT_ECHO_OFF, "Current password: ")?
                    .ok_or(PAM_CONV_ERR)?,
            };
            let new = match call
                .secret_item(PAM_AUTHTOK)
                .filter(|_| call.opts.use_first_pass)
            {
                Some(p) => p,
                None => {
                    let a = call
                        .converse(PAM_PROMPT_ECHO_OFF, "New password: ")?
                        .ok_or(PAM_CONV_ERR)?;
                    let b = call
                        .converse(PAM_PROMPT_ECHO_OFF, "Retype new password: ")?
                        .ok_or(PAM_CONV_ERR)?;
                    if a != b {
                        let _ = call.converse(PAM_ERROR_MSG, "Passwords do not match.");
                        return Err(PAM_AUTHTOK_ERR);
                    }
                    a
                }
            };
            let reply = call.ask(&Request::ChangePassword {
                user,
                old_password: old,
                new_password: new.clone(),
            })?;
            if reply.status == PamStatus::Success {
                call.set_item_string(PAM_AUTHTOK, new.expose());
            }
            Ok(finish(call, &reply))
        })
    }
}
