//! SDK outputs to wire-shaped JSON.

use super::*;

/// A JSON object under construction; every setter skips absent values.
#[derive(Default)]
struct Obj(Map<String, Value>);

impl Obj {
    fn put(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v);
        }
        self
    }
    fn str(self, key: &str, value: Option<&str>) -> Self {
        self.put(key, value.map(|s| Value::String(s.to_string())))
    }
    fn bool(self, key: &str, value: Option<bool>) -> Self {
        self.put(key, value.map(Value::Bool))
    }
    fn int(self, key: &str, value: Option<i64>) -> Self {
        self.put(key, value.map(Value::from))
    }
    fn date(self, key: &str, value: Option<&DateTime>) -> Self {
        self.put(key, value.map(date))
    }
    /// A list of strings, present only when the SDK saw the member (an empty list stays).
    fn strings(self, key: &str, value: Option<&Vec<String>>) -> Self {
        self.put(key, value.map(|v| strings(v)))
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn date(d: &DateTime) -> Value {
    Value::from(d.as_secs_f64())
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

fn replication_status(list: Option<&Vec<sdk::ReplicationStatusType>>) -> Option<Value> {
    list.map(|l| {
        l.iter()
            .map(|r| {
                Obj::default()
                    .str("Region", r.region.as_deref())
                    .str("KmsKeyId", r.kms_key_id.as_deref())
                    .str("Status", r.status.as_ref().map(|s| s.as_str()))
                    .str("StatusMessage", r.status_message.as_deref())
                    .date("LastAccessedDate", r.last_accessed_date.as_ref())
                    .done()
            })
            .collect()
    })
}

pub(super) fn create_secret(o: &operation::create_secret::CreateSecretOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .put("ReplicationStatus", replication_status(o.replication_status.as_ref()))
        .done()
}

pub(super) fn put_secret_value(o: &operation::put_secret_value::PutSecretValueOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .strings("VersionStages", o.version_stages.as_ref())
        .done()
}

pub(super) fn update_secret(o: &operation::update_secret::UpdateSecretOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .done()
}

pub(super) fn update_secret_version_stage(
    o: &operation::update_secret_version_stage::UpdateSecretVersionStageOutput,
) -> Value {
    Obj::default().str("ARN", o.arn.as_deref()).str("Name", o.name.as_deref()).done()
}

pub(super) fn get_secret_value(o: &operation::get_secret_value::GetSecretValueOutput) -> Value {
    let binary =
        o.secret_binary.as_ref().map(|b| Value::String(base64::engine::general_purpose::STANDARD.encode(b.as_ref())));
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .put("SecretBinary", binary)
        .str("SecretString", o.secret_string.as_deref())
        .strings("VersionStages", o.version_stages.as_ref())
        .date("CreatedDate", o.created_date.as_ref())
        .done()
}

pub(super) fn describe_secret(o: &operation::describe_secret::DescribeSecretOutput) -> Value {
    let rules = o.rotation_rules.as_ref().map(|r| {
        Obj::default()
            .int("AutomaticallyAfterDays", r.automatically_after_days)
            .str("Duration", r.duration.as_deref())
            .str("ScheduleExpression", r.schedule_expression.as_deref())
            .done()
    });
    let external = o.external_secret_rotation_metadata.as_ref().map(|items| {
        items
            .iter()
            .map(|i| Obj::default().str("Key", i.key.as_deref()).str("Value", i.value.as_deref()).done())
            .collect()
    });
    let tags = o.tags.as_ref().map(|tags| {
        tags.iter()
            .map(|t| Obj::default().str("Key", t.key.as_deref()).str("Value", t.value.as_deref()).done())
            .collect()
    });
    let stages = o
        .version_ids_to_stages
        .as_ref()
        .map(|m| Value::Object(m.iter().map(|(id, labels)| (id.clone(), strings(labels))).collect()));
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("Type", o.r#type.as_deref())
        .str("Description", o.description.as_deref())
        .str("KmsKeyId", o.kms_key_id.as_deref())
        .bool("RotationEnabled", o.rotation_enabled)
        .str("RotationLambdaARN", o.rotation_lambda_arn.as_deref())
        .put("RotationRules", rules)
        .put("ExternalSecretRotationMetadata", external)
        .str("ExternalSecretRotationRoleArn", o.external_secret_rotation_role_arn.as_deref())
        .date("LastRotatedDate", o.last_rotated_date.as_ref())
        .date("LastChangedDate", o.last_changed_date.as_ref())
        .date("LastAccessedDate", o.last_accessed_date.as_ref())
        .date("DeletedDate", o.deleted_date.as_ref())
        .date("NextRotationDate", o.next_rotation_date.as_ref())
        .put("Tags", tags)
        .put("VersionIdsToStages", stages)
        .str("OwningService", o.owning_service.as_deref())
        .date("CreatedDate", o.created_date.as_ref())
        .str("PrimaryRegion", o.primary_region.as_deref())
        .put("ReplicationStatus", replication_status(o.replication_status.as_ref()))
        .done()
}

/// All pages of one ListSecretVersionIds as one answer (ARN and Name from the first page
/// that has them; `Versions` present when any page had the member; no `NextToken`).
pub(super) fn list_secret_version_ids(
    pages: &[operation::list_secret_version_ids::ListSecretVersionIdsOutput],
) -> Value {
    let arn = pages.iter().find_map(|p| p.arn.as_deref());
    let name = pages.iter().find_map(|p| p.name.as_deref());
    let versions = pages.iter().any(|p| p.versions.is_some()).then(|| {
        pages
            .iter()
            .flat_map(|p| p.versions.iter().flatten())
            .map(|v| {
                Obj::default()
                    .str("VersionId", v.version_id.as_deref())
                    .strings("VersionStages", v.version_stages.as_ref())
                    .date("LastAccessedDate", v.last_accessed_date.as_ref())
                    .date("CreatedDate", v.created_date.as_ref())
                    .strings("KmsKeyIds", v.kms_key_ids.as_ref())
                    .done()
            })
            .collect()
    });
    Obj::default().str("ARN", arn).str("Name", name).put("Versions", versions).done()
}

pub(super) fn rotate_secret(o: &operation::rotate_secret::RotateSecretOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .done()
}

pub(super) fn cancel_rotate_secret(o: &operation::cancel_rotate_secret::CancelRotateSecretOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .str("VersionId", o.version_id.as_deref())
        .done()
}

pub(super) fn delete_secret(o: &operation::delete_secret::DeleteSecretOutput) -> Value {
    Obj::default()
        .str("ARN", o.arn.as_deref())
        .str("Name", o.name.as_deref())
        .date("DeletionDate", o.deletion_date.as_ref())
        .done()
}

pub(super) fn restore_secret(o: &operation::restore_secret::RestoreSecretOutput) -> Value {
    Obj::default().str("ARN", o.arn.as_deref()).str("Name", o.name.as_deref()).done()
}
