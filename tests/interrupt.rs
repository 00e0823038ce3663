//! Ctrl-C (SIGINT) or SIGTERM during a run: the harness stops between requests, force-deletes
//! every secret it created, and exits with 130. Checked against a moto the test starts itself (loopback), so the
//! target can be inspected after the run.

use sm_harness::target::emulator::{EmulatorServer, StartOptions};
use sm_harness::target::endpoint::{EndpointConfig, EndpointTarget};
use sm_harness::target::moto;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn an_interrupted_run_cleans_up_and_exits_130() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let server = runtime.block_on(EmulatorServer::start(&moto::SPEC, &StartOptions::default())).expect("moto starts");
    let url = server.endpoint_url().to_string();
    for signal in ["INT", "TERM"] {
        let prefix = format!("itest-{}-", signal.to_lowercase());
        interrupt_once(&runtime, &url, signal, &prefix);
    }
    // The runs did create secrets before they were interrupted (so the checks mean something).
    let log = runtime.block_on(server.log_tail(400));
    assert!(log.contains("CreateSecret") || log.matches("POST / ").count() > 10, "no traffic seen: {log}");
}

fn interrupt_once(runtime: &tokio::runtime::Runtime, url: &str, signal: &str, prefix: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smconform"))
        .args(["run", "--target", "endpoint", "--endpoint-url", url, "--cases", "100000", "--steps", "30"])
        .args(["--quiet", "--name-prefix", prefix, "--out"])
        .arg(std::env::temp_dir().join(format!("smconform-interrupt-{}", std::process::id())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smconform starts");
    std::thread::sleep(Duration::from_secs(4));
    assert!(child.try_wait().expect("status").is_none(), "the run ended before it was interrupted");
    let sent = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    // The run's summary can be longer than a pipe holds: read both pipes while waiting.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let read_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out_pipe, &mut s);
        s
    });
    let read_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err_pipe, &mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not stop after SIG{signal}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = read_out.join().expect("stdout read");
    let stderr = read_err.join().expect("stderr read");
    assert_eq!(status.code(), Some(130), "SIG{signal}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("clean-up: nothing left behind (checked by listing the target)"), "{stdout}");
    let left: Vec<String> = runtime.block_on(async {
        let target = EndpointTarget::new(EndpointConfig::new(Some(url.to_string()))).await.expect("client");
        let listed = target.client().list_secrets().include_planned_deletion(true).send().await.expect("ListSecrets");
        listed
            .secret_list()
            .iter()
            .filter_map(|s| s.name().map(str::to_string))
            .filter(|n| n.starts_with(prefix))
            .collect()
    });
    assert!(left.is_empty(), "SIG{signal}: secrets left behind: {left:?}");
}
