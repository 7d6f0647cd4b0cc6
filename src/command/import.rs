//! `import`: exported production traces (OTLP JSON) → golden cases, one JSON line each.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::usage_error;
use crate::exit;
use crate::otlp::file::{is_otlp_json, BadExport};
use crate::otlp::import::import_cases;

/// Why traces could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read traces {}: {reason}", path.display())]
    Read {
        path: PathBuf,
        reason: crate::input_file::ReadError,
    },
    #[error("{}: not OTLP JSON (hint: one ExportTraceServiceRequest per line, as the OpenTelemetry Collector's file exporter writes)", path.display())]
    NotOtlp { path: PathBuf },
    #[error("{}:{}", path.display(), source)]
    BadExport { path: PathBuf, source: BadExport },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes the cases to `out` (stdout when `None`); exit 0, or 2 on a bad file.
pub fn import(traces: &Path, out: Option<&Path>) -> u8 {
    match run(traces, out) {
        Ok(()) => exit::GATE_PASSED,
        Err(e) => usage_error(e),
    }
}

fn run(traces: &Path, out: Option<&Path>) -> Result<(), ImportError> {
    let text =
        crate::input_file::read_to_string(traces, crate::limits::Limits::default().max_file_bytes)
            .map_err(|reason| ImportError::Read {
                path: traces.to_path_buf(),
                reason,
            })?;
    if !is_otlp_json(&text) {
        return Err(ImportError::NotOtlp {
            path: traces.to_path_buf(),
        });
    }
    let (cases, skipped) = import_cases(&text).map_err(|source| ImportError::BadExport {
        path: traces.to_path_buf(),
        source,
    })?;
    let mut lines = String::new();
    for case in &cases {
        // Strings and JSON values only: serializing cannot fail.
        lines.push_str(&serde_json::to_string(case).unwrap_or_default());
        lines.push('\n');
    }
    let written = match out {
        Some(path) => std::fs::write(path, &lines).map_err(|source| ImportError::Write {
            path: path.to_path_buf(),
            source,
        }),
        None => std::io::stdout()
            .write_all(lines.as_bytes())
            .map_err(|source| ImportError::Write {
                path: "stdout".into(),
                source,
            }),
    };
    written?;
    eprintln!("imported {} cases from {}", cases.len(), traces.display());
    if !skipped.is_empty() {
        eprintln!(
            "warning: {} traces have no user input and were skipped: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    Ok(())
}
