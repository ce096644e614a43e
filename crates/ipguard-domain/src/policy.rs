//! The policy numbers an operator tunes, with the defaults we ship.
//!
//! These are read from the `[policy]` table of the configuration file; every
//! field has a default so a partial table is enough. The defaults follow the
//! practice regulators ask marketplaces for: a 24-hour takedown deadline,
//! strikes that expire after six months, and a good-faith program that must
//! be earned per infringement type.

use crate::{InfringementType, Penalty};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Hours from receipt by which every notice must be decided.
    pub notice_deadline_hours: u32,
    /// Days after a removal during which the seller may appeal or counter-notify.
    pub challenge_window_days: u32,
    /// Days a rights holder has, after a counter-notice is granted, to show it
    /// has started legal action before the listing is restored.
    pub legal_action_window_days: u32,
    pub strikes: StrikePolicy,
    /// Rungs applied by active strike weight; the highest rung reached applies.
    pub penalty_ladder: Vec<PenaltyRung>,
    /// Active listings allowed to a seller under the `listing_limit` penalty.
    pub listing_limit: u32,
    pub trusted: TrustPolicy,
    pub abuse: AbusePolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrikePolicy {
    /// Days after which a strike no longer counts.
    pub expiry_days: u32,
    pub counterfeit: f64,
    pub trademark_misuse: f64,
    pub copyright: f64,
    pub design: f64,
    pub patent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PenaltyRung {
    /// Active strike weight at or above which this penalty applies.
    pub min_weight: f64,
    pub penalty: Penalty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustPolicy {
    /// Decided notice items of one infringement type needed before trust is considered.
    pub min_decided: u32,
    /// Share of those items upheld, from 0 to 1.
    pub min_upheld_ratio: f64,
    /// Days during which a single notice found abusive prevents (and revokes) trust.
    pub abuse_lookback_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbusePolicy {
    /// Manifestly unfounded notices (within the lookback) that earn a warning.
    pub warn_after: u32,
    /// Manifestly unfounded notices (within the lookback) that earn a suspension.
    pub suspend_after: u32,
    /// Days a suspended submitter may not file notices.
    pub suspension_days: u32,
    /// Days over which manifestly unfounded notices are counted.
    pub lookback_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            notice_deadline_hours: 24,
            challenge_window_days: 14,
            legal_action_window_days: 10,
            strikes: StrikePolicy::default(),
            penalty_ladder: vec![
                PenaltyRung {
                    min_weight: 1.0,
                    penalty: Penalty::Warning,
                },
                PenaltyRung {
                    min_weight: 3.0,
                    penalty: Penalty::ListingLimit,
                },
                PenaltyRung {
                    min_weight: 6.0,
                    penalty: Penalty::Suspension,
                },
                PenaltyRung {
                    min_weight: 10.0,
                    penalty: Penalty::Closure,
                },
            ],
            listing_limit: 10,
            trusted: TrustPolicy::default(),
            abuse: AbusePolicy::default(),
        }
    }
}

impl Default for StrikePolicy {
    fn default() -> Self {
        StrikePolicy {
            expiry_days: 180,
            counterfeit: 3.0,
            trademark_misuse: 1.0,
            copyright: 2.0,
            design: 2.0,
            patent: 2.0,
        }
    }
}

impl Default for TrustPolicy {
    fn default() -> Self {
        TrustPolicy {
            min_decided: 20,
            min_upheld_ratio: 0.95,
            abuse_lookback_days: 90,
        }
    }
}

impl Default for AbusePolicy {
    fn default() -> Self {
        AbusePolicy {
            warn_after: 1,
            suspend_after: 3,
            suspension_days: 30,
            lookback_days: 365,
        }
    }
}

impl StrikePolicy {
    pub fn weight(&self, kind: InfringementType) -> f64 {
        match kind {
            InfringementType::Counterfeit => self.counterfeit,
            InfringementType::TrademarkMisuse => self.trademark_misuse,
            InfringementType::Copyright => self.copyright,
            InfringementType::Design => self.design,
            InfringementType::Patent => self.patent,
        }
    }
}

/// A policy that cannot be applied consistently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct PolicyError(pub String);

impl Policy {
    /// Checks the relations between numbers that serde cannot: ratios within
    /// 0..=1, a ladder that climbs, sanctions in order.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |m: &str| Err(PolicyError(m.to_owned()));
        if self.notice_deadline_hours == 0 {
            return err("notice_deadline_hours must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.trusted.min_upheld_ratio) {
            return err("trusted.min_upheld_ratio must be between 0 and 1");
        }
        let weights = [
            self.strikes.counterfeit,
            self.strikes.trademark_misuse,
            self.strikes.copyright,
            self.strikes.design,
            self.strikes.patent,
        ];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return err("strike weights must be finite and not negative");
        }
        let climbs = self.penalty_ladder.windows(2).all(|pair| {
            pair[0].min_weight < pair[1].min_weight && pair[0].penalty < pair[1].penalty
        });
        if !climbs {
            return err("penalty_ladder rungs must increase in both min_weight and penalty");
        }
        if self.abuse.warn_after == 0 || self.abuse.suspend_after < self.abuse.warn_after {
            return err("abuse.warn_after must be at least 1 and not above abuse.suspend_after");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_are_valid() {
        Policy::default().validate().unwrap();
    }

    #[test]
    fn a_ladder_that_descends_is_rejected() {
        let mut policy = Policy::default();
        policy.penalty_ladder.swap(0, 1);
        assert!(policy.validate().is_err());
    }

    #[test]
    fn counterfeit_weighs_more_than_keyword_misuse_by_default() {
        let strikes = StrikePolicy::default();
        assert!(
            strikes.weight(InfringementType::Counterfeit)
                > strikes.weight(InfringementType::TrademarkMisuse)
        );
    }
}
