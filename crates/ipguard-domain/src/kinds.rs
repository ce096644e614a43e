//! Closed sets of values that appear in the API, the database and the rules.
//!
//! Each enum has a stable snake_case spelling used everywhere (JSON, SQL
//! columns, CSV files); `as_str` and `FromStr` are the only conversions, so a
//! value read back from storage can never silently become another.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Error for a string that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}; expected one of: {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a string-backed enum with serde, utoipa, Display and FromStr
/// agreeing on one spelling per variant.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

string_enum!(
    /// What a user may do; checked on every request together with ownership.
    Role, "role" {
        RightsHolder => "rights_holder",
        Seller => "seller",
        Reviewer => "reviewer",
        Admin => "admin",
    }
);

string_enum!(
    /// The kind of marketplace a platform is; category policy differs by kind.
    PlatformKind, "platform kind" {
        C2c => "c2c",
        B2c => "b2c",
        SecondHand => "second_hand",
    }
);

string_enum!(
    IpRightKind, "IP right kind" {
        Trademark => "trademark",
        Copyright => "copyright",
        Design => "design",
        Patent => "patent",
    }
);

string_enum!(
    /// A reviewer's verdict on a rights holder's claim to an IP right.
    VerificationStatus, "verification status" {
        Pending => "pending",
        Verified => "verified",
        Rejected => "rejected",
    }
);

string_enum!(
    /// What a notice alleges; strike weight and submitter accuracy are kept per type.
    InfringementType, "infringement type" {
        Counterfeit => "counterfeit",
        TrademarkMisuse => "trademark_misuse",
        Copyright => "copyright",
        Design => "design",
        Patent => "patent",
    }
);

string_enum!(
    ListingState, "listing state" {
        Active => "active",
        Removed => "removed",
        Restored => "restored",
    }
);

string_enum!(
    /// Where a notice came from; kept for metrics and for the transparency report.
    NoticeChannel, "notice channel" {
        Portal => "portal",
        Api => "api",
        Csv => "csv",
        Anonymous => "anonymous",
    }
);

string_enum!(
    /// The life of one listing named in a notice.
    ItemStatus, "notice item status" {
        /// Waiting for a reviewer.
        Pending => "pending",
        /// Removed at once because the submitter is trusted; a reviewer confirms later.
        RemovedPendingReview => "removed_pending_review",
        /// Infringement upheld; the listing is removed.
        Upheld => "upheld",
        /// Notice rejected for this listing; the listing stays (or is put back).
        Rejected => "rejected",
        /// Upheld, then reversed by an appeal or an unanswered counter-notice.
        Restored => "restored",
    }
);

string_enum!(
    Outcome, "decision outcome" {
        Uphold => "uphold",
        Reject => "reject",
    }
);

string_enum!(
    /// How a seller contests a removal. An appeal is the platform's internal
    /// complaint procedure; a counter-notice is the statutory route where the
    /// rights holder gets a window to start legal action before restoration.
    ChallengeKind, "challenge kind" {
        Appeal => "appeal",
        CounterNotice => "counter_notice",
    }
);

string_enum!(
    ChallengeStatus, "challenge status" {
        Pending => "pending",
        Denied => "denied",
        /// Counter-notice granted; restoration waits for the rights holder's legal-action window.
        AwaitingLegalAction => "awaiting_legal_action",
        /// The rights holder showed it started legal action; the listing stays down.
        LegalActionFiled => "legal_action_filed",
        Restored => "restored",
    }
);

string_enum!(
    /// Rungs of the penalty ladder, mildest first.
    Penalty, "penalty" {
        None => "none",
        Warning => "warning",
        ListingLimit => "listing_limit",
        Suspension => "suspension",
        Closure => "closure",
    }
);

string_enum!(
    /// Standing of a notice submitter in the good-faith program.
    SubmitterStanding, "submitter standing" {
        Normal => "normal",
        Warned => "warned",
        Suspended => "suspended",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_through_from_str_and_serde() {
        for kind in InfringementType::ALL {
            assert_eq!(kind.as_str().parse::<InfringementType>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn unknown_spelling_names_the_expected_values() {
        let err = "fake".parse::<ChallengeKind>().unwrap_err();
        assert!(err.to_string().contains("appeal, counter_notice"), "{err}");
    }
}
