//! `RawCheck`: one check as the user wrote it — exactly one kind key (`contains`, `judge`, ...)
//! plus the common keys `name`, `severity`, `weight` (and `threshold`/`soft_threshold` for
//! judges).
//!
//! The kind keys come from the registry (`check::registry`), so this type names no kind. Values
//! are kept as JSON and parsed by their family, since `#[serde(untagged)]` shorthands would make
//! the errors unreadable; a kind whose value is one scalar is read typed, so a wrong type gets
//! serde's own located message. Unknown keys are errors listing every key, as
//! `deny_unknown_fields` would.

use std::fmt;
use std::sync::LazyLock;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::registry::{self, Registered, Shape};
use crate::verdict::Severity;

#[derive(Debug, Clone, Default)]
pub struct RawCheck {
    pub name: Option<String>,
    pub severity: Option<Severity>,
    pub weight: Option<f64>,
    /// The kind keys written (a null value counts as not written), in registry order.
    pub kinds: Vec<RawKind>,
    /// Judge options.
    pub threshold: Option<f64>,
    pub soft_threshold: Option<f64>,
}

/// One kind key of a check and its value.
#[derive(Debug, Clone)]
pub struct RawKind {
    pub kind: Registered,
    pub value: Value,
}

impl RawKind {
    pub fn name(&self) -> &'static str {
        self.kind.kind.name
    }
}

/// The common keys before the kinds, and after them, in the order messages list them.
const LEADING: [&str; 3] = ["name", "severity", "weight"];
const TRAILING: [&str; 2] = ["threshold", "soft_threshold"];

/// Every key a check accepts, for serde's "expected one of".
static FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    LEADING
        .iter()
        .chain(registry::kind_names())
        .chain(TRAILING.iter())
        .copied()
        .collect()
});

impl<'de> Deserialize<'de> for RawCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = RawCheck;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct RawCheck")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCheck, A::Error> {
        let mut raw = RawCheck::default();
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let Some(field) = FIELDS.iter().copied().find(|f| *f == key) else {
                return Err(de::Error::unknown_field(&key, &FIELDS));
            };
            if seen.contains(&field) {
                return Err(de::Error::duplicate_field(field));
            }
            seen.push(field);
            match field {
                "name" => raw.name = map.next_value()?,
                "severity" => raw.severity = map.next_value()?,
                "weight" => raw.weight = map.next_value()?,
                "threshold" => raw.threshold = map.next_value()?,
                "soft_threshold" => raw.soft_threshold = map.next_value()?,
                kind => {
                    let kind = registry::lookup(kind).expect("a listed field is a kind");
                    if let Some(value) = map.next_value_seed(ShapeSeed(kind.kind.shape))? {
                        raw.kinds.push(RawKind { kind, value });
                    }
                }
            }
        }
        raw.kinds.sort_by_key(|k| k.kind.order);
        // A Vec grows to four slots at its first push; a check has one kind, and a dataset of
        // 100,000 cases holds every raw check at load.
        raw.kinds.shrink_to_fit();
        Ok(raw)
    }
}

/// Reads a kind's value as its shape says; `None` for null (as an `Option` field would).
struct ShapeSeed(Shape);

impl<'de> DeserializeSeed<'de> for ShapeSeed {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        Ok(match self.0 {
            // The family reads the bound or the `{max, agent}` map and says what is wrong.
            Shape::Any | Shape::U64OrAgent | Shape::F64OrAgent => Option::<Value>::deserialize(d)?,
            Shape::Bool => Option::<bool>::deserialize(d)?.map(Value::Bool),
            Shape::U64 => Option::<u64>::deserialize(d)?.map(Value::from),
            Shape::F64 => Option::<f64>::deserialize(d)?.map(Value::from),
            Shape::String => Option::<String>::deserialize(d)?.map(Value::String),
        })
    }
}

/// The check as written: the common keys (null when absent), then the kinds written. Part of a
/// case's fingerprint.
impl Serialize for RawCheck {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("severity", &self.severity)?;
        map.serialize_entry("weight", &self.weight)?;
        for k in &self.kinds {
            map.serialize_entry(k.name(), &k.value)?;
        }
        map.serialize_entry("threshold", &self.threshold)?;
        map.serialize_entry("soft_threshold", &self.soft_threshold)?;
        map.end()
    }
}

/// The JSON Schema of a check, read from the registry like the deserializer above: every key
/// it accepts and nothing else, exactly one kind key, a scalar kind typed by its shape (a kind
/// that takes shorthands is left open: its family checks it at load).
impl schemars::JsonSchema for RawCheck {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawCheck".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let number = || serde_json::json!({"type": ["number", "null"]});
        let mut properties = serde_json::Map::new();
        properties.insert(
            "name".into(),
            serde_json::json!({"type": ["string", "null"], "description": "Display name in reports."}),
        );
        properties.insert(
            "severity".into(),
            generator.subschema_for::<Option<Severity>>().to_value(),
        );
        properties.insert("weight".into(), number());
        for name in registry::kind_names() {
            let kind = registry::lookup(name)
                .expect("a listed name is a kind")
                .kind;
            properties.insert((*name).into(), shape_schema(kind.shape));
        }
        properties.insert("threshold".into(), number());
        properties.insert("soft_threshold".into(), number());
        let one_kind: Vec<Value> = registry::kind_names()
            .iter()
            .map(|name| serde_json::json!({"required": [name]}))
            .collect();
        schemars::json_schema!({
            "description": "One check: exactly one kind key (`contains`, `judge`, ...) and the common keys.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
            "oneOf": one_kind,
        })
    }
}

/// A bound, or the same bound on one agent's own calls.
fn scoped(bound: Value) -> Value {
    serde_json::json!({"anyOf": [bound.clone(), {
        "type": "object",
        "properties": {"max": bound, "agent": {"type": "string"}},
        "required": ["max", "agent"],
        "additionalProperties": false,
    }]})
}

/// The value a kind of this shape accepts (null aside: a null kind is no kind).
fn shape_schema(shape: Shape) -> Value {
    match shape {
        Shape::Any => serde_json::json!({}),
        Shape::U64OrAgent => scoped(serde_json::json!({"type": "integer", "minimum": 0})),
        Shape::F64OrAgent => scoped(serde_json::json!({"type": "number", "minimum": 0})),
        Shape::Bool => serde_json::json!({"type": "boolean"}),
        Shape::U64 => serde_json::json!({"type": "integer", "minimum": 0}),
        Shape::F64 => serde_json::json!({"type": "number"}),
        Shape::String => serde_json::json!({"type": "string"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_back_in_registry_order_and_null_is_absent() {
        let raw: RawCheck =
            serde_yaml::from_str("regex: x\ncontains: y\nequals: null\nweight: 2").unwrap();
        let names: Vec<&str> = raw.kinds.iter().map(RawKind::name).collect();
        assert_eq!(names, ["contains", "regex"]);
        assert_eq!(raw.weight, Some(2.0));
    }

    #[test]
    fn unknown_and_mistyped_keys_are_serde_errors() {
        let e = serde_yaml::from_str::<RawCheck>("tool_caled: x").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("unknown field `tool_caled`, expected one of `name`, `severity`, `weight`, `equals`"),
            "{msg}"
        );
        assert!(msg.contains("`threshold`, `soft_threshold`"), "{msg}");
        let e = serde_yaml::from_str::<RawCheck>("escalated: many").unwrap_err();
        assert!(e.to_string().contains("expected a boolean"), "{e}");
        let e = serde_json::from_str::<RawCheck>(r#"{"json_valid": "yes"}"#).unwrap_err();
        assert!(e.to_string().contains("expected a boolean"), "{e}");
    }

    #[test]
    fn serializes_what_was_written() {
        let raw: RawCheck = serde_json::from_str(r#"{"max_steps": 3, "name": "n"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            r#"{"name":"n","severity":null,"weight":null,"max_steps":3,"threshold":null,"soft_threshold":null}"#
        );
    }
}
