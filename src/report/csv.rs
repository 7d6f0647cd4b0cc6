//! `render_csv`: `results.csv`, one row per case for spreadsheets and quick `grep`s.
//!
//! Columns: `id, status, score, tags, failed_checks, soft_failed_checks, errored_checks,
//! input_tokens, output_tokens, steps, tools, cost_usd, latency_ms, duration_ms`. Tags are
//! joined by `;`, check names by `; ` (check names may contain spaces), tools by ` > ` (they are
//! a sequence). A missing score or cost, or an unknown time, is an empty cell. The three newer
//! columns come last so that readers by position keep working. `latency_ms` (the agent's
//! time in its steps) and `duration_ms` (gauntlet's wall time on the case, agent and checks)
//! are wall-clock: the only cells that differ between two identical runs.

use std::io::{self, Write};

use crate::report::format::score;
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::Outcome;

const HEADER: [&str; 14] = [
    "id",
    "status",
    "score",
    "tags",
    "failed_checks",
    "soft_failed_checks",
    "errored_checks",
    "input_tokens",
    "output_tokens",
    "steps",
    "tools",
    "cost_usd",
    "latency_ms",
    "duration_ms",
];

/// The CSV text, header first, rows in the report's (id) order.
#[cfg(test)]
pub(crate) fn render_csv(report: &RunReport) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail with I/O, and every row has the header's width, so the csv
    // errors are unreachable; they are invariants, not runtime conditions.
    write_csv(&mut bytes, report).expect("csv writes to memory");
    String::from_utf8(bytes).expect("csv of utf-8 strings is utf-8")
}

/// `render_csv`, streamed into `w`.
pub(crate) fn write_csv(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(w);
    w.write_record(HEADER)?;
    for case in &report.cases {
        w.write_record(row(case))?;
    }
    w.flush()
}

fn row(case: &CaseResult) -> [String; 14] {
    let checks = |outcome: Outcome| {
        case.checks
            .iter()
            .filter(|v| v.outcome == outcome)
            .map(|v| v.check.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    [
        case.id.clone(),
        case.status.as_str().to_string(),
        case.score.map(score).unwrap_or_default(),
        case.tags.join(";"),
        checks(Outcome::Fail),
        checks(Outcome::SoftFail),
        checks(Outcome::Error),
        case.usage.input_tokens.to_string(),
        case.usage.output_tokens.to_string(),
        case.steps.to_string(),
        case.tools.join(" > "),
        case.cost_usd.map(|c| c.to_string()).unwrap_or_default(),
        opt(case.latency_ms),
        opt(case.duration_ms),
    ]
}

fn opt(ms: Option<u64>) -> String {
    ms.map(|m| m.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture::sample_report;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_csv(&sample_report()));
    }

    #[test]
    fn cost_and_times_fill_their_columns() {
        let mut report = sample_report();
        report.cases.truncate(1);
        report.cases[0].cost_usd = Some(0.00123);
        report.cases[0].duration_ms = Some(1500);
        let text = render_csv(&report);
        let last = text.lines().nth(1).expect("a row");
        assert!(last.ends_with(",0.00123,27,1500"), "{last}");
    }

    #[test]
    fn parses_back_one_row_per_case() {
        let mut report = sample_report();
        report.cases[0].duration_ms = Some(812);
        let text = render_csv(&report);
        let mut r = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, HEADER);
        let rows: Vec<::csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), report.cases.len());
        for (row, case) in rows.iter().zip(&report.cases) {
            assert_eq!(&row[0], case.id);
            assert_eq!(&row[1], case.status.as_str());
            let score: Option<f64> = (!row[2].is_empty()).then(|| row[2].parse().expect("f64"));
            assert_eq!(score, case.score);
            assert_eq!(
                row[3].split(';').filter(|t| !t.is_empty()).count(),
                case.tags.len()
            );
            assert_eq!(row[7].parse::<u64>().expect("u64"), case.usage.input_tokens);
            assert_eq!(row[9].parse::<usize>().expect("usize"), case.steps);
            let ms = |cell: &str| (!cell.is_empty()).then(|| cell.parse::<u64>().expect("u64"));
            assert_eq!(ms(&row[12]), case.latency_ms);
            assert_eq!(ms(&row[13]), case.duration_ms);
        }
    }
}
