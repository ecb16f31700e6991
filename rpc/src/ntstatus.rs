//! MS-ERREF 2.3.1 NTSTATUS values that RPC calls return, each with the
//! message an administrator is shown.

open_enum! {
    /// An NTSTATUS code (MS-ERREF 2.3.1).
    pub struct NtStatus(u32) {
        /// STATUS_SUCCESS.
        SUCCESS = 0x0000_0000 => "success",
        /// STATUS_MORE_ENTRIES.
        MORE_ENTRIES = 0x0000_0105 => "more entries are available",
        /// STATUS_SOME_NOT_MAPPED.
        SOME_NOT_MAPPED = 0x0000_0107 => "some names or SIDs could not be mapped",
        /// STATUS_NO_MORE_ENTRIES.
        NO_MORE_ENTRIES = 0x8000_001a => "no more entries",
        /// STATUS_INVALID_PARAMETER.
        INVALID_PARAMETER = 0xc000_000d => "invalid parameter (STATUS_INVALID_PARAMETER)",
        /// STATUS_ACCESS_DENIED.
        ACCESS_DENIED = 0xc000_0022 => "access denied (STATUS_ACCESS_DENIED)",
        /// STATUS_OBJECT_NAME_NOT_FOUND.
        OBJECT_NAME_NOT_FOUND = 0xc000_0034 => "object name not found (STATUS_OBJECT_NAME_NOT_FOUND)",
        /// STATUS_NO_SUCH_USER.
        NO_SUCH_USER = 0xc000_0064 => "no such user in the domain (STATUS_NO_SUCH_USER)",
        /// STATUS_WRONG_PASSWORD.
        WRONG_PASSWORD = 0xc000_006a => "wrong password (STATUS_WRONG_PASSWORD)",
        /// STATUS_LOGON_FAILURE.
        LOGON_FAILURE = 0xc000_006d => "unknown user name or bad password (STATUS_LOGON_FAILURE)",
        /// STATUS_ACCOUNT_RESTRICTION.
        ACCOUNT_RESTRICTION = 0xc000_006e => "account restriction (STATUS_ACCOUNT_RESTRICTION)",
        /// STATUS_INVALID_LOGON_HOURS.
        INVALID_LOGON_HOURS = 0xc000_006f => "logon outside the account's allowed hours (STATUS_INVALID_LOGON_HOURS)",
        /// STATUS_INVALID_WORKSTATION.
        INVALID_WORKSTATION = 0xc000_0070 => "the account may not log on from this workstation (STATUS_INVALID_WORKSTATION)",
        /// STATUS_PASSWORD_EXPIRED.
        PASSWORD_EXPIRED = 0xc000_0071 => "the password has expired (STATUS_PASSWORD_EXPIRED)",
        /// STATUS_ACCOUNT_DISABLED.
        ACCOUNT_DISABLED = 0xc000_0072 => "the account is disabled (STATUS_ACCOUNT_DISABLED)",
        /// STATUS_NONE_MAPPED.
        NONE_MAPPED = 0xc000_0073 => "none of the names or SIDs could be mapped (STATUS_NONE_MAPPED)",
        /// STATUS_INVALID_INFO_CLASS.
        INVALID_INFO_CLASS = 0xc000_0003 => "invalid information class (STATUS_INVALID_INFO_CLASS)",
        /// STATUS_NO_LOGON_SERVERS.
        NO_LOGON_SERVERS = 0xc000_005e => "no logon servers available (STATUS_NO_LOGON_SERVERS)",
        /// STATUS_NO_SUCH_DOMAIN.
        NO_SUCH_DOMAIN = 0xc000_00df => "no such domain (STATUS_NO_SUCH_DOMAIN)",
        /// STATUS_INSUFFICIENT_RESOURCES.
        INSUFFICIENT_RESOURCES = 0xc000_009a => "insufficient resources (STATUS_INSUFFICIENT_RESOURCES)",
        /// STATUS_NOT_SUPPORTED.
        NOT_SUPPORTED = 0xc000_00bb => "not supported (STATUS_NOT_SUPPORTED)",
        /// STATUS_INVALID_SERVER_STATE.
        INVALID_SERVER_STATE = 0xc000_00dc => "invalid server state (STATUS_INVALID_SERVER_STATE)",
        /// STATUS_NO_TRUST_SAM_ACCOUNT.
        NO_TRUST_SAM_ACCOUNT = 0xc000_018b => "the DC has no machine account for this host (STATUS_NO_TRUST_SAM_ACCOUNT)",
        /// STATUS_TRUSTED_RELATIONSHIP_FAILURE.
        TRUSTED_RELATIONSHIP_FAILURE = 0xc000_018d => "the trust relationship failed (STATUS_TRUSTED_RELATIONSHIP_FAILURE)",
        /// STATUS_ACCOUNT_EXPIRED.
        ACCOUNT_EXPIRED = 0xc000_0193 => "account expired (STATUS_ACCOUNT_EXPIRED)",
        /// STATUS_PASSWORD_MUST_CHANGE.
        PASSWORD_MUST_CHANGE = 0xc000_0224 => "the password has expired: it must be changed before the first logon (STATUS_PASSWORD_MUST_CHANGE)",
        /// STATUS_ACCOUNT_LOCKED_OUT.
        ACCOUNT_LOCKED_OUT = 0xc000_0234 => "the account is locked out (STATUS_ACCOUNT_LOCKED_OUT)",
        /// STATUS_DOWNGRADE_DETECTED.
        DOWNGRADE_DETECTED = 0xc000_0388 => "downgrade detected (STATUS_DOWNGRADE_DETECTED)",
        /// STATUS_PENDING (an SMB2 interim response).
        PENDING = 0x0000_0103 => "the operation is pending (STATUS_PENDING)",
        /// STATUS_BUFFER_OVERFLOW (more of a pipe message is waiting).
        BUFFER_OVERFLOW = 0x8000_0005 => "more data is available (STATUS_BUFFER_OVERFLOW)",
        /// STATUS_NO_MORE_FILES.
        NO_MORE_FILES = 0x8000_0006 => "no more files (STATUS_NO_MORE_FILES)",
        /// STATUS_INVALID_HANDLE.
        INVALID_HANDLE = 0xc000_0008 => "invalid handle (STATUS_INVALID_HANDLE)",
        /// STATUS_INVALID_DEVICE_REQUEST.
        INVALID_DEVICE_REQUEST = 0xc000_0010 => "invalid device request (STATUS_INVALID_DEVICE_REQUEST)",
        /// STATUS_END_OF_FILE.
        END_OF_FILE = 0xc000_0011 => "end of file (STATUS_END_OF_FILE)",
        /// STATUS_MORE_PROCESSING_REQUIRED (an authentication exchange goes on).
        MORE_PROCESSING_REQUIRED = 0xc000_0016 => "more processing required (STATUS_MORE_PROCESSING_REQUIRED)",
        /// STATUS_INVALID_VIEW_SIZE (a server-side copy reaching past its source's end).
        INVALID_VIEW_SIZE = 0xc000_001f => "the range lies past the end of the file (STATUS_INVALID_VIEW_SIZE)",
        /// STATUS_OBJECT_PATH_NOT_FOUND.
        OBJECT_PATH_NOT_FOUND = 0xc000_003a => "object path not found (STATUS_OBJECT_PATH_NOT_FOUND)",
        /// STATUS_PIPE_NOT_AVAILABLE.
        PIPE_NOT_AVAILABLE = 0xc000_00ac => "the pipe is not available (STATUS_PIPE_NOT_AVAILABLE)",
        /// STATUS_PIPE_EMPTY (a read of a pipe with nothing written to it).
        PIPE_EMPTY = 0xc000_00d9 => "the pipe is empty (STATUS_PIPE_EMPTY)",
        /// STATUS_PIPE_DISCONNECTED.
        PIPE_DISCONNECTED = 0xc000_00b0 => "the pipe is disconnected (STATUS_PIPE_DISCONNECTED)",
        /// STATUS_NETWORK_NAME_DELETED.
        NETWORK_NAME_DELETED = 0xc000_00c9 => "the share was disconnected (STATUS_NETWORK_NAME_DELETED)",
        /// STATUS_BAD_NETWORK_NAME.
        BAD_NETWORK_NAME = 0xc000_00cc => "no such share (STATUS_BAD_NETWORK_NAME)",
        /// STATUS_REQUEST_NOT_ACCEPTED.
        REQUEST_NOT_ACCEPTED = 0xc000_00d0 => "the server accepts no more connections (STATUS_REQUEST_NOT_ACCEPTED)",
        /// STATUS_FILE_CLOSED.
        FILE_CLOSED = 0xc000_0128 => "the file was closed (STATUS_FILE_CLOSED)",
        /// STATUS_PIPE_BROKEN.
        PIPE_BROKEN = 0xc000_014b => "the pipe is broken (STATUS_PIPE_BROKEN)",
        /// STATUS_USER_SESSION_DELETED.
        USER_SESSION_DELETED = 0xc000_0203 => "the session was deleted (STATUS_USER_SESSION_DELETED)",
        /// STATUS_NETWORK_SESSION_EXPIRED.
        NETWORK_SESSION_EXPIRED = 0xc000_035c => "the session expired (STATUS_NETWORK_SESSION_EXPIRED)",
        /// STATUS_RPC_PROTOCOL_ERROR.
        RPC_PROTOCOL_ERROR = 0xc002_001d => "RPC protocol error (STATUS_RPC_PROTOCOL_ERROR)",
        /// STATUS_NOT_IMPLEMENTED.
        NOT_IMPLEMENTED = 0xc000_0002 => "the request is not implemented (STATUS_NOT_IMPLEMENTED)",
        /// STATUS_INFO_LENGTH_MISMATCH.
        INFO_LENGTH_MISMATCH = 0xc000_0004 => "the information length does not match the class (STATUS_INFO_LENGTH_MISMATCH)",
        /// STATUS_NO_SUCH_FILE.
        NO_SUCH_FILE = 0xc000_000f => "no such file (STATUS_NO_SUCH_FILE)",
        /// STATUS_BUFFER_TOO_SMALL.
        BUFFER_TOO_SMALL = 0xc000_0023 => "the buffer is too small (STATUS_BUFFER_TOO_SMALL)",
        /// STATUS_INVALID_OWNER.
        INVALID_OWNER = 0xc000_005a => "this SID may not be the owner (STATUS_INVALID_OWNER)",
        /// STATUS_INVALID_PRIMARY_GROUP.
        INVALID_PRIMARY_GROUP = 0xc000_005b => "this SID may not be the primary group (STATUS_INVALID_PRIMARY_GROUP)",
        /// STATUS_INVALID_SECURITY_DESCR.
        INVALID_SECURITY_DESCR = 0xc000_0079 => "the security descriptor is malformed (STATUS_INVALID_SECURITY_DESCR)",
        /// STATUS_OBJECT_NAME_INVALID.
        OBJECT_NAME_INVALID = 0xc000_0033 => "the object name is invalid (STATUS_OBJECT_NAME_INVALID)",
        /// STATUS_OBJECT_NAME_COLLISION.
        OBJECT_NAME_COLLISION = 0xc000_0035 => "the object name already exists (STATUS_OBJECT_NAME_COLLISION)",
        /// STATUS_OBJECT_PATH_SYNTAX_BAD.
        OBJECT_PATH_SYNTAX_BAD = 0xc000_003b => "the path syntax is bad (STATUS_OBJECT_PATH_SYNTAX_BAD)",
        /// STATUS_SHARING_VIOLATION.
        SHARING_VIOLATION = 0xc000_0043 => "the file is open in a conflicting mode (STATUS_SHARING_VIOLATION)",
        /// STATUS_EAS_NOT_SUPPORTED.
        EAS_NOT_SUPPORTED = 0xc000_004f => "extended attributes are not supported (STATUS_EAS_NOT_SUPPORTED)",
        /// STATUS_NO_EAS_ON_FILE.
        NO_EAS_ON_FILE = 0xc000_0052 => "the file has no extended attributes (STATUS_NO_EAS_ON_FILE)",
        /// STATUS_FILE_LOCK_CONFLICT.
        FILE_LOCK_CONFLICT = 0xc000_0054 => "a lock conflicts with the request (STATUS_FILE_LOCK_CONFLICT)",
        /// STATUS_LOCK_NOT_GRANTED.
        LOCK_NOT_GRANTED = 0xc000_0055 => "the lock was not granted (STATUS_LOCK_NOT_GRANTED)",
        /// STATUS_DELETE_PENDING.
        DELETE_PENDING = 0xc000_0056 => "the file is being deleted (STATUS_DELETE_PENDING)",
        /// STATUS_RANGE_NOT_LOCKED.
        RANGE_NOT_LOCKED = 0xc000_007e => "the range is not locked (STATUS_RANGE_NOT_LOCKED)",
        /// STATUS_INVALID_LOCK_RANGE.
        INVALID_LOCK_RANGE = 0xc000_01a1 => "the lock range ends past the largest offset (STATUS_INVALID_LOCK_RANGE)",
        /// STATUS_DISK_FULL.
        DISK_FULL = 0xc000_007f => "the disk is full (STATUS_DISK_FULL)",
        /// STATUS_MEDIA_WRITE_PROTECTED.
        MEDIA_WRITE_PROTECTED = 0xc000_00a2 => "the share is read-only (STATUS_MEDIA_WRITE_PROTECTED)",
        /// STATUS_FILE_IS_A_DIRECTORY.
        FILE_IS_A_DIRECTORY = 0xc000_00ba => "the file is a directory (STATUS_FILE_IS_A_DIRECTORY)",
        /// STATUS_TOO_MANY_LINKS.
        TOO_MANY_LINKS = 0xc000_0265 => "the file has as many hard links as the file system allows (STATUS_TOO_MANY_LINKS)",
        /// STATUS_NETWORK_ACCESS_DENIED.
        NETWORK_ACCESS_DENIED = 0xc000_00ca => "network access is denied (STATUS_NETWORK_ACCESS_DENIED)",
        /// STATUS_BAD_IMPERSONATION_LEVEL.
        BAD_IMPERSONATION_LEVEL = 0xc000_00a5 => "bad impersonation level (STATUS_BAD_IMPERSONATION_LEVEL)",
        /// STATUS_NOT_SAME_DEVICE.
        NOT_SAME_DEVICE = 0xc000_00d4 => "not the same device (STATUS_NOT_SAME_DEVICE)",
        /// STATUS_INTERNAL_ERROR.
        INTERNAL_ERROR = 0xc000_00e5 => "internal error (STATUS_INTERNAL_ERROR)",
        /// STATUS_UNEXPECTED_IO_ERROR.
        UNEXPECTED_IO_ERROR = 0xc000_00e9 => "an unexpected I/O error (STATUS_UNEXPECTED_IO_ERROR)",
        /// STATUS_DIRECTORY_NOT_EMPTY.
        DIRECTORY_NOT_EMPTY = 0xc000_0101 => "the directory is not empty (STATUS_DIRECTORY_NOT_EMPTY)",
        /// STATUS_NOT_A_DIRECTORY.
        NOT_A_DIRECTORY = 0xc000_0103 => "not a directory (STATUS_NOT_A_DIRECTORY)",
        /// STATUS_TOO_MANY_OPENED_FILES.
        TOO_MANY_OPENED_FILES = 0xc000_011f => "too many open files (STATUS_TOO_MANY_OPENED_FILES)",
        /// STATUS_UNSUCCESSFUL.
        UNSUCCESSFUL = 0xc000_0001 => "the operation did not succeed (STATUS_UNSUCCESSFUL)",
        /// STATUS_INVALID_OPLOCK_PROTOCOL.
        INVALID_OPLOCK_PROTOCOL = 0xc000_00e3 => "an oplock acknowledgment out of turn (STATUS_INVALID_OPLOCK_PROTOCOL)",
        /// STATUS_INVALID_DEVICE_STATE.
        INVALID_DEVICE_STATE = 0xc000_0184 => "no break is in progress on the open (STATUS_INVALID_DEVICE_STATE)",
        /// STATUS_CANCELLED.
        CANCELLED = 0xc000_0120 => "the request was cancelled (STATUS_CANCELLED)",
        /// STATUS_CANNOT_DELETE.
        CANNOT_DELETE = 0xc000_0121 => "the file cannot be deleted (STATUS_CANNOT_DELETE)",
        /// STATUS_NOTIFY_CLEANUP.
        NOTIFY_CLEANUP = 0x0000_010b => "the watched handle was closed (STATUS_NOTIFY_CLEANUP)",
        /// STATUS_NOTIFY_ENUM_DIR.
        NOTIFY_ENUM_DIR = 0x0000_010c => "too many changes: enumerate the directory (STATUS_NOTIFY_ENUM_DIR)",
        /// STATUS_STOPPED_ON_SYMLINK.
        STOPPED_ON_SYMLINK = 0x8000_002d => "the path has a symbolic link (STATUS_STOPPED_ON_SYMLINK)",
        /// STATUS_FILE_SYSTEM_LIMITATION.
        FILE_SYSTEM_LIMITATION = 0xc000_0427 => "a file system limit was reached (STATUS_FILE_SYSTEM_LIMITATION)",
        /// STATUS_REQUEST_OUT_OF_SEQUENCE.
        REQUEST_OUT_OF_SEQUENCE = 0xc000_042a => "the request is out of sequence (STATUS_REQUEST_OUT_OF_SEQUENCE)",
    }
}

impl NtStatus {
    /// Whether the severity bits say error (0xC...).
    pub const fn is_error(self) -> bool {
        self.0 >> 30 == 3
    }
}

ndr_enum!(NtStatus => u32);
