//! `World`: the stateful support-domain world the builtin tools read and mutate.
//!
//! The world is plain JSON so that a case's fixture can be deep-merged over it and its end state
//! compared with `end_state` checks as a recursive subset. Its shape (all keys optional):
//!
//! ```json
//! {"today": "2026-03-20",
//!  "customers": {"C001": {"name": "...", "email": "..."}},
//!  "orders": {"1001": {"customer_id": "C001", "status": "delivered", "total": 59.98,
//!                      "refunded": 0, "delivered_on": "2026-03-10", ...}},
//!  "kb": {"kb-returns": {"title": "...", "body": "...", "tags": ["returns"]}},
//!  "tickets": {}, "refunds": {}, "emails": {}, "escalations": {}}
//! ```
//!
//! Collections are maps keyed by id, so expected states can name one record
//! (`{"orders": {"1001": {"status": "refunded"}}}`). `today` is fixed so that date policies
//! (the 30-day refund window) never depend on the wall clock.

use std::sync::Arc;

use serde_json::{Map, Value};

/// Copy-on-write: every case starts from the suite's world without copying it, and only a
/// case whose tools write to it (a refund, a ticket) gets a copy of its own. A case that only
/// reads ends with the suite's world as its end state, shared, not duplicated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct World {
    state: Arc<Value>,
}

/// A world fixture the builtin tools cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WorldError {
    #[error("the world must be a JSON object")]
    NotAnObject,
    #[error("`today` in the world must be a date string `YYYY-MM-DD`")]
    TodayNotAString,
    #[error("`today` in the world: {0}")]
    BadToday(BadDate),
    #[error("`{0}` in the world must be an object keyed by id")]
    CollectionNotAnObject(&'static str),
    #[error("the world has no `today` date, needed for date policies")]
    NoToday,
}

/// A date that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date `{0}` (expected `YYYY-MM-DD`)")]
pub(crate) struct BadDate(String);

impl World {
    /// The suite's world with the case's fixture deep-merged over it.
    pub(crate) fn new(
        base: Option<&Arc<Value>>,
        overlay: Option<&Value>,
    ) -> Result<World, WorldError> {
        let mut state = base
            .cloned()
            .unwrap_or_else(|| Arc::new(Value::Object(Map::new())));
        if let Some(overlay) = overlay {
            deep_merge(Arc::make_mut(&mut state), overlay);
        }
        World::check(state)
    }

    /// Checks the shape the tools rely on: an object, `today` a date, collections objects.
    #[cfg(test)]
    pub(crate) fn from_value(state: Value) -> Result<World, WorldError> {
        World::check(Arc::new(state))
    }

    fn check(state: Arc<Value>) -> Result<World, WorldError> {
        let Some(obj) = state.as_object() else {
            return Err(WorldError::NotAnObject);
        };
        if let Some(today) = obj.get("today") {
            let s = today.as_str().ok_or(WorldError::TodayNotAString)?;
            parse_date(s).map_err(WorldError::BadToday)?;
        }
        for key in COLLECTIONS {
            if let Some(v) = obj.get(*key) {
                if !v.is_object() {
                    return Err(WorldError::CollectionNotAnObject(key));
                }
            }
        }
        Ok(World { state })
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> &Value {
        &self.state
    }

    pub(crate) fn into_state(self) -> Arc<Value> {
        self.state
    }

    /// The world's fixed date, in days since 1970-01-01.
    pub(crate) fn today(&self) -> Result<i64, WorldError> {
        let s = self
            .state
            .get("today")
            .and_then(Value::as_str)
            .ok_or(WorldError::NoToday)?;
        parse_date(s).map_err(WorldError::BadToday)
    }

    pub(crate) fn today_str(&self) -> String {
        self.state
            .get("today")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// A record of a collection, e.g. `get("orders", "1001")`.
    pub(crate) fn get(&self, collection: &str, id: &str) -> Option<&Value> {
        self.state.get(collection)?.get(id)
    }

    pub(crate) fn get_mut(&mut self, collection: &str, id: &str) -> Option<&mut Value> {
        // Looked up first, so asking for a missing record does not copy the world.
        self.get(collection, id)?;
        Arc::make_mut(&mut self.state)
            .get_mut(collection)?
            .get_mut(id)
    }

    /// The records of a collection, in id order.
    pub(crate) fn records(&self, collection: &str) -> impl Iterator<Item = (&String, &Value)> {
        self.state
            .get(collection)
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.iter())
    }

    /// Adds a record under the next free id `PREFIX-n` and returns the id.
    pub(crate) fn insert(&mut self, collection: &str, prefix: &str, record: Value) -> String {
        let map = self.collection_mut(collection);
        let mut n = map.len() + 1;
        while map.contains_key(&format!("{prefix}-{n}")) {
            n += 1;
        }
        let id = format!("{prefix}-{n}");
        map.insert(id.clone(), record);
        id
    }

    fn collection_mut(&mut self, collection: &str) -> &mut Map<String, Value> {
        let obj = match Arc::make_mut(&mut self.state) {
            Value::Object(o) => o,
            other => {
                *other = Value::Object(Map::new());
                match other {
                    Value::Object(o) => o,
                    _ => unreachable!("just set to an object"),
                }
            }
        };
        let entry = obj
            .entry(collection.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(m) => m,
            _ => unreachable!("just set to an object"),
        }
    }
}

const COLLECTIONS: &[&str] = &[
    "customers",
    "orders",
    "kb",
    "tickets",
    "refunds",
    "emails",
    "escalations",
];

/// Objects merge key by key, recursively; any other overlay value replaces the base value;
/// `null` in the overlay removes the key (so a fixture can delete a record).
pub(crate) fn deep_merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                } else {
                    match b.get_mut(k) {
                        Some(existing) => deep_merge(existing, v),
                        None => {
                            b.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// `YYYY-MM-DD` to days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn parse_date(s: &str) -> Result<i64, BadDate> {
    let bad = || BadDate(s.to_string());
    let mut parts = s.splitn(3, '-');
    let mut next = || -> Result<i64, BadDate> {
        parts
            .next()
            .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse().ok())
            .ok_or_else(bad)
    };
    let (y, m, d) = (next()?, next()?, next()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d < 1 || d > days_in_month {
        return Err(bad());
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_count_days() {
        let table = [
            ("1970-01-01", Ok(0)),
            ("2000-03-01", Ok(11_017)),
            ("2024-02-29", Ok(19_782)),
            ("2023-02-29", Err(())),
            ("2026-13-01", Err(())),
            ("20-1", Err(())),
        ];
        for (s, want) in table {
            assert_eq!(parse_date(s).map_err(|_| ()), want, "{s}");
        }
        assert_eq!(
            parse_date("2026-03-20").unwrap() - parse_date("2026-02-18").unwrap(),
            30
        );
    }

    #[test]
    fn fixture_merges_deeply_and_null_removes() {
        let base = json!({"today": "2026-03-20", "orders": {
            "1": {"status": "shipped", "total": 5}, "2": {"status": "delivered"}}});
        let overlay = json!({"orders": {"1": {"status": "delivered"}, "2": null, "3": {}}});
        let w = World::new(Some(&Arc::new(base)), Some(&overlay)).unwrap();
        assert_eq!(
            w.state()["orders"],
            json!({"1": {"status": "delivered", "total": 5}, "3": {}})
        );
    }

    #[test]
    fn bad_shapes_are_rejected() {
        for (v, want) in [
            (json!([1]), "JSON object"),
            (json!({"today": "soon"}), "invalid date"),
            (json!({"orders": []}), "`orders`"),
        ] {
            let err = World::from_value(v).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn insert_picks_the_next_free_id() {
        let mut w = World::from_value(json!({"tickets": {"T-2": {}}})).unwrap();
        assert_eq!(w.insert("tickets", "T", json!({})), "T-3");
        assert_eq!(w.insert("refunds", "R", json!({})), "R-1");
    }

    #[test]
    fn cases_share_the_suite_world_until_they_write_to_it() {
        let base = Arc::new(json!({"orders": {"1": {"status": "shipped"}}, "tickets": {}}));
        let reader = World::new(Some(&base), None).unwrap();
        assert!(reader.get("orders", "1").is_some());
        assert!(
            Arc::ptr_eq(&reader.into_state(), &base),
            "a read copies nothing"
        );

        let mut missing = World::new(Some(&base), None).unwrap();
        assert!(missing.get_mut("orders", "9").is_none());
        assert!(
            Arc::ptr_eq(&missing.into_state(), &base),
            "nor does a missed lookup"
        );

        let mut writer = World::new(Some(&base), None).unwrap();
        writer.get_mut("orders", "1").unwrap()["status"] = json!("refunded");
        writer.insert("tickets", "T", json!({}));
        let end = writer.into_state();
        assert_eq!(end["orders"]["1"]["status"], "refunded");
        assert_eq!(end["tickets"]["T-1"], json!({}));
        assert_eq!(
            base["orders"]["1"]["status"], "shipped",
            "the suite's world is untouched"
        );
        assert_eq!(base["tickets"], json!({}));
    }
}
