//! `--state DIR`: a restart (or kill -9, which is the same to the journal) loses no acknowledged
//! write, a torn final record is tolerated, anything else damaged refuses to start.

mod common;

use common::*;
use sm_server::{Server, ServerConfig, StartError};
use std::io::Write as _;
use std::path::PathBuf;

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let d = std::env::temp_dir().join(format!("sm-server-test-{tag}-{}-{nanos}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_restart_keeps_every_acknowledged_write_and_the_arns() {
    let dir = temp_dir("restart");
    runtime().block_on(async {
        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "eu-central-1");
        let created =
            c.create_secret().name("kept").client_request_token(token(1)).secret_string("a").send().await.unwrap();
        c.put_secret_value().secret_id("kept").client_request_token(token(2)).secret_string("b").send().await.unwrap();
        c.create_secret().name("gone").client_request_token(token(3)).secret_string("x").send().await.unwrap();
        c.delete_secret().secret_id("gone").force_delete_without_recovery(true).send().await.unwrap();
        c.update_secret_version_stage()
            .secret_id("kept")
            .version_stage("blue")
            .move_to_version_id(token(1))
            .send()
            .await
            .unwrap();
        // A failed request is not journaled.
        assert!(c
            .put_secret_value()
            .secret_id("kept")
            .client_request_token(token(1))
            .secret_string("zz")
            .send()
            .await
            .is_err());
        server.shutdown().await;

        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "eu-central-1");
        let d = c.describe_secret().secret_id(created.arn().unwrap()).send().await.unwrap();
        assert_eq!(d.arn(), created.arn());
        let v = c.get_secret_value().secret_id("kept").send().await.unwrap();
        assert_eq!(v.secret_string(), Some("b"));
        let blue = c.get_secret_value().secret_id("kept").version_stage("blue").send().await.unwrap();
        assert_eq!(blue.secret_string(), Some("a"));
        assert!(c.describe_secret().secret_id("gone").send().await.is_err());
        // Reset empties the journal too.
        let (s, _) = raw(&server.url(), "POST", "/_smconform/reset", &[], b"").await;
        assert_eq!(s, 200);
        server.shutdown().await;
        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "eu-central-1");
        assert!(c.describe_secret().secret_id("kept").send().await.is_err());
        server.shutdown().await;
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_torn_final_record_is_tolerated_and_other_damage_refuses_to_start() {
    let dir = temp_dir("torn");
    runtime().block_on(async {
        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "us-east-1");
        c.create_secret().name("t").client_request_token(token(1)).secret_string("a").send().await.unwrap();
        server.shutdown().await;
        let path = dir.join(sm_server::journal::FILE_NAME);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"kind":"request","t":1,"region":"us-east-1","op":"PutSecretValue","inp"#).unwrap();
        drop(f);
        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "us-east-1");
        assert_eq!(c.get_secret_value().secret_id("t").send().await.unwrap().secret_string(), Some("a"));
        c.put_secret_value().secret_id("t").client_request_token(token(2)).secret_string("b").send().await.unwrap();
        server.shutdown().await;
        let server = start(ServerConfig::default().with_state_dir(&dir)).await;
        let c = client(&server.url(), "us-east-1");
        assert_eq!(c.get_secret_value().secret_id("t").send().await.unwrap().secret_string(), Some("b"));
        server.shutdown().await;

        // Damage in the middle: a clear startup error naming the line.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "{garbage");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let err = Server::start(ServerConfig::default().with_state_dir(&dir)).await.err().expect("refuses to start");
        assert!(matches!(err, StartError::Journal(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("line 2") && text.contains("damaged"), "{text}");

        // A record that no longer replays is an error too, not silently skipped.
        std::fs::write(
            &path,
            r#"{"kind":"request","t":1,"region":"us-east-1","op":"PutSecretValue","input":{"SecretId":"missing","ClientRequestToken":"00000000-0000-4000-8000-000000000001","SecretString":"x"}}
"#,
        )
        .unwrap();
        let err = Server::start(ServerConfig::default().with_state_dir(&dir)).await.err().expect("refuses to start");
        assert!(err.to_string().contains("no longer succeeds"), "{err}");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}
