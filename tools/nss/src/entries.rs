//! Packing entries into the caller's buffer, the way glibc's `*_r` functions want them:
//! every string NUL-terminated inside `buffer`, the struct's pointers into it.

use std::ffi::c_char;
use std::ffi::c_long;

use adjoin_idproto::{Group, Passwd};

/// A bump allocator over the caller's buffer.
struct Buffer {
    at: *mut c_char,
    left: usize,
}

impl Buffer {
    /// Copies `s` with its NUL; `Err` when it does not fit (or holds a NUL).
    fn string(&mut self, s: &str) -> Result<*mut c_char, ()> {
        if s.as_bytes().contains(&0) || s.len() >= self.left {
            return Err(());
        }
        let start = self.at;
        // SAFETY: `left` bytes from `at` belong to the caller's buffer and s.len() + 1
        // <= left; the regions cannot overlap (ours is the caller's, s is Rust's).
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), start, s.len());
            *start.add(s.len()) = 0;
            self.at = start.add(s.len() + 1);
        }
        self.left -= s.len() + 1;
        Ok(start)
    }

    /// Room for `n` pointers, aligned.
    fn pointers(&mut self, n: usize) -> Result<*mut *mut c_char, ()> {
        let align = align_of::<*mut c_char>();
        let pad = self.at.align_offset(align);
        let need = n
            .checked_mul(size_of::<*mut c_char>())
            .ok_or(())?
            .checked_add(pad)
            .ok_or(())?;
        if need > self.left {
            return Err(());
        }
        // SAFETY: pad + n pointers fit in what is left of the caller's buffer.
        let start = unsafe { self.at.add(pad) }.cast::<*mut c_char>();
        // SAFETY: as above; `need` bytes are inside the buffer.
        self.at = unsafe { self.at.add(need) };
        self.left -= need;
        Ok(start)
    }
}

/// An entry glibc's `*_r` functions return: its C struct, filled with strings packed into
/// the caller's buffer.
pub(crate) trait Entry {
    /// `struct passwd` or `struct group`.
    type C;

    /// Fills `*result`, strings in `buffer`; `Err` when the buffer is too small.
    ///
    /// # Safety
    /// `result` points to a writable `C`; `buffer` is valid for `buflen` bytes.
    unsafe fn fill(
        &self,
        result: *mut Self::C,
        buffer: *mut c_char,
        buflen: usize,
    ) -> Result<(), ()>;
}

impl Entry for Passwd {
    type C = libc::passwd;

    unsafe fn fill(
        &self,
        result: *mut libc::passwd,
        buffer: *mut c_char,
        buflen: usize,
    ) -> Result<(), ()> {
        // SAFETY: forwarded from the trait's contract.
        unsafe { fill_passwd(self, result, buffer, buflen) }
    }
}

impl Entry for Group {
    type C = libc::group;

    unsafe fn fill(
        &self,
        result: *mut libc::group,
        buffer: *mut c_char,
        buflen: usize,
    ) -> Result<(), ()> {
        // SAFETY: forwarded from the trait's contract.
        unsafe { fill_group(self, result, buffer, buflen) }
    }
}

/// The caller's buffer, refused when either pointer is null.
fn caller_buffer<T>(result: *mut T, buffer: *mut c_char, buflen: usize) -> Result<Buffer, ()> {
    if result.is_null() || buffer.is_null() {
        return Err(());
    }
    Ok(Buffer {
        at: buffer,
        left: buflen,
    })
}

/// Fills `*result` from `p`, strings in `buffer`.
///
/// # Safety
/// `result` points to a writable `struct passwd`; `buffer` is valid for `buflen` bytes.
pub(crate) unsafe fn fill_passwd(
    p: &Passwd,
    result: *mut libc::passwd,
    buffer: *mut c_char,
    buflen: usize,
) -> Result<(), ()> {
    let mut b = caller_buffer(result, buffer, buflen)?;
    let name = b.string(&p.name)?;
    let passwd = b.string("x")?;
    let gecos = b.string(&p.gecos)?;
    let dir = b.string(&p.dir)?;
    let shell = b.string(&p.shell)?;
    // SAFETY: `result` is a valid struct passwd (this function's contract).
    unsafe {
        (*result).pw_name = name;
        (*result).pw_passwd = passwd;
        (*result).pw_uid = p.uid;
        (*result).pw_gid = p.gid;
        (*result).pw_gecos = gecos;
        (*result).pw_dir = dir;
        (*result).pw_shell = shell;
    }
    Ok(())
}

/// Fills `*result` from `g`, strings and the member array in `buffer`.
///
/// # Safety
/// `result` points to a writable `struct group`; `buffer` is valid for `buflen` bytes.
pub(crate) unsafe fn fill_group(
    g: &Group,
    result: *mut libc::group,
    buffer: *mut c_char,
    buflen: usize,
) -> Result<(), ()> {
    let mut b = caller_buffer(result, buffer, buflen)?;
    let members = b.pointers(g.members.len() + 1)?;
    for (i, m) in g.members.iter().enumerate() {
        let s = b.string(m)?;
        // SAFETY: `members` has room for members.len() + 1 pointers.
        unsafe { *members.add(i) = s };
    }
    // SAFETY: the last slot of the array, NULL-terminating it.
    unsafe { *members.add(g.members.len()) = std::ptr::null_mut() };
    let name = b.string(&g.name)?;
    let passwd = b.string("x")?;
    // SAFETY: `result` is a valid struct group (this function's contract).
    unsafe {
        (*result).gr_name = name;
        (*result).gr_passwd = passwd;
        (*result).gr_gid = g.gid;
        (*result).gr_mem = members;
    }
    Ok(())
}

/// Appends `gids` (but `skip`, and those already there) to glibc's malloc'd array,
/// growing it with realloc up to `limit` entries when `limit` > 0.
///
/// # Safety
/// `start`, `size` and `groupsp` are glibc's initgroups_dyn arguments: valid, with
/// `*groupsp` a malloc'd array of `*size` gids of which `*start` are used.
pub(crate) unsafe fn append_gids(
    gids: &[u32],
    skip: libc::gid_t,
    start: *mut c_long,
    size: *mut c_long,
    groupsp: *mut *mut libc::gid_t,
    limit: c_long,
) -> Result<(), ()> {
    if start.is_null() || size.is_null() || groupsp.is_null() {
        return Err(());
    }
    for &gid in gids {
        if gid == skip {
            continue;
        }
        // SAFETY: glibc's pointers (this function's contract).
        let (used, cap, array) = unsafe { (*start, *size, *groupsp) };
        let used_n = usize::try_from(used).map_err(|_| ())?;
        // SAFETY: the first `used` entries of the array are initialised gids.
        let have =
            !array.is_null() && unsafe { std::slice::from_raw_parts(array, used_n) }.contains(&gid);
        if have {
            continue;
        }
        if limit > 0 && used >= limit {
            return Ok(());
        }
        let mut array = array;
        if used >= cap {
            let mut new_cap = if cap <= 0 { 16 } else { cap.saturating_mul(2) };
            if limit > 0 {
                new_cap = new_cap.min(limit);
            }
            let bytes = usize::try_from(new_cap)
                .map_err(|_| ())?
                .checked_mul(size_of::<libc::gid_t>())
                .ok_or(())?;
            // SAFETY: `array` came from malloc (or is null); realloc keeps its contents.
            let grown = unsafe { libc::realloc(array.cast(), bytes) }.cast::<libc::gid_t>();
            if grown.is_null() {
                return Err(());
            }
            array = grown;
            // SAFETY: glibc's pointers: record the new array and its capacity.
            unsafe {
                *groupsp = array;
                *size = new_cap;
            }
        }
        // SAFETY: used < capacity now, so the slot is inside the array.
        unsafe {
            *array.add(used_n) = gid;
            *start = used + 1;
        }
    }
    Ok(())
}

// The tests call the unsafe packers on buffers they own, sized as the calls say.
#[cfg(test)]
#[allow(clippy::undocumented_unsafe_blocks)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_group_pack_or_report_erange() {
        let p = Passwd {
            name: "zoë".into(),
            uid: 5,
            gid: 6,
            gecos: "Zoë".into(),
            dir: "/home/z".into(),
            shell: "/bin/sh".into(),
        };
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as c_char; 64];
        unsafe { fill_passwd(&p, &mut pw, buf.as_mut_ptr(), buf.len()) }.unwrap();
        let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
        assert_eq!(name.to_str().unwrap(), "zoë");
        assert_eq!((pw.pw_uid, pw.pw_gid), (5, 6));
        let mut small = vec![0 as c_char; 10];
        assert!(unsafe { fill_passwd(&p, &mut pw, small.as_mut_ptr(), small.len()) }.is_err());

        let g = Group {
            name: "engineers".into(),
            gid: 9,
            members: vec!["alice".into(), "zoë".into()],
        };
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as c_char; 128];
        // An odd start, so the member array must be aligned.
        unsafe { fill_group(&g, &mut gr, buf.as_mut_ptr().add(1), buf.len() - 1) }.unwrap();
        assert_eq!(gr.gr_mem as usize % align_of::<*mut c_char>(), 0);
        let second = unsafe { std::ffi::CStr::from_ptr(*gr.gr_mem.add(1)) };
        assert_eq!(second.to_str().unwrap(), "zoë");
        assert!(unsafe { *gr.gr_mem.add(2) }.is_null());
    }

    #[test]
    fn gids_are_appended_grown_deduplicated_and_limited() {
        unsafe {
            let mut array = libc::malloc(2 * size_of::<libc::gid_t>()).cast::<libc::gid_t>();
            *array = 100;
            let (mut start, mut size): (c_long, c_long) = (1, 2);
            append_gids(
                &[100, 5, 6, 7, 5, 42],
                42,
                &mut start,
                &mut size,
                &mut array,
                0,
            )
            .unwrap();
            assert_eq!(
                std::slice::from_raw_parts(array, start as usize),
                [100, 5, 6, 7]
            );
            assert!(size >= 4);
            append_gids(&[8, 9, 10], 0, &mut start, &mut size, &mut array, 5).unwrap();
            assert_eq!(start, 5);
            libc::free(array.cast());
        }
    }
}
