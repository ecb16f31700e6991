//! get and put: the data moves with several READs or WRITEs in flight
//! ([`SmbClient::read_range`], [`SmbClient::write_range`]) into a partial file beside
//! the target (`.NAME.smbshell-partial`), which becomes the target only when complete.
//!
//! A get writes the partial file strictly in order (pieces that arrive early wait in
//! memory), so whatever it holds is a prefix of the remote file and a later get resumes
//! from its length. A put writes the remote partial from the start each time (the
//! server may have stored pieces out of order before a failure).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::Path;

use adjoin_smb::SmbError;
use adjoin_smb::client::file::FILE_OVERWRITE_IF;
use adjoin_smb::client::{OpenFile, OpenOptions, Pipeline, SmbClient};

use super::error::ShellError;
use super::paths;
use super::progress::Progress;
use super::remote::Remote;

/// The local file is written in slices of this size: the kernel copies an 8 MiB READ's data
/// into the page cache several times slower in one write(2) than in slices (on this VM,
/// `dd bs=8M` 0.35-1.1 GB/s, `bs=64K` 2.7-3.2 GB/s; in smbshell's profile the copy was 82 %
/// of its CPU time).
const WRITE_SLICE: usize = 256 << 10;

/// Pieces of a range that arrive in any order, handed on in order.
#[derive(Debug, Default)]
pub(crate) struct Reorder {
    /// Where the next in-order byte is.
    next: u64,
    /// Pieces that arrived ahead of it, by offset.
    waiting: BTreeMap<u64, Vec<u8>>,
    /// The memory of pieces already handed on, for the next early ones: a fresh 8 MiB
    /// buffer per early piece cost more in page faults than the copy into it (as many
    /// as the READs in flight, so few).
    spare: Vec<Vec<u8>>,
}

impl Reorder {
    /// Expects the range to start at `next`.
    pub(crate) fn starting_at(next: u64) -> Self {
        Self {
            next,
            ..Self::default()
        }
    }

    /// Takes the piece at `at`; `write` gets every piece that is now in order.
    pub(crate) fn push(
        &mut self,
        at: u64,
        data: &[u8],
        mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if at != self.next {
            let mut copy = self.spare.pop().unwrap_or_default();
            copy.clear();
            copy.extend_from_slice(data);
            self.waiting.insert(at, copy);
            return Ok(());
        }
        write(data)?;
        self.next += data.len() as u64;
        while let Some(piece) = self.waiting.remove(&self.next) {
            write(&piece)?;
            self.next += piece.len() as u64;
            self.spare.push(piece);
        }
        Ok(())
    }

    /// One past the last byte handed on.
    #[cfg(test)]
    fn next(&self) -> u64 {
        self.next
    }
}

/// Copies the remote file `path` to `target`, resuming from `target`'s partial file
/// when there is one. Prints what it did to `out`.
pub(crate) fn get(
    remote: &mut Remote,
    path: &str,
    target: &Path,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let partial = paths::local_partial(target);
    let shown = paths::display(path);
    let (summary, size) = remote.call(path, async |client, tree| {
        let file = client.create(tree, path, OpenOptions::read_only()).await?;
        let outcome = receive(client, &file, &partial, &shown, out).await?;
        let _ = client.close_file(file).await;
        Ok(outcome)
    })??;
    let written = std::fs::metadata(&partial)
        .map_err(|e| ShellError::local(&partial, e))?
        .len();
    if written != size {
        return Err(ShellError::Usage(format!(
            "{shown}: the remote file changed size during the transfer ({written} of {size} \
             bytes kept in {}; get it again)",
            partial.display()
        )));
    }
    std::fs::rename(&partial, target).map_err(|e| ShellError::local(target, e))?;
    let _ = writeln!(out, "got {shown} -> {}: {summary}", target.display());
    Ok(())
}

/// Reads the open remote `file` into `partial` from its length on; returns the summary
/// and the remote size. The outer error is the connection's, the inner one local.
async fn receive(
    client: &mut SmbClient,
    file: &OpenFile,
    partial: &Path,
    shown: &str,
    out: &mut dyn Write,
) -> Result<Result<(String, u64), ShellError>, SmbError> {
    let local = |e| ShellError::local(partial, e);
    let size = file.end_of_file;
    let sink = match open_partial(partial, size) {
        Ok(s) => s,
        Err(e) => return Ok(Err(local(e))),
    };
    let (mut sink, have) = sink;
    if have > 0 {
        let _ = writeln!(
            out,
            "resuming {shown} from {have} bytes (kept in {})",
            partial.display()
        );
    }
    let mut progress = Progress::new(shown, have, size);
    let mut order = Reorder::starting_at(have);
    // One pipelined range for the whole file (the READs never drain between pieces);
    // a local failure stops it at once.
    let mut failed = None;
    let got = client
        .read_range(file, have, size - have, Pipeline::default(), |at, data| {
            progress.add(data.len() as u64);
            match order.push(at, data, |piece| {
                piece
                    .chunks(WRITE_SLICE)
                    .try_for_each(|slice| sink.write_all(slice))
            }) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
        .await;
    if let Some(e) = failed {
        progress.finish();
        return Ok(Err(local(e)));
    }
    // On an SMB failure the partial file keeps the in-order prefix for the next get.
    got.inspect_err(|_| {
        progress.finish();
    })?;
    Ok(sink
        .flush()
        .map_err(local)
        .map(|()| (progress.finish(), size)))
}

/// Opens (or creates) the partial file of a get for appending; returns it with the
/// length to resume from (0 when what it holds is longer than the remote file).
fn open_partial(partial: &Path, size: u64) -> std::io::Result<(File, u64)> {
    let sink = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)?;
    let have = sink.metadata()?.len();
    if have > size {
        sink.set_len(0)?;
        return Ok((sink, 0));
    }
    Ok((sink, have))
}

/// Copies the local file `source` to the remote `path` (through its partial name).
pub(crate) fn put(
    remote: &mut Remote,
    source: &Path,
    path: &str,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let local = |e| ShellError::local(source, e);
    let meta = std::fs::metadata(source).map_err(local)?;
    if meta.is_dir() {
        return Err(ShellError::IsADirectory {
            path: source.display().to_string(),
        });
    }
    let file = File::open(source).map_err(local)?;
    let size = meta.len();
    let partial = paths::remote_partial(path);
    let shown = paths::display(path);
    let mut progress = Progress::new(&shown, 0, size);
    let mut local_error = None;
    remote.changed();
    remote.call(path, async |client, tree| {
        let options = OpenOptions::read_write().with_disposition(FILE_OVERWRITE_IF);
        let open = client.create(tree, &partial, options).await?;
        let sent = send(client, &open, &file, size, &mut progress, &mut local_error).await;
        let closed = client.close_file(open).await;
        sent?;
        closed?;
        if local_error.is_some() {
            let _ = client.delete(tree, &partial, false).await;
            return Ok(());
        }
        client.rename(tree, &partial, path, true).await
    })?;
    if let Some(e) = local_error {
        return Err(local(e));
    }
    let summary = progress.finish();
    let _ = writeln!(out, "put {} -> {shown}: {summary}", source.display());
    Ok(())
}

/// Writes `file` to the open remote file in one pipelined range (the WRITEs never drain
/// between pieces); a local read failure goes to `failed` and stops it.
async fn send(
    client: &mut SmbClient,
    open: &OpenFile,
    file: &File,
    size: u64,
    progress: &mut Progress,
    failed: &mut Option<std::io::Error>,
) -> Result<(), SmbError> {
    let source = |at: u64, n: usize, mut buf: Vec<u8>| {
        buf.resize(n, 0);
        if let Err(e) = file.read_exact_at(&mut buf, at) {
            *failed = Some(e);
            return ControlFlow::Break(());
        }
        progress.add(n as u64);
        ControlFlow::Continue(buf)
    };
    client
        .write_range(open, 0, size, Pipeline::default(), source)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_written_in_order_whatever_order_they_arrive_in() {
        let mut out = Vec::new();
        let mut r = Reorder::starting_at(100);
        let mut push = |r: &mut Reorder, at: u64, d: &[u8]| {
            r.push(at, d, |p| {
                out.extend_from_slice(p);
                Ok(())
            })
            .unwrap();
        };
        push(&mut r, 104, b"efgh");
        push(&mut r, 108, b"ij");
        assert_eq!(r.next(), 100, "nothing in order yet");
        push(&mut r, 100, b"abcd");
        assert_eq!(r.next(), 110);
        assert_eq!(out, b"abcdefghij");
    }

    #[test]
    fn a_write_failure_stops_at_the_in_order_prefix() {
        let mut r = Reorder::starting_at(0);
        r.push(4, b"5678", |_| Ok(())).unwrap();
        let e = r.push(0, b"1234", |_| Err(std::io::ErrorKind::StorageFull.into()));
        assert!(e.is_err());
        assert_eq!(r.next(), 0);
    }
}
