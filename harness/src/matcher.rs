//! Comparing what a target answered with what the model allows. An expectation is the model's
//! outcome (or a trace's `expect`): a success is a subset match on the response (a member given
//! must match; `null` means it must be absent; `"<any>"` means it must be present), with
//! `VersionStages` compared as sets, `Versions` as a set keyed by `VersionId` holding exactly the
//! listed versions, and `VersionIdsToStages` as a map of sets. An error compares its code, and its
//! message where the message is known.

use crate::target::Observed;
use serde_json::{Map, Value};
use sm_model::{Expect, ANY};
use std::collections::BTreeSet;
use std::fmt;

/// How an observation differs from one expectation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mismatch {
    /// Success where an error was expected, or the reverse (or a fault).
    Kind { expected: String, observed: String },
    /// Both errors, different codes.
    Code { expected: String, observed: String },
    /// Same code, different message.
    Message { expected: String, observed: String },
    /// A response member differs: `path` names it.
    Field { path: String, expected: String, observed: String },
    /// Two dates of one response are in the wrong order: AWS's `earlier` precedes `later`.
    Order { earlier: String, later: String },
}

impl Mismatch {
    /// What differed: `kind <what the target did>`, `code <the target's code>`, `message`, or
    /// `field <path> <unexpected|missing|differs>`. Used to recognise the same divergence while
    /// shrinking and in the catalogue.
    pub fn aspect(&self) -> String {
        match self {
            Mismatch::Kind { observed, .. } => format!("kind {observed}"),
            Mismatch::Code { observed, .. } => format!("code {observed}"),
            Mismatch::Message { .. } => "message".into(),
            Mismatch::Field { path, expected, observed } => {
                let how = if expected == "absent" {
                    "unexpected"
                } else if observed == "absent" {
                    "missing"
                } else {
                    "differs"
                };
                format!("field {path} {how}")
            }
            Mismatch::Order { earlier, later } => format!("order {earlier} {later}"),
        }
    }

    /// [`Mismatch::aspect`] with what is inside `[...]` in paths blanked (version ids, which
    /// shrinking renumbers): `field VersionIdsToStages[] differs`.
    pub fn aspect_without_ids(&self) -> String {
        let mut aspect = String::new();
        let mut depth = 0;
        for c in self.aspect().chars() {
            match c {
                '[' => {
                    depth += 1;
                    aspect.push('[');
                }
                ']' => {
                    depth -= 1;
                    aspect.push(']');
                }
                _ if depth > 0 => {}
                _ => aspect.push(c),
            }
        }
        aspect
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Kind { expected, observed } => {
                write!(f, "expected {expected}, got {observed}")
            }
            Mismatch::Code { expected, observed } => {
                write!(f, "error code: expected {expected}, got {observed}")
            }
            Mismatch::Message { expected, observed } => {
                write!(f, "error message: expected {expected:?}, got {observed:?}")
            }
            Mismatch::Field { path, expected, observed } => {
                write!(f, "{path}: expected {expected}, got {observed}")
            }
            Mismatch::Order { earlier, later } => {
                write!(f, "dates out of order: {earlier} must not be later than {later}")
            }
        }
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "absent".into(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// A short description of an observation, for `Kind` mismatches.
pub fn describe_observed(o: &Observed) -> String {
    match o {
        Observed::Ok(_) => "success".into(),
        Observed::Error { code, .. } => format!("error {code}"),
        Observed::Fault { kind, detail } => format!("{} fault ({detail})", kind.name()),
    }
}

/// Checks `observed` against `expected`.
pub fn check(expected: &Expect, observed: &Observed) -> Result<(), Mismatch> {
    match (expected, observed) {
        (Expect::Ok(want), Observed::Ok(got)) => {
            fields("", want, Some(got))?;
            date_order(want, got)
        }
        (Expect::Err(e), Observed::Error { code, message, .. }) => {
            if &e.code != code {
                Err(Mismatch::Code { expected: e.code.clone(), observed: code.clone() })
            } else if e.message_known && &e.message != message {
                Err(Mismatch::Message { expected: e.message.clone(), observed: message.clone() })
            } else {
                Ok(())
            }
        }
        (Expect::Ok(_), other) => {
            Err(Mismatch::Kind { expected: "success".into(), observed: describe_observed(other) })
        }
        (Expect::Err(e), other) => {
            Err(Mismatch::Kind { expected: format!("error {}", e.code), observed: describe_observed(other) })
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field_err(path: &str, want: &Value, got: Option<&Value>) -> Mismatch {
    Mismatch::Field { path: path.to_string(), expected: show(Some(want)), observed: show(got) }
}

/// Subset match of `want` (an object) against `got`.
fn fields(path: &str, want: &Value, got: Option<&Value>) -> Result<(), Mismatch> {
    let Value::Object(want) = want else {
        return value(path, want, got);
    };
    let Some(Value::Object(got)) = got else {
        return Err(field_err(path, &Value::Object(want.clone()), got));
    };
    for (k, w) in want {
        value(&join(path, k), w, got.get(k))?;
    }
    Ok(())
}

fn value(path: &str, want: &Value, got: Option<&Value>) -> Result<(), Mismatch> {
    let got = got.filter(|g| !g.is_null());
    let key = path.rsplit('.').next().unwrap_or(path);
    match (want, got) {
        (Value::Null, None) => Ok(()),
        (Value::Null, Some(_)) => Err(field_err(path, want, got)),
        (_, None) => Err(field_err(path, want, got)),
        (Value::String(s), Some(_)) if s == ANY => Ok(()),
        (Value::Number(_), Some(_)) if is_date(key) => Ok(()),
        // Page tokens are opaque: the model's (`page-N`) and a target's only need to be present.
        (Value::String(_), Some(Value::String(_))) if key == "NextToken" => Ok(()),
        (Value::Array(w), Some(Value::Array(g))) if key == "VersionStages" || key == "KmsKeyIds" => {
            if string_set(w) == string_set(g) {
                Ok(())
            } else {
                Err(field_err(path, want, got))
            }
        }
        (Value::Array(w), Some(Value::Array(g))) if key == "Versions" => versions(path, w, g),
        (Value::Object(w), Some(Value::Object(g))) if key == "VersionIdsToStages" => map_of_sets(path, w, g),
        (Value::Object(_), Some(_)) => fields(path, want, got),
        (Value::Number(a), Some(Value::Number(b))) => {
            if a.as_f64() == b.as_f64() {
                Ok(())
            } else {
                Err(field_err(path, want, got))
            }
        }
        (w, Some(g)) if w == g => Ok(()),
        _ => Err(field_err(path, want, got)),
    }
}

/// Dates are compared for order, not value: where the model's dates of one response are strictly
/// ordered, the target's must not be in the opposite order. LastAccessedDate is left out (AWS
/// reports it truncated to the day).
fn date_order(want: &Value, got: &Value) -> Result<(), Mismatch> {
    let mut dates = Vec::new();
    collect_dates("", want, got, &mut dates);
    for (i, (pa, wa, ga)) in dates.iter().enumerate() {
        for (pb, wb, gb) in &dates[i + 1..] {
            let (earlier, later, ge, gl) = if wa < wb {
                (pa, pb, ga, gb)
            } else if wb < wa {
                (pb, pa, gb, ga)
            } else {
                continue;
            };
            if ge > gl {
                return Err(Mismatch::Order { earlier: earlier.clone(), later: later.clone() });
            }
        }
    }
    Ok(())
}

fn collect_dates(path: &str, want: &Value, got: &Value, out: &mut Vec<(String, f64, f64)>) {
    if let (Value::Object(w), Value::Object(g)) = (want, got) {
        for (k, wv) in w {
            let Some(gv) = g.get(k) else { continue };
            let p = join(path, k);
            match (wv, gv) {
                (Value::Number(a), Value::Number(b)) if is_date(k) && k != "LastAccessedDate" => {
                    if let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) {
                        out.push((p, a, b));
                    }
                }
                (Value::Array(wa), Value::Array(ga)) if k == "Versions" => {
                    for e in wa {
                        let id = version_id(e).unwrap_or_default();
                        if let Some(ge) = ga.iter().find(|x| version_id(x) == Some(id)) {
                            collect_dates(&format!("{p}[{id}]"), e, ge, out);
                        }
                    }
                }
                (Value::Object(_), Value::Object(_)) => collect_dates(&p, wv, gv, out),
                _ => {}
            }
        }
    }
}

/// Response members that hold dates: compared for presence (and order, see [`check`]), never
/// for value.
pub fn is_date(key: &str) -> bool {
    key.ends_with("Date")
}

fn string_set(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect()
}

fn version_id(v: &Value) -> Option<&str> {
    v.get("VersionId").and_then(Value::as_str)
}

/// `Versions`: exactly the listed ids, each entry a subset match.
fn versions(path: &str, want: &[Value], got: &[Value]) -> Result<(), Mismatch> {
    let want_ids: BTreeSet<&str> = want.iter().filter_map(version_id).collect();
    let got_ids: BTreeSet<&str> = got.iter().filter_map(version_id).collect();
    if let Some(extra) = got_ids.difference(&want_ids).next() {
        let g = got.iter().find(|g| version_id(g) == Some(extra));
        return Err(Mismatch::Field { path: format!("{path}[{extra}]"), expected: "absent".into(), observed: show(g) });
    }
    if let Some(missing) = want_ids.difference(&got_ids).next() {
        let w = want.iter().find(|w| version_id(w) == Some(missing));
        return Err(Mismatch::Field {
            path: format!("{path}[{missing}]"),
            expected: show(w),
            observed: "absent".into(),
        });
    }
    for w in want {
        let id = version_id(w).unwrap_or_default();
        let g = got.iter().find(|g| version_id(g) == Some(id));
        fields(&format!("{path}[{id}]"), w, g)?;
    }
    Ok(())
}

/// `VersionIdsToStages`: the same keys, each a set of labels.
fn map_of_sets(path: &str, want: &Map<String, Value>, got: &Map<String, Value>) -> Result<(), Mismatch> {
    let as_sets = |m: &Map<String, Value>| -> Vec<(String, BTreeSet<String>)> {
        m.iter().map(|(k, v)| (k.clone(), v.as_array().map(|a| string_set(a)).unwrap_or_default())).collect()
    };
    let (want, got) = (as_sets(want), as_sets(got));
    if want == got {
        return Ok(());
    }
    // Name the first version whose labels differ, so the mismatch says what kind of difference it is.
    let labels = |s: &BTreeSet<String>| serde_json::to_string(s).unwrap_or_default();
    let ids: BTreeSet<&String> = want.iter().chain(got.iter()).map(|(k, _)| k).collect();
    for id in ids {
        let w = want.iter().find(|(k, _)| k == id).map(|(_, v)| v);
        let g = got.iter().find(|(k, _)| k == id).map(|(_, v)| v);
        if w != g {
            return Err(Mismatch::Field {
                path: format!("{path}[{id}]"),
                expected: w.map(labels).unwrap_or_else(|| "absent".into()),
                observed: g.map(labels).unwrap_or_else(|| "absent".into()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sm_model::ApiError;

    fn ok(v: Value) -> Observed {
        Observed::Ok(v)
    }

    #[test]
    fn null_means_absent_and_any_means_present() {
        let want = Expect::ok(json!({"VersionId": null, "CreatedDate": ANY}));
        assert!(check(&want, &ok(json!({"CreatedDate": 1.5}))).is_ok());
        assert_eq!(
            check(&want, &ok(json!({"CreatedDate": 1.5, "VersionId": "x"}))).unwrap_err().aspect(),
            "field VersionId unexpected"
        );
        assert_eq!(check(&want, &ok(json!({}))).unwrap_err().aspect(), "field CreatedDate missing");
    }

    #[test]
    fn stages_compare_as_sets_and_versions_by_id() {
        let want = Expect::ok(json!({"Versions": [
            {"VersionId": "a", "VersionStages": ["AWSCURRENT", "x"]},
            {"VersionId": "b", "VersionStages": null}]}));
        let good = json!({"Versions": [{"VersionId": "b"}, {"VersionId": "a", "VersionStages": ["x", "AWSCURRENT"]}]});
        assert!(check(&want, &ok(good)).is_ok());
        let extra = json!({"Versions": [{"VersionId": "b"}, {"VersionId": "a", "VersionStages": ["x", "AWSCURRENT"]}, {"VersionId": "c"}]});
        assert_eq!(check(&want, &ok(extra)).unwrap_err().aspect(), "field Versions[c] unexpected");
        let staged = json!({"Versions": [{"VersionId": "b", "VersionStages": []}, {"VersionId": "a", "VersionStages": ["x", "AWSCURRENT"]}]});
        assert_eq!(check(&want, &ok(staged)).unwrap_err().aspect(), "field Versions[b].VersionStages unexpected");
    }

    #[test]
    fn version_ids_to_stages_is_a_map_of_sets() {
        let want = Expect::ok(json!({"VersionIdsToStages": {"a": ["AWSCURRENT", "AWSPENDING"]}}));
        assert!(check(&want, &ok(json!({"VersionIdsToStages": {"a": ["AWSPENDING", "AWSCURRENT"]}}))).is_ok());
        assert!(check(&want, &ok(json!({"VersionIdsToStages": {"a": ["AWSCURRENT"]}}))).is_err());
        assert!(check(&want, &ok(json!({"VersionIdsToStages": {"a": ["AWSCURRENT", "AWSPENDING"], "b": []}}))).is_err());
    }

    #[test]
    fn errors_compare_code_and_known_messages() {
        let exact = Expect::Err(ApiError::exact("ResourceNotFoundException", "gone"));
        let loose = Expect::Err(ApiError::code_only("ResourceNotFoundException", "gone"));
        let obs = |m: &str| Observed::Error {
            code: "ResourceNotFoundException".into(),
            message: m.into(),
            status: Some(400),
        };
        assert!(check(&exact, &obs("gone")).is_ok());
        assert_eq!(check(&exact, &obs("other")).unwrap_err().aspect(), "message");
        assert!(check(&loose, &obs("other")).is_ok());
        let other = Observed::Error { code: "InvalidRequestException".into(), message: "gone".into(), status: None };
        assert_eq!(check(&exact, &other).unwrap_err().aspect(), "code InvalidRequestException");
        assert_eq!(check(&exact, &ok(json!({}))).unwrap_err().aspect(), "kind success");
    }

    #[test]
    fn dates_compare_for_presence_and_order() {
        let want = Expect::ok(json!({"CreatedDate": 10.0, "LastChangedDate": 20.0, "LastAccessedDate": 5.0,
            "Versions": [{"VersionId": "a", "CreatedDate": 1.0}, {"VersionId": "b", "CreatedDate": 2.0}]}));
        let got = |c: f64, l: f64, a: f64, b: f64| {
            ok(json!({"CreatedDate": c, "LastChangedDate": l, "LastAccessedDate": 0.0,
                "Versions": [{"VersionId": "a", "CreatedDate": a}, {"VersionId": "b", "CreatedDate": b}]}))
        };
        assert!(check(&want, &got(1e9, 1e9 + 5.0, 1e8, 1e8 + 1.0)).is_ok(), "values are not compared");
        assert!(check(&want, &got(1e9, 1e9, 1e8, 1e8)).is_ok(), "equal dates are in order");
        assert_eq!(
            check(&want, &got(1e9, 1e9 - 1.0, 1.0, 2.0)).unwrap_err().aspect(),
            "order CreatedDate LastChangedDate"
        );
        assert_eq!(
            check(&want, &got(1e9, 1e9 + 1.0, 9.0, 3.0)).unwrap_err().aspect(),
            "order Versions[a].CreatedDate Versions[b].CreatedDate"
        );
        assert_eq!(
            check(&want, &ok(json!({"CreatedDate": 1.0}))).unwrap_err().aspect(),
            "field LastAccessedDate missing"
        );
    }

    #[test]
    fn nested_objects_are_subset_matched() {
        let want = Expect::ok(json!({"RotationRules": {"ScheduleExpression": "rate(4 hours)"}}));
        let got = json!({"RotationRules": {"ScheduleExpression": "rate(4 hours)", "AutomaticallyAfterDays": 1}});
        assert!(check(&want, &ok(got)).is_ok());
        let wrong = json!({"RotationRules": {"ScheduleExpression": "rate(5 hours)"}});
        assert_eq!(check(&want, &ok(wrong)).unwrap_err().aspect(), "field RotationRules.ScheduleExpression differs");
    }
}
