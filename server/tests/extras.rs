//! The operations served beside the model, as AWS answers them (LocalStack's AWS-recorded
//! snapshots `test_secret_tags` and `test_resource_policy`, semantics.md §5.7): tags stored and
//! returned by DescribeSecret and ListSecrets and searched by its filters, resource policies,
//! BatchGetSecretValue, and all of it kept across a restart with `--state`.

mod common;

use common::*;
use serde_json::{json, Value};
use sm_server::ServerConfig;

/// A fresh ClientRequestToken for each CreateSecret and PutSecretValue (the SDKs add one).
fn with_token(op: &str, mut body: Value) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    if matches!(op, "CreateSecret" | "PutSecretValue") && body.get("ClientRequestToken").is_none() {
        body["ClientRequestToken"] = json!(token(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    }
    body
}

async fn ok(url: &str, op: &str, body: Value) -> Value {
    let body = with_token(op, body);
    let (s, b) = raw_call(url, op, &body.to_string()).await;
    assert_eq!(s, 200, "{op} {body}: {b}");
    b
}

async fn err(url: &str, op: &str, body: Value) -> (String, String) {
    let body = with_token(op, body);
    let (s, b) = raw_call(url, op, &body.to_string()).await;
    assert_eq!(s, 400, "{op} {body}: {b}");
    (b["__type"].as_str().unwrap_or_default().to_string(), b["Message"].as_str().unwrap_or_default().to_string())
}

fn names(list: &Value) -> Vec<String> {
    list["SecretList"].as_array().unwrap().iter().map(|e| e["Name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn tags_are_kept_in_order_returned_and_searched() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let url = server.url();
        ok(&url, "CreateSecret", json!({"Name": "t", "SecretString": "s"})).await;
        let d = ok(&url, "DescribeSecret", json!({"SecretId": "t"})).await;
        assert!(d.get("Tags").is_none(), "no Tags before the first tag: {d}");
        assert_eq!(
            ok(&url, "TagResource", json!({"SecretId": "t", "Tags": [{"Key": "tag1", "Value": "value1"}]})).await,
            json!({})
        );
        ok(
            &url,
            "TagResource",
            json!({"SecretId": "t", "Tags": [{"Key": "tag2", "Value": "value2"}, {"Key": "tag1", "Value": "v1"}]}),
        )
        .await;
        let d = ok(&url, "DescribeSecret", json!({"SecretId": "t"})).await;
        assert_eq!(d["Tags"], json!([{"Key": "tag1", "Value": "v1"}, {"Key": "tag2", "Value": "value2"}]));
        ok(&url, "UntagResource", json!({"SecretId": d["ARN"], "TagKeys": ["tag1", "tag2"]})).await;
        let d = ok(&url, "DescribeSecret", json!({"SecretId": "t"})).await;
        assert_eq!(d["Tags"], json!([]), "an emptied tag list stays present");

        ok(
            &url,
            "CreateSecret",
            json!({"Name": "u", "SecretString": "s", "Tags": [{"Key": "team", "Value": "Payments"}]}),
        )
        .await;
        let all = ok(&url, "ListSecrets", json!({})).await;
        assert_eq!(all["SecretList"][1]["Tags"], json!([{"Key": "team", "Value": "Payments"}]));
        let by = |key: &str, value: &str| json!({"Filters": [{"Key": key, "Values": [value]}]});
        assert_eq!(names(&ok(&url, "ListSecrets", by("tag-key", "tea")).await), ["u"]);
        assert_eq!(names(&ok(&url, "ListSecrets", by("tag-value", "Pay")).await), ["u"]);
        assert!(
            names(&ok(&url, "ListSecrets", by("tag-value", "pay")).await).is_empty(),
            "tag-value is case-sensitive"
        );
        assert_eq!(names(&ok(&url, "ListSecrets", by("all", "payments")).await), ["u"]);

        assert_eq!(
            err(&url, "TagResource", json!({"SecretId": "nope", "Tags": []})).await.0,
            "ResourceNotFoundException"
        );
        let (code, message) = err(&url, "TagResource", json!({"SecretId": "Inv Name", "Tags": []})).await;
        assert_eq!(code, "ValidationException");
        assert!(message.starts_with("Invalid name. Must be a valid name"), "{message}");
        let policy = json!({"SecretId": "Inv Name", "ResourcePolicy": "{}"});
        assert_eq!(err(&url, "ValidateResourcePolicy", policy).await.0, "ValidationException");
        ok(&url, "DeleteSecret", json!({"SecretId": "u"})).await;
        let (code, message) =
            err(&url, "TagResource", json!({"SecretId": "u", "Tags": [{"Key": "a", "Value": "b"}]})).await;
        assert_eq!(code, "InvalidRequestException");
        assert_eq!(message, "You can't perform this operation on the secret because it was marked for deletion.");
        server.shutdown().await;
    });
}

#[test]
fn a_forced_deletion_answers_with_the_arn_the_secret_had() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let url = server.url();
        let created = ok(&url, "CreateSecret", json!({"Name": "f", "SecretString": "s"})).await;
        let deleted = ok(&url, "DeleteSecret", json!({"SecretId": "f", "ForceDeleteWithoutRecovery": true})).await;
        assert_eq!(deleted["ARN"], created["ARN"]);
        server.shutdown().await;
    });
}

#[test]
fn resource_policies_are_put_read_validated_and_deleted() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let url = server.url();
        let created = ok(&url, "CreateSecret", json!({"Name": "p", "SecretString": "s"})).await;
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        let put = ok(&url, "PutResourcePolicy", json!({"SecretId": "p", "ResourcePolicy": policy})).await;
        assert_eq!(put, json!({"ARN": created["ARN"], "Name": "p"}));
        let got = ok(&url, "GetResourcePolicy", json!({"SecretId": "p"})).await;
        assert_eq!(got, json!({"ARN": created["ARN"], "Name": "p", "ResourcePolicy": policy}));
        let blocked = json!({"SecretId": "p", "ResourcePolicy": policy, "BlockPublicPolicy": true});
        assert_eq!(err(&url, "PutResourcePolicy", blocked).await.0, "PublicPolicyException");
        let bad = json!({"SecretId": "p", "ResourcePolicy": "{not json"});
        assert_eq!(err(&url, "PutResourcePolicy", bad).await.0, "MalformedPolicyDocumentException");
        let valid = ok(&url, "ValidateResourcePolicy", json!({"ResourcePolicy": policy})).await;
        assert_eq!(valid, json!({"PolicyValidationPassed": true, "ValidationErrors": []}));
        ok(&url, "DeleteResourcePolicy", json!({"SecretId": "p"})).await;
        assert_eq!(ok(&url, "GetResourcePolicy", json!({"SecretId": "p"})).await, json!({"ARN": created["ARN"], "Name": "p"}));
        server.shutdown().await;
    });
}

#[test]
fn batch_get_secret_value_reads_each_secret_and_reports_the_rest() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let url = server.url();
        ok(&url, "CreateSecret", json!({"Name": "b1", "SecretString": "one"})).await;
        ok(&url, "CreateSecret", json!({"Name": "b2", "SecretString": "two"})).await;
        let got = ok(&url, "BatchGetSecretValue", json!({"SecretIdList": ["b1", "b2", "missing"]})).await;
        let values: Vec<&str> =
            got["SecretValues"].as_array().unwrap().iter().map(|v| v["SecretString"].as_str().unwrap()).collect();
        assert_eq!(values, ["one", "two"]);
        assert_eq!(got["SecretValues"][0]["VersionStages"], json!(["AWSCURRENT"]));
        assert_eq!(got["Errors"][0]["SecretId"], "missing");
        assert_eq!(got["Errors"][0]["ErrorCode"], "ResourceNotFoundException");
        let filtered =
            ok(&url, "BatchGetSecretValue", json!({"Filters": [{"Key": "name", "Values": ["b2"]}], "MaxResults": 5}))
                .await;
        assert_eq!(filtered["SecretValues"][0]["Name"], "b2");
        assert_eq!(filtered["SecretValues"].as_array().unwrap().len(), 1);
        let both = json!({"SecretIdList": ["b1"], "Filters": [{"Key": "name", "Values": ["b"]}]});
        assert_eq!(err(&url, "BatchGetSecretValue", both).await.0, "InvalidParameterException");
        assert_eq!(err(&url, "BatchGetSecretValue", json!({})).await.0, "InvalidParameterException");
        server.shutdown().await;
    });
}

#[test]
fn tags_and_policies_survive_a_restart_with_state() {
    runtime().block_on(async {
        let dir = std::env::temp_dir().join(format!("sm-server-extras-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = ServerConfig::default().with_state_dir(&dir);
        let server = start(config.clone()).await;
        let url = server.url();
        ok(&url, "CreateSecret", json!({"Name": "j", "SecretString": "s", "Tags": [{"Key": "a", "Value": "1"}]})).await;
        ok(&url, "TagResource", json!({"SecretId": "j", "Tags": [{"Key": "b", "Value": "2"}]})).await;
        ok(&url, "PutResourcePolicy", json!({"SecretId": "j", "ResourcePolicy": "{}"})).await;
        server.shutdown().await;
        let server = start(config).await;
        let url = server.url();
        let d = ok(&url, "DescribeSecret", json!({"SecretId": "j"})).await;
        assert_eq!(d["Tags"], json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]));
        assert_eq!(ok(&url, "GetResourcePolicy", json!({"SecretId": "j"})).await["ResourcePolicy"], "{}");
        server.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
