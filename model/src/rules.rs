//! The rule catalogue: every behaviour the model encodes, with the section of
//! `docs/spec/semantics.md` it comes from and that section's confidence tag. Each outcome the
//! model produces names the rules that decided it, so a divergence report can say which rule a
//! target broke. A rule marked [`Confidence::Inferred`] or [`Confidence::Unknown`] encodes the
//! documented (or most plausible) reading; to change such a rule, find its constant here and the
//! one place in `ops/` that cites it.

use std::fmt;

/// Evidence tags of `semantics.md` §0.1 and §13.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// [S] stated by AWS documentation or the service model.
    Stated,
    /// [V] verified against real AWS by a third party.
    Verified,
    /// (R) recorded directly from AWS (semantics.md §13).
    Recorded,
    /// [I] inferred from the facts around it.
    Inferred,
    /// [U] unknown: the model encodes the documented or most plausible reading.
    Unknown,
}

impl Confidence {
    pub fn tag(self) -> &'static str {
        match self {
            Confidence::Stated => "S",
            Confidence::Verified => "V",
            Confidence::Recorded => "R",
            Confidence::Inferred => "I",
            Confidence::Unknown => "U",
        }
    }
    /// Whether the rule is backed by AWS's own words or recordings.
    pub fn is_firm(self) -> bool {
        matches!(self, Confidence::Stated | Confidence::Verified | Confidence::Recorded)
    }
}

/// One rule of the model.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    /// A stable short id, used in reports and the divergence catalogue.
    pub id: &'static str,
    /// The section of `semantics.md` (and message-catalogue number, where one applies).
    pub section: &'static str,
    pub confidence: Confidence,
    /// What the rule says, in one sentence.
    pub summary: &'static str,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} [{}])", self.id, self.section, self.confidence.tag())
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident = ($id:literal, $section:literal, $conf:ident, $summary:literal); )*) => {
        $( $(#[$doc])* pub static $name: Rule = Rule { id: $id, section: $section, confidence: Confidence::$conf, summary: $summary }; )*
        /// Every rule, in catalogue order.
        pub static ALL: &[&Rule] = &[ $( &$name ),* ];
    };
}

rules! {
    // ---- input validation -------------------------------------------------------------------
    /// Secret names (CreateSecret `Name`, and `SecretId` on every operation unless it is an ARN)
    /// use ASCII letters, digits and `/_+=.@-`; others (and an empty SecretId) get
    /// ValidationException with the recorded text, before the secret is looked up. [V] LS-SNAP
    /// `test_invalid_secret_name` (every operation), GH terraform-provider-aws#39406.
    NAME_PATTERN = ("input.name-pattern", "§2, §14.2", Verified, "an invalid secret name is a ValidationException, on every operation");
    /// CreateSecret `Name` is 1..512 characters [S MODEL]: the validation layer's
    /// ValidationException (§14.1) [I].
    NAME_LENGTH = ("input.name-length", "§2, §14.1", Inferred, "Name is 1..512 characters");
    /// Raw requests without a ClientRequestToken are refused before the existence check; RotateSecret
    /// uses InvalidParameterException, the others InvalidRequestException. [V] M7, §13.19. The model
    /// applies it to UpdateSecret only when a new value is sent [I].
    TOKEN_REQUIRED = ("input.token-required", "§3.3 M7, §13.19", Verified, "a missing ClientRequestToken is refused first");
    /// ClientRequestToken is 32..64 characters [S MODEL]; the validation layer answers
    /// ValidationException with its standard text (§14.1; code [V] for other members, text [I]).
    TOKEN_LENGTH = ("input.token-length", "§2, §14.1", Inferred, "ClientRequestToken is 32..64 characters");
    /// SecretString and SecretBinary exclude each other [S]; the code is InvalidParameterException [I].
    VALUE_EXCLUSIVE = ("input.value-exclusive", "§5.2, §5.3", Inferred, "SecretString and SecretBinary are exclusive");
    /// PutSecretValue needs SecretString or SecretBinary [S]; code and text [U]
    /// (InvalidParameterException or InvalidRequestException accepted).
    VALUE_REQUIRED = ("input.value-required", "§5.3", Unknown, "PutSecretValue needs a value");
    /// Values are 1..65536 characters/bytes [S MODEL]; ValidationException whose text omits the
    /// sensitive value. [V] GH kubernetes-sigs/cluster-api-provider-aws#1531 (§14.1).
    VALUE_LENGTH = ("input.value-length", "§2, §14.1", Verified, "a secret value is 1..65536 long");
    /// Description is at most 2048 characters [S MODEL]; ValidationException (§14.1) [I].
    DESCRIPTION_LENGTH = ("input.description-length", "§2, §14.1", Inferred, "Description is at most 2048 characters");
    /// VersionStages lists 1..20 labels of 1..256 characters, VersionStage 1..256 [S MODEL];
    /// ValidationException (§14.1) [I], the text of list violations [U].
    STAGES_SHAPE = ("input.stages-shape", "§1.2, §2, §14.1", Inferred, "VersionStages holds 1..20 labels of 1..256 characters");
    /// VersionId parameters are 32..64 characters [S MODEL]; ValidationException with the standard
    /// text. [V] GH terraform-provider-aws#35827 (GetSecretValue versionId, 2024).
    VERSION_ID_LENGTH = ("input.version-id-length", "§2, §14.1", Verified, "VersionId parameters are 32..64 characters");

    // ---- existence and deletion -------------------------------------------------------------
    /// An unknown secret is ResourceNotFoundException M1. [V] LS-SNAP `test_secret_not_found`.
    SECRET_NOT_FOUND = ("secret.not-found", "§3.3 M1", Verified, "an unknown secret is ResourceNotFoundException");
    /// Reads and writes on a secret scheduled for deletion are InvalidRequestException [S]; the M9
    /// text is [V] for tags only and [I] for these operations, so only the code is compared.
    SECRET_DELETED = ("secret.deleted", "§8, §3.3 M9", Inferred, "a secret scheduled for deletion refuses reads and writes");
    /// DescribeSecret always shows CreatedDate and LastChangedDate, LastAccessedDate once a value
    /// was read, and omits members of features not used (KmsKeyId, Tags, replication). (R) LS-SNAP
    /// `test_update_secret_description`, `test_rotate_secret_with_lambda_success`.
    DESCRIBE_DATES = ("describe.dates", "§5.8, §13.26", Recorded, "DescribeSecret shows CreatedDate, LastChangedDate and, once read, LastAccessedDate");
    /// DescribeSecret works on a secret scheduled for deletion and shows DeletedDate. [V] LS-SNAP.
    DESCRIBE_DELETED = ("describe.deleted", "§5.8, §8", Verified, "DescribeSecret shows a deleted secret with DeletedDate");

    // ---- CreateSecret -----------------------------------------------------------------------
    /// Create with a value makes one version labelled AWSCURRENT whose id is the token; without a
    /// value there is no version and no VersionId. (R) §13.1.
    CREATE = ("create.versions", "§5.2, §13.1", Recorded, "CreateSecret makes one AWSCURRENT version, or none without a value");
    /// Creating an existing name with a token that is not one of its versions: M5. [V]
    CREATE_EXISTS = ("create.exists", "§3.3 M5, §4", Verified, "CreateSecret on an existing name is ResourceExistsException");
    /// Creating the name of a secret scheduled for deletion: M8. [V]
    CREATE_DELETED_NAME = ("create.deleted-name", "§3.3 M8", Verified, "CreateSecret on a name scheduled for deletion is InvalidRequestException");
    /// After a force delete AWS may behave as a staged deletion for a few seconds [V-ish LS
    /// comment], so re-creating the name may succeed or give M8: both are accepted.
    CREATE_AFTER_FORCE_DELETE = ("create.after-force-delete", "§5.12", Inferred, "a just force-deleted name may still be reserved");

    // ---- ClientRequestToken idempotency -----------------------------------------------------
    /// The same token with the same value is a no-op success with the same response. [V] §4.
    TOKEN_SAME_VALUE = ("token.same-value", "§4", Verified, "a repeated token with the same value is a no-op");
    /// The same token with a different value is ResourceExistsException M6. [V] §4.
    TOKEN_OTHER_VALUE = ("token.other-value", "§3.3 M6, §4", Verified, "a repeated token with another value is ResourceExistsException");
    /// A token naming the empty placeholder of a rotation fills it with the value. [S TPL, V] §4, §13.25.
    TOKEN_FILLS_PLACEHOLDER = ("token.fills-placeholder", "§4, §13.25", Verified, "a put with the pending placeholder's token stores the value there");

    // ---- label algebra ----------------------------------------------------------------------
    /// A staging label is on at most one version; attaching it elsewhere moves it. [S] §1.1, §5.1.
    LABEL_MOVES = ("label.moves", "§1.1, §5.1", Stated, "attaching a label removes it from its previous holder");
    /// When AWSCURRENT moves from U to X, AWSPREVIOUS leaves its holder and goes to U; the other
    /// labels of U stay. [S] §5.1.3, (R) §13.2, §13.6.
    PREVIOUS_FOLLOWS_CURRENT = ("label.previous-follows-current", "§5.1.3, §13.2, §13.6", Recorded, "AWSPREVIOUS goes to the version AWSCURRENT left; other labels stay");
    /// Attaching AWSCURRENT for the first time creates no AWSPREVIOUS. [S, I] §5.1.5.
    FIRST_CURRENT = ("label.first-current", "§5.1.5", Inferred, "the first AWSCURRENT creates no AWSPREVIOUS");
    /// Moving AWSCURRENT never removes AWSPENDING from the destination. [V] §5.1.6, (R) §13.6.
    PENDING_KEPT_ON_MOVE = ("label.pending-kept-on-move", "§5.1.6, §13.6", Verified, "moving AWSCURRENT leaves AWSPENDING where it is");
    /// At most 20 labels across all versions of a secret; more is LimitExceededException [S quota,
    /// I trigger, U text]. §1.3, §9.3.
    LABELS_PER_SECRET = ("label.limit-20", "§1.3, §9.3", Inferred, "a secret holds at most 20 staging labels");

    // ---- PutSecretValue / UpdateSecret ------------------------------------------------------
    /// PutSecretValue without VersionStages attaches AWSCURRENT. [S] §5.3.4, (R) §13.2.
    PUT_DEFAULT_CURRENT = ("put.default-current", "§5.3.4, §13.2", Recorded, "PutSecretValue without VersionStages makes the new version AWSCURRENT");
    /// The first version of a secret gets AWSCURRENT even when VersionStages omits it. [S] §5.3.4.
    PUT_FIRST_VERSION_CURRENT = ("put.first-version-current", "§5.3.4", Stated, "the first version always gets AWSCURRENT");
    /// PutSecretValue with VersionStages moves exactly those labels. (R) §13.4, §13.5.
    PUT_STAGES = ("put.stages", "§5.3.5, §13.4", Recorded, "PutSecretValue with VersionStages moves exactly those labels");
    /// A manual new version that becomes AWSCURRENT abandons a rotation in progress: AWSPENDING is
    /// removed from its holder. [S UG-CT] with (R/D) §13.3; what counts as "manual" is [I]: here, a
    /// new version that takes AWSCURRENT and does not itself take AWSPENDING.
    ROTATION_ABANDONED = ("put.rotation-abandoned", "§5.3.8, §13.3", Inferred, "a new AWSCURRENT version removes AWSPENDING");
    /// UpdateSecret with a value makes a new AWSCURRENT version. [S, R] §5.4.
    UPDATE_NEW_CURRENT = ("update.new-current", "§5.4", Recorded, "UpdateSecret with a value makes a new AWSCURRENT version");
    /// UpdateSecret without a value changes metadata only: no version, no VersionId. (R) §13.18.
    UPDATE_METADATA_ONLY = ("update.metadata-only", "§5.4, §13.18", Recorded, "UpdateSecret without a value creates no version");
    /// Near 100 versions PutSecretValue may hit the version quota (LimitExceededException); the
    /// threshold is [U], so from 100 versions on both outcomes are accepted. §5.3 quota.
    VERSION_QUOTA = ("put.version-quota", "§5.3", Unknown, "from 100 versions on, a new version may be refused with LimitExceededException");
    /// Deprecated versions older than 24 hours may be removed when a secret has more than 100
    /// versions; labelled or younger versions never are. [S] §1.5; which and when is [U].
    VERSION_GC = ("version.gc", "§1.5", Stated, "deprecated versions beyond 100 and older than 24h may vanish");

    // ---- UpdateSecretVersionStage -----------------------------------------------------------
    /// Moving a label held by another version needs RemoveFromVersionId naming the holder;
    /// without it: M14 [V for AWSCURRENT, I for other labels].
    USVS_REMOVE_REQUIRED = ("usvs.remove-required", "§5.5.1, §3.3 M14", Verified, "moving a held label needs RemoveFromVersionId");
    /// RemoveFromVersionId must name the label's holder [S]; code InvalidParameterException [I], text [U].
    USVS_REMOVE_MISMATCH = ("usvs.remove-mismatch", "§5.5.1, §5.5.4", Stated, "RemoveFromVersionId must be the label's holder");
    /// With both ids right the label moves (and AWSPREVIOUS follows AWSCURRENT). (R) §13.6.
    USVS_MOVE = ("usvs.move", "§5.5, §13.6", Recorded, "UpdateSecretVersionStage moves the label");
    /// A label held nowhere attaches without RemoveFromVersionId. [S] §5.5.2.
    USVS_ATTACH_UNHELD = ("usvs.attach-unheld", "§5.5.2", Stated, "an unheld label attaches without RemoveFromVersionId");
    /// Moving a label to the version that already holds it is a no-op success. [U] §5.5.3.
    USVS_SAME_VERSION = ("usvs.same-version", "§5.5.3", Unknown, "moving a label onto its holder is a no-op");
    /// RemoveFromVersionId alone removes the label from that version. (R) §13.7.
    USVS_REMOVE = ("usvs.remove", "§5.5.4, §13.7", Recorded, "RemoveFromVersionId alone removes the label");
    /// AWSCURRENT cannot be removed without moving it [S UG-CONCEPT]; code InvalidParameterException [U].
    USVS_CURRENT_NOT_REMOVABLE = ("usvs.current-not-removable", "§5.5.4", Unknown, "AWSCURRENT cannot just be removed");
    /// Neither MoveToVersionId nor RemoveFromVersionId: InvalidParameterException [U] §5.5.5.
    USVS_NO_VERSION = ("usvs.no-version", "§5.5.5", Unknown, "UpdateSecretVersionStage needs a version id");
    /// A MoveToVersionId that is not a version of the secret is an error; code [U]
    /// (InvalidParameterException or ResourceNotFoundException accepted). §5.5.6.
    USVS_UNKNOWN_VERSION = ("usvs.unknown-version", "§5.5.6", Unknown, "MoveToVersionId must be a version of the secret");

    // ---- reads ------------------------------------------------------------------------------
    /// GetSecretValue reads the version named by VersionId and/or VersionStage, AWSCURRENT by
    /// default, and reports every label of the version read. (R) §13.9.
    GET_DEFAULT_CURRENT = ("get.default-current", "§5.6, §13.9", Recorded, "GetSecretValue reads the named version, AWSCURRENT by default");
    /// A staging label that no version holds (or a secret with no value): M2. [V]
    GET_NO_STAGE = ("get.no-stage", "§3.3 M2", Verified, "an unheld VersionStage is ResourceNotFoundException");
    /// An unknown VersionId: M3. [V]
    GET_NO_VERSION = ("get.no-version", "§3.3 M3", Verified, "an unknown VersionId is ResourceNotFoundException");
    /// VersionId and VersionStage that do not name the same version: M4. [V]
    GET_MISMATCH = ("get.mismatch", "§3.3 M4", Verified, "VersionId and VersionStage must agree");
    /// A version without a value (rotation placeholder) is ResourceNotFoundException; by stage the
    /// text is M2, by id it is [U]. [V] §5.6.
    GET_PLACEHOLDER = ("get.placeholder", "§5.6, §1.6", Verified, "the empty pending version has no value to read");
    /// A deprecated version stays readable by VersionId until removed. [I] §5.6.
    GET_DEPRECATED = ("get.deprecated", "§5.6", Inferred, "a deprecated version is still readable by id");
    /// DescribeSecret lists every labelled version (placeholders too) in VersionIdsToStages,
    /// omits deprecated ones, and omits RotationEnabled until rotation was configured. [S, V] §5.8, §13.17.
    DESCRIBE = ("describe.fields", "§5.8, §13.17", Verified, "DescribeSecret shows labelled versions and rotation settings");
    /// ListSecretVersionIds lists versions with a value; deprecated ones only with
    /// IncludeDeprecated, and then without VersionStages. [S, V] §5.9, (R) §13.10.
    /// MaxResults is 1..100 and NextToken 1..4096 [S MODEL]; with MaxResults the versions come in
    /// pages of that size with a NextToken while more remain; the order within pages is [U] (the
    /// model uses creation order).
    LIST_PAGE = ("list.pages", "§5.9, §14.1", Unknown, "ListSecretVersionIds pages by MaxResults with a NextToken");
    LIST_VERSIONS = ("list.versions", "§5.9, §13.10", Verified, "ListSecretVersionIds lists valued versions; deprecated only on request");
    /// ListSecretVersionIds on a secret scheduled for deletion is [U]: success or
    /// InvalidRequestException are both accepted. §5.9, §8.
    LIST_DELETED = ("list.deleted", "§5.9, §8", Unknown, "ListSecretVersionIds on a deleted secret");

    // ---- RotateSecret -----------------------------------------------------------------------
    /// Both AutomaticallyAfterDays and ScheduleExpression: M13. [V]
    ROTATE_RULES_EXCLUSIVE = ("rotate.rules-exclusive", "§7.1, §3.3 M13", Verified, "AutomaticallyAfterDays and ScheduleExpression exclude each other");
    /// AutomaticallyAfterDays is 1..1000 [S MODEL]: the validation layer's ValidationException (§14.1) [I].
    ROTATE_DAYS_RANGE = ("rotate.days-range", "§7.1, §14.1", Inferred, "AutomaticallyAfterDays is 1..1000");
    /// ScheduleExpression is rate() or a six-field cron() with minutes 0, year `*` and at least four
    /// hours between rotations [S UG-SCHED]; rejects are InvalidParameterException [I], texts [U].
    ROTATE_SCHEDULE = ("rotate.schedule-expression", "§7.2, §7.3", Inferred, "ScheduleExpression follows the rate()/cron() grammar");
    /// Duration is `<hours>h`, at least 1h, and fits in the interval/day [S UG-SCHED]; code [I], text [U].
    ROTATE_DURATION = ("rotate.duration", "§7.1, §7.3", Inferred, "Duration is 1h or more and fits the schedule");
    /// No Lambda ARN given and none stored: M10. [V] (R) §13.15.
    ROTATE_NO_LAMBDA = ("rotate.no-lambda", "§5.10.4, §3.3 M10, §13.15", Recorded, "RotateSecret needs a rotation function");
    /// A function Secrets Manager cannot invoke: M11, and nothing is saved. (R) §13.16.
    ROTATE_NOT_INVOCABLE = ("rotate.not-invocable", "§5.10.5, §3.3 M11, §13.16", Recorded, "an uninvocable function is AccessDeniedException and saves nothing");
    /// AWSPENDING on a version other than AWSCURRENT's refuses every RotateSecret: M12.
    /// [S condition, V text] §5.10.6. Whether RotateImmediately=false is refused too is [U]; the
    /// model refuses it.
    ROTATE_STALLED = ("rotate.stalled-pending", "§5.10.6, §3.3 M12", Verified, "a stalled AWSPENDING refuses RotateSecret");
    /// An accepted RotateSecret saves the configuration and enables rotation. [S, V] §5.10 effect 1.
    ROTATE_SAVES_CONFIG = ("rotate.saves-config", "§5.10 effect 1, §13.14", Verified, "RotateSecret saves its configuration and enables rotation");
    /// The service first creates an empty version whose id is the token, labelled AWSPENDING. [S, V] §5.10 effect 2, §6 R1.
    ROTATE_PLACEHOLDER = ("rotate.placeholder", "§5.10 effect 2, §6 R1", Verified, "rotation starts with an empty AWSPENDING version named by the token");
    /// The rotation function's steps act through the ordinary API (createSecret puts the value with
    /// AWSPENDING; finishSecret moves AWSCURRENT to the token). [S TPL] §6 R2-R5.
    ROTATE_STEPS = ("rotate.function-steps", "§6 R2-R5", Stated, "the rotation function works through PutSecretValue and UpdateSecretVersionStage");
    /// After a successful rotation AWSPENDING may or may not remain on the new current version;
    /// both end states are accepted. [S] §5.10 effect 6, §9.1.
    ROTATE_END_STATES = ("rotate.end-states", "§5.10 effect 6, §9.1", Stated, "after success AWSPENDING may stay on the new AWSCURRENT or be gone");
    /// A failed step leaves AWSPENDING where it got to (stalled); retries do not change that. [S] §5.10 effect 7, §6 F.
    ROTATE_FAILURE = ("rotate.failure-stalls", "§5.10 effect 7, §6 F", Stated, "a failed rotation leaves AWSPENDING stalled");
    /// RotateImmediately=false runs testSecret on a temporary AWSPENDING copy of the current value,
    /// then removes it. [S, V-flaky] §5.10; the test version's id (the token here) is [I].
    ROTATE_TEST_ONLY = ("rotate.test-only", "§5.10 RotateImmediately=false", Inferred, "RotateImmediately=false only tests the function");
    /// RotateSecret returns the token as VersionId. (R) §13.11.
    ROTATE_RESPONSE = ("rotate.response", "§13.11", Recorded, "RotateSecret returns the pending VersionId");
    /// The model completes a rotation before the next request. AWS rotates asynchronously (§13.24):
    /// against real AWS (`--target aws`) the endpoint target polls DescribeSecret after RotateSecret
    /// until the token's version holds AWSCURRENT without AWSPENDING, for up to 2 minutes; a
    /// rotation still unsettled then is taken as failed. [I]
    ROTATE_SYNCHRONOUS = ("rotate.settled-before-next-call", "§13.24", Inferred, "rotation is observed after it settles");

    // ---- CancelRotateSecret -----------------------------------------------------------------
    /// CancelRotateSecret sets RotationEnabled=false, keeps the function and rules, and leaves
    /// AWSPENDING alone [S]; its VersionId names the pending version when one exists [I]. §5.11.
    CANCEL = ("cancel.effect", "§5.11", Stated, "CancelRotateSecret disables rotation and leaves AWSPENDING");
    /// CancelRotateSecret on a secret never configured for rotation is [U]: success or
    /// InvalidRequestException are both accepted. §5.11.
    CANCEL_NEVER_CONFIGURED = ("cancel.never-configured", "§5.11", Unknown, "CancelRotateSecret without a rotation configuration");

    // ---- DeleteSecret / RestoreSecret -------------------------------------------------------
    /// RecoveryWindowInDays is 7..30 [S]: InvalidParameterException with this text, checked before
    /// the combination with ForceDeleteWithoutRecovery [V] GH getmoto/moto#6461 (re-run on AWS).
    DELETE_WINDOW = ("delete.window-range", "§5.12, §14.3", Verified, "RecoveryWindowInDays is 7..30, checked before the combination with ForceDeleteWithoutRecovery");
    /// ForceDeleteWithoutRecovery excludes RecoveryWindowInDays [S]; code InvalidParameterException [I].
    DELETE_FORCE_AND_WINDOW = ("delete.force-excludes-window", "§5.12", Inferred, "ForceDeleteWithoutRecovery excludes RecoveryWindowInDays");
    /// DeleteSecret schedules deletion: the secret keeps its versions and labels. [S, R] §5.12, §13.20.
    DELETE_SCHEDULES = ("delete.schedules", "§5.12, §13.20", Recorded, "DeleteSecret schedules deletion and keeps the versions");
    /// A forced delete removes the secret at once, and succeeds even for a missing or deleted one. [S, V] §5.12.
    DELETE_FORCE = ("delete.force", "§5.12", Verified, "a forced delete always succeeds and removes the secret");
    /// A second non-forced delete is [U]: success or InvalidRequestException are both accepted. §5.12.
    DELETE_TWICE = ("delete.twice", "§5.12", Unknown, "DeleteSecret on a secret already scheduled for deletion");
    /// RestoreSecret cancels a scheduled deletion; versions and labels come back unchanged. [S, V, I] §5.13.
    RESTORE = ("restore.effect", "§5.13", Verified, "RestoreSecret cancels the deletion");
    /// RestoreSecret on a secret not scheduled for deletion is [U]: success or
    /// InvalidRequestException are both accepted. §5.13.
    RESTORE_NOT_DELETED = ("restore.not-deleted", "§5.13", Unknown, "RestoreSecret on a live secret");
}

/// Looks a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}
