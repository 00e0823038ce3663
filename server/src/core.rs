//! The service's state and its one-request-at-a-time entry point: a model per region (secrets in
//! one region are invisible from another, as in AWS), the real ARN suffix of every secret, and
//! the journal. [`Core::call`] takes a decoded request and returns the answer in wire form plus
//! any rotation a URL function must now run; callers serialise access (one lock), which makes the
//! service linearizable.
//!
//! For the model's operations a call goes: input checks of the service model ([`shapes`]), the
//! `SecretId` resolved to a name ([`arn`]), members the model does not take dropped, `apply`,
//! then the outcome turned into AWS's wire form (real ARNs, no `null` members, concrete values
//! where the model leaves a placeholder). A successful change is journaled before the answer.

use crate::arn::{self, Scope};
use crate::config::{FunctionSpec, ServerConfig};
use crate::journal::{Journal, JournalError, Record};
use crate::shapes::{self, Limits};
use crate::wire::WireError;
use crate::{list, password};
use serde_json::{Map, Value};
use sm_model::{apply, Expect, Model, Request, RequestError, ANY};
use std::collections::BTreeMap;
use std::path::Path;

/// Operations that never change the model.
const READS: [&str; 3] = ["GetSecretValue", "DescribeSecret", "ListSecretVersionIds"];

/// One region of the account.
#[derive(Clone, Debug, Default)]
pub struct RegionState {
    pub model: Model,
    /// ARN suffix of every secret, by name.
    pub suffixes: BTreeMap<String, String>,
    /// When each secret was created (epoch ms) and its creation order.
    pub created: BTreeMap<String, (u64, u64)>,
}

/// A decoded request.
#[derive(Clone, Debug)]
pub struct Call {
    pub op: String,
    /// The JSON body (an object, or anything else, which is an error for most operations).
    pub input: Value,
    /// The region of the SigV4 credential scope, if any.
    pub region: Option<String>,
    /// Wall-clock time, epoch milliseconds.
    pub now_ms: u64,
}

/// A rotation a URL function must now run (the steps after RotateSecret answered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationJob {
    pub region: String,
    pub name: String,
    /// The secret's real ARN (the event's `SecretId`).
    pub arn: String,
    pub token: String,
    /// Base URL of the function.
    pub url: String,
}

/// The answer to a [`Call`].
#[derive(Debug)]
pub struct Reply {
    pub answer: Result<Value, WireError>,
    pub rotation: Option<RotationJob>,
}

/// The whole service state.
#[derive(Debug)]
pub struct Core {
    account: String,
    default_region: String,
    functions: BTreeMap<String, FunctionSpec>,
    regions: BTreeMap<String, RegionState>,
    journal: Option<Journal>,
    next_seq: u64,
}

impl Core {
    /// A core for `config`, with the journal of `config.state_dir` replayed.
    pub fn new(config: &ServerConfig) -> Result<Core, JournalError> {
        let mut core = Core {
            account: config.account.clone(),
            default_region: config.region.clone(),
            functions: config.functions.clone(),
            regions: BTreeMap::new(),
            journal: None,
            next_seq: 0,
        };
        if let Some(dir) = &config.state_dir {
            let (journal, records) = Journal::open(dir)?;
            for (line, record) in records {
                core.replay(journal.path(), line, record)?;
            }
            core.journal = Some(journal);
        }
        Ok(core)
    }

    fn replay(&mut self, path: &Path, line: usize, record: Record) -> Result<(), JournalError> {
        let diverged = |what: &str, reason: String| JournalError::Diverged {
            path: path.to_path_buf(),
            line,
            what: what.to_string(),
            reason,
        };
        match record {
            Record::Request { t, region, op, input, suffix } => {
                let req = Request::from_parts(&op, input).map_err(|e| diverged(&op, e.to_string()))?;
                let outcome = self.execute(&region, &req, t, suffix);
                if let Expect::Err(e) = outcome {
                    return Err(diverged(&op, format!("{}: {}", e.code, e.message)));
                }
            }
            Record::RotationFinished { t, region, name, token } => {
                let state = self.region_mut(&region);
                observe_time(&mut state.model, t);
                sm_model::finish_external_rotation(&mut state.model, &name, &token);
            }
        }
        Ok(())
    }

    /// The state of `region`, created empty (with the declared functions) on first use.
    fn region_mut(&mut self, region: &str) -> &mut RegionState {
        let functions = &self.functions;
        self.regions.entry(region.to_string()).or_insert_with(|| {
            let mut model = Model::new();
            for (arn, spec) in functions {
                model = model.with_function(arn, spec.behaviour());
            }
            RegionState { model, ..RegionState::default() }
        })
    }

    /// The region a request without a credential scope is served in.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// Secrets per region, for the health report.
    pub fn secret_counts(&self) -> BTreeMap<String, usize> {
        self.regions.iter().map(|(r, s)| (r.clone(), s.model.secrets.len())).collect()
    }

    /// Forgets every secret in every region and empties the journal.
    pub fn reset(&mut self) -> Result<(), JournalError> {
        if let Some(j) = &mut self.journal {
            j.clear()?;
        }
        self.regions.clear();
        Ok(())
    }

    /// Applies `req` to the model of `region` and keeps the ARN suffixes in step: a secret that
    /// appears gets `suffix` (or a fresh one), a secret that disappears loses its own.
    fn execute(&mut self, region: &str, req: &Request, now_ms: u64, suffix: Option<String>) -> Expect {
        let seq = self.next_seq;
        let state = self.region_mut(region);
        observe_time(&mut state.model, now_ms);
        let outcome = apply(&mut state.model, req);
        let name = sm_model::state::name_of(req.secret_id()).to_string();
        let exists = state.model.secrets.contains_key(&name);
        let mut created = false;
        match (exists, state.suffixes.contains_key(&name)) {
            (true, false) => {
                state.suffixes.insert(name.clone(), suffix.unwrap_or_else(arn::new_suffix));
                state.created.insert(name, (now_ms, seq));
                created = true;
            }
            (false, true) => {
                state.suffixes.remove(&name);
                state.created.remove(&name);
            }
            _ => {}
        }
        if created {
            self.next_seq += 1;
        }
        outcome.expect
    }

    /// Serves one request.
    pub fn call(&mut self, call: Call) -> Reply {
        let region = call.region.clone().unwrap_or_else(|| self.default_region.clone());
        let op = call.op.as_str();
        let answer = match op {
            "ListSecrets" => shapes::check_input(op, call.input, Limits::Check).and_then(|input| {
                self.region_mut(&region);
                match self.regions.get(&region) {
                    Some(state) => {
                        let scope = Scope { region: &region, account: &self.account, suffixes: &state.suffixes };
                        list::list_secrets(state, &scope, &input, call.now_ms)
                    }
                    None => Err(WireError::internal("the region vanished")),
                }
            }),
            "GetRandomPassword" => {
                shapes::check_input(op, call.input, Limits::Check).and_then(|i| password::get_random_password(&i))
            }
            _ if Request::OPERATIONS.contains(&op) => return self.model_call(&region, call),
            _ => Err(WireError::unknown_operation()),
        };
        Reply { answer, rotation: None }
    }

    fn scope<'a>(&'a self, region: &'a str) -> Option<Scope<'a>> {
        self.regions.get(region).map(|s| Scope { region, account: &self.account, suffixes: &s.suffixes })
    }

    fn model_call(&mut self, region: &str, call: Call) -> Reply {
        let fail = |e| Reply { answer: Err(e), rotation: None };
        let mut input = match shapes::check_input(&call.op, call.input, Limits::Skip) {
            Ok(i) => i,
            Err(e) => return fail(e),
        };
        self.region_mut(region);
        let given_id = input.get("SecretId").and_then(Value::as_str).map(str::to_string);
        if let (Some(id), Some(scope)) = (&given_id, self.scope(region)) {
            let resolved = scope.resolve(id);
            input.insert("SecretId".into(), Value::String(resolved));
        }
        let req = match to_request(&call.op, input) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let mutating = !READS.contains(&req.op());
        let snapshot = (mutating && self.journal.is_some()).then(|| self.regions.get(region).cloned()).flatten();
        let name = sm_model::state::name_of(req.secret_id()).to_string();
        let had = self.regions.get(region).is_some_and(|s| s.suffixes.contains_key(&name));
        let expect = self.execute(region, &req, call.now_ms, None);
        let value = match expect {
            Expect::Err(e) => {
                let message = self.scope(region).map(|s| s.translate_message(&e.message, &name)).unwrap_or(e.message);
                return fail(WireError::client(&e.code, message));
            }
            Expect::Ok(v) => v,
        };
        if mutating {
            if let Some(journal) = &mut self.journal {
                let suffix =
                    if had { None } else { self.regions.get(region).and_then(|s| s.suffixes.get(&name)).cloned() };
                let record = Record::Request {
                    t: call.now_ms,
                    region: region.to_string(),
                    op: req.op().to_string(),
                    input: req.input_json(),
                    suffix,
                };
                if let Err(e) = journal.append(&record) {
                    if let Some(s) = snapshot {
                        self.regions.insert(region.to_string(), s);
                    }
                    return fail(WireError::internal(format!("the change could not be made durable: {e}")));
                }
            }
        }
        let mut value = value;
        fill_placeholders(&mut value, &req, given_id.as_deref(), call.now_ms);
        if let Some(scope) = self.scope(region) {
            scope.translate(&mut value);
        }
        strip_nulls(&mut value);
        let rotation = self.rotation_job(region, &req);
        Reply { answer: Ok(value), rotation }
    }

    /// The rotation a URL function must run after an accepted RotateSecret that rotates now.
    fn rotation_job(&self, region: &str, req: &Request) -> Option<RotationJob> {
        let Request::RotateSecret(i) = req else {
            return None;
        };
        if i.rotate_immediately == Some(false) {
            return None;
        }
        let name = sm_model::state::name_of(&i.secret_id);
        let state = self.regions.get(region)?;
        let secret = state.model.secrets.get(name)?;
        let lambda = i.rotation_lambda_arn.clone().or_else(|| secret.rotation.lambda_arn.clone())?;
        let FunctionSpec::Url(url) = self.functions.get(&lambda)? else {
            return None;
        };
        Some(RotationJob {
            region: region.to_string(),
            name: name.to_string(),
            arn: self.scope(region)?.arn(name)?,
            token: i.client_request_token.clone()?,
            url: url.clone(),
        })
    }

    /// The service's clean-up after a URL function completed all four steps (R6, journaled).
    pub fn rotation_finished(&mut self, job: &RotationJob, now_ms: u64) -> Result<bool, JournalError> {
        let Some(state) = self.regions.get_mut(&job.region) else {
            return Ok(false);
        };
        let snapshot = self.journal.is_some().then(|| state.model.clone());
        observe_time(&mut state.model, now_ms);
        let done = sm_model::finish_external_rotation(&mut state.model, &job.name, &job.token);
        if done {
            if let Some(journal) = &mut self.journal {
                let record = Record::RotationFinished {
                    t: now_ms,
                    region: job.region.clone(),
                    name: job.name.clone(),
                    token: job.token.clone(),
                };
                if let Err(e) = journal.append(&record) {
                    if let (Some(s), Some(state)) = (snapshot, self.regions.get_mut(&job.region)) {
                        state.model = s;
                    }
                    return Err(e);
                }
            }
        }
        Ok(done)
    }
}

/// Builds the model's request, dropping members the service model knows but the model does not
/// take (KmsKeyId, Tags, replication, …): the model rejects unknown members, AWS accepts them.
fn to_request(op: &str, mut input: Map<String, Value>) -> Result<Request, WireError> {
    loop {
        match Request::from_parts(op, Value::Object(input.clone())) {
            Ok(r) => return Ok(r),
            Err(RequestError::UnknownOperation(_)) => return Err(WireError::unknown_operation()),
            Err(RequestError::BadInput { reason, .. }) => {
                let unknown =
                    reason.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).map(str::to_string);
                match unknown {
                    Some(field) if input.remove(&field).is_some() => continue,
                    _ if reason.starts_with("missing field") => {
                        return Err(WireError::validation(format!("1 validation error detected: {reason}")))
                    }
                    _ => return Err(WireError::serialization(reason)),
                }
            }
        }
    }
}

/// Moves the model's clock to at least `now_ms` (the model dates everything from its clock).
fn observe_time(model: &mut Model, now_ms: u64) {
    model.observe_time(now_ms);
}

/// Gives a concrete value to every [`ANY`] the model leaves in a response (values AWS sends but
/// the model does not predict): a date it cannot compute (the NextRotationDate of a cron or rate
/// schedule, a DeletedDate of unknown origin) becomes the current time (a day later for
/// NextRotationDate), the AutomaticallyAfterDays AWS computes for a cron schedule becomes 1, the
/// VersionId of a test-only rotation becomes the request's token, and the ARN of a forced
/// deletion of an unknown secret echoes the caller's ARN.
fn fill_placeholders(value: &mut Value, req: &Request, given_id: Option<&str>, now_ms: u64) {
    const DAY_MS: u64 = 24 * 60 * 60 * 1000;
    match value {
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if v.as_str() != Some(ANY) {
                    fill_placeholders(v, req, given_id, now_ms);
                    continue;
                }
                *v = match k.as_str() {
                    "NextRotationDate" => epoch_seconds(now_ms + DAY_MS),
                    k if k.ends_with("Date") => epoch_seconds(now_ms),
                    "AutomaticallyAfterDays" => Value::from(1),
                    "VersionId" => match req {
                        Request::RotateSecret(i) => {
                            i.client_request_token.clone().map(Value::String).unwrap_or(Value::Null)
                        }
                        _ => Value::Null,
                    },
                    "ARN" => match given_id {
                        Some(id) if id.starts_with("arn:") => Value::String(id.to_string()),
                        _ => Value::String(format!(
                            "{}{}",
                            arn::LOGICAL_PREFIX,
                            sm_model::state::name_of(req.secret_id())
                        )),
                    },
                    _ => Value::Null,
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill_placeholders(v, req, given_id, now_ms)),
        _ => {}
    }
}

/// Epoch milliseconds as epoch seconds, the awsJson1.1 timestamp form.
pub fn epoch_seconds(ms: u64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::Null)
}

/// Removes every `null` member (the model's way of saying "absent").
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
