//! Time as the history stores it: unix seconds, shown as UTC `YYYY-MM-DDTHH:MM:SSZ`, and the
//! `--since` values (`7d`, `12h`, `2026-01-31`).

/// Now, in unix seconds.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's civil-from-days.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds as `2026-01-31T22:04:05Z`.
pub(crate) fn iso(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `--since`: a date `YYYY-MM-DD` (UTC midnight) or an age `N[dhm]` before `now`.
pub(crate) fn parse_since(text: &str, now: i64) -> Result<i64, String> {
    let t = text.trim();
    let age = |n: &str, unit: i64| {
        n.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| now - n * unit)
    };
    let parsed = if let Some(n) = t.strip_suffix('d') {
        age(n, 86_400)
    } else if let Some(n) = t.strip_suffix('h') {
        age(n, 3600)
    } else if let Some(n) = t.strip_suffix('m') {
        age(n, 60)
    } else {
        let parts: Vec<&str> = t.split('-').collect();
        match parts.as_slice() {
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                match (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()) {
                    (Ok(y), Ok(m @ 1..=12), Ok(d @ 1..=31)) => {
                        Some(days_from_civil(y, m, d) * 86_400)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    };
    parsed.ok_or_else(|| {
        format!("--since `{text}` is neither a date nor an age (hint: 2026-01-31, 7d, 12h)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(951_782_400 + 3661), "2000-02-29T01:01:01Z");
        for days in [-1000, 0, 59, 60, 11_016, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn since_reads_dates_and_ages() {
        assert_eq!(parse_since("1970-01-02", 0), Ok(86_400));
        assert_eq!(parse_since("7d", 1_000_000), Ok(1_000_000 - 7 * 86_400));
        assert_eq!(parse_since("2h", 10_000), Ok(10_000 - 7200));
        assert!(parse_since("yesterday", 0).is_err());
        assert!(parse_since("2026-13-01", 0).is_err());
    }
}
