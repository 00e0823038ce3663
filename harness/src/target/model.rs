//! The reference model as an in-process target. A run against it must find nothing: it is the
//! harness's own sanity check (generation, naming, comparison and shrinking all run as usual). It
//! answers with the model's canonical outcome, shaped like a real response: absent members left
//! out, dates and other unpredicted values filled in.

use super::{BoxFuture, Capabilities, Observed, Target, TargetError};
use serde_json::Value;
use sm_model::state::logical_arn;
use sm_model::{apply, Expect, FunctionBehaviour, Model, Request, Step, ANY};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A date the model target reports wherever a real target would put one (2026-01-01, epoch seconds).
const SOME_DATE: f64 = 1_767_225_600.0;

/// The model, in process.
#[derive(Default)]
pub struct ModelTarget {
    model: Mutex<Model>,
}

impl ModelTarget {
    pub fn new() -> Self {
        ModelTarget::default()
    }

    /// Answers `request` as a real target would (public so test targets can wrap it).
    pub fn answer(&self, request: &Request) -> Observed {
        let mut model = match self.model.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let outcome = apply(&mut model, request);
        to_observed(&outcome.expect, request)
    }

    /// Runs `f` on the model state (for test targets that change a rule).
    pub fn with_model<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        let mut model = match self.model.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut model)
    }
}

/// Turns a model outcome into what a target would send.
pub fn to_observed(expect: &Expect, request: &Request) -> Observed {
    match expect {
        Expect::Ok(v) => Observed::Ok(concrete(v.value().clone(), "", request)),
        Expect::Err(e) => Observed::Error { code: e.code.clone(), message: e.message.clone(), status: Some(400) },
    }
}

fn concrete(v: Value, key: &str, request: &Request) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| {
                    let c = concrete(x, &k, request);
                    (k, c)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| concrete(x, key, request)).collect()),
        Value::String(s) if s == ANY => match key {
            "ARN" => Value::String(logical_arn(request.secret_id())),
            // A computed value the model does not predict (cron schedules): some whole number.
            "AutomaticallyAfterDays" => serde_json::json!(1),
            "VersionId" => match request {
                Request::RotateSecret(r) => Value::String(r.client_request_token.clone().unwrap_or_default()),
                _ => Value::String(String::new()),
            },
            _ => serde_json::json!(SOME_DATE),
        },
        other => other,
    }
}

impl Target for ModelTarget {
    fn name(&self) -> String {
        "model".into()
    }

    fn capabilities(&self) -> Capabilities {
        let mut behaviours = vec![FunctionBehaviour::Complete, FunctionBehaviour::NotInvocable];
        behaviours.extend(Step::ALL.into_iter().map(FunctionBehaviour::FailAt));
        Capabilities { behaviours, omit_token: true, max_jobs: 8 }
    }

    fn prepare<'a>(
        &'a self,
        functions: &'a BTreeMap<String, FunctionBehaviour>,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            self.with_model(|m| m.functions.extend(functions.iter().map(|(k, v)| (k.clone(), *v))));
            Ok(())
        })
    }

    fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Observed> {
        Box::pin(async move { self.answer(request) })
    }
}
