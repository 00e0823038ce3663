//! A successful outcome's response: a JSON object in AWS's member names ([`Response`] derefs to
//! the [`Value`]). The large responses (GetSecretValue, DescribeSecret, ListSecretVersionIds) are
//! built only when something reads them: the operation records a snapshot of the state it
//! answered from (an O(1) copy of the persistent maps) and the response is built from it on the
//! first read, then kept. A caller that never looks at a response (`apply` along a sequence,
//! `branches` whose outcomes differ in kind) never pays for building it; one that does gets the
//! same `Value` the operation would have built on the spot.

use crate::persistent::PMap;
use crate::state::Secret;
use serde_json::Value;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// A response object, built now or on first read.
#[derive(Clone)]
pub struct Response(Arc<dyn Lazy>);

/// A value and, until it is needed, the way to build it (one allocation per response).
trait Lazy: Send + Sync {
    fn cell(&self) -> &OnceLock<Value>;
    fn cell_mut(&mut self) -> &mut OnceLock<Value>;
    fn build(&self) -> Value;
}

struct Built(OnceLock<Value>);

impl Lazy for Built {
    fn cell(&self) -> &OnceLock<Value> {
        &self.0
    }
    fn cell_mut(&mut self) -> &mut OnceLock<Value> {
        &mut self.0
    }
    fn build(&self) -> Value {
        unreachable!("an eager response always holds its value")
    }
}

struct Deferred<F> {
    value: OnceLock<Value>,
    build: F,
}

impl<F: Fn() -> Value + Send + Sync> Lazy for Deferred<F> {
    fn cell(&self) -> &OnceLock<Value> {
        &self.value
    }
    fn cell_mut(&mut self) -> &mut OnceLock<Value> {
        &mut self.value
    }
    fn build(&self) -> Value {
        (self.build)()
    }
}

impl Response {
    /// A response built from a snapshot of the state when it is first read.
    pub(crate) fn deferred(build: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        Response(Arc::new(Deferred { value: OnceLock::new(), build }))
    }

    /// The response object (built now if it was deferred).
    pub fn value(&self) -> &Value {
        self.0.cell().get_or_init(|| self.0.build())
    }

    /// The response object, by value (moved out when this is the only copy).
    pub fn into_value(mut self) -> Value {
        self.value();
        match Arc::get_mut(&mut self.0).and_then(|lazy| lazy.cell_mut().take()) {
            Some(v) => v,
            None => self.value().clone(),
        }
    }
}

impl From<Value> for Response {
    fn from(value: Value) -> Self {
        Response(Arc::new(Built(OnceLock::from(value))))
    }
}

impl Deref for Response {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

impl PartialEq for Response {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.value() == other.value()
    }
}

impl Eq for Response {}

/// Prints as the [`Value`] does.
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value().fmt(f)
    }
}

/// Prints as the [`Value`] does (compact JSON).
impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value().fmt(f)
    }
}

/// The secrets as an operation left them, and the name of the one it answers about: what a
/// deferred response is built from.
pub(crate) struct Snapshot {
    secrets: PMap<String, Secret>,
    name: String,
}

impl Snapshot {
    pub(crate) fn new(secrets: &PMap<String, Secret>, name: &str) -> Self {
        Snapshot { secrets: secrets.clone(), name: name.to_string() }
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secrets[self.name.as_str()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_deferred_response_is_built_once_on_first_read() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let r = Response::deferred(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            json!({"Name": "s"})
        });
        let copy = r.clone();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(r["Name"], json!("s"));
        assert_eq!(copy, Response::from(json!({"Name": "s"})));
        assert_ne!(copy, Response::from(json!({"Name": "t"})));
        assert_eq!(format!("{copy:?}"), format!("{:?}", json!({"Name": "s"})));
        assert_eq!(copy.into_value(), json!({"Name": "s"}));
        assert_eq!(r.into_value(), json!({"Name": "s"}));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
