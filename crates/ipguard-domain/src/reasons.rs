//! Statements of reasons.
//!
//! Every restriction of a listing or a seller carries a statement with at
//! least what Article 17 of the EU Digital Services Act requires: the
//! restriction applied, the facts relied on, the legal or contractual ground
//! with an explanation, whether automated means detected the content and
//! took the decision, the territorial scope, and how to contest it. The
//! statement is stored with the decision and shown to the seller as is.

use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroundKind {
    /// An IP law: the notice's right is infringed.
    Legal,
    /// The platform's terms of service.
    Contractual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ground {
    pub kind: GroundKind,
    /// The provision relied on, e.g. "EU Trade Mark Regulation art. 9(2)(a)".
    pub reference: String,
    /// Why the facts fall under that provision.
    pub explanation: String,
}

/// What a reviewer (or an automated rule) supplies; the rest is derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementInput {
    pub facts: String,
    pub ground: Ground,
    /// Defaults to worldwide when not given.
    #[serde(default)]
    pub territorial_scope: Option<String>,
}

/// The statement as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementOfReasons {
    /// The restriction applied, e.g. "listing removed" or "no action".
    pub restriction: String,
    pub facts: String,
    pub ground: Ground,
    pub automated_detection: bool,
    pub automated_decision: bool,
    pub territorial_scope: String,
    /// How the affected party can contest the decision, with the deadline.
    pub redress: String,
}

/// Who took a decision and how, for the automation fields of the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Automation {
    pub detection: bool,
    pub decision: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("statement.facts must describe the facts relied on (at least 10 characters)")]
    FactsMissing,
    #[error("statement.ground.reference must name the legal or contractual provision")]
    ReferenceMissing,
    #[error("statement.ground.explanation must explain why the facts fall under the ground")]
    ExplanationMissing,
}

impl StatementOfReasons {
    /// Completes a reviewer's input into a full statement.
    pub fn parse(
        input: StatementInput,
        restriction: &str,
        automation: Automation,
        redress: String,
    ) -> Result<Self, StatementError> {
        if input.facts.trim().chars().count() < 10 {
            return Err(StatementError::FactsMissing);
        }
        if input.ground.reference.trim().is_empty() {
            return Err(StatementError::ReferenceMissing);
        }
        if input.ground.explanation.trim().is_empty() {
            return Err(StatementError::ExplanationMissing);
        }
        Ok(StatementOfReasons {
            restriction: restriction.to_owned(),
            facts: input.facts.trim().to_owned(),
            ground: input.ground,
            automated_detection: automation.detection,
            automated_decision: automation.decision,
            territorial_scope: input
                .territorial_scope
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "worldwide".to_owned()),
            redress,
        })
    }
}

/// Redress text for a seller whose listing was removed.
pub fn seller_redress(policy: &Policy) -> String {
    format!(
        "You may file an appeal or a counter-notice within {} days of this decision from your \
         seller account or through the API (POST /api/v1/items/{{id}}/challenges). A different \
         reviewer decides. You may also use an out-of-court dispute settlement body or the courts.",
        policy.challenge_window_days
    )
}

/// Redress text for a submitter whose notice was rejected.
pub fn submitter_redress() -> String {
    "You may file a new notice with further evidence, use an out-of-court dispute settlement \
     body, or seek a remedy before the courts."
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(facts: &str) -> StatementInput {
        StatementInput {
            facts: facts.to_owned(),
            ground: Ground {
                kind: GroundKind::Legal,
                reference: "EUTMR art. 9".to_owned(),
                explanation: "Identical sign for identical goods".to_owned(),
            },
            territorial_scope: None,
        }
    }

    #[test]
    fn statement_carries_automation_scope_and_redress() {
        let automation = Automation {
            detection: false,
            decision: false,
        };
        let s = StatementOfReasons::parse(
            input("Listing shows a counterfeit logo on the box."),
            "listing removed",
            automation,
            seller_redress(&Policy::default()),
        )
        .unwrap();
        assert_eq!(s.territorial_scope, "worldwide");
        assert!(s.redress.contains("14 days"));
        assert!(!s.automated_decision);
    }

    #[test]
    fn statement_without_facts_is_refused() {
        let automation = Automation {
            detection: false,
            decision: false,
        };
        let err = StatementOfReasons::parse(input(" "), "x", automation, String::new());
        assert_eq!(err, Err(StatementError::FactsMissing));
    }
}
