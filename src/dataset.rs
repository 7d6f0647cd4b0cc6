//! Golden datasets: JSONL, YAML and CSV files → records (the suite's `RawCase`) with the place
//! each was defined.
//!
//! Parsing stops at the shape; `suite::load` validates the cases. Every error of a file is
//! collected, each with its line. The record type is a parameter so that this reader stays below
//! the suite model (it knows only what [`Record`] says about a case).

use std::path::Path;

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::limits::Limits;

/// What the reader needs of one case of a dataset.
pub trait Record: DeserializeOwned + Send {
    /// The case's id, to find the line of a YAML item.
    fn id(&self) -> &str;
    /// Drops spare capacity of lists serde grew while parsing (a dataset may hold 100,000
    /// cases, all held at load).
    fn shrink(&mut self) {}
}

/// A case as read from a dataset file, with its 1-based line.
#[derive(Debug, Clone)]
pub struct SourcedCase<R> {
    pub case: R,
    pub line: usize,
}

/// A cell of a CSV row that cannot become a case field.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` must hold JSON ({what}): {source}")]
struct CsvCellError {
    column: String,
    what: &'static str,
    source: serde_json::Error,
}

/// Reads a dataset file; the format follows the extension (`.jsonl`, `.yaml`/`.yml`, `.csv`).
/// Returns the cases that parsed and the errors of those that did not, so that the loader can
/// go on validating the good ones and report everything in one round.
/// At most `max_bytes` are read (`run.limits.max_file_bytes`), and only from a regular file.
pub fn load<R: Record>(path: &Path, limits: &Limits) -> (Vec<SourcedCase<R>>, Vec<Diagnostic>) {
    match parse(path, limits) {
        Ok(cases) => (cases, Vec::new()),
        Err(Partial { cases, errors }) => (cases, errors),
    }
}

/// Cases that parsed, beside the errors of a file.
#[derive(Debug)]
pub struct Partial<R> {
    pub cases: Vec<SourcedCase<R>>,
    pub errors: Vec<Diagnostic>,
}

impl<R> From<Vec<Diagnostic>> for Partial<R> {
    fn from(errors: Vec<Diagnostic>) -> Self {
        Partial {
            cases: Vec::new(),
            errors,
        }
    }
}

fn parse<R: Record>(path: &Path, limits: &Limits) -> Result<Vec<SourcedCase<R>>, Partial<R>> {
    let text = crate::input_file::read_to_string(path, limits.max_file_bytes).map_err(|e| {
        Partial::from(vec![Diagnostic::new(
            path,
            format!("cannot read dataset: {e}"),
        )
        .hint("dataset paths are relative to the suite file")])
    })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "jsonl" | "ndjson" => parse_jsonl(path, &text),
        "yaml" | "yml" => parse_yaml(path, &text, limits.max_depth),
        "csv" => parse_csv(path, &text),
        _ => Err(Partial::from(vec![Diagnostic::new(
            path,
            format!("unsupported dataset format `.{ext}`"),
        )
        .hint("expected a .jsonl, .yaml, .yml or .csv file")])),
    }
}

/// One JSON object per line; blank lines are skipped. Lines parse in parallel (a dataset may
/// hold 100,000 cases); cases and errors keep the order of the file.
pub fn parse_jsonl<R: Record>(path: &Path, text: &str) -> Result<Vec<SourcedCase<R>>, Partial<R>> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line))
        .collect();
    let parsed: Vec<Result<SourcedCase<R>, Diagnostic>> = lines
        .into_par_iter()
        .with_min_len(256)
        .map(|(line, json)| parse_jsonl_line(path, line, json))
        .collect();
    let mut cases = Vec::with_capacity(parsed.len());
    let mut errors = Vec::new();
    for p in parsed {
        match p {
            Ok(case) => cases.push(case),
            Err(d) => errors.push(d),
        }
    }
    finish(cases, errors)
}

fn parse_jsonl_line<R: Record>(
    path: &Path,
    line: usize,
    json: &str,
) -> Result<SourcedCase<R>, Diagnostic> {
    match serde_json::from_str::<R>(json) {
        Ok(mut case) => {
            case.shrink();
            Ok(SourcedCase { case, line })
        }
        Err(e) => {
            let mut d = Diagnostic::from_json(path, line, &e);
            if e.is_syntax() || e.is_eof() {
                d.message = format!("invalid JSON: {}", d.message);
                d = d.hint("each line of a .jsonl dataset is one case as a JSON object");
            }
            Err(d)
        }
    }
}

/// A YAML list of cases. Positions of items come from locating each `id`.
pub fn parse_yaml<R: Record>(
    path: &Path,
    text: &str,
    max_depth: u32,
) -> Result<Vec<SourcedCase<R>>, Partial<R>> {
    let raw: Vec<R> =
        crate::yaml_depth::from_str(path, text, max_depth).map_err(|d| Partial::from(vec![d]))?;
    Ok(raw
        .into_iter()
        .map(|case| {
            let line = find_id_line(text, case.id()).unwrap_or(1);
            SourcedCase { case, line }
        })
        .collect())
}

fn find_id_line(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim_start();
            l.strip_prefix("id:")
                .map(|rest| rest.trim().trim_matches(|c| c == '"' || c == '\'') == id)
                .unwrap_or(false)
        })
        .map(|i| i + 1)
}

/// Columns that CSV files may have, besides `vars.NAME` and `expected.*`.
const CSV_COLUMNS: &[&str] = &[
    "id",
    "description",
    "input",
    "tags",
    "checks",
    "expected.reference",
    "expected.output",
    "expected.tools",
    "expected.state",
];

/// A header row, then one case per row. `input`, `expected.reference` and `vars.NAME` are text;
/// `tags` is separated by `;` or `,`; `checks`, `expected.tools` and `expected.state` are JSON;
/// `expected.output` is JSON when it parses as JSON, else text. Empty cells are absent.
pub fn parse_csv<R: Record>(path: &Path, text: &str) -> Result<Vec<SourcedCase<R>>, Partial<R>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(Partial::from(vec![Diagnostic::new(
                path,
                format!("invalid CSV header: {e}"),
            )
            .at(1, None)]))
        }
    };
    let mut errors = Vec::new();
    for h in headers.iter() {
        if !(CSV_COLUMNS.contains(&h) || h.starts_with("vars.") && h.len() > 5) {
            let mut d = Diagnostic::new(path, format!("unknown CSV column `{h}`")).at(1, None);
            d = match did_you_mean(h, CSV_COLUMNS.iter().copied()) {
                Some(best) => d.hint(format!("did you mean `{best}`?")),
                None => d.hint(format!(
                    "expected one of: {}, or vars.NAME",
                    CSV_COLUMNS.join(", ")
                )),
            };
            errors.push(d);
        }
    }
    if !errors.is_empty() {
        return Err(Partial::from(errors));
    }
    let mut cases = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(Diagnostic::new(path, format!("invalid CSV row: {e}")).at(line, None));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        match csv_row_to_case(&headers, &record) {
            Ok(value) => match serde_json::from_value::<R>(value) {
                Ok(case) => cases.push(SourcedCase { case, line }),
                Err(e) => errors.push(Diagnostic::new(path, e.to_string()).at(line, None)),
            },
            Err(e) => errors.push(Diagnostic::new(path, e.to_string()).at(line, None)),
        }
    }
    finish(cases, errors)
}

fn csv_row_to_case(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<Value, CsvCellError> {
    let mut case = Map::new();
    let mut expected = Map::new();
    let mut vars = Map::new();
    for (h, cell) in headers.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        let json = |what: &'static str| {
            serde_json::from_str::<Value>(cell).map_err(|source| CsvCellError {
                column: h.to_string(),
                what,
                source,
            })
        };
        match h {
            "tags" => {
                let tags = cell
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| Value::String(t.to_string()))
                    .collect();
                case.insert("tags".into(), Value::Array(tags));
            }
            "checks" => {
                case.insert("checks".into(), json("a list of checks")?);
            }
            "expected.tools" => {
                expected.insert("tools".into(), json("a list of {name, args}")?);
            }
            "expected.state" => {
                expected.insert("state".into(), json("an object")?);
            }
            "expected.output" => {
                let v = serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.into()));
                expected.insert("output".into(), v);
            }
            "expected.reference" => {
                expected.insert("reference".into(), Value::String(cell.into()));
            }
            _ => match h.strip_prefix("vars.") {
                Some(name) => {
                    vars.insert(name.into(), Value::String(cell.into()));
                }
                None => {
                    case.insert(h.into(), Value::String(cell.into()));
                }
            },
        }
    }
    if !expected.is_empty() {
        case.insert("expected".into(), Value::Object(expected));
    }
    if !vars.is_empty() {
        case.insert("vars".into(), Value::Object(vars));
    }
    Ok(Value::Object(case))
}

fn finish<R>(
    cases: Vec<SourcedCase<R>>,
    errors: Vec<Diagnostic>,
) -> Result<Vec<SourcedCase<R>>, Partial<R>> {
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(Partial { cases, errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::raw::RawCase;

    #[test]
    fn a_parsed_case_keeps_no_spare_check_slots() {
        let text = "{\"id\":\"a\",\"input\":\"hi\",\"checks\":[{\"contains\":\"x\"}]}\n";
        let cases = parse_jsonl::<RawCase>(Path::new("d.jsonl"), text).unwrap();
        assert_eq!(cases[0].case.checks.len(), 1);
        assert_eq!(cases[0].case.checks.capacity(), 1);
    }

    #[test]
    fn jsonl_collects_every_bad_line_with_its_number() {
        let text = "{\"id\":\"a\",\"input\":\"hi\"}\n\n{\"id\":\"b\"}\n{\"id\":\"c\",\"input\":\"x\",\"tgas\":[]}\nnot json\n";
        let Partial {
            cases,
            errors: errs,
        } = parse_jsonl::<RawCase>(Path::new("d.jsonl"), text).unwrap_err();
        assert_eq!(cases.len(), 1, "the good line is kept");
        let lines: Vec<_> = errs.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4), Some(5)]);
        assert!(
            errs[0].message.contains("missing field `input`"),
            "{}",
            errs[0]
        );
        assert_eq!(errs[1].hint.as_deref(), Some("did you mean `tags`?"));
    }

    #[test]
    fn jsonl_keeps_line_numbers_of_good_cases() {
        let text = "\n{\"id\":\"a\",\"input\":\"hi\"}\n";
        let cases = parse_jsonl::<RawCase>(Path::new("d.jsonl"), text).unwrap();
        assert_eq!(cases[0].line, 2);
        assert_eq!(cases[0].case.id, "a");
    }

    #[test]
    fn yaml_list_with_lines() {
        let text = "- id: a\n  input: hi\n- id: \"b\"\n  input: [one, two]\n  tags: [x]\n";
        let cases = parse_yaml::<RawCase>(Path::new("d.yaml"), text, 128).unwrap();
        assert_eq!(cases.iter().map(|c| c.line).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(cases[1].case.tags, vec!["x".to_string()]);
    }

    #[test]
    fn csv_maps_columns_to_case_fields() {
        let text = "id,input,tags,expected.reference,vars.name,expected.state,checks\n\
                    a,Where is order 7?,orders; status,It shipped.,Ada,\"{\"\"orders\"\":{}}\",\"[{\"\"contains\"\":\"\"shipped\"\"}]\"\n";
        let cases = parse_csv::<RawCase>(Path::new("d.csv"), text).unwrap();
        let c = &cases[0].case;
        assert_eq!(cases[0].line, 2);
        assert_eq!(c.input, Value::String("Where is order 7?".into()));
        assert_eq!(c.tags, vec!["orders".to_string(), "status".to_string()]);
        assert_eq!(c.expected.reference.as_deref(), Some("It shipped."));
        assert_eq!(c.vars["name"], Value::String("Ada".into()));
        assert_eq!(c.expected.state, Some(serde_json::json!({"orders": {}})));
        assert_eq!(c.checks.len(), 1);
    }

    #[test]
    fn csv_unknown_column_and_bad_json_are_errors() {
        let errs = parse_csv::<RawCase>(Path::new("d.csv"), "id,inptu\na,b\n")
            .unwrap_err()
            .errors;
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `input`?"));
        let errs = parse_csv::<RawCase>(Path::new("d.csv"), "id,input,checks\na,b,[oops\n")
            .unwrap_err()
            .errors;
        assert_eq!(errs[0].line, Some(2));
        assert!(
            errs[0].message.contains("column `checks` must hold JSON"),
            "{}",
            errs[0]
        );
    }
}
