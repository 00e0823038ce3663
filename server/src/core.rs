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
use crate::meta::{self, Meta};
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
    /// What the model does not keep (tags, resource policy), by name.
    pub meta: BTreeMap<String, Meta>,
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
            Record::Request { t, region, op, input, suffix, tags } => {
                let req = Request::from_parts(&op, input).map_err(|e| diverged(&op, e.to_string()))?;
                let outcome = self.execute(&region, &req, t, suffix);
                if let Expect::Err(e) = outcome {
                    return Err(diverged(&op, format!("{}: {}", e.code, e.message)));
                }
                if let Some(Value::Array(tags)) = tags {
                    let name = sm_model::state::name_of(req.secret_id()).to_string();
                    self.region_mut(&region).meta.entry(name).or_default().tag(&tags);
                }
            }
            Record::Meta { region, op, name, input, .. } => {
                let input = input.as_object().cloned().unwrap_or_default();
                let state = self.region_mut(&region);
                let mut m = state.meta.get(&name).cloned().unwrap_or_default();
                m.change(&op, &input).map_err(|e| diverged(&op, e.message.unwrap_or(e.code)))?;
                state.meta.insert(name, m);
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
        let name = sm_model::state::name_of(req.secret_id()).to_string();
        let outcome = apply_one(&mut state.model, &name, req);
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
                state.meta.remove(&name);
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
            "BatchGetSecretValue" => return self.batch_get(&region, call),
            _ if meta::CHANGES.contains(&op) || meta::READS.contains(&op) => return self.meta_call(&region, call),
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
        let tags = if call.op == "CreateSecret" { input.get("Tags").cloned() } else { None };
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
        let snapshot = (mutating && self.journal.is_some())
            .then(|| self.regions.get(region).map(|s| Undo::of(s, sm_model::state::name_of(req.secret_id()))))
            .flatten();
        let name = sm_model::state::name_of(req.secret_id()).to_string();
        let had = self.regions.get(region).is_some_and(|s| s.suffixes.contains_key(&name));
        // The ARN a forced deletion answers with is the one the secret had.
        let arn_before = self.scope(region).and_then(|s| s.arn(&name));
        let expect = self.execute(region, &req, call.now_ms, None);
        let value = match expect {
            Expect::Err(e) => {
                let message = self.scope(region).map(|s| s.translate_message(&e.message, &name)).unwrap_or(e.message);
                return fail(WireError::client(&e.code, message));
            }
            Expect::Ok(v) => v.into_value(),
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
                    tags: if suffix.is_some() { tags.clone() } else { None },
                    suffix,
                };
                if let Err(e) = journal.append(&record) {
                    if let (Some(undo), Some(state)) = (snapshot, self.regions.get_mut(region)) {
                        undo.restore(state);
                    }
                    return fail(WireError::internal(format!("the change could not be made durable: {e}")));
                }
            }
        }
        let mut value = value;
        if let Some(state) = self.regions.get_mut(region) {
            if let (false, Some(Value::Array(tags))) = (had, &tags) {
                if state.suffixes.contains_key(&name) {
                    state.meta.entry(name.clone()).or_default().tag(tags);
                }
            }
            if let (Request::DescribeSecret(_), Value::Object(o)) = (&req, &mut value) {
                if let Some(t) = state.meta.get(&name).and_then(Meta::tags_json) {
                    o.insert("Tags".into(), t);
                }
            }
        }
        fill_placeholders(&mut value, &req, given_id.as_deref(), call.now_ms);
        if let Some(scope) = self.scope(region) {
            if let (None, Some(before)) = (scope.arn(&name), &arn_before) {
                replace_string(&mut value, &format!("{}{name}", arn::LOGICAL_PREFIX), before);
            }
            scope.translate(&mut value);
        }
        strip_nulls(&mut value);
        let rotation = self.rotation_job(region, &req);
        Reply { answer: Ok(value), rotation }
    }

    /// The operations on what the server keeps beside the model ([`meta`]).
    fn meta_call(&mut self, region: &str, call: Call) -> Reply {
        let answer = self.meta_answer(region, call);
        Reply { answer, rotation: None }
    }

    fn meta_answer(&mut self, region: &str, call: Call) -> Result<Value, WireError> {
        let op = call.op.as_str();
        let input = shapes::check_input(op, call.input.clone(), Limits::Check)?;
        if let Some(id) = input.get("SecretId").and_then(Value::as_str) {
            meta::check_name(id)?;
        }
        if op == "ValidateResourcePolicy" {
            return meta::validate_policy(&input);
        }
        self.region_mut(region);
        let id = input.get("SecretId").and_then(Value::as_str).unwrap_or_default();
        let scope = self.scope(region).ok_or_else(|| WireError::internal("the region vanished"))?;
        let name = scope.resolve(id);
        let arn = scope.arn(&name);
        let state = self.regions.get(region).ok_or_else(|| WireError::internal("the region vanished"))?;
        let secret = state.model.secrets.get(&name).ok_or_else(meta::not_found)?;
        let arn = arn.ok_or_else(meta::not_found)?;
        let current = state.meta.get(&name).cloned().unwrap_or_default();
        let named = || serde_json::json!({"ARN": arn, "Name": name});
        if op == "GetResourcePolicy" {
            let mut out = named();
            if let (Some(p), Value::Object(o)) = (&current.policy, &mut out) {
                o.insert("ResourcePolicy".into(), Value::String(p.clone()));
            }
            return Ok(out);
        }
        if secret.deleted {
            return Err(meta::marked_for_deletion());
        }
        let mut changed = current;
        changed.change(op, &input)?;
        if let Some(journal) = &mut self.journal {
            let record = Record::Meta {
                t: call.now_ms,
                region: region.to_string(),
                op: op.to_string(),
                name: name.clone(),
                input: Value::Object(input.clone()),
            };
            journal
                .append(&record)
                .map_err(|e| WireError::internal(format!("the change could not be made durable: {e}")))?;
        }
        let out = if op.ends_with("ResourcePolicy") { named() } else { serde_json::json!({}) };
        if let Some(state) = self.regions.get_mut(region) {
            state.meta.insert(name, changed);
        }
        Ok(out)
    }

    /// BatchGetSecretValue: GetSecretValue for each secret of `SecretIdList`, or of one page of
    /// the secrets `Filters` selects (as ListSecrets does); a secret that cannot be read is an
    /// entry of `Errors` (semantics.md §5.7).
    fn batch_get(&mut self, region: &str, call: Call) -> Reply {
        let answer = self.batch_answer(region, &call);
        Reply { answer, rotation: None }
    }

    fn batch_answer(&mut self, region: &str, call: &Call) -> Result<Value, WireError> {
        let input = shapes::check_input(&call.op, call.input.clone(), Limits::Check)?;
        let ids = input.get("SecretIdList").and_then(Value::as_array);
        let filters = input.get("Filters");
        let mut next_token = None;
        let ids: Vec<String> = match (ids, filters) {
            (Some(ids), None) => {
                if input.contains_key("MaxResults") || input.contains_key("NextToken") {
                    return Err(WireError::client(
                        "InvalidParameterException",
                        "You can use MaxResults and NextToken only with Filters.",
                    ));
                }
                ids.iter().filter_map(Value::as_str).map(str::to_string).collect()
            }
            (None, Some(_)) => {
                self.region_mut(region);
                let state = self.regions.get(region).ok_or_else(|| WireError::internal("the region vanished"))?;
                let scope = Scope { region, account: &self.account, suffixes: &state.suffixes };
                let page = list::list_secrets(state, &scope, &input, call.now_ms)?;
                next_token = page.get("NextToken").cloned();
                page["SecretList"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("ARN").and_then(Value::as_str).map(str::to_string))
                    .collect()
            }
            _ => {
                return Err(WireError::client(
                    "InvalidParameterException",
                    "You must include Filters or SecretIdList, but not both.",
                ))
            }
        };
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            let one = Call {
                op: "GetSecretValue".into(),
                input: serde_json::json!({ "SecretId": id }),
                region: call.region.clone(),
                now_ms: call.now_ms,
            };
            match self.model_call(region, one).answer {
                Ok(v) => values.push(v),
                Err(e) => errors.push(serde_json::json!({
                    "SecretId": id,
                    "ErrorCode": e.code,
                    "Message": e.message.unwrap_or_default(),
                })),
            }
        }
        let mut out = serde_json::json!({ "SecretValues": values, "Errors": errors });
        if let (Some(t), Value::Object(o)) = (next_token, &mut out) {
            o.insert("NextToken".into(), t);
        }
        Ok(out)
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
        let snapshot = self.journal.is_some().then(|| Undo::of(state, &job.name));
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
                    if let (Some(undo), Some(state)) = (snapshot, self.regions.get_mut(&job.region)) {
                        undo.restore(state);
                    }
                    return Err(e);
                }
            }
        }
        Ok(done)
    }
}

/// Applies `req` to the region's model. The model's state is persistent (a copy shares all but
/// the path to what a request changes), so a request costs what it touches, not the region.
fn apply_one(model: &mut Model, _name: &str, req: &Request) -> sm_model::Outcome {
    apply(model, req)
}

/// What a change to one secret can touch in its region, kept to undo the change when it cannot
/// be made durable.
struct Undo {
    name: String,
    secret: Option<sm_model::Secret>,
    force_deleted: bool,
    clock: u64,
    suffix: Option<String>,
    created: Option<(u64, u64)>,
    meta: Option<Meta>,
}

impl Undo {
    fn of(state: &RegionState, name: &str) -> Undo {
        Undo {
            name: name.to_string(),
            secret: state.model.secrets.get(name).cloned(),
            force_deleted: state.model.recently_force_deleted.contains(name),
            clock: state.model.clock,
            suffix: state.suffixes.get(name).cloned(),
            created: state.created.get(name).copied(),
            meta: state.meta.get(name).cloned(),
        }
    }

    fn restore(self, state: &mut RegionState) {
        let name = self.name;
        state.model.clock = self.clock;
        match self.secret {
            Some(s) => state.model.secrets.insert(name.clone(), s),
            None => {
                state.model.secrets.remove(&name);
            }
        }
        if self.force_deleted {
            state.model.recently_force_deleted.insert(name.clone());
        } else {
            state.model.recently_force_deleted.remove(&name);
        }
        match self.suffix {
            Some(s) => state.suffixes.insert(name.clone(), s),
            None => state.suffixes.remove(&name),
        };
        match self.created {
            Some(c) => state.created.insert(name.clone(), c),
            None => state.created.remove(&name),
        };
        match self.meta {
            Some(m) => state.meta.insert(name, m),
            None => state.meta.remove(&name),
        };
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

/// Replaces every string member equal to `from` by `to`, at any depth.
fn replace_string(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) if s == from => *s = to.to_string(),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_string(v, from, to)),
        Value::Object(o) => o.values_mut().for_each(|v| replace_string(v, from, to)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Applying each request to the one secret it names leaves the same state and answers as
    /// applying it to the whole model.
    #[test]
    fn applying_to_one_secret_is_applying_to_the_model() {
        let t = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
        let requests = [
            ("CreateSecret", json!({"Name": "a", "ClientRequestToken": t(1), "SecretString": "1"})),
            ("CreateSecret", json!({"Name": "b", "ClientRequestToken": t(2), "SecretString": "2"})),
            ("PutSecretValue", json!({"SecretId": "a", "ClientRequestToken": t(3), "SecretString": "3"})),
            ("DeleteSecret", json!({"SecretId": "b", "ForceDeleteWithoutRecovery": true})),
            ("CreateSecret", json!({"Name": "b", "ClientRequestToken": t(4), "SecretString": "4"})),
            ("GetSecretValue", json!({"SecretId": "nope"})),
            ("UpdateSecretVersionStage", json!({"SecretId": "a", "VersionStage": "X", "MoveToVersionId": t(1)})),
            ("DescribeSecret", json!({"SecretId": "a"})),
        ];
        let mut whole = Model::new();
        let mut sharded = Model::new();
        for (op, input) in requests {
            let req = Request::from_parts(op, input).unwrap();
            let name = sm_model::state::name_of(req.secret_id()).to_string();
            let expected = apply(&mut whole, &req);
            let got = apply_one(&mut sharded, &name, &req);
            assert_eq!(got, expected, "{op}");
            assert_eq!(sharded, whole, "{op}");
        }
    }
}
