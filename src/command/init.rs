//! `init`: scaffold a suite that `eval` passes at once — the bundled harness on an offline mock
//! model with one mock tool, or (`--command`) a `command` target around the user's own agent —
//! with the JSON Schemas its `yaml-language-server` lines point an editor at.

use std::path::{Path, PathBuf};

use crate::cli::{quiet, usage_error, InitArgs};
use crate::command::schema::render;
use crate::exit;
use crate::schema::SchemaKind;

/// One file of the scaffold: where it goes under DIR, and its text.
struct Scaffold {
    path: PathBuf,
    text: String,
}

pub fn init(args: &InitArgs) -> u8 {
    let files = scaffold(&args.name, &args.command);
    let existing: Vec<String> = files
        .iter()
        .map(|f| args.dir.join(&f.path))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return usage_error(format!(
            "init would overwrite {}; nothing was written (hint: another DIR or --name)",
            existing.join(", ")
        ));
    }
    for file in &files {
        let path = args.dir.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&path, &file.text));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::RUN_INCOMPLETE;
        }
        if !quiet() {
            println!("wrote {}", path.display());
        }
    }
    if !quiet() {
        let suite = args.dir.join("suites").join(format!("{}.yaml", args.name));
        println!("next: gauntlet eval {}", suite.display());
    }
    exit::GATE_PASSED
}

/// The files of a scaffold, relative to DIR: pure, so a test reads them without a disk.
fn scaffold(name: &str, command: &[String]) -> Vec<Scaffold> {
    // `name` is a plain word (`cli::parse_suite_name`), safe in a path and in YAML.
    let named = |text: &str| text.replace("NAME", name);
    let file = |path: &str, text: String| Scaffold {
        path: PathBuf::from(named(path)),
        text,
    };
    let schema = |kind: SchemaKind| render(kind) + "\n";
    let mut files = vec![file("suites/schema/suite.json", schema(SchemaKind::Suite))];
    if command.is_empty() {
        files.push(file("suites/NAME.yaml", named(HARNESS_SUITE)));
        files.push(file("suites/schema/mock.json", schema(SchemaKind::Mock)));
        files.push(file("suites/mocks/NAME.yaml", named(HARNESS_MOCK)));
        files.push(file("datasets/NAME/cases.jsonl", HARNESS_CASES.into()));
    } else {
        let argv = flow_list(&suite_argv(command));
        files.push(file(
            "suites/NAME.yaml",
            named(COMMAND_SUITE).replace("ARGV", &argv),
        ));
        files.push(file("datasets/NAME/cases.jsonl", COMMAND_CASES.into()));
    }
    files
}

/// The agent's command line as the suite under `suites/` writes it: a relative program with a
/// `/` is found from the suite's folder, so it gains a `../` (DIR is one level up); the working
/// directory is DIR (`cwd: ..`), so the other arguments stay as typed.
fn suite_argv(command: &[String]) -> Vec<String> {
    let mut argv = command.to_vec();
    if let Some(program) = argv.first_mut() {
        if program.contains('/') && Path::new(program.as_str()).is_relative() {
            *program = format!("../{}", program.trim_start_matches("./"));
        }
    }
    argv
}

/// A YAML flow list of strings, each quoted as JSON (a JSON string is a YAML string).
fn flow_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| serde_json::Value::String(s.clone()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}

const HARNESS_SUITE: &str = r#"# yaml-language-server: $schema=schema/suite.json
# A starter suite, scaffolded by `gauntlet init`: run it with `gauntlet eval suites/NAME.yaml`.
# The agent is the bundled harness on the offline mock model `mock:NAME`, whose replies are
# scripted in mocks/NAME.yaml. Point `model` at a real one (`openai:gpt-4o-mini`,
# `anthropic:claude-sonnet-4-5`, with its key in the environment) and the suite stays the same.
name: NAME
description: A starter suite — a greeting and a tool call.
dataset: ../datasets/NAME/cases.jsonl
target:
  harness:
    model: mock:NAME
    max_steps: 4
    custom_tools:
      - name: get_weather
        description: The current weather in a city.
        parameters:
          type: object
          properties: {city: {type: string}}
          required: [city]
        mock:
          replies:
            - result: {city: Paris, forecast: sunny, celsius: 21}
checks:                    # every case; a case adds its own
  - max_steps: 4
  - not_contains: {value: "as an AI"}
gate:
  min_pass_rate: 1.0
run: {concurrency: 4, timeout: 30s}
"#;

const HARNESS_MOCK: &str = r#"# yaml-language-server: $schema=../schema/mock.json
# The scripted "brain" of `mock:NAME`: rules are tried in order, the first whose conditions all
# hold answers; named regex groups fill the reply's templates.
rules:
  - name: weather-asks-the-tool
    when:
      user: '(?i)weather in (?P<city>\w+)'
    reply:
      tool_calls:
        - {name: get_weather, args: {city: "{{ city }}"}}
  - name: weather-answers
    when:
      tool_name: get_weather
      tool: '"forecast":"(?P<forecast>\w+)"'
    reply:
      text: "It is {{ forecast }} today."
default:
  text: "Hello! How can I help you today?"
"#;

const HARNESS_CASES: &str = r#"{"id": "greeting", "input": "Hi there!", "tags": ["smoke"], "checks": [{"contains": "help"}]}
{"id": "weather-paris", "input": "What is the weather in Paris?", "tags": ["tools"], "expected": {"tools": [{"name": "get_weather", "args": {"city": "Paris"}}]}, "checks": [{"tool_called": "get_weather"}, {"trajectory": {"mode": "in_order", "expected": "expected.tools"}}, {"contains": "sunny"}]}
"#;

const COMMAND_SUITE: &str = r#"# yaml-language-server: $schema=schema/suite.json
# A starter suite around your own agent, scaffolded by `gauntlet init --command`: run it with
# `gauntlet eval suites/NAME.yaml`. The agent is started without a shell for every case, reads
# the case as JSON on stdin ({"id", "input", "vars", ...}) and writes its reply as JSON on
# stdout: {"output": "..."} at least, and {"trajectory": {"steps": [...]}} for tool checks
# (the protocol is in the README, "Your own agent").
name: NAME
description: A starter suite around my agent.
dataset: ../datasets/NAME/cases.jsonl
target:
  command:
    argv: ARGV
    cwd: ..                # the folder `gauntlet init` ran in
checks:                    # every case; a case adds its own
  - not_contains: {value: "Traceback (most recent call last)"}
gate:
  min_pass_rate: 1.0
run: {concurrency: 4, timeout: 60s}
"#;

const COMMAND_CASES: &str = r#"{"id": "hello", "input": "Hello!", "tags": ["smoke"]}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_program_path_is_found_from_the_suite_folder() {
        let argv = |v: &[&str]| suite_argv(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(argv(&["python3", "agent.py"]), ["python3", "agent.py"]);
        assert_eq!(argv(&["./bin/agent", "--x"]), ["../bin/agent", "--x"]);
        assert_eq!(argv(&["/usr/bin/agent"]), ["/usr/bin/agent"]);
        assert_eq!(
            flow_list(&["a b".into(), "it's \"q\"".into()]),
            r#"["a b", "it's \"q\""]"#
        );
    }

    #[test]
    fn the_scaffold_is_named_after_the_suite() {
        let paths: Vec<String> = scaffold("demo", &[])
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert!(paths.contains(&"suites/demo.yaml".to_string()), "{paths:?}");
        assert!(paths.contains(&"suites/mocks/demo.yaml".to_string()));
        assert!(paths.contains(&"datasets/demo/cases.jsonl".to_string()));
        let suite = &scaffold("demo", &["agent".into()])[1];
        assert!(suite.text.contains("argv: [\"agent\"]"), "{}", suite.text);
        assert!(suite.text.contains("name: demo\n"));
    }
}
