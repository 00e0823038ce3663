//! Running sequences against a target and comparing every step with the model.
//!
//! - [`execute`] runs one sequence (generated [`Op`]s or a trace's requests) with fresh names,
//!   follows the target with a [`Tracker`], stops at the first divergence or fault, and always
//!   force-deletes the secrets it created.
//! - [`run`] generates cases from a seed, runs them (concurrently up to `jobs`), shrinks each new
//!   divergence with proptest's value tree to a minimal sequence showing the same divergence, and
//!   hands it, as a trace, to its sink ([`run_with`]; [`run`] writes it into the output folder).
//!   [`run_shard`] runs one [`Shard`] of a seed's cases; what any of them finds is independent of
//!   `jobs` and timing (the lowest case showing a divergence is the one shrunk).
//!   The runner itself never prints or writes a file: what it does is told as [`RunEvent`]s.
//! - [`replay`] runs a trace, checking each step against the trace's `expect` and the model.

use crate::attribute::deciding_rule;
use crate::coverage::Coverage;
use crate::events::{RunEvent, Sink, TraceFiles};
use crate::finding::{Cause, DivergenceId};
use crate::follow::{Continuation, Diverged, Followed, Follower};
use crate::generate::{sequence, Op, Resolver};
use crate::matcher::{check, Mismatch};
use crate::naming::CaseNames;
pub use crate::shard::Shard;
use crate::target::{FaultKind, Observed, Target};
use crate::trace::{observed_json, Trace, TraceStep};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sm_model::rules::Rule;
use sm_model::{Model, Outcome, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Physical names created on the target and not yet deleted, so that an interrupted run can
/// still clean up everything it made.
#[derive(Debug, Default)]
pub struct Registry {
    names: Mutex<BTreeSet<String>>,
}

impl Registry {
    pub fn add(&self, name: &str) {
        if let Ok(mut n) = self.names.lock() {
            n.insert(name.to_string());
        }
    }
    pub fn remove(&self, names: &[String]) {
        if let Ok(mut n) = self.names.lock() {
            for x in names {
                n.remove(x);
            }
        }
    }
    /// Takes every name still registered.
    pub fn drain(&self) -> Vec<String> {
        self.names.lock().map(|mut n| std::mem::take(&mut *n).into_iter().collect()).unwrap_or_default()
    }
}

/// Shared run controls: the name registry, an interrupt flag, and a case counter for unique prefixes.
#[derive(Debug)]
pub struct Session {
    pub registry: Registry,
    pub interrupted: AtomicBool,
    pub run_prefix: String,
    next_case: AtomicU64,
    cases_done: AtomicU64,
    /// When the last request whose outcome is unknown (time-out, broken connection) ended: the
    /// target may still act on it until its late-arrival window has passed.
    last_unknown: Mutex<Option<std::time::Instant>>,
    /// Clean-up deletes that failed at the end of an execution (shrinking and replays included),
    /// left registered for the final sweep.
    failed_deletes: AtomicU64,
    /// Requests in a row, across the run, that the target did not answer (see [`Session::note_answer`]).
    faults_in_a_row: AtomicU64,
}

/// After this many requests in a row (across the run) that the target does not answer, it is
/// taken to be down: executions and shrinking stop, and the run is aborted.
pub const TARGET_DOWN_AFTER: u64 = 8;

/// After this many faulted requests in a row within one execution, the execution stops.
pub const CASE_FAULTS_IN_A_ROW: usize = 3;

impl Session {
    /// `run_prefix` starts every physical name (it must be unique to this run).
    pub fn new(run_prefix: impl Into<String>) -> Arc<Session> {
        Arc::new(Session {
            registry: Registry::default(),
            interrupted: AtomicBool::new(false),
            run_prefix: run_prefix.into(),
            next_case: AtomicU64::new(0),
            cases_done: AtomicU64::new(0),
            last_unknown: Mutex::new(None),
            failed_deletes: AtomicU64::new(0),
            faults_in_a_row: AtomicU64::new(0),
        })
    }

    /// Fresh names for one execution.
    pub fn case_names(&self) -> CaseNames {
        let n = self.next_case.fetch_add(1, Ordering::Relaxed);
        CaseNames::new(format!("{}c{n}-", self.run_prefix))
    }

    /// Generated cases finished so far (for progress display).
    pub fn cases_done(&self) -> u64 {
        self.cases_done.load(Ordering::Relaxed)
    }

    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
    }

    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Whether the target has failed [`TARGET_DOWN_AFTER`] requests in a row.
    pub fn target_down(&self) -> bool {
        self.faults_in_a_row.load(Ordering::Relaxed) >= TARGET_DOWN_AFTER
    }

    /// Notes whether the target answered a request or failed to answer it. An HTTP 5xx or a
    /// malformed body is an answer (a fault, but the target is up: moto answers some requests
    /// with HTTP 500 every time, and shrinking such a fault repeats it on purpose); a broken
    /// connection, a time-out or throttling is not.
    fn note_answer(&self, observed: &Observed) {
        let unanswered = matches!(
            observed,
            Observed::Fault { kind: FaultKind::Connection | FaultKind::Timeout | FaultKind::Throttled, .. }
        );
        if unanswered {
            self.faults_in_a_row.fetch_add(1, Ordering::Relaxed);
        } else {
            self.faults_in_a_row.store(0, Ordering::Relaxed);
        }
    }

    /// Notes a request whose outcome is unknown (the target may act on it later).
    fn note_unknown_outcome(&self, kind: FaultKind) {
        if matches!(kind, FaultKind::Connection | FaultKind::Timeout) {
            if let Ok(mut t) = self.last_unknown.lock() {
                *t = Some(std::time::Instant::now());
            }
        }
    }

    /// Ends an execution's clean-up: what was deleted leaves the registry, what could not be
    /// stays registered for the final sweep and is counted.
    fn cleaned(&self, created: &[String], leaked: &[String]) {
        let deleted: Vec<String> = created.iter().filter(|n| !leaked.contains(n)).cloned().collect();
        self.registry.remove(&deleted);
        self.failed_deletes.fetch_add(leaked.len() as u64, Ordering::Relaxed);
    }
}

/// What the final clean-up did and what it left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Clean-up deletes that failed at the end of an execution (shrinking and replays included)
    /// and were tried again by the sweep.
    pub retried: u64,
    /// Secrets under the run's prefix that the listing found although no execution still had
    /// them registered (requests the target acted on late), deleted by the sweep.
    pub late: Vec<String>,
    /// What is left behind (physical names).
    pub left: Vec<String>,
    /// Whether `left` was checked by listing the target after the sweep (otherwise it is what
    /// the deletes reported).
    pub verified: bool,
    /// Why the target could not be listed, when it could not.
    pub listing_error: Option<String>,
}

impl Cleanup {
    /// Adds a later sweep: its `left` replaces this one's.
    pub fn merge(&mut self, later: Cleanup) {
        self.retried += later.retried;
        self.late.extend(later.late);
        self.left = later.left;
        self.verified = later.verified;
        self.listing_error = later.listing_error;
    }
}

/// Lists the secrets under `prefix`, retrying a failed listing with the clean-up's back-off.
async fn list_with_retries(target: &dyn Target, prefix: &str) -> Option<Result<Vec<String>, String>> {
    let mut last = None;
    for pause in std::iter::once(None).chain(crate::target::CLEANUP_BACKOFF.iter().map(Some)) {
        if let Some(p) = pause {
            tokio::time::sleep(*p).await;
        }
        match target.list_prefixed(prefix).await {
            Some(Err(e)) => last = Some(Err(e)),
            other => return other,
        }
    }
    last
}

/// The final clean-up: force-deletes every name still registered (with retries), waits out the
/// target's late-arrival window after the last request whose outcome is unknown, lists every
/// secret under the run's prefix (planned deletions included) and force-deletes what is there,
/// then lists again: what that listing shows is what is left behind. Never touches a name
/// outside the run's prefix. A target that cannot list is left with what its deletes reported.
pub async fn sweep(target: &dyn Target, session: &Session) -> Cleanup {
    let registered = session.registry.drain();
    let mut cleanup = Cleanup { retried: session.failed_deletes.swap(0, Ordering::Relaxed), ..Default::default() };
    if session.target_down() {
        // One listing says whether it is back; if not, deleting one by one would only wait out
        // a time-out per name.
        if let Some(Err(e)) = target.list_prefixed(&session.run_prefix).await {
            cleanup.left = registered;
            cleanup.listing_error = Some(e);
            return cleanup;
        }
    }
    let failed = target.cleanup(&registered).await;
    let last_unknown = session.last_unknown.lock().ok().and_then(|t| *t);
    if let Some(at) = last_unknown {
        let until = at + target.late_arrival_window();
        tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
    }
    let prefix = session.run_prefix.as_str();
    let listed = match list_with_retries(target, prefix).await {
        None => {
            cleanup.left = failed;
            return cleanup;
        }
        Some(Err(e)) => {
            cleanup.left = failed;
            cleanup.listing_error = Some(e);
            return cleanup;
        }
        Some(Ok(listed)) => listed,
    };
    let listed: Vec<String> = listed.into_iter().filter(|n| n.starts_with(prefix)).collect();
    cleanup.late = listed.iter().filter(|n| !registered.contains(n)).cloned().collect();
    let still = target.cleanup(&listed).await;
    match list_with_retries(target, prefix).await {
        Some(Ok(after)) => {
            cleanup.left = after.into_iter().filter(|n| n.starts_with(prefix)).collect();
            cleanup.verified = true;
        }
        Some(Err(e)) => {
            cleanup.left = still;
            cleanup.listing_error = Some(e);
        }
        None => cleanup.left = still,
    }
    cleanup
}

/// One executed step: the request (logical names), the model outcome it matched (or, at a
/// divergence, the closest allowed outcome), and what the target answered (logical names).
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub request: Request,
    pub expected: Option<Outcome>,
    pub observed: Observed,
}

/// How an execution ended.
#[derive(Clone, Debug)]
pub enum End {
    Completed,
    /// The connection to the target failed at step `step` (0-based).
    Fault {
        step: usize,
        kind: FaultKind,
        detail: String,
    },
    /// The run was interrupted before the sequence finished.
    Interrupted,
}

/// A step answered outside every allowed outcome.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// 0-based step.
    pub step: usize,
    /// How the observation differs from the closest allowed outcome.
    pub mismatch: Mismatch,
    /// Every outcome the model allowed.
    pub allowed: Vec<Outcome>,
    /// The rule the target breaks and how.
    pub cause: Cause,
    /// How the sequence went on.
    pub continuation: Continuation,
    /// Whether the sequence had already been followed past an earlier divergent write.
    pub after_adoption: bool,
}

/// The result of one execution.
#[derive(Clone, Debug)]
pub struct Execution {
    pub steps: Vec<StepRecord>,
    /// Divergences in step order (the sequence is followed past each: [`crate::follow`]).
    pub divergences: Vec<Divergence>,
    pub end: End,
    pub coverage: Coverage,
    /// Secrets the clean-up could not delete (physical names).
    pub leaked: Vec<String>,
    /// Target faults (0-based step, kind, detail); the sequence went on after each unless the
    /// connection failed.
    pub faults: Vec<(usize, FaultKind, String)>,
}

/// A divergence's identity: the operation, what differed, and the rule that decided the model's
/// expectation (`PutSecretValue code [input.value-exclusive]`). Version ids in field paths are
/// blanked, since shrinking renumbers tokens.
pub fn signature(request: &Request, mismatch: &Mismatch, expected: Option<&Outcome>) -> DivergenceId {
    let rule = expected.map(deciding_rule).unwrap_or(&sm_model::rules::SECRET_NOT_FOUND);
    DivergenceId { operation: request.op(), difference: mismatch.aspect_without_ids(), rule }
}

/// The operation and what differed, without the rule (`PutSecretValue code`).
pub fn difference(request: &Request, mismatch: &Mismatch) -> String {
    format!("{} {}", request.op(), mismatch.aspect_without_ids())
}

/// Sends `request` (logical names) with this execution's physical names, registers any secret
/// it may create for clean-up first, and maps what comes back to logical names.
async fn send_logical(
    target: &dyn Target,
    names: &CaseNames,
    request: &Request,
    created: &mut Vec<String>,
    session: &Session,
) -> Observed {
    let physical = names.to_physical(request);
    if let Request::CreateSecret(c) = &physical {
        if !created.contains(&c.name) {
            created.push(c.name.clone());
            session.registry.add(&c.name);
        }
    }
    match target.send(&physical).await {
        Observed::Ok(v) => Observed::Ok(names.to_logical(v)),
        Observed::Error { code, message, status } => {
            Observed::Error { code, message: names.logical_str(&message), status }
        }
        fault @ Observed::Fault { .. } => fault,
    }
}

/// Where an execution's requests come from.
pub enum Source<'a> {
    /// Generated operations, resolved against the model as the run goes.
    Ops(&'a [Op], Resolver),
    /// Concrete requests (a trace).
    Requests(&'a [Request]),
}

/// Runs one sequence against `target` with fresh names and cleans up afterwards.
pub async fn execute(target: &dyn Target, source: Source<'_>, model: Model, session: &Session) -> Execution {
    let names = session.case_names();
    let mut follower = Follower::new(model);
    let mut coverage = Coverage::default();
    let mut steps = Vec::new();
    let mut created: Vec<String> = Vec::new();
    let (len, mut resolver, ops, requests) = match source {
        Source::Ops(ops, r) => (ops.len(), Some(r), ops, &[][..]),
        Source::Requests(reqs) => (reqs.len(), None, &[][..], reqs),
    };
    let mut end = End::Completed;
    let mut faults = Vec::new();
    let mut divergences = Vec::new();
    for i in 0..len {
        if session.is_interrupted() {
            end = End::Interrupted;
            break;
        }
        let request = match &mut resolver {
            Some(r) => r.resolve(&ops[i], &follower.states()[0]),
            None => requests[i].clone(),
        };
        let observed = send_logical(target, &names, &request, &mut created, session).await;
        session.note_answer(&observed);
        match follower.step(&request, &observed) {
            Followed::Matched(outcome) => {
                coverage.record(&request, Some(&outcome), follower.states());
                steps.push(StepRecord { request, expected: Some(outcome), observed });
            }
            Followed::Unchecked => {
                coverage.record(&request, None, follower.states());
                steps.push(StepRecord { request, expected: None, observed });
            }
            Followed::Unknown(expected) => {
                // The outcome is unknown: every branch stays possible (including "nothing
                // happened"). A connection fault means the target is gone, so the sequence stops
                // there. What AWS would have answered is kept for the reproduction.
                let Observed::Fault { kind, detail } = observed.clone() else {
                    unreachable!("only a fault leaves the outcome unknown")
                };
                coverage.record(&request, None, follower.states());
                faults.push((i, kind, detail.clone()));
                session.note_unknown_outcome(kind);
                steps.push(StepRecord { request, expected, observed });
                // A broken connection, or a target that keeps failing, ends the sequence.
                let in_a_row = faults.iter().rev().enumerate().take_while(|(n, f)| f.0 + n == i).count();
                if kind == FaultKind::Connection || in_a_row >= CASE_FAULTS_IN_A_ROW || session.target_down() {
                    end = End::Fault { step: i, kind, detail };
                    break;
                }
                // A request that timed out may still be acted on: let that happen before the
                // next request, so that the target's state is one of those the model keeps.
                if kind == FaultKind::Timeout {
                    tokio::time::sleep(target.late_arrival_window()).await;
                }
            }
            Followed::Diverged(d) => {
                let Diverged { expected, mismatch, allowed, cause, continuation, after_adoption } = *d;
                coverage.record_divergent(&request, &expected, follower.states());
                if let (Continuation::Retired(name), Some(r)) = (&continuation, resolver.as_mut()) {
                    r.retire(name);
                }
                steps.push(StepRecord { request, expected: Some(expected), observed });
                divergences.push(Divergence { step: i, mismatch, allowed, cause, continuation, after_adoption });
            }
        }
    }
    // Against a target that is down, the names stay registered for the final sweep.
    let leaked = if session.target_down() { created.clone() } else { target.cleanup(&created).await };
    session.cleaned(&created, &leaked);
    Execution { steps, divergences, end, coverage, leaked, faults }
}

impl Execution {
    /// This execution's findings (each divergence's identity and cause), in step order.
    pub fn findings(&self) -> Vec<Finding> {
        self.divergences.iter().map(|d| (self.signature_of(d), d.cause.clone())).collect()
    }

    /// The faults of this execution as (0-based step, `fault <operation> <kind>`).
    pub fn fault_signatures(&self) -> Vec<(usize, String)> {
        self.faults
            .iter()
            .map(|(i, kind, _)| (*i, format!("fault {} {}", self.steps[*i].request.op(), kind.name())))
            .collect()
    }

    /// The divergence that is finding `key`, if any.
    pub fn divergence(&self, key: &Finding) -> Option<&Divergence> {
        self.divergences.iter().find(|d| d.cause == key.1 && self.signature_of(d) == key.0)
    }

    fn signature_of(&self, d: &Divergence) -> DivergenceId {
        let step = &self.steps[d.step];
        signature(&step.request, &d.mismatch, step.expected.as_ref())
    }
}

/// A finding's key: the divergence (symptom) and its cause. One symptom can have two causes (the
/// same code from the same rule, once explained by the check order and once not), so shrinking
/// and reproductions are per key.
pub type Finding = (DivergenceId, Cause);

/// Settings of a generated run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub cases: usize,
    pub steps: usize,
    pub seed: u64,
    pub jobs: usize,
    /// Where reproductions are written.
    pub out_dir: PathBuf,
    /// Upper bound on shrink attempts per divergence.
    pub max_shrink_iters: usize,
    /// Divergences a baseline already holds a minimal reproduction of: not shrunk again (the
    /// run reports them with the case that showed them, cut at the divergence).
    pub already_reproduced: BTreeSet<Finding>,
}

/// A divergence found by a run, shrunk.
#[derive(Clone, Debug)]
pub struct Found {
    pub signature: DivergenceId,
    /// The rule the target breaks and how (attributed at the divergent step of the reproduction).
    pub cause: Cause,
    /// Whether the reproduction reaches its divergence only by following the target past an
    /// earlier divergent write ([`crate::follow`]).
    pub after_adoption: bool,
    pub trace: Trace,
    pub path: PathBuf,
    /// 1-based step of the divergence in the shrunk trace.
    pub step: usize,
    pub mismatch: Mismatch,
    /// Rules behind the closest allowed outcome.
    pub rules: Vec<&'static Rule>,
    pub case: usize,
    pub original_steps: usize,
    /// How many cases hit this signature.
    pub hits: usize,
}

/// A target fault seen by a run.
#[derive(Clone, Debug)]
pub struct FaultRecord {
    pub case: usize,
    pub step: usize,
    pub op: String,
    /// The request's input (logical names), to reproduce the fault by hand.
    pub input: serde_json::Value,
    pub kind: FaultKind,
    pub detail: String,
}

/// Everything a run found and covered.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub target: String,
    pub cases_run: usize,
    pub found: Vec<Found>,
    pub faults: Vec<FaultRecord>,
    pub coverage: Coverage,
    pub leaked: Vec<String>,
    pub interrupted: bool,
    /// The run stopped early because the target kept failing.
    pub aborted: Option<String>,
    /// One shrunk reproduction per kind of fault (operation and fault kind).
    pub fault_reproductions: Vec<FaultReproduction>,
    /// What the final clean-up did; `leaked` is its `left`.
    pub cleanup: Cleanup,
}

impl RunReport {
    /// The divergences found, grouped by cause: causes from firm rules first, then by cause; the
    /// divergences of each in signature order.
    pub fn causes(&self) -> Vec<(&Cause, Vec<&Found>)> {
        let mut by: BTreeMap<&Cause, Vec<&Found>> = BTreeMap::new();
        for f in &self.found {
            by.entry(&f.cause).or_default().push(f);
        }
        let mut out: Vec<(&Cause, Vec<&Found>)> = by.into_iter().collect();
        out.sort_by_key(|(c, _)| !c.rule.confidence.is_firm());
        out
    }
}

/// The 32-byte RNG seed of case `case` of a run seeded with `seed` (splitmix64).
fn case_seed(seed: u64, case: usize) -> [u8; 32] {
    let mut x = seed ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

/// The operations of case `case` (what the run generates for it, before shrinking).
pub fn generate_case(seed: u64, case: usize, steps: usize, omit_token: bool) -> Box<dyn ValueTree<Value = Vec<Op>>> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(seed, case));
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    match sequence(steps, omit_token).new_tree(&mut runner) {
        Ok(tree) => tree,
        Err(e) => unreachable!("the sequence strategy never rejects: {e}"),
    }
}

fn model_for(resolver: &Resolver) -> Model {
    let mut m = Model::new();
    m.functions.extend(resolver.functions.iter().map(|(k, v)| (k.clone(), *v)));
    m
}

struct Shared {
    report: RunReport,
    claimed: BTreeMap<Finding, usize>,
    /// The cases this run (or shard) runs, in order; `next` indexes it.
    cases: Vec<usize>,
    next: usize,
    consecutive_faults: usize,
    /// Per divergence signature, the lowest case showing it and that case's execution: the one
    /// that is shrunk, whatever order the jobs finished in.
    divergent: BTreeMap<Finding, (usize, Execution)>,
    /// The same per kind of fault.
    faulting: BTreeMap<String, (usize, Execution)>,
}

/// Runs `config.cases` generated cases against `target`, writing each reproduction into
/// `config.out_dir` ([`TraceFiles`]).
pub async fn run(target: Arc<dyn Target>, config: RunConfig, session: Arc<Session>) -> RunReport {
    run_with(target, config, session, Arc::new(TraceFiles::default())).await
}

/// Runs `config.cases` generated cases against `target`, telling `sink` what happens (the sink
/// writes the reproductions, if anything does).
pub async fn run_with(
    target: Arc<dyn Target>,
    config: RunConfig,
    session: Arc<Session>,
    sink: Arc<dyn Sink>,
) -> RunReport {
    run_shard(target, config, Shard::WHOLE, session, sink).await
}

/// Runs the cases of `shard` among `config.cases` (see [`Shard`]), telling `sink` what happens.
///
/// What a run finds does not depend on `jobs` or on timing: each case is generated from the seed
/// and its index alone; the cases run first (each job on its own instance where the target is a
/// pool, [`Target::for_job`]); then each divergence (and kind of fault) is shrunk from the lowest
/// case that showed it, and the findings are reported in signature order. The shards of a seed
/// together run exactly the cases of the whole run, so their findings merge into the whole run's.
pub async fn run_shard(
    target: Arc<dyn Target>,
    config: RunConfig,
    shard: Shard,
    session: Arc<Session>,
    sink: Arc<dyn Sink>,
) -> RunReport {
    let caps = target.capabilities();
    let resolver = Resolver::new(&caps.behaviours);
    if let Err(e) = target.prepare(&resolver.functions).await {
        let report = RunReport { target: target.name(), aborted: Some(e.to_string()), ..Default::default() };
        sink.event(&RunEvent::Finished { report: &report });
        return report;
    }
    let jobs = config.jobs.clamp(1, caps.max_jobs.max(1));
    let shared = Arc::new(Mutex::new(Shared {
        report: RunReport { target: target.name(), ..Default::default() },
        claimed: BTreeMap::new(),
        cases: shard.cases(config.cases).collect(),
        next: 0,
        consecutive_faults: 0,
        divergent: BTreeMap::new(),
        faulting: BTreeMap::new(),
    }));
    let omit_token = caps.omit_token;
    // Each job is a task of its own, so that on a multi-threaded runtime the jobs' own work
    // (the model, the comparison, the SDK) runs in parallel too, not only the target's.
    let mut tasks = tokio::task::JoinSet::new();
    for job in 0..jobs {
        let (target, config, session, shared, resolver, sink) =
            (target.clone(), config.clone(), session.clone(), shared.clone(), resolver.clone(), sink.clone());
        tasks.spawn(async move {
            let target: &dyn Target = target.for_job(job).unwrap_or(&*target);
            worker(target, &config, &session, &shared, &resolver, omit_token, &*sink).await;
        });
    }
    join_all(tasks).await;
    // Shrinking, in signature order, from the lowest case of each finding.
    let queue: Vec<Shrinkable> = {
        let mut s = lock(&shared);
        let divergent = std::mem::take(&mut s.divergent).into_iter().map(|(sig, (case, exec))| Shrinkable {
            key: ShrinkKey::Divergence(sig),
            case,
            exec,
        });
        let faulting = std::mem::take(&mut s.faulting).into_iter().map(|(sig, (case, exec))| Shrinkable {
            key: ShrinkKey::Fault(sig),
            case,
            exec,
        });
        divergent.chain(faulting).collect()
    };
    // Shrinking holds proptest's value trees, which are not `Send`: its jobs share a thread.
    let queue = Arc::new(Mutex::new(queue.into_iter()));
    let local = tokio::task::LocalSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    for job in 0..jobs {
        let (target, config, session, shared, resolver, sink, queue) = (
            target.clone(),
            config.clone(),
            session.clone(),
            shared.clone(),
            resolver.clone(),
            sink.clone(),
            queue.clone(),
        );
        tasks.spawn_local_on(
            async move {
                let target: &dyn Target = target.for_job(job).unwrap_or(&*target);
                loop {
                    let Some(item) = lock(&queue).next() else { return };
                    shrink_finding(target, &config, &session, &shared, &resolver, omit_token, &*sink, item).await;
                }
            },
            &local,
        );
    }
    local.run_until(join_all(tasks)).await;
    let mut report = std::mem::take(&mut lock(&shared).report);
    report.cleanup = sweep(&*target, &session).await;
    report.leaked = report.cleanup.left.clone();
    report.interrupted = session.is_interrupted();
    report.found.sort_by(|a, b| (&a.signature, &a.cause).cmp(&(&b.signature, &b.cause)));
    report.fault_reproductions.sort_by(|a, b| a.signature.cmp(&b.signature));
    report.faults.sort_by_key(|f| (f.case, f.step));
    sink.event(&RunEvent::Finished { report: &report });
    report
}

/// Waits for every task; a task's panic is the run's (a bug in the harness is never swallowed).
async fn join_all(mut tasks: tokio::task::JoinSet<()>) {
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// The run's shared state, even if a job panicked while holding it (the panic is re-raised by
/// [`join_all`]).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn worker(
    target: &dyn Target,
    config: &RunConfig,
    session: &Session,
    shared: &Mutex<Shared>,
    resolver: &Resolver,
    omit_token: bool,
    sink: &dyn Sink,
) {
    loop {
        let case = {
            let mut s = lock(shared);
            if session.target_down() && s.report.aborted.is_none() {
                s.report.aborted =
                    Some(format!("the target stopped answering: {TARGET_DOWN_AFTER} requests in a row failed"));
            }
            if s.next >= s.cases.len() || session.is_interrupted() || s.report.aborted.is_some() {
                return;
            }
            s.next += 1;
            s.cases[s.next - 1]
        };
        sink.event(&RunEvent::CaseStarted { case });
        let ops = generate_case(config.seed, case, config.steps, omit_token).current();
        let exec = execute(target, Source::Ops(&ops, resolver.clone()), model_for(resolver), session).await;
        for (i, step) in exec.steps.iter().enumerate() {
            sink.event(&RunEvent::Step { case, step: i + 1, op: step.request.op() });
        }
        session.cases_done.fetch_add(1, Ordering::Relaxed);
        sink.event(&RunEvent::CaseFinished { case });
        let mut s = lock(shared);
        s.report.cases_run += 1;
        s.report.coverage.merge(&exec.coverage);
        for (step, kind, detail) in &exec.faults {
            let fault = FaultRecord {
                case,
                step: step + 1,
                op: exec.steps[*step].request.op().to_string(),
                input: exec.steps[*step].request.input_json(),
                kind: *kind,
                detail: detail.clone(),
            };
            sink.event(&RunEvent::Fault { fault: &fault });
            s.report.faults.push(fault);
        }
        if let End::Fault { kind, detail, .. } = &exec.end {
            s.consecutive_faults += 1;
            if s.consecutive_faults >= 3 {
                s.report.aborted = Some(format!("the target keeps failing: {} ({detail})", kind.name()));
            }
        } else {
            s.consecutive_faults = 0;
        }
        let fault_sigs: BTreeSet<String> = exec.fault_signatures().into_iter().map(|(_, sig)| sig).collect();
        for sig in fault_sigs {
            if s.faulting.get(&sig).is_none_or(|(c, _)| case < *c) {
                s.faulting.insert(sig, (case, exec.clone()));
            }
        }
        let sigs: BTreeSet<Finding> = exec.findings().into_iter().collect();
        for sig in exec.findings() {
            *s.claimed.entry(sig).or_default() += 1;
        }
        for sig in sigs {
            if s.divergent.get(&sig).is_none_or(|(c, _)| case < *c) {
                s.divergent.insert(sig, (case, exec.clone()));
            }
        }
    }
}

/// What is waiting to be shrunk: a divergence (its finding) or a kind of fault.
enum ShrinkKey {
    Divergence(Finding),
    Fault(String),
}

/// A finding waiting to be shrunk, with the lowest case that showed it and that case's
/// execution.
struct Shrinkable {
    key: ShrinkKey,
    case: usize,
    exec: Execution,
}

/// Shrinks one finding and adds its reproduction to the report.
#[allow(clippy::too_many_arguments)]
async fn shrink_finding(
    target: &dyn Target,
    config: &RunConfig,
    session: &Session,
    shared: &Mutex<Shared>,
    resolver: &Resolver,
    omit_token: bool,
    sink: &dyn Sink,
    item: Shrinkable,
) {
    let Shrinkable { key, case, exec } = item;
    let mut tree = generate_case(config.seed, case, config.steps, omit_token);
    let ops = tree.current();
    match key {
        ShrinkKey::Divergence(sig) => {
            sink.event(&RunEvent::Divergence { case, signature: &sig.0.to_string() });
            // Each divergence is shrunk on its own, from the same generated case.
            let keeps = |e: &Execution| e.divergence(&sig).is_some();
            let (shrunk_ops, shrunk) = if config.already_reproduced.contains(&sig) {
                (ops.clone(), exec)
            } else {
                shrink(target, &mut *tree, &keeps, exec, resolver, session, config.max_shrink_iters).await
            };
            let found =
                found_reproduction(&target.name(), config, case, ops.len(), &sig, shrunk_ops.len(), shrunk, resolver);
            sink.event(&RunEvent::Shrunk { signature: &sig.0.to_string(), trace: &found.trace, path: &found.path });
            let mut s = lock(shared);
            let hits = s.claimed.get(&sig).copied().unwrap_or(1);
            s.report.found.push(Found { hits, ..found });
        }
        ShrinkKey::Fault(sig) => {
            // A fault is shrunk like a divergence: to the shortest sequence that still faults the
            // same way (same operation, same kind of fault).
            let keeps = |e: &Execution| e.fault_signatures().iter().any(|(_, f)| *f == sig);
            let (_, shrunk) =
                shrink(target, &mut *tree, &keeps, exec, resolver, session, config.max_shrink_iters).await;
            if let Some(repro) = fault_reproduction(&target.name(), config, case, &sig, shrunk, resolver) {
                sink.event(&RunEvent::Shrunk { signature: &sig, trace: &repro.trace, path: &repro.path });
                lock(shared).report.fault_reproductions.push(repro);
            }
        }
    }
}

/// A target fault, shrunk to the shortest sequence that shows it.
#[derive(Clone, Debug)]
pub struct FaultReproduction {
    /// `fault <operation> <kind>`.
    pub signature: String,
    pub trace: Trace,
    pub path: PathBuf,
    /// The case it was shrunk from.
    pub case: usize,
}

fn fault_reproduction(
    target: &str,
    config: &RunConfig,
    case: usize,
    sig: &str,
    mut exec: Execution,
    resolver: &Resolver,
) -> Option<FaultReproduction> {
    let step = exec.fault_signatures().into_iter().find(|(_, f)| f == sig)?.0;
    let detail = exec.faults.iter().find(|(i, _, _)| *i == step).map(|(_, _, d)| d.clone()).unwrap_or_default();
    exec.steps.truncate(step + 1);
    exec.divergences.retain(|d| d.step <= step);
    let title = format!("{target}: {sig}");
    let source = format!("smconform run --seed {} --steps {}: case {case}, shrunk", config.seed, config.steps);
    let mut trace = execution_trace(title, source, &exec, resolver);
    let short: String = detail.chars().take(120).collect();
    trace.steps[step].note = Some(format!("{sig}: {short}"));
    let slug: String =
        sig.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let path = config.out_dir.join(format!("{slug}.json"));
    Some(FaultReproduction { signature: sig.to_string(), trace, path, case })
}

/// Shrinks a failing case: simplify while the divergence (same signature) persists, complicate
/// when it disappears, as proptest does, within `max_iters` executions.
async fn shrink(
    target: &dyn Target,
    tree: &mut dyn ValueTree<Value = Vec<Op>>,
    keeps: &dyn Fn(&Execution) -> bool,
    first: Execution,
    resolver: &Resolver,
    session: &Session,
    max_iters: usize,
) -> (Vec<Op>, Execution) {
    let mut best = (tree.current(), first);
    let mut iters = 0;
    let mut simplified = tree.simplify();
    while simplified && iters < max_iters && !session.is_interrupted() && !session.target_down() {
        iters += 1;
        let ops = tree.current();
        let exec = execute(target, Source::Ops(&ops, resolver.clone()), model_for(resolver), session).await;
        let same = keeps(&exec);
        if same {
            best = (ops, exec);
            simplified = tree.simplify();
        } else {
            simplified = tree.complicate();
        }
    }
    // proptest removes elements before it simplifies them and never goes back, so a step that
    // only became removable later can survive; drop single steps while the divergence stays.
    let mut i = 0;
    while i < best.0.len() && iters < max_iters && !session.is_interrupted() && !session.target_down() {
        iters += 1;
        let mut ops = best.0.clone();
        ops.remove(i);
        let exec = execute(target, Source::Ops(&ops, resolver.clone()), model_for(resolver), session).await;
        if keeps(&exec) {
            best = (ops, exec);
        } else {
            i += 1;
        }
    }
    best
}

/// Builds the trace of an execution, with the model's outcome and the target's observation per step.
pub fn execution_trace(title: String, source: String, exec: &Execution, resolver: &Resolver) -> Trace {
    let mut steps: Vec<TraceStep> = exec
        .steps
        .iter()
        .map(|s| TraceStep {
            request: s.request.clone(),
            expect: s.expected.as_ref().map(|o| o.expect.clone()),
            observed: Some(observed_json(&s.observed)),
            note: None,
        })
        .collect();
    for d in &exec.divergences {
        let rules = exec.steps[d.step].expected.as_ref().map(|o| o.rule_ids()).unwrap_or_default();
        let others =
            if d.allowed.len() > 1 { format!(" ({} outcomes allowed)", d.allowed.len()) } else { String::new() };
        steps[d.step].note = Some(format!("diverges: {}; rules: {rules}{others}", d.mismatch));
    }
    dates_by_order(&mut steps);
    Trace { title, source, evidence: None, rotation_functions: resolver.functions.clone(), steps }
}

/// Replaces the dates the target answered (numbers under members named `...Date`) by their order
/// within the trace, 1 being the earliest (still numbers, so that following the recording on the
/// model compares their order as before): their values depend on the wall clock (or on how many
/// requests a shared target served before), the harness compares them only for presence and
/// order, and a reproduction must be the same file for a seed whatever the timing.
fn dates_by_order(steps: &mut [TraceStep]) {
    fn visit(v: &mut serde_json::Value, f: &mut dyn FnMut(&mut serde_json::Value)) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k.ends_with("Date") && x.is_number() {
                        f(x);
                    } else {
                        visit(x, f);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| visit(x, f)),
            _ => {}
        }
    }
    let mut seen: Vec<f64> = Vec::new();
    for s in steps.iter_mut() {
        if let Some(o) = s.observed.as_mut() {
            visit(o, &mut |x| seen.extend(x.as_f64()));
        }
    }
    seen.sort_by(f64::total_cmp);
    seen.dedup();
    for s in steps.iter_mut() {
        if let Some(o) = s.observed.as_mut() {
            visit(o, &mut |x| {
                if let Some(rank) = x.as_f64().and_then(|d| seen.iter().position(|y| *y == d)) {
                    *x = serde_json::Value::from(rank as u64 + 1);
                }
            });
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn found_reproduction(
    target: &str,
    config: &RunConfig,
    case: usize,
    original_steps: usize,
    key: &Finding,
    shrunk_len: usize,
    exec: Execution,
    resolver: &Resolver,
) -> Found {
    let mut exec = exec;
    let sig = &key.0;
    let Some(d) = exec.divergence(key).cloned() else {
        unreachable!("only executions showing the divergence are written");
    };
    // The reproduction ends at its divergence.
    exec.steps.truncate(d.step + 1);
    exec.divergences.retain(|x| x.step <= d.step);
    let (step, mismatch) = (&d.step, &d.mismatch);
    let rules = exec.steps[*step].expected.as_ref().map(|o| o.rules.clone()).unwrap_or_default();
    let deciding = rules.last().map(|r| r.id).unwrap_or("?");
    let title = format!("{target}: {sig} (rule {deciding})");
    let source = format!(
        "smconform run --seed {} --steps {}: case {case}, shrunk from {original_steps} to {shrunk_len} steps",
        config.seed, config.steps
    );
    let trace = execution_trace(title, source, &exec, resolver);
    let slug = crate::finding::slug(&format!("{sig} {}", key.1));
    let path = config.out_dir.join(format!("{slug}.json"));
    Found {
        signature: sig.clone(),
        cause: d.cause.clone(),
        after_adoption: d.after_adoption,
        trace,
        path,
        step: step + 1,
        mismatch: mismatch.clone(),
        rules,
        case,
        original_steps,
        hits: 1,
    }
}

/// The result of replaying one step.
#[derive(Clone, Debug)]
pub struct ReplayStep {
    pub request: Request,
    pub observed: Observed,
    /// Against the trace's `expect`, when it has one.
    pub expect_check: Option<Result<(), Mismatch>>,
    /// Against the model; `None` where the model does not know the state (a secret retired after
    /// an earlier divergence, [`crate::follow`]).
    pub model_check: Option<Result<(), Mismatch>>,
    /// The model outcome matched (or the closest one, on a divergence).
    pub model_outcome: Option<Outcome>,
    /// On a divergence: the rule the target breaks and how.
    pub cause: Option<Cause>,
}

/// A whole replay.
#[derive(Clone, Debug)]
pub struct ReplayReport {
    pub steps: Vec<ReplayStep>,
    pub fault: Option<(usize, FaultKind, String)>,
    pub leaked: Vec<String>,
    pub interrupted: bool,
}

impl ReplayReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.fault.is_none()
            && self
                .steps
                .iter()
                .all(|s| !matches!(s.expect_check, Some(Err(_))) && !matches!(s.model_check, Some(Err(_))))
    }
}

/// Replays `trace` against `target`: every step is checked against its `expect` (when present)
/// and against the model.
pub async fn replay(target: &dyn Target, trace: &Trace, session: &Session) -> ReplayReport {
    let names = session.case_names();
    let mut report = ReplayReport { steps: Vec::new(), fault: None, leaked: Vec::new(), interrupted: false };
    if let Err(e) = target.prepare(&trace.rotation_functions).await {
        report.fault = Some((0, FaultKind::Connection, e.to_string()));
        return report;
    }
    let mut model = Model::new();
    model.functions.extend(trace.rotation_functions.iter().map(|(k, v)| (k.clone(), *v)));
    let mut follower = Follower::new(model);
    let mut created = Vec::new();
    for (i, step) in trace.steps.iter().enumerate() {
        if session.is_interrupted() {
            report.interrupted = true;
            break;
        }
        let observed = send_logical(target, &names, &step.request, &mut created, session).await;
        session.note_answer(&observed);
        if let Observed::Fault { kind, detail } = &observed {
            session.note_unknown_outcome(*kind);
            // A fault the recording shows at this step, before its last (the target fails that
            // request every time, as LocalStack's RotateSecret does in some states), is part of
            // the reproduction: its outcome stays unknown, as when it was recorded. Any other
            // fault ends the replay.
            let recorded = step.observed.as_ref().and_then(crate::trace::observed_from_json);
            let as_recorded = matches!(&recorded, Some(Observed::Fault { kind: k, .. }) if k == kind);
            if !as_recorded || i + 1 == trace.steps.len() {
                report.fault = Some((i + 1, *kind, detail.clone()));
                break;
            }
            follower.step(&step.request, &observed);
            report.steps.push(ReplayStep {
                request: step.request.clone(),
                observed,
                expect_check: None,
                model_check: None,
                model_outcome: None,
                cause: None,
            });
            continue;
        }
        let expect_check = step.expect.as_ref().map(|e| check(e, &observed));
        let (model_check, model_outcome, cause) = match follower.step(&step.request, &observed) {
            Followed::Matched(o) => (Some(Ok(())), Some(o), None),
            Followed::Diverged(d) => (Some(Err(d.mismatch)), Some(d.expected), Some(d.cause)),
            Followed::Unchecked | Followed::Unknown(_) => (None, None, None),
        };
        report.steps.push(ReplayStep {
            request: step.request.clone(),
            observed,
            expect_check,
            model_check,
            model_outcome,
            cause,
        });
    }
    report.leaked = target.cleanup(&created).await;
    session.cleaned(&created, &report.leaked);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(kind: FaultKind) -> Observed {
        Observed::Fault { kind, detail: "injected".into() }
    }

    #[test]
    fn a_target_answering_http_500_every_time_is_up() {
        let session = Session::new("t-");
        for _ in 0..3 * TARGET_DOWN_AFTER {
            session.note_answer(&fault(FaultKind::Server));
            session.note_answer(&fault(FaultKind::Malformed));
        }
        assert!(!session.target_down());
    }

    #[test]
    fn a_target_that_does_not_answer_is_down_and_an_answer_resets_the_count() {
        let session = Session::new("t-");
        for kind in [FaultKind::Timeout, FaultKind::Connection, FaultKind::Throttled] {
            for _ in 0..TARGET_DOWN_AFTER - 1 {
                session.note_answer(&fault(kind));
            }
            assert!(!session.target_down(), "{kind:?}: not yet");
            session.note_answer(&Observed::Ok(serde_json::json!({})));
            for _ in 0..TARGET_DOWN_AFTER {
                session.note_answer(&fault(kind));
            }
            assert!(session.target_down(), "{kind:?}: down after {TARGET_DOWN_AFTER} in a row");
            session.note_answer(&Observed::Ok(serde_json::json!({})));
        }
    }
}
