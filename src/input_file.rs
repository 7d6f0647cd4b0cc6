//! `read_to_string`: how every loader reads a file — suite, dataset, judge, mock rules,
//! system prompt, world, replay trajectories, baseline report. Only a regular file is read
//! (a FIFO would block for ever, `/dev/zero` never ends), and at most `max_file_bytes`.

use std::io::Read;
use std::path::Path;

use crate::limits::format_size;

/// The file's text; `Err` is a message that reads after "cannot read FILE: ".
pub fn read_to_string(path: &Path, max_bytes: u64) -> Result<String, String> {
    // Checked before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // Checked again on what was opened: the path may have been replaced meanwhile.
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > max_bytes {
        return Err(too_large(meta.len(), max_bytes));
    }
    // Sized from the metadata (already under the limit), as `fs::read` does: a 100,000-case
    // dataset is not grown by doubling.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // `take`: a file that grows while it is read still stops at the limit.
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64, max_bytes));
    }
    String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_string())
}

fn not_regular(meta: &std::fs::Metadata) -> String {
    let kind = if meta.is_dir() {
        "a folder"
    } else {
        "a FIFO, socket or device"
    };
    format!("it is {kind}, not a regular file (only regular files are read)")
}

fn too_large(len: u64, max: u64) -> String {
    format!(
        "it is {len} bytes, over `run.limits.max_file_bytes` ({})",
        format_size(max)
    )
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
        let err = read_to_string(&file, 4).unwrap_err();
        assert!(err.contains("max_file_bytes"), "{err}");
        let err = read_to_string(dir.path(), 100).unwrap_err();
        assert!(err.contains("a folder"), "{err}");
        let err = read_to_string(Path::new("/dev/zero"), 100).unwrap_err();
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
        let err = read_to_string(&fifo, 100).unwrap_err();
        assert!(err.contains("FIFO"), "{err}");
    }
}
