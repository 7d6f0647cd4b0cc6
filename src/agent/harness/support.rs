//! The support-domain builtin tools: what each does to the `World`, and its argument schema.
//!
//! Each tool takes arguments already validated against its schema and returns a JSON result,
//! or an error message the model sees (a policy refusal, an unknown order) so it can recover.

use serde_json::{json, Value};

use crate::agent::harness::world::{parse_date, World};
use crate::trajectory::{ToolFailure, ToolOutcome};

/// Days after delivery during which a refund may be issued.
pub(crate) const REFUND_WINDOW_DAYS: i64 = 30;

/// Description and JSON Schema of a support tool's arguments; `None` for an unknown name.
pub(crate) fn spec(name: &str) -> Option<(&'static str, Value)> {
    let string =
        |description: &str| json!({"type": "string", "minLength": 1, "description": description});
    Some(match name {
        "lookup_order" => (
            "Look up an order by id: status, items, dates, customer, and how much can still be refunded.",
            object(json!({"order_id": string("The order id, e.g. \"1042\".")}), &["order_id"]),
        ),
        "search_kb" => (
            "Search the help-center knowledge base. Returns up to 3 articles, best first.",
            object(json!({"query": string("Keywords or the customer's question.")}), &["query"]),
        ),
        "create_ticket" => {
            let mut schema = object(
                json!({
                    "customer_id": string("The customer's id, e.g. \"C001\"."),
                    "order_id": string("The order the ticket is about."),
                    "subject": string("One-line summary."),
                    "body": string("What happened and what the customer wants."),
                }),
                &["subject", "body"],
            );
            schema["anyOf"] = json!([{"required": ["customer_id"]}, {"required": ["order_id"]}]);
            (
                "Open a support ticket for a customer or an order (give customer_id or order_id).",
                schema,
            )
        }
        "issue_refund" => (
            "Refund (part of) a delivered order. Policy: only delivered orders, within 30 days of delivery, at most the order total minus what was already refunded.",
            object(
                json!({
                    "order_id": string("The order to refund."),
                    "amount": {"type": "number", "exclusiveMinimum": 0, "description": "Amount in the order's currency."},
                    "reason": string("Why the refund is issued."),
                }),
                &["order_id", "amount", "reason"],
            ),
        ),
        "send_email" => (
            "Send an email to a customer.",
            object(
                json!({
                    "to": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$", "description": "Recipient address."},
                    "subject": string("Subject line."),
                    "body": string("Plain-text body."),
                }),
                &["to", "subject", "body"],
            ),
        ),
        "escalate_to_human" => (
            "Hand the conversation to a human agent (angry customer, legal threat, or anything outside policy).",
            object(json!({"reason": string("Why a human is needed.")}), &["reason"]),
        ),
        _ => return None,
    })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Runs a support tool. Arguments have been validated against `spec(name)`.
pub(crate) fn run(world: &mut World, name: &str, args: &Value) -> ToolOutcome {
    let s = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default();
    match name {
        "lookup_order" => lookup_order(world, s("order_id")),
        "search_kb" => Ok(search_kb(world, s("query"))),
        "create_ticket" => create_ticket(world, args),
        "issue_refund" => issue_refund(
            world,
            s("order_id"),
            args.get("amount").and_then(Value::as_f64).unwrap_or(0.0),
            s("reason"),
        ),
        "send_email" => {
            let id = world.insert(
                "emails",
                "E",
                json!({"to": s("to"), "subject": s("subject"), "body": s("body"), "sent_on": world.today_str()}),
            );
            Ok(json!({"email_id": id, "status": "sent"}))
        }
        "escalate_to_human" => {
            let id = world.insert(
                "escalations",
                "ESC",
                json!({"reason": s("reason"), "status": "queued", "created_on": world.today_str()}),
            );
            Ok(json!({"escalation_id": id, "status": "queued"}))
        }
        other => Err(format!("unknown tool `{other}`").into()),
    }
}

/// Money is compared in cents so that 0.1 + 0.2 refunds add up.
fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

fn money(c: i64) -> Value {
    json!(c as f64 / 100.0)
}

fn order<'a>(world: &'a World, order_id: &str) -> Result<&'a Value, ToolFailure> {
    world
        .get("orders", order_id)
        .ok_or_else(|| ToolFailure(format!("order `{order_id}` not found")))
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn lookup_order(world: &World, order_id: &str) -> ToolOutcome {
    let o = order(world, order_id)?;
    let mut result = o.as_object().cloned().unwrap_or_default();
    result.insert("order_id".into(), json!(order_id));
    if let Some(cid) = o.get("customer_id").and_then(Value::as_str) {
        if let Some(c) = world.get("customers", cid) {
            for (from, to) in [("name", "customer_name"), ("email", "customer_email")] {
                if let Some(v) = c.get(from) {
                    result.insert(to.into(), v.clone());
                }
            }
        }
    }
    let refundable = cents(num(o, "total")) - cents(num(o, "refunded"));
    result.insert("refundable_amount".into(), money(refundable.max(0)));
    if let (Some(delivered), Ok(today)) =
        (o.get("delivered_on").and_then(Value::as_str), world.today())
    {
        if let Ok(d) = parse_date(delivered) {
            result.insert("days_since_delivery".into(), json!(today - d));
        }
    }
    Ok(Value::Object(result))
}

fn issue_refund(world: &mut World, order_id: &str, amount: f64, reason: &str) -> ToolOutcome {
    let o = order(world, order_id)?;
    let status = o.get("status").and_then(Value::as_str).unwrap_or("unknown");
    if status == "refunded" {
        return Err(format!("order {order_id} has already been refunded in full").into());
    }
    if status != "delivered" {
        return Err(format!(
            "order {order_id} is `{status}`: only delivered orders can be refunded"
        )
        .into());
    }
    let delivered = o
        .get("delivered_on")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("order {order_id} has no delivery date"))?;
    // A tool's error is what the model is told.
    let today = world.today().map_err(|e| e.to_string())?;
    let days = today - parse_date(delivered).map_err(|e| e.to_string())?;
    if days > REFUND_WINDOW_DAYS {
        return Err(format!(
            "order {order_id} was delivered {days} days ago: refunds are only possible within {REFUND_WINDOW_DAYS} days of delivery"
        ).into());
    }
    let total = cents(num(o, "total"));
    let refunded = cents(num(o, "refunded"));
    let want = cents(amount);
    if want > total - refunded {
        return Err(format!(
            "refund of {:.2} exceeds what is refundable on order {order_id} ({:.2} of {:.2})",
            want as f64 / 100.0,
            (total - refunded) as f64 / 100.0,
            total as f64 / 100.0
        )
        .into());
    }
    let today = world.today_str();
    let id = world.insert(
        "refunds",
        "R",
        json!({"order_id": order_id, "amount": money(want), "reason": reason, "created_on": today}),
    );
    if let Some(o) = world.get_mut("orders", order_id) {
        o["refunded"] = money(refunded + want);
        if refunded + want == total {
            o["status"] = json!("refunded");
        }
    }
    Ok(json!({
        "refund_id": id,
        "order_id": order_id,
        "amount": money(want),
        "status": "issued",
        "refundable_remaining": money(total - refunded - want),
    }))
}

fn create_ticket(world: &mut World, args: &Value) -> ToolOutcome {
    let order_id = args.get("order_id").and_then(Value::as_str);
    let mut customer_id = args
        .get("customer_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(oid) = order_id {
        let o = order(world, oid)?;
        if customer_id.is_none() {
            customer_id = o
                .get("customer_id")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
    }
    if let Some(cid) = &customer_id {
        if world.get("customers", cid).is_none() {
            return Err(format!("customer `{cid}` not found").into());
        }
    }
    let mut ticket = json!({
        "subject": args.get("subject"),
        "body": args.get("body"),
        "status": "open",
        "created_on": world.today_str(),
    });
    if let Some(cid) = customer_id {
        ticket["customer_id"] = json!(cid);
    }
    if let Some(oid) = order_id {
        ticket["order_id"] = json!(oid);
    }
    let id = world.insert("tickets", "T", ticket);
    Ok(json!({"ticket_id": id, "status": "open"}))
}

/// Words too common to say anything about an article.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "can", "how", "what", "with", "from", "does", "this",
    "that", "are", "have", "was", "get", "not", "but", "any", "there", "about", "when", "will",
    "would", "could", "should", "into", "who", "why", "our", "out", "its", "has", "had", "did",
    "please", "hi", "hello", "thanks", "need", "want", "know", "long",
];

/// Lowercased words of 3+ chars, without stopwords, with a plural `s` dropped.
fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 4 && !stem.ends_with('s') => stem.to_string(),
            _ => w,
        })
        .collect()
}

/// Deterministic keyword scoring: per distinct query term, 3 points if it is in the title,
/// 2 if it is a tag, 1 if it is in the body. Top 3 with a positive score; ties by id.
fn search_kb(world: &World, query: &str) -> Value {
    let mut q = terms(query);
    q.sort();
    q.dedup();
    let mut scored: Vec<(i64, &String, &Value)> = world
        .records("kb")
        .map(|(id, a)| {
            let field = |k: &str| terms(a.get(k).and_then(Value::as_str).unwrap_or_default());
            let title = field("title");
            let body = field("body");
            let tags: Vec<String> = a
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .flat_map(terms)
                .collect();
            let score = q
                .iter()
                .map(|t| {
                    3 * i64::from(title.contains(t))
                        + 2 * i64::from(tags.contains(t))
                        + i64::from(body.contains(t))
                })
                .sum();
            (score, id, a)
        })
        .filter(|(score, _, _)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let results: Vec<Value> = scored
        .into_iter()
        .take(3)
        .map(|(_, id, a)| json!({"id": id, "title": a.get("title"), "body": a.get("body")}))
        .collect();
    json!({"results": results})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_value(json!({
            "today": "2026-03-20",
            "customers": {"C1": {"name": "Ada", "email": "ada@example.com"}},
            "orders": {
                "1": {"customer_id": "C1", "status": "delivered", "total": 30.0, "refunded": 0, "delivered_on": "2026-03-10"},
                "2": {"customer_id": "C1", "status": "delivered", "total": 30.0, "refunded": 0, "delivered_on": "2026-02-01"},
                "3": {"customer_id": "C1", "status": "shipped", "total": 30.0},
                "4": {"customer_id": "C1", "status": "delivered", "total": 30.0, "refunded": 0, "delivered_on": "2026-02-18"},
            },
            "kb": {
                "kb-a": {"title": "Returns policy", "body": "Return within 30 days.", "tags": ["refund"]},
                "kb-b": {"title": "Password reset", "body": "Click forgot password.", "tags": ["login", "account"]},
                "kb-c": {"title": "Shipping times", "body": "Orders ship in 2 days; returns take longer.", "tags": []},
            }
        }))
        .unwrap()
    }

    #[test]
    fn refund_policy_table() {
        let table = [
            ("1", 10.0, Ok(())),
            ("4", 30.0, Ok(())), // exactly 30 days after delivery: still inside the window
            ("2", 10.0, Err("47 days ago")),
            ("3", 10.0, Err("only delivered orders")),
            ("1", 30.01, Err("exceeds what is refundable")),
            ("9", 1.0, Err("not found")),
        ];
        for (id, amount, want) in table {
            let mut w = world();
            match (issue_refund(&mut w, id, amount, "r"), want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(w)) => assert!(e.0.contains(w), "{id}: {e}"),
                (got, want) => panic!("{id} {amount}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn refunds_accumulate_and_full_refund_changes_status() {
        let mut w = world();
        let r = issue_refund(&mut w, "1", 10.1, "broken").unwrap();
        assert_eq!(r["refund_id"], "R-1");
        assert_eq!(r["refundable_remaining"], json!(19.9));
        issue_refund(&mut w, "1", 19.9, "rest").unwrap();
        assert_eq!(w.get("orders", "1").unwrap()["status"], "refunded");
        assert_eq!(w.get("orders", "1").unwrap()["refunded"], json!(30.0));
        let err = issue_refund(&mut w, "1", 1.0, "again").unwrap_err();
        assert!(err.0.contains("already been refunded"), "{err}");
        assert_eq!(w.records("refunds").count(), 2);
    }

    #[test]
    fn lookup_adds_customer_and_derived_fields() {
        let r = lookup_order(&world(), "2").unwrap();
        assert_eq!(r["order_id"], "2");
        assert_eq!(r["customer_email"], "ada@example.com");
        assert_eq!(r["days_since_delivery"], 47);
        assert_eq!(r["refundable_amount"], json!(30.0));
        assert!(lookup_order(&world(), "3")
            .unwrap()
            .get("days_since_delivery")
            .is_none());
    }

    #[test]
    fn kb_search_ranks_by_keywords() {
        let ids = |q: &str| -> Vec<String> {
            search_kb(&world(), q)["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids("How do I reset my password?"), ["kb-b"]);
        assert_eq!(ids("what are your returns rules"), ["kb-a", "kb-c"]);
        assert!(ids("the and for").is_empty());
    }

    #[test]
    fn ticket_needs_a_known_customer_or_order() {
        let mut w = world();
        let ok = create_ticket(
            &mut w,
            &json!({"order_id": "3", "subject": "s", "body": "b"}),
        )
        .unwrap();
        assert_eq!(ok["ticket_id"], "T-1");
        assert_eq!(w.get("tickets", "T-1").unwrap()["customer_id"], "C1");
        let err = create_ticket(
            &mut w,
            &json!({"customer_id": "C9", "subject": "s", "body": "b"}),
        )
        .unwrap_err();
        assert!(err.0.contains("C9"), "{err}");
    }
}
