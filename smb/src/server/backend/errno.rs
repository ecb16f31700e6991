//! The one table from a POSIX error to the NTSTATUS a client is shown.

use adjoin_rpc::ntstatus::NtStatus;

/// The status for an error a file-system call returned.
pub fn to_ntstatus(error: std::io::Error) -> NtStatus {
    match error.raw_os_error() {
        Some(code) => from_errno(code),
        None => NtStatus::UNEXPECTED_IO_ERROR,
    }
}

/// The status for `errno`.
pub fn from_errno(errno: i32) -> NtStatus {
    use rustix::io::Errno;
    // Errno::from_raw_os_error asserts the kernel's range (1 to 4095).
    if !(1..4096).contains(&errno) {
        return NtStatus::UNEXPECTED_IO_ERROR;
    }
    let e = Errno::from_raw_os_error(errno);
    match e {
        Errno::NOENT => NtStatus::OBJECT_NAME_NOT_FOUND,
        Errno::NOTDIR => NtStatus::OBJECT_PATH_NOT_FOUND,
        Errno::ACCESS | Errno::PERM => NtStatus::ACCESS_DENIED,
        Errno::EXIST => NtStatus::OBJECT_NAME_COLLISION,
        Errno::ISDIR => NtStatus::FILE_IS_A_DIRECTORY,
        Errno::NOTEMPTY => NtStatus::DIRECTORY_NOT_EMPTY,
        Errno::NOSPC | Errno::DQUOT => NtStatus::DISK_FULL,
        Errno::ROFS => NtStatus::MEDIA_WRITE_PROTECTED,
        Errno::NAMETOOLONG => NtStatus::OBJECT_NAME_INVALID,
        // openat2's RESOLVE_BENEATH: the name (a symlink in it) leads out of the share.
        Errno::XDEV => NtStatus::ACCESS_DENIED,
        // A symlink where O_NOFOLLOW or RESOLVE_NO_SYMLINKS refuses one.
        Errno::LOOP => NtStatus::ACCESS_DENIED,
        Errno::MFILE | Errno::NFILE => NtStatus::TOO_MANY_OPENED_FILES,
        Errno::BADF => NtStatus::INVALID_HANDLE,
        Errno::INVAL => NtStatus::INVALID_PARAMETER,
        Errno::FBIG => NtStatus::DISK_FULL,
        Errno::BUSY | Errno::TXTBSY => NtStatus::SHARING_VIOLATION,
        Errno::NOMEM => NtStatus::INSUFFICIENT_RESOURCES,
        Errno::OPNOTSUPP | Errno::NOSYS => NtStatus::NOT_SUPPORTED,
        Errno::MLINK => NtStatus::TOO_MANY_LINKS,
        _ => NtStatus::UNEXPECTED_IO_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_errors_map_to_what_windows_says() {
        let cases = [
            (libc_errno::ENOENT, NtStatus::OBJECT_NAME_NOT_FOUND),
            (libc_errno::EACCES, NtStatus::ACCESS_DENIED),
            (libc_errno::EEXIST, NtStatus::OBJECT_NAME_COLLISION),
            (libc_errno::ENOTEMPTY, NtStatus::DIRECTORY_NOT_EMPTY),
            (libc_errno::ENOSPC, NtStatus::DISK_FULL),
            (libc_errno::EXDEV, NtStatus::ACCESS_DENIED),
            (libc_errno::EMLINK, NtStatus::TOO_MANY_LINKS),
            (9999, NtStatus::UNEXPECTED_IO_ERROR),
        ];
        for (errno, status) in cases {
            assert_eq!(from_errno(errno), status, "errno {errno}");
        }
        assert_eq!(
            to_ntstatus(std::io::Error::other("not from the kernel")),
            NtStatus::UNEXPECTED_IO_ERROR
        );
    }

    /// Linux's numbers, so the test reads like the table.
    mod libc_errno {
        pub(super) const ENOENT: i32 = 2;
        pub(super) const EACCES: i32 = 13;
        pub(super) const EEXIST: i32 = 17;
        pub(super) const EXDEV: i32 = 18;
        pub(super) const ENOSPC: i32 = 28;
        pub(super) const EMLINK: i32 = 31;
        pub(super) const ENOTEMPTY: i32 = 39;
    }
}
