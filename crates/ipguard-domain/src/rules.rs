//! The policy rules as pure functions of the policy, the facts and the time.

use crate::policy::Policy;
use crate::{InfringementType, Penalty, SubmitterStanding};
use chrono::{DateTime, Duration, Utc};

/// When a notice received at `received` must be decided.
pub fn notice_deadline(policy: &Policy, received: DateTime<Utc>) -> DateTime<Utc> {
    received + Duration::hours(i64::from(policy.notice_deadline_hours))
}

/// Last moment a seller may contest a removal decided at `decided`.
pub fn challenge_deadline(policy: &Policy, decided: DateTime<Utc>) -> DateTime<Utc> {
    decided + Duration::days(i64::from(policy.challenge_window_days))
}

/// When a granted counter-notice restores the listing unless legal action is shown.
pub fn restoration_time(policy: &Policy, granted: DateTime<Utc>) -> DateTime<Utc> {
    granted + Duration::days(i64::from(policy.legal_action_window_days))
}

/// When a strike given at `given` stops counting.
pub fn strike_expiry(policy: &Policy, given: DateTime<Utc>) -> DateTime<Utc> {
    given + Duration::days(i64::from(policy.strikes.expiry_days))
}

/// The weight of a new strike for an upheld infringement of this type.
pub fn strike_weight(policy: &Policy, kind: InfringementType) -> f64 {
    policy.strikes.weight(kind)
}

/// A strike as the rules see it: its weight and its validity window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrikeFact {
    pub weight: f64,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// Sum of the weights of strikes that still count at `now`.
pub fn active_strike_weight(strikes: &[StrikeFact], now: DateTime<Utc>) -> f64 {
    strikes
        .iter()
        .filter(|s| !s.revoked && s.expires_at > now)
        .map(|s| s.weight)
        .sum()
}

/// The highest rung of the ladder that the active weight reaches.
pub fn penalty_for(policy: &Policy, active_weight: f64) -> Penalty {
    policy
        .penalty_ladder
        .iter()
        .filter(|rung| active_weight >= rung.min_weight)
        .map(|rung| rung.penalty)
        .max()
        .unwrap_or(Penalty::None)
}

/// Whether a seller under `penalty` with `active_listings` may put another listing up.
pub fn may_list(policy: &Policy, penalty: Penalty, active_listings: u64) -> Result<(), Penalty> {
    match penalty {
        Penalty::None | Penalty::Warning => Ok(()),
        Penalty::ListingLimit if active_listings < u64::from(policy.listing_limit) => Ok(()),
        blocking => Err(blocking),
    }
}

/// Whether a penalty takes the person's live listings off the platforms
/// (suspension, closure); they come back when the penalty falls below it.
pub fn hides_listings(penalty: Penalty) -> bool {
    matches!(penalty, Penalty::Suspension | Penalty::Closure)
}

/// A submitter's record for one infringement type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AccuracyRecord {
    /// Items decided by a reviewer.
    pub decided: u32,
    /// Of those, items upheld.
    pub upheld: u32,
    /// Items found abusive (manifestly unfounded) within the trust lookback.
    pub abusive_recent: u32,
}

impl AccuracyRecord {
    /// Share of decided items upheld; `None` before any decision.
    pub fn upheld_ratio(&self) -> Option<f64> {
        (self.decided > 0).then(|| f64::from(self.upheld) / f64::from(self.decided))
    }
}

/// Whether this record earns (or keeps) trusted status for its infringement type.
pub fn is_trusted(policy: &Policy, record: &AccuracyRecord) -> bool {
    record.decided >= policy.trusted.min_decided
        && record.abusive_recent == 0
        && record
            .upheld_ratio()
            .is_some_and(|r| r >= policy.trusted.min_upheld_ratio)
}

/// The sanction due to a submitter with `unfounded_recent` manifestly
/// unfounded notices within the abuse lookback.
pub fn standing_for(policy: &Policy, unfounded_recent: u32) -> SubmitterStanding {
    if unfounded_recent >= policy.abuse.suspend_after {
        SubmitterStanding::Suspended
    } else if unfounded_recent >= policy.abuse.warn_after {
        SubmitterStanding::Warned
    } else {
        SubmitterStanding::Normal
    }
}

/// End of a suspension that starts at `from`.
pub fn suspension_end(policy: &Policy, from: DateTime<Utc>) -> DateTime<Utc> {
    from + Duration::days(i64::from(policy.abuse.suspension_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    }

    fn strike(weight: f64, given: DateTime<Utc>) -> StrikeFact {
        StrikeFact {
            weight,
            expires_at: strike_expiry(&Policy::default(), given),
            revoked: false,
        }
    }

    #[test]
    fn default_deadline_is_24_hours_after_receipt() {
        assert_eq!(
            notice_deadline(&Policy::default(), t0()),
            t0() + Duration::hours(24)
        );
    }

    #[test]
    fn expired_and_revoked_strikes_do_not_count() {
        let policy = Policy::default();
        let mut revoked = strike(3.0, t0());
        revoked.revoked = true;
        let strikes = [
            strike(3.0, t0()),
            strike(1.0, t0() - Duration::days(200)),
            revoked,
        ];
        assert_eq!(
            active_strike_weight(&strikes, t0() + Duration::days(1)),
            3.0
        );
        let later = t0() + Duration::days(i64::from(policy.strikes.expiry_days) + 1);
        assert_eq!(active_strike_weight(&strikes, later), 0.0);
    }

    #[test]
    fn penalties_escalate_along_the_ladder() {
        let policy = Policy::default();
        assert_eq!(penalty_for(&policy, 0.0), Penalty::None);
        assert_eq!(penalty_for(&policy, 1.0), Penalty::Warning);
        assert_eq!(penalty_for(&policy, 3.0), Penalty::ListingLimit);
        assert_eq!(penalty_for(&policy, 7.5), Penalty::Suspension);
        assert_eq!(penalty_for(&policy, 12.0), Penalty::Closure);
    }

    #[test]
    fn listing_limit_blocks_only_above_the_limit() {
        let policy = Policy::default();
        assert!(may_list(&policy, Penalty::ListingLimit, 9).is_ok());
        assert_eq!(
            may_list(&policy, Penalty::ListingLimit, 10),
            Err(Penalty::ListingLimit)
        );
        assert_eq!(
            may_list(&policy, Penalty::Suspension, 0),
            Err(Penalty::Suspension)
        );
        assert!(may_list(&policy, Penalty::Warning, 1000).is_ok());
    }

    #[test]
    fn only_suspension_and_closure_hide_listings() {
        let hiding: Vec<Penalty> = Penalty::ALL
            .iter()
            .copied()
            .filter(|p| hides_listings(*p))
            .collect();
        assert_eq!(hiding, [Penalty::Suspension, Penalty::Closure]);
    }

    #[test]
    fn trust_needs_volume_accuracy_and_no_recent_abuse() {
        let policy = Policy::default();
        let good = AccuracyRecord {
            decided: 20,
            upheld: 19,
            abusive_recent: 0,
        };
        assert!(is_trusted(&policy, &good));
        assert!(!is_trusted(
            &policy,
            &AccuracyRecord {
                decided: 19,
                upheld: 19,
                ..good
            }
        ));
        assert!(!is_trusted(&policy, &AccuracyRecord { upheld: 18, ..good }));
        assert!(!is_trusted(
            &policy,
            &AccuracyRecord {
                abusive_recent: 1,
                ..good
            }
        ));
    }

    #[test]
    fn unfounded_notices_warn_then_suspend() {
        let policy = Policy::default();
        assert_eq!(standing_for(&policy, 0), SubmitterStanding::Normal);
        assert_eq!(standing_for(&policy, 1), SubmitterStanding::Warned);
        assert_eq!(standing_for(&policy, 3), SubmitterStanding::Suspended);
    }
}
