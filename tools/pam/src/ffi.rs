//! The few Linux-PAM calls the module makes (security/pam_modules.h, _pam_types.h).

use std::ffi::{c_char, c_int, c_void};

/// An opaque `pam_handle_t` (Linux-PAM's, passed to every entry point).
#[repr(C)]
#[derive(Debug)]
pub struct PamHandle {
    _private: [u8; 0],
}

/// `struct pam_message`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct PamMessage {
    pub(crate) msg_style: c_int,
    pub(crate) msg: *const c_char,
}

/// `struct pam_response`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct PamResponse {
    pub(crate) resp: *mut c_char,
    pub(crate) resp_retcode: c_int,
}

/// `struct pam_conv`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct PamConv {
    pub(crate) conv: Option<
        unsafe extern "C" fn(
            c_int,
            *mut *const PamMessage,
            *mut *mut PamResponse,
            *mut c_void,
        ) -> c_int,
    >,
    pub(crate) appdata_ptr: *mut c_void,
}

pub(crate) const PAM_SUCCESS: c_int = 0;
pub(crate) const PAM_SERVICE_ERR: c_int = 3;
pub(crate) const PAM_AUTH_ERR: c_int = 7;
pub(crate) const PAM_AUTHINFO_UNAVAIL: c_int = 9;
pub(crate) const PAM_USER_UNKNOWN: c_int = 10;
pub(crate) const PAM_CONV_ERR: c_int = 19;
pub(crate) const PAM_AUTHTOK_ERR: c_int = 20;

pub(crate) const PAM_SERVICE: c_int = 1;
pub(crate) const PAM_USER: c_int = 2;
pub(crate) const PAM_RHOST: c_int = 4;
pub(crate) const PAM_CONV: c_int = 5;
pub(crate) const PAM_AUTHTOK: c_int = 6;
pub(crate) const PAM_OLDAUTHTOK: c_int = 7;

pub(crate) const PAM_PROMPT_ECHO_OFF: c_int = 1;
pub(crate) const PAM_ERROR_MSG: c_int = 3;
pub(crate) const PAM_TEXT_INFO: c_int = 4;

pub(crate) const PAM_SILENT: c_int = 0x8000;
pub(crate) const PAM_PRELIM_CHECK: c_int = 0x4000;

// libpam is already loaded in every process that loads this module; the versioned file
// name is linked so that no development symlink (libpam0g-dev) is needed to build.
#[link(name = "libpam.so.0", kind = "dylib", modifiers = "+verbatim")]
unsafe extern "C" {
    pub(crate) fn pam_get_user(
        pamh: *mut PamHandle,
        user: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    pub(crate) fn pam_get_item(
        pamh: *const PamHandle,
        item_type: c_int,
        item: *mut *const c_void,
    ) -> c_int;
    pub(crate) fn pam_set_item(
        pamh: *mut PamHandle,
        item_type: c_int,
        item: *const c_void,
    ) -> c_int;
    pub(crate) fn pam_putenv(pamh: *mut PamHandle, name_value: *const c_char) -> c_int;
}
