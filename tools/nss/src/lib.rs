//! libnss_adjoin.so.2: glibc's NSS module for domain users and groups.
//!
//! A lookup first reads the fast cache file adjoind writes (a read-only mapping: a warm
//! hit costs no system call but the vDSO clock), then asks adjoind over its socket, within
//! the timeout the cache file names (10 s without one). It never recurses into itself and
//! never waits longer than that timeout when the daemon is gone.
//!
//! `ADJOIN_NSS_CACHE` and `ADJOIN_SOCKET` override the paths, except in setuid programs;
//! `ADJOIN_NSS_DISABLE=1` turns the module off (adjoind sets it for itself).

mod entries;
mod mapping;

use std::cell::Cell;
use std::ffi::{CStr, c_char, c_int, c_long};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_idproto::{Client, Group, Passwd, Request, Response, name_key};

use crate::entries::Entry;

/// glibc's `enum nss_status`.
#[repr(C)]
#[allow(dead_code, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NssStatus {
    /// NSS_STATUS_TRYAGAIN: the buffer is too small (errno ERANGE) or try later.
    TryAgain = -2,
    /// NSS_STATUS_UNAVAIL: the service cannot answer.
    Unavail = -1,
    /// NSS_STATUS_NOTFOUND.
    NotFound = 0,
    /// NSS_STATUS_SUCCESS.
    Success = 1,
}

thread_local! {
    /// Set while this thread is inside the module: a re-entry answers UNAVAIL.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Whether environment overrides apply (not in setuid/setgid programs).
fn trusted_env() -> bool {
    // SAFETY: getauxval reads the process's auxiliary vector; it has no preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) == 0 }
}

fn env_path(var: &str, default: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if trusted_env() && !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(default),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs `f` once per entry into the module: not re-entered, never unwinding into C.
fn guarded(f: impl FnOnce() -> NssStatus) -> NssStatus {
    if std::env::var_os("ADJOIN_NSS_DISABLE").is_some_and(|v| v == "1") {
        return NssStatus::Unavail;
    }
    if INSIDE.with(|c| c.replace(true)) {
        return NssStatus::Unavail;
    }
    let status = catch_unwind(AssertUnwindSafe(f)).unwrap_or(NssStatus::Unavail);
    INSIDE.with(|c| c.set(false));
    status
}

/// Asks adjoind; `None` when it cannot answer (not running, timed out).
fn ask(req: &Request) -> Option<Response> {
    let timeout = Duration::from_millis(mapping::timeout_ms().into());
    let path = env_path(adjoin_idproto::SOCKET_ENV, adjoin_idproto::DEFAULT_SOCKET);
    let mut client = Client::connect(&path, timeout).ok()?;
    client.call(req).ok()
}

/// A user from the fast cache, else from adjoind.
fn lookup_user(
    by_cache: impl FnOnce(u64) -> Option<Passwd>,
    req: Request,
) -> Result<Option<Passwd>, NssStatus> {
    if let Some(p) = by_cache(now()) {
        return Ok(Some(p));
    }
    match ask(&req) {
        Some(Response::Passwd(p)) => Ok(Some(p)),
        Some(Response::NotFound) => Ok(None),
        _ => Err(NssStatus::Unavail),
    }
}

fn lookup_group(
    by_cache: impl FnOnce(u64) -> Option<Group>,
    req: Request,
) -> Result<Option<Group>, NssStatus> {
    if let Some(g) = by_cache(now()) {
        return Ok(Some(g));
    }
    match ask(&req) {
        Some(Response::Group(g)) => Ok(Some(g)),
        Some(Response::NotFound) => Ok(None),
        _ => Err(NssStatus::Unavail),
    }
}

/// The name glibc passes, or `None` when it is not UTF-8.
///
/// # Safety
/// `name` is null or a NUL-terminated string valid for this call.
unsafe fn name_arg(name: *const c_char) -> Option<String> {
    if name.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per this function's contract (glibc's).
    let name = unsafe { CStr::from_ptr(name) };
    name.to_str().ok().map(str::to_owned)
}

/// Fills `result` from `found` or says why not (ERANGE when the buffer is too small).
///
/// # Safety
/// The pointers are glibc's arguments: `result` a valid `struct passwd` or `struct group`
/// (as `E` says), `buffer` valid for `buflen` bytes, `errnop` a valid int.
unsafe fn answer<E: Entry>(
    found: Result<Option<E>, NssStatus>,
    result: *mut E::C,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    let status = match found {
        // SAFETY: forwarded from this function's contract.
        Ok(Some(e)) => match unsafe { e.fill(result, buffer, buflen) } {
            Ok(()) => return NssStatus::Success,
            Err(()) => {
                set_errno(errnop, libc::ERANGE);
                return NssStatus::TryAgain;
            }
        },
        Ok(None) => NssStatus::NotFound,
        Err(s) => s,
    };
    set_errno(
        errnop,
        if status == NssStatus::NotFound {
            libc::ENOENT
        } else {
            libc::EAGAIN
        },
    );
    status
}

fn set_errno(errnop: *mut c_int, value: c_int) {
    if !errnop.is_null() {
        // SAFETY: glibc passes a valid pointer to the caller's errno slot.
        unsafe { *errnop = value };
    }
}

/// `getpwnam_r` for domain users.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getpwnam_r(
    name: *const c_char,
    result: *mut libc::passwd,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        // SAFETY: glibc passes a NUL-terminated name.
        let Some(name) = (unsafe { name_arg(name) }) else {
            return NssStatus::NotFound;
        };
        let key = name_key(&name);
        let found = lookup_user(
            |now| mapping::with_view(|v| v.user_by_name(&key, now)),
            Request::GetPwNam { name },
        );
        // SAFETY: glibc's arguments, forwarded.
        unsafe { answer(found, result, buffer, buflen, errnop) }
    })
}

/// `getpwuid_r` for domain users.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getpwuid_r(
    uid: libc::uid_t,
    result: *mut libc::passwd,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        let found = lookup_user(
            |now| mapping::with_view(|v| v.user_by_uid(uid, now)),
            Request::GetPwUid { uid },
        );
        // SAFETY: glibc's arguments, forwarded.
        unsafe { answer(found, result, buffer, buflen, errnop) }
    })
}

/// `getgrnam_r` for domain groups.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getgrnam_r(
    name: *const c_char,
    result: *mut libc::group,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        // SAFETY: glibc passes a NUL-terminated name.
        let Some(name) = (unsafe { name_arg(name) }) else {
            return NssStatus::NotFound;
        };
        let key = name_key(&name);
        let found = lookup_group(
            |now| mapping::with_view(|v| v.group_by_name(&key, now)),
            Request::GetGrNam { name },
        );
        // SAFETY: glibc's arguments, forwarded.
        unsafe { answer(found, result, buffer, buflen, errnop) }
    })
}

/// `getgrgid_r` for domain groups.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getgrgid_r(
    gid: libc::gid_t,
    result: *mut libc::group,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        let found = lookup_group(
            |now| mapping::with_view(|v| v.group_by_gid(gid, now)),
            Request::GetGrGid { gid },
        );
        // SAFETY: glibc's arguments, forwarded.
        unsafe { answer(found, result, buffer, buflen, errnop) }
    })
}

/// `initgroups_dyn`: appends the user's gids (but `group`, which the caller has) to
/// `*groupsp`, growing it up to `limit` entries (none when `limit` <= 0).
///
/// # Safety
/// Called by glibc with its documented arguments: `start`, `size`, `groupsp` valid, the
/// array malloc'd with `*size` entries of which `*start` are used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_initgroups_dyn(
    user: *const c_char,
    group: libc::gid_t,
    start: *mut c_long,
    size: *mut c_long,
    groupsp: *mut *mut libc::gid_t,
    limit: c_long,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        // SAFETY: glibc passes a NUL-terminated name.
        let Some(name) = (unsafe { name_arg(user) }) else {
            return NssStatus::NotFound;
        };
        let key = name_key(&name);
        let gids = match mapping::with_view(|v| v.initgroups(&key, now())) {
            Some(g) => g,
            None => match ask(&Request::InitGroups { name }) {
                Some(Response::Gids(g)) => g,
                Some(Response::NotFound) => {
                    set_errno(errnop, libc::ENOENT);
                    return NssStatus::NotFound;
                }
                _ => {
                    set_errno(errnop, libc::EAGAIN);
                    return NssStatus::Unavail;
                }
            },
        };
        // SAFETY: glibc's array arguments, forwarded.
        match unsafe { entries::append_gids(&gids, group, start, size, groupsp, limit) } {
            Ok(()) => NssStatus::Success,
            Err(()) => {
                set_errno(errnop, libc::ENOMEM);
                NssStatus::TryAgain
            }
        }
    })
}

/// Enumeration state: the list fetched at set*ent and the next index.
static USERS: Mutex<Option<(Vec<Passwd>, usize)>> = Mutex::new(None);
static GROUPS: Mutex<Option<(Vec<Group>, usize)>> = Mutex::new(None);

/// set*ent: fetches the whole list from adjoind.
fn start_enumeration<E>(
    state: &Mutex<Option<(Vec<E>, usize)>>,
    req: Request,
    list: fn(Response) -> Option<Vec<E>>,
) -> NssStatus {
    guarded(|| {
        let Some(entries) = ask(&req).and_then(list) else {
            return NssStatus::Unavail;
        };
        *state.lock().unwrap_or_else(|e| e.into_inner()) = Some((entries, 0));
        NssStatus::Success
    })
}

/// get*ent_r: the next entry (the same again after ERANGE, with a larger buffer).
///
/// # Safety
/// glibc's arguments, as in [`answer`].
unsafe fn next_entry<E: Entry + Clone>(
    state: &Mutex<Option<(Vec<E>, usize)>>,
    result: *mut E::C,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    guarded(|| {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let Some((list, next)) = state.as_mut() else {
            return NssStatus::Unavail;
        };
        let found = Ok(list.get(*next).cloned());
        // SAFETY: glibc's arguments, forwarded.
        let status = unsafe { answer(found, result, buffer, buflen, errnop) };
        if status == NssStatus::Success {
            *next += 1;
        }
        status
    })
}

/// `setpwent`: fetches the user list.
#[unsafe(no_mangle)]
pub extern "C" fn _nss_adjoin_setpwent() -> NssStatus {
    start_enumeration(&USERS, Request::EnumUsers, |r| match r {
        Response::Users(u) => Some(u),
        _ => None,
    })
}

/// `endpwent`.
#[unsafe(no_mangle)]
pub extern "C" fn _nss_adjoin_endpwent() -> NssStatus {
    *USERS.lock().unwrap_or_else(|e| e.into_inner()) = None;
    NssStatus::Success
}

/// `getpwent_r`: the next user.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getpwent_r(
    result: *mut libc::passwd,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    // SAFETY: glibc's arguments, forwarded.
    unsafe { next_entry(&USERS, result, buffer, buflen, errnop) }
}

/// `setgrent`: fetches the group list.
#[unsafe(no_mangle)]
pub extern "C" fn _nss_adjoin_setgrent() -> NssStatus {
    start_enumeration(&GROUPS, Request::EnumGroups, |r| match r {
        Response::Groups(g) => Some(g),
        _ => None,
    })
}

/// `endgrent`.
#[unsafe(no_mangle)]
pub extern "C" fn _nss_adjoin_endgrent() -> NssStatus {
    *GROUPS.lock().unwrap_or_else(|e| e.into_inner()) = None;
    NssStatus::Success
}

/// `getgrent_r`: the next group.
///
/// # Safety
/// Called by glibc with its documented arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _nss_adjoin_getgrent_r(
    result: *mut libc::group,
    buffer: *mut c_char,
    buflen: usize,
    errnop: *mut c_int,
) -> NssStatus {
    // SAFETY: glibc's arguments, forwarded.
    unsafe { next_entry(&GROUPS, result, buffer, buflen, errnop) }
}
