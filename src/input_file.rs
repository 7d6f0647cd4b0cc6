//! `read_to_string`: how every loader reads a file — suite, dataset, judge, mock rules,
//! system prompt, world, replay trajectories, baseline report. Only a regular file is read
//! (a FIFO would block for ever, `/dev/zero` never ends), and at most `max_file_bytes`.

use std::io::Read;
use std::path::Path;

use crate::limits::format_size;

/// Why a file was not read; its text reads after "cannot read FILE: ".
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {kind}, not a regular file (only regular files are read)")]
    NotRegular { kind: &'static str },
    #[error("it is {len} bytes, over `run.limits.max_file_bytes` ({})", format_size(*max))]
    TooLarge { len: u64, max: u64 },
    #[error("stream did not contain valid UTF-8")]
    NotUtf8,
}

/// The file's text, or why it was not read.
pub(crate) fn read_to_string(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    // Checked before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path)?;
    // Checked again on what was opened: the path may have been replaced meanwhile.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge {
            len: meta.len(),
            max: max_bytes,
        });
    }
    // Sized from the metadata (already under the limit), as `fs::read` does: a 100,000-case
    // dataset is not grown by doubling.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // `take`: a file that grows while it is read still stops at the limit.
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge {
            len: bytes.len() as u64,
            max: max_bytes,
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

fn not_regular(meta: &std::fs::Metadata) -> ReadError {
    let kind = if meta.is_dir() {
        "a folder"
    } else {
        "a FIFO, socket or device"
    };
    ReadError::NotRegular { kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(read_to_string(&file, 5).unwrap(), "hello");
        let err = read_to_string(&file, 4).unwrap_err().to_string();
        assert!(err.contains("max_file_bytes"), "{err}");
        let err = read_to_string(dir.path(), 100).unwrap_err().to_string();
        assert!(err.contains("a folder"), "{err}");
        let err = read_to_string(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(read_to_string(&dir.path().join("missing"), 100).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_to_string(&fifo, 100).unwrap_err().to_string();
        assert!(err.contains("FIFO"), "{err}");
    }
}
