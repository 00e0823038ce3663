"""A rotation function for a password kept in a (fake) database, following the four steps of
AWS's rotation template: createSecret, setSecret, testSecret, finishSecret.

The "database" is a JSON file, ``{"password": ..., "locked": false}``, named by
``ROTATION_DATABASE``: setSecret changes its password (and fails while ``locked`` is true, like
a database refusing the change), testSecret logs in with the pending password. Secrets Manager is
reached at ``AWS_ENDPOINT_URL`` (boto3 reads it), e.g. ``smconform serve``.
"""

import json
import logging
import os

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    arn = event["SecretId"]
    token = event["ClientRequestToken"]
    step = event["Step"]
    service = boto3.client("secretsmanager")

    metadata = service.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s.", token, arn)
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))

    if step == "createSecret":
        create_secret(service, arn, token)
    elif step == "setSecret":
        set_secret(service, arn, token)
    elif step == "testSecret":
        test_secret(service, arn, token)
    elif step == "finishSecret":
        finish_secret(service, arn, token)
    else:
        raise ValueError("Invalid step parameter")


def create_secret(service, arn, token):
    current = json.loads(service.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    try:
        service.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: pending version already exists for %s.", arn)
    except service.exceptions.ResourceNotFoundException:
        password = service.get_random_password(ExcludeCharacters="/@\"'\\")["RandomPassword"]
        current["password"] = password
        service.put_secret_value(
            SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=["AWSPENDING"]
        )
        logger.info("createSecret: put a new pending version %s for %s.", token, arn)


def _database():
    with open(os.environ["ROTATION_DATABASE"]) as f:
        return json.load(f)


def _pending(service, arn, token):
    return json.loads(service.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])


def set_secret(service, arn, token):
    db = _database()
    if db.get("locked"):
        raise RuntimeError("the database refused the password change (locked)")
    db["password"] = _pending(service, arn, token)["password"]
    with open(os.environ["ROTATION_DATABASE"], "w") as f:
        json.dump(db, f)


def test_secret(service, arn, token):
    if _database()["password"] != _pending(service, arn, token)["password"]:
        raise RuntimeError("cannot log in with the pending password")


def finish_secret(service, arn, token):
    metadata = service.describe_secret(SecretId=arn)
    current = None
    for version, stages in metadata["VersionIdsToStages"].items():
        if "AWSCURRENT" in stages:
            if version == token:
                return
            current = version
            break
    service.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )
