//! RotationRules validation (semantics.md §7): AutomaticallyAfterDays xor ScheduleExpression, the
//! rate() and cron() grammars with their four-hour floor, and Duration. Pure functions; the
//! rotate operation turns a [`ScheduleError`] into AWS's error.

use crate::request::RotationRules;
use crate::rules::{self, Rule};

/// Why a RotationRules value is refused: the rule it breaks and a human-readable reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    pub rule: &'static Rule,
    pub reason: String,
}

fn err<T>(rule: &'static Rule, reason: impl Into<String>) -> Result<T, ScheduleError> {
    Err(ScheduleError { rule, reason: reason.into() })
}

/// How often a schedule opens its window, for the Duration check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cadence {
    /// Windows `hours` apart within a day (rate in hours, or several cron hours).
    Hours(u32),
    /// One window a day or less often, opening at `start_hour`.
    Daily { start_hour: u32 },
}

/// Checks RotationRules as RotateSecret receives them.
pub fn check(rules_in: &RotationRules) -> Result<(), ScheduleError> {
    let cadence = match (&rules_in.automatically_after_days, &rules_in.schedule_expression) {
        (Some(_), Some(_)) => {
            return err(
                &rules::ROTATE_RULES_EXCLUSIVE,
                "You cannot specify both rotation frequency and schedule expression together.",
            )
        }
        (Some(days), None) => {
            if !(1..=1000).contains(days) {
                return err(&rules::ROTATE_DAYS_RANGE, format!("AutomaticallyAfterDays {days} is outside 1..1000"));
            }
            Some(Cadence::Daily { start_hour: 0 })
        }
        (None, Some(expr)) => Some(expression(expr)?),
        (None, None) => None,
    };
    if let Some(d) = &rules_in.duration {
        let hours = duration_hours(d)?;
        match cadence {
            Some(Cadence::Hours(interval)) if hours > interval => {
                return err(
                    &rules::ROTATE_DURATION,
                    format!("Duration {d} is longer than the {interval} hours between rotations"),
                )
            }
            Some(Cadence::Daily { start_hour }) if start_hour + hours > 24 => {
                return err(&rules::ROTATE_DURATION, format!("Duration {d} from {start_hour}:00 crosses midnight"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `Duration`: pattern `[0-9]+h`, length 2..3, at least one hour.
fn duration_hours(d: &str) -> Result<u32, ScheduleError> {
    let digits = d.strip_suffix('h').filter(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()));
    match digits.and_then(|n| n.parse::<u32>().ok()) {
        Some(h) if h >= 1 => Ok(h),
        _ => err(&rules::ROTATE_DURATION, format!("Duration {d:?} is not 1h..99h")),
    }
}

/// A ScheduleExpression: `rate(N unit)` or `cron(M H DoM Mon DoW Y)`.
fn expression(expr: &str) -> Result<Cadence, ScheduleError> {
    let charset_ok = !expr.is_empty()
        && expr.len() <= 256
        && expr.chars().all(|c| c.is_ascii_alphanumeric() || "()#?*-/, ".contains(c));
    if !charset_ok {
        return err(&rules::ROTATE_SCHEDULE, format!("{expr:?} has characters outside the model pattern"));
    }
    if let Some(body) = expr.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
        rate(body)
    } else if let Some(body) = expr.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) {
        cron(body)
    } else {
        err(&rules::ROTATE_SCHEDULE, format!("{expr:?} is neither rate() nor cron()"))
    }
}

fn rate(body: &str) -> Result<Cadence, ScheduleError> {
    let parts: Vec<&str> = body.split(' ').collect();
    let [n, unit] = parts[..] else {
        return err(&rules::ROTATE_SCHEDULE, format!("rate({body}) is not rate(Value Unit)"));
    };
    let Some(n) = n.parse::<u32>().ok().filter(|n| *n > 0) else {
        return err(&rules::ROTATE_SCHEDULE, format!("rate value {n:?} is not a positive integer"));
    };
    match unit {
        "hour" | "hours" if n < 4 => err(&rules::ROTATE_SCHEDULE, "rotations must be at least four hours apart"),
        "hour" | "hours" if n < 24 => Ok(Cadence::Hours(n)),
        "hour" | "hours" => Ok(Cadence::Daily { start_hour: 0 }),
        "day" | "days" if n > 999 => err(&rules::ROTATE_SCHEDULE, "the maximum rotation period is 999 days"),
        "day" | "days" => Ok(Cadence::Daily { start_hour: 0 }),
        _ => err(&rules::ROTATE_SCHEDULE, format!("rate unit {unit:?} is not hour(s) or day(s)")),
    }
}

fn cron(body: &str) -> Result<Cadence, ScheduleError> {
    let f: Vec<&str> = body.split(' ').collect();
    let [minutes, hours, dom, month, dow, year] = f[..] else {
        return err(&rules::ROTATE_SCHEDULE, format!("cron({body}) does not have six fields"));
    };
    if minutes != "0" {
        return err(&rules::ROTATE_SCHEDULE, "rotation windows open on the hour: minutes must be 0");
    }
    if year != "*" {
        return err(&rules::ROTATE_SCHEDULE, "the year field must be *");
    }
    if (dom == "?") == (dow == "?") {
        return err(&rules::ROTATE_SCHEDULE, "exactly one of day-of-month and day-of-week must be ?");
    }
    field(dom, 1, 31, ",-*?/L", &[])?;
    field(month, 1, 12, ",-*/", &MONTHS)?;
    field(dow, 1, 7, "#,-*?/L", &DAYS)?;
    let hour_set = hours_of(hours)?;
    let first = hour_set[0];
    // The smallest gap between consecutive windows, counting the wrap to the next day.
    let mut gap = 24 - hour_set[hour_set.len() - 1] + first;
    for w in hour_set.windows(2) {
        gap = gap.min(w[1] - w[0]);
    }
    if gap < 4 {
        return err(&rules::ROTATE_SCHEDULE, "rotations must be at least four hours apart");
    }
    if hour_set.len() == 1 {
        Ok(Cadence::Daily { start_hour: first })
    } else {
        Ok(Cadence::Hours(gap))
    }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Checks a day or month field: numbers in `lo..=hi` or names, joined by the allowed wildcards.
fn field(text: &str, lo: u32, hi: u32, wildcards: &str, names: &[&str]) -> Result<(), ScheduleError> {
    let mut token = String::new();
    let check = |t: &str| -> Result<(), ScheduleError> {
        if t.is_empty() || names.contains(&t) || t == "L" {
            return Ok(());
        }
        // `SUNL`-style last-weekday forms.
        if let Some(n) = t.strip_suffix('L') {
            if names.contains(&n) || n.parse::<u32>().is_ok_and(|v| (lo..=hi).contains(&v)) {
                return Ok(());
            }
        }
        match t.parse::<u32>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(()),
            _ => err(&rules::ROTATE_SCHEDULE, format!("{t:?} is not valid in cron field {text:?}")),
        }
    };
    for c in text.chars() {
        if wildcards.contains(c) && c != 'L' {
            check(&token)?;
            token.clear();
        } else if c.is_ascii_alphanumeric() {
            token.push(c);
        } else {
            return err(&rules::ROTATE_SCHEDULE, format!("{c:?} is not allowed in cron field {text:?}"));
        }
    }
    check(&token)
}

/// The hours of the day a cron hours field selects (`H`, `a,b`, `a-b`, `a/n`, `/n`, `*`).
fn hours_of(text: &str) -> Result<Vec<u32>, ScheduleError> {
    let bad = || err(&rules::ROTATE_SCHEDULE, format!("{text:?} is not a valid cron hours field"));
    let num = |s: &str| s.parse::<u32>().ok().filter(|h| *h <= 23);
    let mut set = std::collections::BTreeSet::new();
    for part in text.split(',') {
        if let Some((start, step)) = part.split_once('/') {
            let start = if start.is_empty() || start == "*" { Some(0) } else { num(start) };
            let step = step.parse::<u32>().ok().filter(|s| *s >= 1);
            let (Some(start), Some(step)) = (start, step) else {
                return bad();
            };
            set.extend((start..24).step_by(step as usize));
        } else if part == "*" {
            set.extend(0..24);
        } else if let Some((a, b)) = part.split_once('-') {
            let (Some(a), Some(b)) = (num(a), num(b)) else {
                return bad();
            };
            if a > b {
                return bad();
            }
            set.extend(a..=b);
        } else {
            let Some(h) = num(part) else { return bad() };
            set.insert(h);
        }
    }
    Ok(set.into_iter().collect())
}

/// The AutomaticallyAfterDays AWS computes for a `rate()` expression: N for `rate(N days)`, 1 for
/// an hourly rate (rotating more than once a day). `None` for a cron expression or anything else.
pub fn days_of_rate(expr: &str) -> Option<i64> {
    let body = expr.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = body.split_once(' ')?;
    let n: i64 = n.parse().ok()?;
    match unit {
        "day" | "days" => Some(n),
        "hour" | "hours" => Some(1),
        _ => None,
    }
}
