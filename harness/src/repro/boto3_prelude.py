import base64
import datetime
import ipaddress
import json
import os
import re
import secrets
import sys
from urllib.parse import urlsplit

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

ENDPOINT = os.environ.get("SMCONFORM_ENDPOINT") or "http://127.0.0.1:5000"
REGION = os.environ.get("AWS_REGION") or "us-east-1"
# Every secret name of this run starts with PREFIX, so runs never collide.
PREFIX = "repro-%s-" % secrets.token_hex(4)
ANY = "<any>"

CREATED = []  # physical names of the secrets this run tried to create
DIFFERING = []  # steps whose answer differs from AWS's
CHECKED = []  # steps that have an expected outcome

# Answers may hold any text: printing them must not fail on a console that cannot show it.
if hasattr(sys.stdout, "reconfigure"):
    sys.stdout.reconfigure(errors="backslashreplace")


def is_loopback(url):
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def make_client():
    config = botocore.config.Config(
        # No retries: a retried write would hide what the target did with the first attempt.
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=3,
        read_timeout=30,
        # Send every request as written, even one the service is expected to refuse.
        parameter_validation=False,
    )
    credentials = {}
    if is_loopback(ENDPOINT):
        # An emulator on this machine: test credentials, never real ones.
        credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(
        "secretsmanager", endpoint_url=ENDPOINT, region_name=REGION, config=config, **credentials
    )


client = make_client()


# --- Names: physical (prefixed) on the target, logical in the trace -----------------------------

SECRET_ARN = re.compile(
    r"arn:[^:\s]*:secretsmanager:[^:\s]*:[^:\s]*:secret:" + re.escape(PREFIX) + r"([A-Za-z0-9/_+=.@-]*)"
)


def _logical_arn(match):
    name = match.group(1)
    dots = len(name) - len(name.rstrip("."))  # a trailing "." ends a sentence, not a name
    name = name[: len(name) - dots]
    if re.fullmatch(r".+-[A-Za-z0-9]{6}", name):
        name = name[:-7]  # AWS's random ARN suffix
    return "arn:aws:secretsmanager:<region>:<account>:secret:" + name + "." * dots


def logical(value):
    """Maps this run's names and ARNs back to the trace's logical names and ARNs."""
    if isinstance(value, str):
        return SECRET_ARN.sub(_logical_arn, value).replace(PREFIX, "")
    if isinstance(value, list):
        return [logical(v) for v in value]
    if isinstance(value, dict):
        return {k: logical(v) for k, v in value.items()}
    return value


def as_json(value, dates):
    """The answer as JSON: blobs as base64 (as on the wire), dates as epoch seconds ("epoch",
    as the harness compares them) or as ISO 8601 text ("iso", for reading)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp() if dates == "epoch" else value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list):
        return [as_json(v, dates) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v, dates) for k, v in value.items()}
    return value


# --- Sending ------------------------------------------------------------------------------------


class Fault(Exception):
    """The target failed rather than answered: "connection", "timeout", "throttled" or "server
    error" (HTTP 5xx, or an error without a code)."""

    def __init__(self, kind, detail):
        super().__init__("%s: %s" % (kind, detail))
        self.kind = kind
        self.detail = " ".join(str(detail).split())[:300]


class Stop(Exception):
    """A checked step failed with a server error: later steps would start from an unknown state."""


THROTTLING = {
{{THROTTLING_LINES}}
}
SERVER_FAILURES = {{SERVER_FAILURES}}


def list_all_versions(kwargs):
    """ListSecretVersionIds following NextToken: one answer holding every version."""
    pages, token = [], None
    while True:
        page = client.list_secret_version_ids(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(page)
        following = page.get("NextToken") or None
        if following is None:
            break
        if following == token:
            raise Fault("server error", "ListSecretVersionIds returned the same NextToken twice")
        if len(pages) >= 1000:
            raise Fault("server error", "ListSecretVersionIds did not finish within 1000 pages")
        token = following
    answer = {}
    for key in ("ARN", "Name"):
        found = [p[key] for p in pages if p.get(key) is not None]
        if found:
            answer[key] = found[0]
    if any("Versions" in p for p in pages):
        answer["Versions"] = [v for p in pages for v in p.get("Versions") or []]
    return answer


def send(method, kwargs):
    """Sends one request: {"ok": response} or {"error": {"code": ..., "message": ...}}."""
    try:
        if method == "list_secret_version_ids":
            return {"ok": list_all_versions(kwargs)}
        response = getattr(client, method)(**kwargs)
    except ClientError as e:
        error = e.response.get("Error") or {}
        code = error.get("Code") or ""
        message = error.get("Message") or ""
        status = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        detail = "HTTP %s %s: %s" % (status, code or "(no error code)", message)
        if code in THROTTLING or status == 429:
            raise Fault("throttled", detail) from None
        if code in SERVER_FAILURES or (status or 0) >= 500 or not code:
            raise Fault("server error", detail) from None
        return {"error": {"code": code, "message": message}}
    except BotoCoreError as e:
        kind = "timeout" if "Timeout" in type(e).__name__ else "connection"
        raise Fault(kind, "%s: %s" % (type(e).__name__, e)) from None
    response.pop("ResponseMetadata", None)
    return {"ok": response}


# --- Checking (the rules of smconform's matcher) --------------------------------------------------


def show(value):
    if value is None:
        return "absent"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def mismatch(path, want, got):
    return "%s: expected %s, got %s" % (path, show(want), show(got))


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def same(a, b):
    """JSON equality (a boolean is not a number)."""
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def string_set(values):
    return {v if isinstance(v, str) else json.dumps(v) for v in values}


def fields(path, want, got):
    """Subset match: every member of `want` must match in `got`."""
    if not isinstance(want, dict):
        return value(path, want, got)
    if not isinstance(got, dict):
        return mismatch(path, want, got)
    for key, w in want.items():
        difference = value(key if not path else path + "." + key, w, got.get(key))
        if difference:
            return difference
    return None


def value(path, want, got):
    key = path.rsplit(".", 1)[-1]
    if want is None:  # null: must be absent
        return None if got is None else mismatch(path, want, got)
    if got is None:
        return mismatch(path, want, got)
    if want == ANY:  # "<any>": must be present
        return None
    if isinstance(want, list) and isinstance(got, list):
        if key in ("VersionStages", "KmsKeyIds"):
            return None if string_set(want) == string_set(got) else mismatch(path, want, got)
        if key == "Versions":
            return versions(path, want, got)
    if isinstance(want, dict):
        if key == "VersionIdsToStages" and isinstance(got, dict):
            return map_of_sets(path, want, got)
        return fields(path, want, got)
    return None if same(want, got) else mismatch(path, want, got)


def version_id(v):
    vid = v.get("VersionId") if isinstance(v, dict) else None
    return vid if isinstance(vid, str) else None


def versions(path, want, got):
    """Versions: exactly the listed VersionIds, each entry a subset match."""
    want_ids = {version_id(w) for w in want} - {None}
    got_ids = {version_id(g) for g in got} - {None}
    for extra in sorted(got_ids - want_ids):
        entry = next(g for g in got if version_id(g) == extra)
        return "%s[%s]: expected absent, got %s" % (path, extra, show(entry))
    for missing in sorted(want_ids - got_ids):
        entry = next(w for w in want if version_id(w) == missing)
        return "%s[%s]: expected %s, got absent" % (path, missing, show(entry))
    for w in want:
        vid = version_id(w) or ""
        entry = next((g for g in got if version_id(g) == vid), None)
        difference = fields("%s[%s]" % (path, vid), w, entry)
        if difference:
            return difference
    return None


def map_of_sets(path, want, got):
    """VersionIdsToStages: the same version ids, each with the same set of labels."""
    def as_sets(m):
        return {k: string_set(v) if isinstance(v, list) else set() for k, v in m.items()}

    def labels(s):
        return "absent" if s is None else show(sorted(s))

    want, got = as_sets(want), as_sets(got)
    for vid in sorted(set(want) | set(got)):
        if want.get(vid) != got.get(vid):
            return "%s[%s]: expected %s, got %s" % (path, vid, labels(want.get(vid)), labels(got.get(vid)))
    return None


def check(expect, answer):
    """None when `answer` is what AWS answers, else what differs."""
    if "ok" in expect:
        if "ok" not in answer:
            return "expected success, got error %s" % answer["error"]["code"]
        return fields("", expect["ok"], answer["ok"])
    want, got = expect["error"], answer.get("error")
    if got is None:
        return "expected error %s, got success" % want["code"]
    if got["code"] != want["code"]:
        return "error code: expected %s, got %s" % (want["code"], got["code"])
    if "message" in want and got["message"] != want["message"]:
        return "error message: expected %s, got %s" % (json.dumps(want["message"]), json.dumps(got["message"]))
    return None


# --- Steps ----------------------------------------------------------------------------------------


def step(n, method, kwargs, expect=None):
    """Sends step n, prints the answer and, when AWS's answer is known, the verdict."""
    print("--- step %d: %s" % (n, method))
    if method == "create_secret" and "Name" in kwargs:
        CREATED.append(kwargs["Name"])
    try:
        answer = send(method, kwargs)
    except Fault as fault:
        if expect is not None and fault.kind == "server error":
            # AWS answers; a server error in its place is a difference (and ends the run).
            CHECKED.append(n)
            DIFFERING.append(n)
            wanted = "success" if "ok" in expect else "error " + expect["error"]["code"]
            print("step %d: DIFFERS from AWS: expected %s, got server error fault (%s)" % (n, wanted, fault.detail))
            raise Stop() from None
        print("step %d: FAULT (the target failed instead of answering): %s" % (n, fault))
        raise
    print(json.dumps(logical(as_json(answer, "iso")), indent=2, ensure_ascii=False))
    if expect is None:
        return
    CHECKED.append(n)
    difference = check(expect, logical(as_json(answer, "epoch")))
    if difference is None:
        print("step %d: as AWS" % n)
    else:
        DIFFERING.append(n)
        print("step %d: DIFFERS from AWS: %s" % (n, difference))


def cleanup():
    """Force-deletes every secret this run created."""
    for name in dict.fromkeys(CREATED):
        try:
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") != "ResourceNotFoundException":
                print("cleanup: could not delete %s: %s" % (name, e), file=sys.stderr)
        except BotoCoreError as e:
            print("cleanup: could not delete %s: %s" % (name, e), file=sys.stderr)