//! `smconform bench serve` runs (tiny sizes, serve only: no moto, no figures asserted) and its
//! bad options are one-line usage errors.

use std::process::{Command, Output};

fn smconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smconform")).args(args).output().expect("the binary runs")
}

#[test]
fn bench_serve_measures_serve_with_tiny_sizes() {
    let out = smconform(&[
        "bench",
        "serve",
        "--no-moto",
        "--duration",
        "1",
        "--clients",
        "2",
        "--working-set",
        "3",
        "--secrets",
        "4",
        "--versions",
        "3",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let row: Vec<&str> =
        stdout.lines().find(|l| l.starts_with("serve ")).expect("a row for serve").split_whitespace().collect();
    let requests: u64 = row[1].parse().expect("a request count");
    assert!(requests > 0, "{stdout}");
    assert_eq!(row[2], "0", "no request failed: {stdout}");
    assert!(!stdout.contains("moto"), "moto is not started with --no-moto: {stdout}");
    let memory = stdout.lines().find(|l| l.starts_with("memory: ")).expect("a memory line");
    assert!(memory.contains("holding 4 secrets x 3 versions") && memory.contains("0 errors"), "{memory}");
}

#[test]
fn bad_bench_options_are_one_line_usage_errors() {
    for (option, value) in [("--duration", "0"), ("--clients", "1000"), ("--versions", "0"), ("--secrets", "200000")] {
        let out = smconform(&["bench", "serve", "--no-moto", option, value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&option[2..]), "{stderr}");
    }
}
