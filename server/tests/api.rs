//! The wire protocol through the real `aws-sdk-secretsmanager` client (and raw HTTP for what an
//! SDK never sends) against `Server::start`.

mod common;

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SortOrderType};
use common::*;
use sm_model::FunctionBehaviour;
use sm_server::{FunctionSpec, ServerConfig};
use std::collections::BTreeSet;

const COMPLETE: &str = "arn:aws:lambda:us-east-1:123456789012:function:complete";

fn arn_re(region: &str, name: &str, arn: &str) -> bool {
    let prefix = format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-");
    arn.strip_prefix(&prefix).is_some_and(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[test]
fn every_modelled_operation_over_the_wire() {
    runtime().block_on(async {
        let config = ServerConfig::default().with_function(COMPLETE, FunctionSpec::Model(FunctionBehaviour::Complete));
        let server = start(config).await;
        let c = client(&server.url(), "us-east-1");

        let created = c
            .create_secret()
            .name("app/db")
            .client_request_token(token(1))
            .secret_string("v1")
            .description("the db")
            .send()
            .await
            .unwrap();
        let arn = created.arn().unwrap().to_string();
        assert!(arn_re("us-east-1", "app/db", &arn), "{arn}");
        assert_eq!(created.version_id(), Some(token(1).as_str()));

        let got = c.get_secret_value().secret_id("app/db").send().await.unwrap();
        assert_eq!(got.secret_string(), Some("v1"));
        assert_eq!(got.arn(), Some(arn.as_str()));
        assert!(got.created_date().is_some());
        assert_eq!(got.version_stages(), ["AWSCURRENT".to_string()]);

        // By full ARN and by partial ARN (without the suffix).
        let by_arn = c.get_secret_value().secret_id(&arn).send().await.unwrap();
        assert_eq!(by_arn.secret_string(), Some("v1"));
        let partial = arn[..arn.len() - 7].to_string();
        assert_eq!(c.describe_secret().secret_id(&partial).send().await.unwrap().name(), Some("app/db"));
        let wrong = format!("{partial}-zzzzzz");
        let e = c.describe_secret().secret_id(&wrong).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");

        let put = c
            .put_secret_value()
            .secret_id(&arn)
            .client_request_token(token(2))
            .secret_binary(Blob::new(vec![0u8, 1, 2]))
            .send()
            .await
            .unwrap();
        assert_eq!(put.version_stages(), ["AWSCURRENT".to_string()]);
        let got = c.get_secret_value().secret_id("app/db").send().await.unwrap();
        assert_eq!(got.secret_binary().map(|b| b.as_ref().to_vec()), Some(vec![0u8, 1, 2]));
        let prev = c.get_secret_value().secret_id("app/db").version_stage("AWSPREVIOUS").send().await.unwrap();
        assert_eq!(prev.secret_string(), Some("v1"));

        let up = c
            .update_secret()
            .secret_id("app/db")
            .client_request_token(token(3))
            .secret_string("v3")
            .send()
            .await
            .unwrap();
        assert_eq!(up.version_id(), Some(token(3).as_str()));
        c.update_secret_version_stage()
            .secret_id("app/db")
            .version_stage("blue")
            .move_to_version_id(token(1))
            .send()
            .await
            .unwrap();

        let versions = c.list_secret_version_ids().secret_id("app/db").send().await.unwrap();
        let ids: BTreeSet<String> =
            versions.versions().iter().filter_map(|v| v.version_id().map(str::to_string)).collect();
        assert_eq!(ids, [token(1), token(2), token(3)].into_iter().collect());
        assert!(versions.versions().iter().all(|v| v.created_date().is_some()));
        let page = c.list_secret_version_ids().secret_id("app/db").max_results(2).send().await.unwrap();
        assert_eq!(page.versions().len(), 2);
        let rest = c
            .list_secret_version_ids()
            .secret_id("app/db")
            .next_token(page.next_token().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(rest.versions().len(), 1);
        assert!(rest.next_token().is_none());

        let d = c.describe_secret().secret_id("app/db").send().await.unwrap();
        assert_eq!(d.description(), Some("the db"));
        assert_eq!(d.version_ids_to_stages().map(|m| m.len()), Some(3));
        assert!(d.rotation_enabled().is_none());

        // A rotation run by the model's `complete` function.
        let r = c
            .rotate_secret()
            .secret_id("app/db")
            .client_request_token(token(4))
            .rotation_lambda_arn(COMPLETE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.version_id(), Some(token(4).as_str()));
        let got = c.get_secret_value().secret_id("app/db").send().await.unwrap();
        assert_eq!(got.secret_string(), Some(format!("rotated-{}", token(4)).as_str()));
        let d = c.describe_secret().secret_id("app/db").send().await.unwrap();
        assert_eq!(d.rotation_enabled(), Some(true));
        assert!(d.last_rotated_date().is_some());
        c.cancel_rotate_secret().secret_id("app/db").send().await.unwrap();
        assert_eq!(c.describe_secret().secret_id("app/db").send().await.unwrap().rotation_enabled(), Some(false));

        let del = c.delete_secret().secret_id("app/db").recovery_window_in_days(7).send().await.unwrap();
        assert!(del.deletion_date().is_some());
        assert_eq!(del.arn(), Some(arn.as_str()));
        let e = c.get_secret_value().secret_id("app/db").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "InvalidRequestException");
        assert!(c.describe_secret().secret_id("app/db").send().await.unwrap().deleted_date().is_some());
        c.restore_secret().secret_id("app/db").send().await.unwrap();
        c.delete_secret().secret_id("app/db").force_delete_without_recovery(true).send().await.unwrap();
        let e = c.describe_secret().secret_id(&arn).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");

        // A re-created secret gets a new suffix; the old ARN does not reach it.
        let again =
            c.create_secret().name("app/db").client_request_token(token(9)).secret_string("x").send().await.unwrap();
        assert_ne!(again.arn(), Some(arn.as_str()));
        let e = c.describe_secret().secret_id(&arn).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");
        server.shutdown().await;
    });
}

#[test]
fn errors_carry_aws_codes_messages_and_status_400() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let c = client(&server.url(), "us-east-1");
        let e = c.get_secret_value().secret_id("nope").send().await.unwrap_err();
        assert_eq!(code_of(&e), ("ResourceNotFoundException".into(), "Secrets Manager can't find the specified secret.".into()));
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));

        let created = c.create_secret().name("s").client_request_token(token(1)).secret_string("a").send().await.unwrap();
        let e = c.create_secret().name("s").client_request_token(token(2)).secret_string("b").send().await.unwrap_err();
        assert_eq!(code_of(&e), ("ResourceExistsException".into(), "The operation failed because the secret s already exists.".into()));
        let e = c.put_secret_value().secret_id("s").client_request_token(token(1)).secret_string("other").send().await.unwrap_err();
        let expected = format!(
            "You can't use ClientRequestToken {} because that value is already in use for a version of secret {}.",
            token(1),
            created.arn().unwrap()
        );
        assert_eq!(code_of(&e), ("ResourceExistsException".into(), expected));
        let e = c.get_secret_value().secret_id("s").version_stage("AWSPREVIOUS").send().await.unwrap_err();
        assert_eq!(code_of(&e).1, "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS");
        let e = c.rotate_secret().secret_id("s").client_request_token(token(3)).send().await.unwrap_err();
        assert_eq!(code_of(&e), ("InvalidRequestException".into(), "No Lambda rotation function ARN is associated with this secret.".into()));
        let e = c.rotate_secret().secret_id("s").client_request_token(token(3)).rotation_lambda_arn("arn:aws:lambda:us-east-1:1:function:none").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "AccessDeniedException");
        let e = c.create_secret().name("bad name!").client_request_token(token(5)).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ValidationException");

        // Raw: the body AWS sends.
        let (status, body) = raw_call(&server.url(), "DescribeSecret", r#"{"SecretId":"nope"}"#).await;
        assert_eq!(status, 400);
        assert_eq!(body, serde_json::json!({"__type": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}));
        // M7: a raw request without ClientRequestToken.
        let (status, body) = raw_call(&server.url(), "PutSecretValue", r#"{"SecretId":"s","SecretString":"x"}"#).await;
        assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidRequestException")));
        assert_eq!(body["Message"], "You must provide a ClientRequestToken value. We recommend a UUID-type value.");
        server.shutdown().await;
    });
}

#[test]
fn the_region_comes_from_the_credential_scope() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let paris = client(&server.url(), "eu-west-3");
        let virginia = client(&server.url(), "us-east-1");
        let created =
            paris.create_secret().name("r").client_request_token(token(1)).secret_string("x").send().await.unwrap();
        assert!(arn_re("eu-west-3", "r", created.arn().unwrap()), "{:?}", created.arn());
        let e = virginia.describe_secret().secret_id("r").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");
        // Unsigned raw requests use the default region.
        let (status, _) = raw_call(&server.url(), "DescribeSecret", r#"{"SecretId":"r"}"#).await;
        assert_eq!(status, 400);
        virginia.create_secret().name("r").client_request_token(token(2)).send().await.unwrap();
        let (status, body) = raw_call(&server.url(), "DescribeSecret", r#"{"SecretId":"r"}"#).await;
        assert_eq!(status, 200);
        assert!(body["ARN"].as_str().unwrap().starts_with("arn:aws:secretsmanager:us-east-1:"));
        server.shutdown().await;
    });
}

#[test]
fn malformed_requests_get_aws_errors_never_a_500() {
    runtime().block_on(async {
        let server = start(ServerConfig { max_body: 64 * 1024, ..ServerConfig::default() }).await;
        let url = server.url();
        let (s, b) = raw_call(&url, "DescribeSecret", "{not json").await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("SerializationException")));
        let (s, b) = raw_call(&url, "DescribeSecret", "[1,2]").await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("SerializationException")));
        let (s, b) = raw_call(&url, "DescribeSecret", r#"{"SecretId": 42}"#).await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("SerializationException")));
        let (s, b) = raw_call(&url, "CreateSecret", r#"{"Name":"b","ClientRequestToken":"00000000-0000-4000-8000-000000000001","SecretBinary":"%%%"}"#).await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("SerializationException")));
        let (s, b) = raw_call(&url, "GetSecretValue", "{}").await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("ValidationException")));
        let (s, b) = raw_call(&url, "TagResource", r#"{"SecretId":"x","Tags":[]}"#).await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("ResourceNotFoundException")));
        let (s, b) = raw_call(&url, "ReplicateSecretToRegions", r#"{"SecretId":"x","AddReplicaRegions":[]}"#).await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("UnknownOperationException")));
        let (s, b) = raw_call(&url, "NoSuchThing", "{}").await;
        assert_eq!((s, b["__type"].as_str()), (400, Some("UnknownOperationException")));
        let (s, body) = raw(&url, "POST", "/", &[("content-type", "application/x-amz-json-1.1")], b"{}").await;
        assert_eq!(s, 400);
        assert!(body.contains("UnknownOperationException"), "{body}");
        let (s, body) = raw(&url, "POST", "/", &[("x-amz-target", "kms.Decrypt")], b"{}").await;
        assert_eq!(s, 400);
        assert!(body.contains("UnknownOperationException"), "{body}");
        let big = format!(r#"{{"SecretId":"{}"}}"#, "x".repeat(100 * 1024));
        let (s, b) = raw_call(&url, "DescribeSecret", &big).await;
        assert_eq!((s, b["__type"].as_str()), (413, Some("RequestEntityTooLargeException")));
        // Unknown members are ignored, as AWS ignores them; known but unmodelled ones too.
        let (s, b) = raw_call(&url, "CreateSecret", r#"{"Name":"k","ClientRequestToken":"00000000-0000-4000-8000-000000000001","KmsKeyId":"alias/x","Tags":[{"Key":"a","Value":"b"}],"Whatever":1}"#).await;
        assert_eq!(s, 200, "{b}");
        // Empty body counts as {}.
        let (s, b) = raw_call(&url, "ListSecrets", "").await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = raw(&url, "GET", "/", &[], b"").await;
        assert_eq!(s, 400);
        server.shutdown().await;
    });
}

#[test]
fn list_secrets_filters_sorts_and_pages() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let c = client(&server.url(), "us-east-1");
        for (i, (name, desc)) in
            [("prod/a", "Primary DB"), ("prod/b", "cache"), ("dev/a", "primary test"), ("dev/b", "x")]
                .iter()
                .enumerate()
        {
            c.create_secret()
                .name(*name)
                .description(*desc)
                .client_request_token(token(i as u32))
                .secret_string("v")
                .send()
                .await
                .unwrap();
        }
        c.delete_secret().secret_id("dev/b").send().await.unwrap();
        let names = |l: &aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput| -> Vec<String> {
            l.secret_list().iter().filter_map(|e| e.name().map(str::to_string)).collect()
        };
        let all = c.list_secrets().send().await.unwrap();
        assert_eq!(names(&all), ["prod/a", "prod/b", "dev/a"]);
        let e = &all.secret_list()[0];
        assert!(arn_re("us-east-1", "prod/a", e.arn().unwrap()));
        assert_eq!(e.secret_versions_to_stages().map(|m| m.len()), Some(1));
        assert!(e.created_date().is_some());
        let with_deleted = c.list_secrets().include_planned_deletion(true).send().await.unwrap();
        assert_eq!(names(&with_deleted), ["prod/a", "prod/b", "dev/a", "dev/b"]);
        assert!(with_deleted.secret_list()[3].deleted_date().is_some());
        let f = |k: FilterNameStringType, v: &str| Filter::builder().key(k).values(v).build();
        let prod = c.list_secrets().filters(f(FilterNameStringType::Name, "prod/")).send().await.unwrap();
        assert_eq!(names(&prod), ["prod/a", "prod/b"]);
        let not_prod = c.list_secrets().filters(f(FilterNameStringType::Name, "!prod/")).send().await.unwrap();
        assert_eq!(names(&not_prod), ["dev/a"]);
        let primary = c.list_secrets().filters(f(FilterNameStringType::Description, "primary")).send().await.unwrap();
        assert_eq!(names(&primary), ["prod/a", "dev/a"]);
        let both = c
            .list_secrets()
            .filters(f(FilterNameStringType::Description, "primary"))
            .filters(f(FilterNameStringType::Name, "dev"))
            .send()
            .await
            .unwrap();
        assert_eq!(names(&both), ["dev/a"]);
        let word = c.list_secrets().filters(f(FilterNameStringType::All, "CACHE")).send().await.unwrap();
        assert_eq!(names(&word), ["prod/b"]);
        let tags = c.list_secrets().filters(f(FilterNameStringType::TagKey, "team")).send().await.unwrap();
        assert!(tags.secret_list().is_empty());
        let desc = c.list_secrets().sort_order(SortOrderType::Desc).send().await.unwrap();
        assert_eq!(names(&desc), ["dev/a", "prod/b", "prod/a"]);
        let p1 = c.list_secrets().max_results(2).send().await.unwrap();
        assert_eq!(names(&p1), ["prod/a", "prod/b"]);
        let p2 = c.list_secrets().max_results(2).next_token(p1.next_token().unwrap()).send().await.unwrap();
        assert_eq!(names(&p2), ["dev/a"]);
        assert!(p2.next_token().is_none());
        let e = c.list_secrets().next_token("garbage").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "InvalidNextTokenException");
        let e = c.list_secrets().max_results(0).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ValidationException");
        server.shutdown().await;
    });
}

#[test]
fn get_random_password_honours_its_parameters() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let c = client(&server.url(), "us-east-1");
        let p = c.get_random_password().send().await.unwrap().random_password().unwrap().to_string();
        assert_eq!(p.chars().count(), 32);
        let p = c
            .get_random_password()
            .password_length(64)
            .exclude_punctuation(true)
            .exclude_characters("abc")
            .send()
            .await
            .unwrap()
            .random_password()
            .unwrap()
            .to_string();
        assert_eq!(p.len(), 64);
        assert!(p.chars().all(|ch| ch.is_ascii_alphanumeric() && !"abc".contains(ch)));
        let e = c.get_random_password().password_length(5000).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ValidationException");
        server.shutdown().await;
    });
}

#[test]
fn health_and_reset() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let c = client(&server.url(), "us-east-1");
        c.create_secret().name("h").client_request_token(token(1)).secret_string("x").send().await.unwrap();
        let (s, body) = raw(&server.url(), "GET", "/_smconform/health", &[], b"").await;
        assert_eq!(s, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["secrets"]["us-east-1"], 1);
        let (s, _) = raw(&server.url(), "POST", "/_smconform/reset", &[], b"").await;
        assert_eq!(s, 200);
        let e = c.describe_secret().secret_id("h").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");
        server.shutdown().await;
    });
}

#[test]
fn many_concurrent_clients_are_served_one_request_at_a_time() {
    runtime().block_on(async {
        let server = start(ServerConfig::default()).await;
        let url = server.url();
        let c = client(&url, "us-east-1");
        c.create_secret().name("busy").client_request_token(token(0)).secret_string("v").send().await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..16u32 {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let c = client(&url, "us-east-1");
                for i in 0..20u32 {
                    let tok = token(1000 + t * 100 + i);
                    c.put_secret_value()
                        .secret_id("busy")
                        .client_request_token(tok)
                        .secret_string(format!("{t}-{i}"))
                        .send()
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                    c.get_secret_value().secret_id("busy").send().await.map_err(|e| format!("{e:?}"))?;
                }
                Ok::<(), String>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let versions = c
            .list_secret_version_ids()
            .secret_id("busy")
            .include_deprecated(true)
            .max_results(100)
            .send()
            .await
            .unwrap();
        // 321 versions exist or were collected past 100; either way exactly one holds AWSCURRENT.
        let d = c.describe_secret().secret_id("busy").send().await.unwrap();
        let current =
            d.version_ids_to_stages().unwrap().values().filter(|s| s.iter().any(|l| l == "AWSCURRENT")).count();
        assert_eq!(current, 1);
        assert!(!versions.versions().is_empty());
        server.shutdown().await;
    });
}

#[test]
fn an_in_process_client_reaches_the_model_without_a_socket() {
    runtime().block_on(async {
        let service = sm_server::Service::new(&ServerConfig::default()).unwrap();
        let c = sm_server::in_process::client(&service, "ap-south-1");
        let created =
            c.create_secret().name("p").client_request_token(token(1)).secret_string("x").send().await.unwrap();
        assert!(arn_re("ap-south-1", "p", created.arn().unwrap()));
        assert_eq!(c.get_secret_value().secret_id("p").send().await.unwrap().secret_string(), Some("x"));
        let e = c.get_secret_value().secret_id("q").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ResourceNotFoundException");
        let e = c.tag_resource().secret_id("p").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "ValidationException", "Tags is required");
        let e = c.replicate_secret_to_regions().secret_id("p").send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "UnknownOperationException");
    });
}
