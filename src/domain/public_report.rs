//! Public reports (举报 / 吹哨人, issue 12, SPEC §9): anyone reports a hazard without an
//! account and follows it with a tracking code and a secret; regulators of the county triage
//! it, turn it into a hazard or dismiss it, record whether it was substantiated, and the
//! reward the 举报奖励 rule gives.
//!
//! Lifecycle: `received` → (`accept`) `accepted` → (`convert`) `converted` → (`verify`)
//! `verified`. `transfer` hands a `received` or `accepted` report to another county (it is
//! `received` there); `dismiss` ends a `received` or `accepted` one. `convert` also works on
//! a `received` report; `verify` on an `accepted` or `converted` one. `dismissed` and
//! `verified` are final.
//!
//! The reward rule (《安全生产领域举报奖励办法》, 应急〔2018〕19号, 第十二条): a substantiated
//! report is rewarded 15 % of the fine imposed, at least 3,000 元 and at most 300,000 元.
//! The three figures are configuration.

use rand::Rng;

use super::refusal::{Refusal, Verdict};

text_enum! {
    /// `received` (waiting for the county), `accepted` (受理), `converted` (a hazard was
    /// recorded from it), `dismissed` (不予受理, with a reason) or `verified` (核查办结, with its
    /// outcome).
    pub enum PublicReportStatus {
        Received = "received",
        Accepted = "accepted",
        Converted = "converted",
        Dismissed = "dismissed",
        Verified = "verified",
    }
}

text_enum! {
    /// `accept` (受理) the report, or `transfer` it to the county-level unit it belongs to.
    pub enum TriageDecision {
        Accept = "accept",
        Transfer = "transfer",
    }
}

text_enum! {
    /// What the verification found: `substantiated` (属实) or `unsubstantiated` (不属实).
    pub enum VerificationOutcome {
        Substantiated = "substantiated",
        Unsubstantiated = "unsubstantiated",
    }
}

/// How public intake is limited and rewarded (`HAZREG_PUBLIC_REPORT_*`, `HAZREG_CAPTCHA_*`,
/// `HAZREG_REWARD_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeConfig {
    /// Reports accepted from one client address per hour.
    pub per_address_per_hour: u32,
    pub max_photos: u32,
    pub max_photo_bytes: u64,
    /// A siteverify endpoint (reCAPTCHA, hCaptcha, Turnstile and compatible): when set, every
    /// report carries a `captcha_token` the server checks there.
    pub captcha_verify_url: Option<String>,
    pub captcha_secret: Option<String>,
    pub reward: RewardRule,
}

/// The reward rule: `rate_percent` of the fine, clamped to [`min_yuan`, `max_yuan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardRule {
    pub rate_percent: f64,
    pub min_yuan: i64,
    pub max_yuan: i64,
}

impl RewardRule {
    pub fn checked(self) -> Result<RewardRule, String> {
        if !(self.rate_percent > 0.0 && self.rate_percent <= 100.0) {
            return Err("the reward rate must be above 0 and at most 100 percent".into());
        }
        if self.min_yuan < 0 || self.min_yuan > self.max_yuan {
            return Err("the reward minimum must be from 0 to the maximum".into());
        }
        Ok(self)
    }

    /// The reward for a substantiated report whose enterprise was fined `fine_yuan`
    /// (rounded to the yuan, half up).
    pub fn reward(self, fine_yuan: i64) -> i64 {
        let share = (fine_yuan as f64 * self.rate_percent / 100.0).round() as i64;
        share.clamp(self.min_yuan, self.max_yuan)
    }
}

impl Default for RewardRule {
    fn default() -> RewardRule {
        RewardRule {
            rate_percent: 15.0,
            min_yuan: 3_000,
            max_yuan: 300_000,
        }
    }
}

/// Letters a person reads back on the phone without confusion (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new tracking code: `JB-` and 10 letters (about 50 bits). Uniqueness is the database's.
pub fn new_tracking_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let letters: String = (0..10)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("JB-{letters}")
}

/// Whether a text can be a tracking code at all (checked before any lookup).
pub fn is_tracking_code(code: &str) -> bool {
    code.len() == 13
        && code.starts_with("JB-")
        && code[3..].bytes().all(|b| CODE_ALPHABET.contains(&b))
}

fn conflict(detail: String) -> Refusal {
    Refusal::conflict("invalid_transition", detail)
}

/// Which statuses each handling action starts from.
pub fn check_triage(status: PublicReportStatus, decision: TriageDecision) -> Verdict {
    use PublicReportStatus::*;
    match (decision, status) {
        (TriageDecision::Accept, Received) => Ok(()),
        (TriageDecision::Transfer, Received | Accepted) => Ok(()),
        _ => Err(conflict(format!(
            "a {status} report cannot take `{decision}`"
        ))),
    }
}

pub fn check_dismiss(status: PublicReportStatus) -> Verdict {
    match status {
        PublicReportStatus::Received | PublicReportStatus::Accepted => Ok(()),
        _ => Err(conflict(format!("a {status} report cannot be dismissed"))),
    }
}

pub fn check_convert(status: PublicReportStatus) -> Verdict {
    match status {
        PublicReportStatus::Received | PublicReportStatus::Accepted => Ok(()),
        _ => Err(conflict(format!("a {status} report cannot be converted"))),
    }
}

pub fn check_verify(status: PublicReportStatus) -> Verdict {
    match status {
        PublicReportStatus::Accepted | PublicReportStatus::Converted => Ok(()),
        _ => Err(conflict(format!("a {status} report cannot be verified"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_follow_the_rule() {
        let r = RewardRule::default();
        assert_eq!(r.reward(0), 3_000);
        assert_eq!(r.reward(10_000), 3_000);
        assert_eq!(r.reward(20_000), 3_000);
        assert_eq!(r.reward(20_001), 3_000);
        assert_eq!(r.reward(50_000), 7_500);
        assert_eq!(r.reward(2_000_000), 300_000);
        assert_eq!(r.reward(3_000_000), 300_000);
        assert!(RewardRule {
            rate_percent: 0.0,
            ..r
        }
        .checked()
        .is_err());
    }

    #[test]
    fn tracking_codes_are_recognised() {
        let c = new_tracking_code();
        assert!(is_tracking_code(&c), "{c}");
        assert!(!is_tracking_code("JB-0000000000"));
        assert!(!is_tracking_code("JB-ABC"));
    }

    #[test]
    fn handling_starts_from_its_statuses() {
        use PublicReportStatus::*;
        assert!(check_triage(Received, TriageDecision::Accept).is_ok());
        assert!(check_triage(Accepted, TriageDecision::Accept).is_err());
        assert!(check_triage(Accepted, TriageDecision::Transfer).is_ok());
        assert!(check_dismiss(Converted).is_err());
        assert!(check_convert(Dismissed).is_err());
        assert!(check_verify(Received).is_err());
        assert!(check_verify(Converted).is_ok());
    }
}
