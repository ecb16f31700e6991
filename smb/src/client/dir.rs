//! The namespace of a disk share: listing a directory with QUERY_DIRECTORY (MS-SMB2
//! 3.2.4.17), a file's size, times and attributes with QUERY_INFO (3.2.4.12), renaming
//! and deleting with SET_INFO (3.2.4.13: FileRenameInformation,
//! FileDispositionInformation), and creating directories (CREATE with
//! FILE_DIRECTORY_FILE, 3.2.4.3).
//!
//! The requests are built by free functions without I/O (so tests read them back with
//! the server's own decoders); the [`SmbClient`] methods send them.

use adjoin_rpc::ntstatus::NtStatus;

use super::file::{FILE_CREATE, FILE_OPEN, SHARE_ALL};
use super::{OpenFile, OpenOptions, SmbClient, Tree};
use crate::error::SmbError;
use crate::proto::info::{
    FileDispositionInformation, FileInfoClass, FileNetworkOpenInformation, FileRenameInformation,
    FileStat, Information, decode_directory,
};
use crate::proto::{
    FileId, InfoType, QueryDirectoryFlags, QueryDirectoryRequest, QueryDirectoryResponse,
    QueryInfoRequest, QueryInfoResponse, SetInfoRequest, SetInfoResponse,
};

/// MS-SMB2 2.2.13.1.2 FILE_LIST_DIRECTORY (a directory's FILE_READ_DATA).
pub const FILE_LIST_DIRECTORY: u32 = 0x0000_0001;
/// FILE_READ_ATTRIBUTES.
pub const FILE_READ_ATTRIBUTES: u32 = 0x0000_0080;
/// DELETE: the right SET_INFO with FileRenameInformation or FileDispositionInformation
/// needs (MS-SMB2 3.3.5.21.1).
pub const DELETE: u32 = 0x0001_0000;
/// SYNCHRONIZE.
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// CreateOptions FILE_DIRECTORY_FILE: the name must be a directory.
pub const FILE_DIRECTORY_FILE: u32 = 0x0000_0001;

/// The directory class asked for: names, sizes, times, attributes and the 64-bit file
/// id, what Windows and smbclient ask for too.
const LISTING_CLASS: FileInfoClass = FileInfoClass::ID_BOTH_DIRECTORY;

/// The most bytes of entries asked for at once: 64 KiB costs one credit
/// (MS-SMB2 3.2.4.1.5) and every server takes it.
const LISTING_BUFFER: u32 = 64 * 1024;

impl OpenOptions {
    /// An existing directory opened to list it (FILE_LIST_DIRECTORY, FILE_OPEN,
    /// FILE_DIRECTORY_FILE).
    pub const fn directory() -> Self {
        Self {
            desired_access: FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
            share_access: SHARE_ALL,
            disposition: FILE_OPEN,
            create_options: FILE_DIRECTORY_FILE,
        }
    }

    /// A new directory (FILE_CREATE, FILE_DIRECTORY_FILE); fails if the name exists.
    pub const fn new_directory() -> Self {
        Self {
            disposition: FILE_CREATE,
            ..Self::directory()
        }
    }

    /// An existing file or directory opened only to read its attributes.
    pub const fn attributes() -> Self {
        Self {
            desired_access: FILE_READ_ATTRIBUTES | SYNCHRONIZE,
            share_access: SHARE_ALL,
            disposition: FILE_OPEN,
            create_options: 0,
        }
    }

    /// An existing file or directory opened to rename or delete it (DELETE access);
    /// `directory` says which it must be (`None`: either).
    pub const fn delete(directory: Option<bool>) -> Self {
        Self {
            desired_access: DELETE | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
            share_access: SHARE_ALL,
            disposition: FILE_OPEN,
            create_options: match directory {
                Some(true) => FILE_DIRECTORY_FILE,
                Some(false) => super::file::FILE_NON_DIRECTORY_FILE,
                None => 0,
            },
        }
    }
}

/// MS-SMB2 3.2.4.17: the QUERY_DIRECTORY request for `pattern` on the open directory
/// `file_id`; the first of an enumeration restarts the scan.
pub fn query_directory_request(
    file_id: FileId,
    pattern: &str,
    first: bool,
) -> QueryDirectoryRequest {
    QueryDirectoryRequest {
        file_information_class: LISTING_CLASS,
        flags: if first {
            QueryDirectoryFlags::RESTART_SCANS
        } else {
            QueryDirectoryFlags::empty()
        },
        file_index: 0,
        file_id,
        output_buffer_length: LISTING_BUFFER,
        file_name: pattern.to_owned(),
    }
}

/// MS-SMB2 3.2.4.12: a QUERY_INFO request for the file information `class` of
/// `file_id`, accepting `len` bytes.
pub fn query_file_info_request(
    file_id: FileId,
    class: FileInfoClass,
    len: u32,
) -> QueryInfoRequest {
    QueryInfoRequest {
        info_type: InfoType::FILE,
        info_class: class.value(),
        output_buffer_length: len,
        file_id,
        ..QueryInfoRequest::default()
    }
}

/// MS-SMB2 3.2.4.13: a SET_INFO request setting `info` of `class` on `file_id`.
pub fn set_file_info_request(
    file_id: FileId,
    class: FileInfoClass,
    info: &impl Information,
) -> SetInfoRequest {
    SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: class.value(),
        additional_information: 0,
        file_id,
        buffer: info.to_bytes(),
    }
}

/// The SET_INFO that renames `file_id` to `new_name` (a path from the share's root,
/// MS-SMB2 2.2.39: no leading backslash).
pub fn rename_request(file_id: FileId, new_name: &str, replace: bool) -> SetInfoRequest {
    let info = FileRenameInformation {
        replace_if_exists: replace,
        root_directory: 0,
        file_name: new_name.trim_start_matches('\\').to_owned(),
    };
    set_file_info_request(file_id, FileInfoClass::RENAME, &info)
}

/// The SET_INFO that marks `file_id` for deletion when it is closed.
pub fn delete_request(file_id: FileId) -> SetInfoRequest {
    let info = FileDispositionInformation {
        delete_pending: true,
    };
    set_file_info_request(file_id, FileInfoClass::DISPOSITION, &info)
}

impl SmbClient {
    /// Lists the open directory `dir`: every entry matching `pattern` (`*` for all,
    /// `.` and `..` included as the server sends them), following the enumeration
    /// until STATUS_NO_MORE_FILES.
    pub async fn query_directory(
        &mut self,
        dir: &OpenFile,
        pattern: &str,
    ) -> Result<Vec<FileStat>, SmbError> {
        let mut entries = Vec::new();
        let mut first = true;
        loop {
            let request = query_directory_request(dir.id, pattern, first);
            let result: Result<(_, QueryDirectoryResponse), _> =
                self.call(dir.tree.id, &request, &[]).await;
            match result {
                Ok((_, resp)) => entries.extend(decode_directory(LISTING_CLASS, &resp.output)?),
                // MS-SMB2 3.3.5.18: the end of the enumeration; on the first request, a
                // pattern that matches nothing (STATUS_NO_SUCH_FILE).
                Err(e) if e.status() == Some(NtStatus::NO_MORE_FILES) => return Ok(entries),
                Err(e) if first && e.status() == Some(NtStatus::NO_SUCH_FILE) => {
                    return Ok(entries);
                }
                Err(e) => return Err(e),
            }
            first = false;
        }
    }

    /// Opens the directory `path` (from the share's root, empty for the root), lists the
    /// entries matching `pattern` and closes it.
    pub async fn list_directory(
        &mut self,
        tree: Tree,
        path: &str,
        pattern: &str,
    ) -> Result<Vec<FileStat>, SmbError> {
        let dir = self.create(tree, path, OpenOptions::directory()).await?;
        let listed = self.query_directory(&dir, pattern).await;
        let closed = self.close_file(dir).await;
        let entries = listed?;
        closed?;
        Ok(entries)
    }

    /// QUERY_INFO of the file information class `class` on an open file, read as `T`.
    pub async fn query_file_info<T: Information>(
        &mut self,
        file: &OpenFile,
        class: FileInfoClass,
    ) -> Result<T, SmbError> {
        let request = query_file_info_request(file.id, class, 4096);
        let (_, resp): (_, QueryInfoResponse) = self.call(file.tree.id, &request, &[]).await?;
        T::decode(&resp.output)
    }

    /// The size, times and attributes of `path` (a file or a directory), by
    /// FileNetworkOpenInformation.
    pub async fn stat(
        &mut self,
        tree: Tree,
        path: &str,
    ) -> Result<FileNetworkOpenInformation, SmbError> {
        let file = self.create(tree, path, OpenOptions::attributes()).await?;
        let info = self
            .query_file_info(&file, FileInfoClass::NETWORK_OPEN)
            .await;
        let closed = self.close_file(file).await;
        let info = info?;
        closed?;
        Ok(info)
    }

    /// SET_INFO with `request` (from [`rename_request`], [`delete_request`], ...).
    pub async fn set_info(&mut self, tree: Tree, request: &SetInfoRequest) -> Result<(), SmbError> {
        let _: (_, SetInfoResponse) = self.call(tree.id, request, &[]).await?;
        Ok(())
    }

    /// Renames `from` to `to` (both from the share's root); `replace` overwrites an
    /// existing `to`.
    pub async fn rename(
        &mut self,
        tree: Tree,
        from: &str,
        to: &str,
        replace: bool,
    ) -> Result<(), SmbError> {
        let file = self.create(tree, from, OpenOptions::delete(None)).await?;
        let renamed = self
            .set_info(tree, &rename_request(file.id, to, replace))
            .await;
        let closed = self.close_file(file).await;
        renamed?;
        closed
    }

    /// Deletes the file (`directory` false) or the empty directory (true) `path`: marks
    /// it delete-pending and closes it.
    pub async fn delete(
        &mut self,
        tree: Tree,
        path: &str,
        directory: bool,
    ) -> Result<(), SmbError> {
        let file = self
            .create(tree, path, OpenOptions::delete(Some(directory)))
            .await?;
        let marked = self.set_info(tree, &delete_request(file.id)).await;
        let closed = self.close_file(file).await;
        marked?;
        closed
    }

    /// Creates the directory `path`.
    pub async fn create_directory(&mut self, tree: Tree, path: &str) -> Result<(), SmbError> {
        let dir = self
            .create(tree, path, OpenOptions::new_directory())
            .await?;
        self.close_file(dir).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::info::SetFileInfo;
    use crate::proto::{Body, Header};

    fn id() -> FileId {
        FileId {
            persistent: 0x11,
            volatile: 0x22,
        }
    }

    /// Encodes `body` as a whole message and reads it back with the codec the server
    /// decodes requests with.
    fn through_the_server<B: Body + PartialEq + core::fmt::Debug>(body: &B) -> B {
        let msg = body.to_message(&Header::default());
        B::from_message(&msg).unwrap().1
    }

    #[test]
    fn ms_smb2_2_2_33_query_directory_restarts_then_continues() {
        let first = query_directory_request(id(), "*", true);
        let back = through_the_server(&first);
        assert_eq!(back, first);
        assert_eq!(
            back.file_information_class,
            FileInfoClass::ID_BOTH_DIRECTORY
        );
        assert_eq!(back.flags, QueryDirectoryFlags::RESTART_SCANS);
        assert_eq!(back.file_name, "*");
        let next = query_directory_request(id(), "*.txt", false);
        assert!(through_the_server(&next).flags.is_empty());
        // StructureSize 33, class 37 (0x25), flags 1, FileIndex 0, FileId.
        let msg = first.to_message(&Header::default());
        assert_eq!(&msg[64..68], &[33, 0, 0x25, 0x01]);
    }

    #[test]
    fn ms_smb2_2_2_37_query_info_asks_for_network_open_information() {
        let req = query_file_info_request(id(), FileInfoClass::NETWORK_OPEN, 4096);
        let back = through_the_server(&req);
        assert_eq!(back.info_type, InfoType::FILE);
        assert_eq!(back.file_info_class(), FileInfoClass::NETWORK_OPEN);
        assert_eq!(back.output_buffer_length, 4096);
        assert_eq!(back.file_id, id());
    }

    #[test]
    fn ms_smb2_2_2_39_rename_and_disposition_decode_as_the_server_reads_them() {
        let req = rename_request(id(), r"\dir\new name.txt", true);
        let back = through_the_server(&req);
        let Some(SetFileInfo::Rename(info)) =
            SetFileInfo::decode(back.file_info_class(), &back.buffer).unwrap()
        else {
            panic!("not a rename: {back:?}");
        };
        assert_eq!(info.file_name, r"dir\new name.txt");
        assert!(info.replace_if_exists);
        assert_eq!(info.root_directory, 0);

        let req = delete_request(id());
        let back = through_the_server(&req);
        assert_eq!(back.buffer, [1]);
        assert_eq!(
            SetFileInfo::decode(back.file_info_class(), &back.buffer).unwrap(),
            Some(SetFileInfo::Disposition(FileDispositionInformation {
                delete_pending: true
            }))
        );
    }

    #[test]
    fn directory_options_follow_ms_smb2_2_2_13() {
        let dir = OpenOptions::directory();
        assert_eq!(dir.create_options, FILE_DIRECTORY_FILE);
        assert_eq!(dir.disposition, FILE_OPEN);
        assert_eq!(OpenOptions::new_directory().disposition, FILE_CREATE);
        assert_eq!(OpenOptions::delete(Some(false)).create_options, 0x40);
        assert_ne!(OpenOptions::delete(None).desired_access & DELETE, 0);
    }
}
