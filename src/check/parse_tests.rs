//! Tests of `from_raw`: display names of valid checks, and the messages of invalid ones.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::check::arg_match::ArgMatch;
use crate::check::family::json::JsonCheck;
use crate::check::family::judge::JudgeCheck;
use crate::check::family::text::TextCheck;
use crate::check::family::trajectory::{TrajectoryCheck, TrajectoryMode};
use crate::check::judge_samples::Aggregate;
use crate::check::spec::ValueRef;
use crate::provider::types::ModelId;
use crate::template::Template;
use crate::verdict::Severity;

fn judges() -> BTreeMap<String, Arc<Judge>> {
    let judge = Judge {
        name: "helpfulness".into(),
        model: ModelId::parse("mock:judge").unwrap(),
        prompt: Template::compile("{{ output }}").unwrap(),
        system: None,
        scale: [1.0, 5.0],
        threshold: 0.7,
        soft_threshold: Some(0.5),
        retries: 2,
        samples: 1,
        aggregate: Aggregate::Mean,
    };
    BTreeMap::from([("helpfulness".to_string(), Arc::new(judge))])
}

fn parse_in(yaml: &str, dir: &Path) -> Result<CheckSpec, Vec<CheckError>> {
    let raw: RawCheck = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    let judges = judges();
    let available = ["helpfulness".to_string(), "policy".to_string()];
    let tools = [
        "lookup_order".to_string(),
        "issue_refund".to_string(),
        "send_email".to_string(),
    ];
    let env = CheckEnv {
        suite_dir: dir,
        judges: &judges,
        available_judges: &available,
        tools: Some(&tools),
        agents: None,
        mcp_named: None,
        cache: &Default::default(),
        limits: Default::default(),
    };
    from_raw(&raw, &env)
}

fn parse(yaml: &str) -> Result<CheckSpec, Vec<CheckError>> {
    parse_in(yaml, Path::new("."))
}

#[test]
fn valid_checks_get_derived_names() {
    let table = [
        ("contains: refund", "contains \"refund\""),
        ("contains: {any: [a, b]}", "contains any of \"a\", \"b\""),
        (
            "contains: {all: [a, b], ignore_case: true}",
            "contains all of \"a\", \"b\"",
        ),
        (
            "not_contains: {value: as an AI}",
            "not_contains \"as an AI\"",
        ),
        ("equals: expected.output", "equals expected.output"),
        (
            "equals: {value: expected.output}",
            "equals \"expected.output\"",
        ),
        ("equals: {a: 1}", "equals {\"a\":1}"),
        ("regex: '^\\d+$'", "regex \"^\\d+$\""),
        ("json_valid: true", "json_valid"),
        ("json_schema: {type: object}", "json_schema"),
        ("tool_called: lookup_order", "tool_called lookup_order"),
        (
            "tool_called: {name: lookup_order, args: {order_id: '1'}, times: 2}",
            "tool_called lookup_order {\"order_id\":\"1\"} ×2",
        ),
        (
            "tool_not_called: issue_refund",
            "tool_not_called issue_refund",
        ),
        (
            "trajectory: {mode: strict, expected: expected.tools}",
            "trajectory strict",
        ),
        (
            "trajectory: {expected: [lookup_order]}",
            "trajectory in_order",
        ),
        ("end_state: expected.state", "end_state expected.state"),
        ("end_state: {orders: {}}", "end_state"),
        ("max_steps: 8", "max_steps 8"),
        ("max_tokens: 500", "max_tokens 500"),
        ("escalated: false", "not escalated"),
        ("judge: helpfulness", "judge helpfulness"),
        ("{name: polite, contains: please}", "polite"),
    ];
    for (yaml, name) in table {
        let spec = parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
        assert_eq!(spec.name, name, "{yaml}");
        assert_eq!((spec.weight, spec.severity), (1.0, Severity::Hard));
    }
}

#[test]
fn shorthands_parse_to_the_right_check() {
    let spec = parse("contains: {any: [a, b], ignore_case: true}").unwrap();
    assert!(matches!(
        spec.check,
        Check::Text(TextCheck::Contains { ref values, all: false, ignore_case: true, .. }) if values.len() == 2
    ));
    let spec = parse("trajectory: {mode: strict, expected: expected.tools, args: exact}").unwrap();
    assert!(matches!(
        spec.check,
        Check::Trajectory(TrajectoryCheck {
            mode: TrajectoryMode::Strict,
            ref args,
            expected: ValueRef::Case(ref p),
            partial: false,
            agent: None,
        }) if p == "expected.tools" && args.default == ArgMatch::Exact
    ));
    let spec = parse("equals: '42'").unwrap();
    assert!(
        matches!(spec.check, Check::Text(TextCheck::Equals { expected: ValueRef::Inline(serde_json::Value::String(ref s)) }) if s == "42")
    );
    let spec = parse("regex: {pattern: abc, ignore_case: true}").unwrap();
    assert!(
        matches!(spec.check, Check::Text(TextCheck::Regex { ref regex, .. }) if regex.is_match("ABC"))
    );
    let spec = parse("{judge: helpfulness, threshold: 0.9, weight: 0, severity: soft}").unwrap();
    assert!(matches!(
        spec.check,
        Check::Judge(JudgeCheck { threshold, soft_threshold: Some(s), .. }) if threshold == 0.9 && s == 0.5
    ));
    assert_eq!((spec.weight, spec.severity), (0.0, Severity::Soft));
}

#[test]
fn invalid_checks_say_what_is_wrong() {
    // (yaml, message fragment, hint fragment or "")
    let table = [
        ("name: x", "a check needs one of: equals, contains,", ""),
        (
            "{contains: a, regex: b}",
            "a check has both `contains` and `regex`",
            "one check per",
        ),
        (
            "{contains: a, regex: b, max_steps: 1}",
            "several kinds: `contains`, `regex`, `max_steps`",
            "",
        ),
        ("contains: 3", "`contains` expects a string or a map", ""),
        ("contains: ''", "found an empty string", ""),
        (
            "contains: {valu: x}",
            "unknown key `valu` in `contains`",
            "did you mean `value`?",
        ),
        (
            "contains: {any: x}",
            "`contains.any` must be a non-empty list",
            "",
        ),
        ("contains: {any: []}", "found an empty list", ""),
        ("contains: {value: a, any: [b]}", "only one of", ""),
        (
            "contains: {ignore_case: true}",
            "needs one of `value`, `any`, `all`",
            "",
        ),
        (
            "contains: {value: a, ignore_case: yes}",
            "must be true or false",
            "",
        ),
        (
            "not_contains: {none: [a]}",
            "unknown key `none` in `not_contains`",
            "accepts",
        ),
        (
            "equals: {value: 1, x: 2}",
            "unknown key `x` in `equals`",
            "",
        ),
        ("regex: '(unclosed'", "invalid regex `(unclosed`", ""),
        (
            "regex: {pattern: a, flags: i}",
            "unknown key `flags` in `regex`",
            "",
        ),
        ("json_valid: false", "checks nothing", "remove"),
        ("json_schema: {type: 12}", "invalid JSON Schema", ""),
        (
            "json_schema: missing.json",
            "cannot read JSON Schema",
            "relative to the suite",
        ),
        (
            "tool_called: lookup_ordr",
            "unknown tool `lookup_ordr`",
            "did you mean `lookup_order`?",
        ),
        (
            "tool_called: zzz",
            "unknown tool `zzz`",
            "lookup_order, issue_refund, send_email",
        ),
        (
            "tool_called: {name: lookup_order, times: -1}",
            "`tool_called.times` must be a whole number",
            "",
        ),
        (
            "tool_not_called: {name: issue_refund, times: 1}",
            "unknown key `times` in `tool_not_called`",
            "",
        ),
        ("tool_called: {args: {}}", "`tool_called` needs `name`", ""),
        (
            "trajectory: expected.tools",
            "`trajectory` expects a map",
            "",
        ),
        (
            "trajectory: {mode: inorder, expected: expected.tools}",
            "unknown trajectory mode",
            "did you mean `in_order`?",
        ),
        (
            "trajectory: {mode: strict}",
            "`trajectory` needs `expected`",
            "",
        ),
        (
            "trajectory: {expected: tools}",
            "must be `expected.tools` or a list",
            "",
        ),
        (
            "trajectory: {expected: [{nam: a}]}",
            "unknown key `nam`",
            "",
        ),
        (
            "trajectory: {expected: [refund]}",
            "unknown tool `refund`",
            "",
        ),
        (
            "trajectory: {expected: expected.tools, args: partial}",
            "unknown argument matcher",
            "",
        ),
        (
            "end_state: state",
            "`end_state` expects `expected.state`, an inline map",
            "",
        ),
        (
            "judge: helpfullness",
            "unknown judge `helpfullness`",
            "did you mean `helpfulness`?",
        ),
        ("judge: policy", "judge `policy` has errors", ""),
        (
            "{judge: helpfulness, threshold: 1.2}",
            "`threshold` must be between 0 and 1",
            "",
        ),
        (
            "{judge: helpfulness, threshold: 0.4}",
            "`soft_threshold` (0.5) is above `threshold` (0.4)",
            "",
        ),
        (
            "{contains: a, threshold: 0.5}",
            "`threshold` only applies to `judge` checks",
            "",
        ),
        (
            "{contains: a, weight: -1}",
            "`weight` must be 0 or more",
            "",
        ),
    ];
    for (yaml, msg, hint) in table {
        let errs = parse(yaml).expect_err(yaml);
        let e = errs
            .iter()
            .find(|e| e.message.contains(msg))
            .unwrap_or_else(|| panic!("{yaml}: no error containing {msg:?} in {errs:#?}"));
        if !hint.is_empty() {
            let h = e.hint.as_deref().unwrap_or_default();
            assert!(h.contains(hint), "{yaml}: hint {h:?}");
        }
    }
}

#[test]
fn all_errors_of_a_check_are_collected() {
    let errs =
        parse("{contains: {valu: x, ignore_case: 1}, weight: -2, threshold: 3}").unwrap_err();
    let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(msgs.len(), 5, "{msgs:#?}");
}

#[test]
fn needles_point_at_the_offending_text() {
    let errs = parse("tool_called: lookup_ordr").unwrap_err();
    assert_eq!(errs[0].needle.as_deref(), Some("lookup_ordr"));
    let errs = parse("contains: {valu: x}").unwrap_err();
    assert_eq!(errs[0].needle.as_deref(), Some("valu"));
}

#[test]
fn unknown_tools_pass_when_the_target_does_not_list_tools() {
    let raw: RawCheck = serde_yaml::from_str("tool_called: anything").unwrap();
    let judges = BTreeMap::new();
    let env = CheckEnv {
        suite_dir: Path::new("."),
        judges: &judges,
        available_judges: &[],
        tools: None,
        agents: None,
        mcp_named: None,
        cache: &Default::default(),
        limits: Default::default(),
    };
    assert!(from_raw(&raw, &env).is_ok());
    let raw: RawCheck = serde_yaml::from_str("judge: x").unwrap();
    let errs = from_raw(&raw, &env).unwrap_err();
    assert!(errs[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("judges/NAME.yaml"));
}

#[test]
fn json_schema_files_load_relative_to_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("order.json"),
        r#"{"type": "object", "required": ["id"]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("order.yaml"),
        "type: object\nrequired: [id]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{not json").unwrap();
    for file in ["order.json", "order.yaml"] {
        let spec = parse_in(&format!("json_schema: {file}"), dir.path()).unwrap();
        assert_eq!(spec.name, format!("json_schema {file}"));
        let Check::Json(JsonCheck::Schema { schema }) = &spec.check else {
            panic!("{file}")
        };
        assert!(schema.is_valid(&serde_json::json!({"id": 1})));
        assert!(!schema.is_valid(&serde_json::json!({})));
    }
    let errs = parse_in("json_schema: broken.json", dir.path()).unwrap_err();
    assert!(
        errs[0].message.contains("cannot parse JSON Schema"),
        "{errs:?}"
    );
}

#[test]
fn new_forms_validate() {
    for (yaml, needle) in [
        ("trajectory: {mode: unorderd, expected: expected.tools}", "did you mean `unordered`?"),
        ("trajectory: {expected: expected.tools, args: {default: exact, tools: {lookup_ordr: exact}}}", "unknown tool `lookup_ordr`"),
        ("trajectory: {expected: expected.tools, args: {tools: {lookup_order: exakt}}}", "did you mean `exact`?"),
        ("trajectory: {expected: expected.tools, ignore: ['a.[b']}", "invalid key pattern"),
        ("trajectory: {expected: expected.tools, defaults: {lookup_order: 3}}", "must be a map"),
        ("tool_called: {name: lookup_order, times: {min: 3, max: 1}}", "below `times.min`"),
        ("tool_called: {name: lookup_order, times: {mn: 1}}", "unknown key `mn`"),
        ("tool_called: {name: lookup_order, before: refund}", "unknown tool `refund`"),
        ("end_state: [{path: a.b}]", "needs `equals` or `exists`"),
        ("end_state: [{path: a, equal: 1}]", "did you mean `equals`?"),
    ] {
        let errs = parse(yaml).expect_err(yaml);
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|t| t.contains(needle)), "{yaml}: {text:?}");
    }
    for (yaml, name) in [
        (
            "trajectory: {mode: superset, expected: expected.tools}",
            "trajectory superset",
        ),
        (
            "tool_called: {name: lookup_order, times: {min: 1, max: 3}, before: issue_refund}",
            "tool_called lookup_order ×1..3 before issue_refund",
        ),
        (
            "end_state: [{path: orders.1042.status, equals: refunded}]",
            "end_state orders.1042.status",
        ),
    ] {
        assert_eq!(
            parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}")).name,
            name
        );
    }
}
