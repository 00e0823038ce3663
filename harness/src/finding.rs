//! What a finding is, as types: a [`DivergenceId`] names one symptom (the operation, what differed,
//! and the rule behind the model's expectation); a [`Cause`] names the fact about the target that
//! explains it (the rule the target breaks and how: [`Deviation`]). One cause usually explains
//! several symptoms across operations and error codes; reports, catalogues and baselines group by
//! cause. Both have a stable text form (`Display` and `FromStr` are inverse), used in files.

use sm_model::rules::{self, Rule};
use sm_model::Request;
use std::fmt;
use std::str::FromStr;

/// A text that is not a valid identity or cause.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {text:?}")]
pub struct ParseError {
    pub what: &'static str,
    pub text: String,
}

fn parse_error(what: &'static str, text: &str) -> ParseError {
    ParseError { what, text: text.to_string() }
}

fn rule(id: &str, text: &str) -> Result<&'static Rule, ParseError> {
    rules::by_id(id).ok_or_else(|| parse_error("unknown rule", text))
}

/// One divergence's identity: `PutSecretValue code InvalidRequestException [input.value-exclusive]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DivergenceId {
    /// The operation whose answer differed (one of [`Request::OPERATIONS`]).
    pub operation: &'static str,
    /// What differed ([`crate::matcher::Mismatch::aspect`], version ids blanked).
    pub difference: String,
    /// The rule that decided the model's expectation.
    pub rule: &'static Rule,
}

impl fmt::Display for DivergenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} [{}]", self.operation, self.difference, self.rule.id)
    }
}

impl FromStr for DivergenceId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || parse_error("not a divergence identity (`<Operation> <difference> [<rule>]`)", s);
        let (head, tail) = s.rsplit_once(" [").ok_or_else(bad)?;
        let id = tail.strip_suffix(']').ok_or_else(bad)?;
        let (op, difference) = head.split_once(' ').ok_or_else(bad)?;
        let operation = Request::OPERATIONS
            .iter()
            .copied()
            .find(|o| *o == op)
            .ok_or_else(|| parse_error("unknown operation", s))?;
        if difference.is_empty() {
            return Err(bad());
        }
        Ok(DivergenceId { operation, difference: difference.to_string(), rule: rule(id, s)? })
    }
}

/// A text as a file-name part: ASCII letters and digits in lower case, every other run of
/// characters one `-` (`CreateSecret kind success [create.exists]` is
/// `createsecret-kind-success-create-exists`).
pub fn slug(text: &str) -> String {
    let s: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// How a target deviates from one rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Deviation {
    /// The target lets through what the rule refuses.
    NotEnforced,
    /// The target checks the rule late: after a refusal rule AWS checks after it (it answers that
    /// rule's error where AWS answers this one's). Which rule came first is a symptom, seen in each
    /// reproduction: a target that looks the secret up before validating the input checks each
    /// validation rule late, whether the look-up finds the secret missing, deleted or existing.
    CheckedLate,
    /// The target refuses where the rule does, with another error code (which one is a symptom:
    /// a target may answer a rule with different codes on different operations or states).
    OtherCode,
    /// The target refuses as the rule does, with the same code and another message.
    Message,
    /// The target refuses what the rule allows (which error it answers is a symptom).
    Refuses,
    /// The target's answer under the rule differs otherwise: a response member is missing,
    /// unexpected or has another value (which member, and how, is a symptom: a read usually shows
    /// an earlier write's different effect in several members).
    Effect,
    /// The target fails (a fault of this kind) where the rule decides the answer.
    Fault(String),
}

/// The fact about a target that explains one or more divergences.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cause {
    /// The rule the target breaks.
    pub rule: &'static Rule,
    pub deviation: Deviation,
}

impl Cause {
    /// A file-name form: `does-not-enforce-input-value-exclusive`.
    pub fn slug(&self) -> String {
        slug(&self.to_string())
    }

    /// The cause as a sentence about `target`, with the rule's section and confidence.
    pub fn sentence(&self, target: &str) -> String {
        format!("{target} {self} ({} [{}]: {})", self.rule.section, self.rule.confidence.tag(), self.rule.summary)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.rule.id;
        match &self.deviation {
            Deviation::NotEnforced => write!(f, "does not enforce {r}"),
            Deviation::CheckedLate => write!(f, "checks {r} late"),
            Deviation::OtherCode => write!(f, "answers another error code for {r}"),
            Deviation::Message => write!(f, "words the message of {r} differently"),
            Deviation::Refuses => write!(f, "refuses what {r} allows"),
            Deviation::Effect => write!(f, "differs in effect under {r}"),
            Deviation::Fault(kind) => write!(f, "fails ({kind}) under {r}"),
        }
    }
}

impl FromStr for Cause {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || parse_error("not a cause", s);
        if let Some(r) = s.strip_prefix("does not enforce ") {
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::NotEnforced });
        }
        if let Some(rest) = s.strip_prefix("checks ") {
            let r = rest.strip_suffix(" late").ok_or_else(bad)?;
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::CheckedLate });
        }
        if let Some(rest) = s.strip_prefix("answers another error code for ") {
            return Ok(Cause { rule: rule(rest, s)?, deviation: Deviation::OtherCode });
        }
        if let Some(rest) = s.strip_prefix("words the message of ") {
            let r = rest.strip_suffix(" differently").ok_or_else(bad)?;
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::Message });
        }
        if let Some(rest) = s.strip_prefix("refuses what ") {
            let r = rest.strip_suffix(" allows").ok_or_else(bad)?;
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::Refuses });
        }
        if let Some(r) = s.strip_prefix("differs in effect under ") {
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::Effect });
        }
        if let Some(rest) = s.strip_prefix("fails (") {
            let (kind, r) = rest.split_once(") under ").ok_or_else(bad)?;
            return Ok(Cause { rule: rule(r, s)?, deviation: Deviation::Fault(kind.to_string()) });
        }
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("does not enforce input.value-exclusive")]
    #[case("checks input.value-exclusive late")]
    #[case("answers another error code for create.deleted-name")]
    #[case("words the message of create.exists differently")]
    #[case("refuses what label.first-current allows")]
    #[case("differs in effect under list.versions")]
    #[case("fails (server error) under secret.not-found")]
    fn causes_round_trip(#[case] text: &str) {
        let cause: Cause = text.parse().expect("parses");
        assert_eq!(cause.to_string(), text);
    }

    #[rstest]
    #[case("does not enforce no.such-rule")]
    #[case("checks input.value-exclusive after create.exists")]
    #[case("checks input.value-exclusive early")]
    #[case("answers for create.exists")]
    #[case("answers ResourceExistsException for create.deleted-name")]
    #[case("differs in effect under list.versions: field ARN differs")]
    #[case("")]
    fn bad_causes_are_refused(#[case] text: &str) {
        assert!(text.parse::<Cause>().is_err(), "{text:?} must not parse");
    }

    #[rstest]
    #[case("PutSecretValue code InvalidRequestException [input.value-exclusive]")]
    #[case("DescribeSecret field VersionIdsToStages[] differs [describe.fields]")]
    fn identities_round_trip(#[case] text: &str) {
        let id: DivergenceId = text.parse().expect("parses");
        assert_eq!(id.to_string(), text);
    }

    #[rstest]
    #[case("PutSecretValue code [no.such-rule]")]
    #[case("FrobSecret code [create.exists]")]
    #[case("PutSecretValue [create.exists]")]
    #[case("PutSecretValue code create.exists")]
    fn bad_identities_are_refused(#[case] text: &str) {
        assert!(text.parse::<DivergenceId>().is_err(), "{text:?} must not parse");
    }

    #[test]
    fn slugs_are_file_names() {
        let cause: Cause = "answers another error code for create.deleted-name".parse().unwrap();
        assert_eq!(cause.slug(), "answers-another-error-code-for-create-deleted-name");
    }
}
