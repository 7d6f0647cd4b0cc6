//! `schema`: print the JSON Schema of a file format (`crate::schema` generates it).

use crate::exit;
use crate::schema::{generate, SchemaKind};

pub fn print(kind: SchemaKind) -> u8 {
    println!("{}", render(kind));
    exit::GATE_PASSED
}

/// The schema as printed and as committed under `docs/schema/`: pretty JSON, keys sorted.
pub fn render(kind: SchemaKind) -> String {
    serde_json::to_string_pretty(&generate(kind)).expect("a JSON value always serializes")
}
