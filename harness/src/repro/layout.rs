//! Laying out JSON and Python values within a width: one line when it fits, broken over
//! lines otherwise. Used for Python literals and for JSON in comments.

use super::*;

/// How a [`Layout`] is written: Python (`None`, trailing commas, 4-space indent) or JSON for
/// comments (2-space indent), within `width` columns.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) python: bool,
    pub(super) width: usize,
}

impl Style {
    pub(super) const PYTHON: Style = Style { python: true, width: CODE_WIDTH };

    pub(super) fn step(self) -> usize {
        if self.python {
            4
        } else {
            2
        }
    }
}

/// A Python or JSON value, laid out on one line when it fits and broken over lines otherwise.
pub(super) enum Layout {
    Atom(String),
    Dict(Vec<(String, Layout)>),
    List(Vec<Layout>),
}

impl Layout {
    pub(super) fn from_json(v: &Value, style: Style) -> Layout {
        match v {
            Value::Null if style.python => Layout::Atom("None".into()),
            Value::Bool(true) if style.python => Layout::Atom("True".into()),
            Value::Bool(false) if style.python => Layout::Atom("False".into()),
            Value::String(s) => Layout::Atom(json_str(s)),
            Value::Array(a) => Layout::List(a.iter().map(|v| Layout::from_json(v, style)).collect()),
            Value::Object(o) => {
                Layout::Dict(o.iter().map(|(k, v)| (json_str(k), Layout::from_json(v, style))).collect())
            }
            other => Layout::Atom(other.to_string()),
        }
    }

    pub(super) fn flat(&self) -> String {
        match self {
            Layout::Atom(a) => a.clone(),
            Layout::Dict(items) => format!(
                "{{{}}}",
                items.iter().map(|(k, v)| format!("{k}: {}", v.flat())).collect::<Vec<_>>().join(", ")
            ),
            Layout::List(items) => format!("[{}]", items.iter().map(Layout::flat).collect::<Vec<_>>().join(", ")),
        }
    }

    /// Writes the value starting at column `col`; continuation lines are indented from
    /// `indent`. `tail` is how many characters follow on the last line (closing brackets).
    pub(super) fn write(&self, out: &mut String, indent: usize, col: usize, tail: usize, style: Style) {
        let flat = self.flat();
        let fits = col + flat.chars().count() + tail <= style.width;
        let inner = indent + style.step();
        let (open, close, count) = match self {
            Layout::Dict(items) => ('{', '}', items.len()),
            Layout::List(items) => ('[', ']', items.len()),
            Layout::Atom(_) => (' ', ' ', 0),
        };
        if fits || count == 0 {
            out.push_str(&flat);
            return;
        }
        out.push(open);
        out.push('\n');
        let comma = |i: usize| if style.python || i + 1 < count { "," } else { "" };
        match self {
            Layout::Dict(items) => {
                for (i, (k, v)) in items.iter().enumerate() {
                    let _ = write!(out, "{}{k}: ", " ".repeat(inner));
                    v.write(out, inner, inner + k.chars().count() + 2, 1, style);
                    let _ = writeln!(out, "{}", comma(i));
                }
            }
            Layout::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    out.push_str(&" ".repeat(inner));
                    v.write(out, inner, inner, 1, style);
                    let _ = writeln!(out, "{}", comma(i));
                }
            }
            Layout::Atom(_) => {}
        }
        out.push_str(&" ".repeat(indent));
        out.push(close);
    }
}

/// The column the next character of `out` goes to.
pub(super) fn column(out: &str) -> usize {
    out.rsplit('\n').next().map_or(0, |l| l.chars().count())
}
