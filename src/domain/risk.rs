//! 风险分级管控 (issue 11): risk events are assessed by LS (L×S) or LEC (L×E×C) and graded
//! into the four levels 重大/较大/一般/低 — red, orange, yellow, blue. A unit is as risky as
//! its worst event, an enterprise as its worst unit.
//!
//! - **LS** (风险矩阵): L (likelihood) and S (severity) are each 1–5; R = L×S. The default
//!   grading is the 5×5 matrix widely used in Chinese 双重预防 guidance: R ≥ 20 重大 (red),
//!   15–16 较大 (orange), 9–12 一般 (yellow), 1–8 低 (blue). (R only takes the values of
//!   products of two numbers 1–5, so "≥ 15" and "15–16" are the same.)
//! - **LEC** (作业条件危险性分析, Graham–Kinney): L ∈ {0.1, 0.2, 0.5, 1, 3, 6, 10},
//!   E ∈ {0.5, 1, 2, 3, 6, 10}, C ∈ {1, 3, 7, 15, 40, 100}; D = L×E×C. Default grading:
//!   D > 320 red, 160 ≤ D ≤ 320 orange, 70 ≤ D < 160 yellow, D < 70 blue.
//!
//! Both sets of thresholds are reference data (`risk_grading` in the reference file) and may
//! be replaced by a deployment.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::enterprise::RiskLevel;
use super::validate::Errors;

text_enum! {
    /// How a risk event is assessed: `ls` (L×S, 风险矩阵) or `lec` (L×E×C, 作业条件危险性分析).
    pub enum RiskMethod {
        Ls = "ls",
        Lec = "lec",
    }
}

/// The LEC tables' values: likelihood, exposure, consequence.
pub const LEC_L: &[f64] = &[0.1, 0.2, 0.5, 1.0, 3.0, 6.0, 10.0];
pub const LEC_E: &[f64] = &[0.5, 1.0, 2.0, 3.0, 6.0, 10.0];
pub const LEC_C: &[f64] = &[1.0, 3.0, 7.0, 15.0, 40.0, 100.0];

/// LS thresholds: the lowest R of each level.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LsGrading {
    pub red_from: f64,
    pub orange_from: f64,
    pub yellow_from: f64,
}

/// LEC thresholds: red above `red_above`; orange from `orange_from`; yellow from `yellow_from`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LecGrading {
    pub red_above: f64,
    pub orange_from: f64,
    pub yellow_from: f64,
}

/// The grading thresholds of both methods.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RiskGrading {
    pub ls: LsGrading,
    pub lec: LecGrading,
}

impl Default for RiskGrading {
    fn default() -> RiskGrading {
        RiskGrading {
            ls: LsGrading {
                red_from: 20.0,
                orange_from: 15.0,
                yellow_from: 9.0,
            },
            lec: LecGrading {
                red_above: 320.0,
                orange_from: 160.0,
                yellow_from: 70.0,
            },
        }
    }
}

impl RiskGrading {
    /// Thresholds must rise with the level.
    pub fn check(&self) -> Result<(), String> {
        let ls = &self.ls;
        let lec = &self.lec;
        if !(ls.yellow_from < ls.orange_from && ls.orange_from < ls.red_from) {
            return Err("risk_grading.ls: yellow_from < orange_from < red_from".into());
        }
        if !(lec.yellow_from < lec.orange_from && lec.orange_from <= lec.red_above) {
            return Err("risk_grading.lec: yellow_from < orange_from <= red_above".into());
        }
        Ok(())
    }

    /// The level of a score by a method.
    pub fn level(&self, method: RiskMethod, score: f64) -> RiskLevel {
        match method {
            RiskMethod::Ls => {
                let g = &self.ls;
                if score >= g.red_from {
                    RiskLevel::Red
                } else if score >= g.orange_from {
                    RiskLevel::Orange
                } else if score >= g.yellow_from {
                    RiskLevel::Yellow
                } else {
                    RiskLevel::Blue
                }
            }
            RiskMethod::Lec => {
                let g = &self.lec;
                if score > g.red_above {
                    RiskLevel::Red
                } else if score >= g.orange_from {
                    RiskLevel::Orange
                } else if score >= g.yellow_from {
                    RiskLevel::Yellow
                } else {
                    RiskLevel::Blue
                }
            }
        }
    }
}

/// An assessment as sent: the method and its factors (`l` and `s` for LS; `l`, `e` and `c`
/// for LEC).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "lec", "l": 3, "e": 6, "c": 15}))]
pub struct AssessmentInput {
    pub method: RiskMethod,
    /// Likelihood: LS 1–5; LEC one of 0.1, 0.2, 0.5, 1, 3, 6, 10.
    pub l: f64,
    /// LS only: severity 1–5.
    #[serde(default)]
    pub s: Option<f64>,
    /// LEC only: exposure, one of 0.5, 1, 2, 3, 6, 10.
    #[serde(default)]
    pub e: Option<f64>,
    /// LEC only: consequence, one of 1, 3, 7, 15, 40, 100.
    #[serde(default)]
    pub c: Option<f64>,
}

/// A graded assessment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Graded {
    pub input: AssessmentInput,
    /// R (LS) or D (LEC).
    pub score: f64,
    pub level: RiskLevel,
}

fn one_of(e: &mut Errors, pointer: &str, v: Option<f64>, table: &[f64], what: &str) -> f64 {
    match v {
        Some(x) if table.contains(&x) => x,
        Some(_) => {
            let values: Vec<String> = table.iter().map(|x| x.to_string()).collect();
            e.add(
                pointer,
                format!("{what} must be one of {}", values.join(", ")),
            );
            0.0
        }
        None => {
            e.add(pointer, format!("{what} is required for this method"));
            0.0
        }
    }
}

fn absent(e: &mut Errors, pointer: &str, v: Option<f64>, method: RiskMethod) {
    if v.is_some() {
        e.add(pointer, format!("not a factor of {method}"));
    }
}

/// Checks the factors against the method's tables and grades them. `prefix` is the JSON
/// pointer of the assessment in the body.
pub fn grade(
    e: &mut Errors,
    prefix: &str,
    input: AssessmentInput,
    grading: &RiskGrading,
) -> Option<Graded> {
    let before = e.0.len();
    let p = |f: &str| format!("{prefix}/{f}");
    let score = match input.method {
        RiskMethod::Ls => {
            const FIVE: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0];
            let l = one_of(e, &p("l"), Some(input.l), FIVE, "l (likelihood)");
            let s = one_of(e, &p("s"), input.s, FIVE, "s (severity)");
            absent(e, &p("e"), input.e, input.method);
            absent(e, &p("c"), input.c, input.method);
            l * s
        }
        RiskMethod::Lec => {
            let l = one_of(e, &p("l"), Some(input.l), LEC_L, "l (likelihood)");
            let x = one_of(e, &p("e"), input.e, LEC_E, "e (exposure)");
            let c = one_of(e, &p("c"), input.c, LEC_C, "c (consequence)");
            absent(e, &p("s"), input.s, input.method);
            // Rounded to 2 decimals: 0.1 × 0.5 × 1 is 0.05, not 0.05000000000000001.
            (l * x * c * 100.0).round() / 100.0
        }
    };
    (e.0.len() == before).then(|| Graded {
        input,
        score,
        level: grading.level(input.method, score),
    })
}

/// The worse of two levels (red is the worst).
pub fn worst(a: Option<RiskLevel>, b: RiskLevel) -> RiskLevel {
    fn rank(l: RiskLevel) -> u8 {
        match l {
            RiskLevel::Red => 4,
            RiskLevel::Orange => 3,
            RiskLevel::Yellow => 2,
            RiskLevel::Blue => 1,
        }
    }
    match a {
        Some(a) if rank(a) >= rank(b) => a,
        _ => b,
    }
}

text_enum! {
    /// What kind of measure controls a risk: engineering (工程技术), management (管理),
    /// training (培训教育), personal protection (个体防护), emergency (应急处置).
    pub enum MeasureClass {
        Engineering = "engineering",
        Management = "management",
        Training = "training",
        PersonalProtection = "personal_protection",
        Emergency = "emergency",
    }
}

text_enum! {
    /// Who controls it (管控层级): the company, a workshop, a team or a post.
    pub enum ControlTier {
        Company = "company",
        Workshop = "workshop",
        Team = "team",
        Post = "post",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(l: f64, s: f64) -> Option<Graded> {
        let input = AssessmentInput {
            method: RiskMethod::Ls,
            l,
            s: Some(s),
            e: None,
            c: None,
        };
        grade(&mut Errors::default(), "", input, &RiskGrading::default())
    }

    fn lec(l: f64, e: f64, c: f64) -> Option<Graded> {
        let input = AssessmentInput {
            method: RiskMethod::Lec,
            l,
            s: None,
            e: Some(e),
            c: Some(c),
        };
        grade(&mut Errors::default(), "", input, &RiskGrading::default())
    }

    /// The whole 5×5 matrix against the table by hand: R = L×S; 20–25 red, 15–16 orange,
    /// 9–12 yellow, 1–8 blue.
    #[test]
    fn ls_matrix_by_hand() {
        let expected = [
            // S = 1   2     3     4     5        (rows: L = 1..5)
            ["b", "b", "b", "b", "b"],
            ["b", "b", "b", "b", "y"],
            ["b", "b", "y", "y", "o"],
            ["b", "b", "y", "o", "r"],
            ["b", "y", "o", "r", "r"],
        ];
        for l in 1..=5 {
            for s in 1..=5 {
                let g = ls(l as f64, s as f64).unwrap();
                assert_eq!(g.score, (l * s) as f64);
                let want = match expected[l - 1][s - 1] {
                    "r" => RiskLevel::Red,
                    "o" => RiskLevel::Orange,
                    "y" => RiskLevel::Yellow,
                    _ => RiskLevel::Blue,
                };
                assert_eq!(g.level, want, "L={l} S={s}");
            }
        }
        assert!(ls(0.0, 3.0).is_none());
        assert!(ls(6.0, 3.0).is_none());
        assert!(ls(2.5, 3.0).is_none());
    }

    /// LEC products around each boundary, computed by hand (70 is reachable: 1×10×7; 160 and
    /// 320 are not products of the tables, so `level` is checked at them directly below).
    #[test]
    fn lec_products_by_hand() {
        let cases = [
            (0.1, 0.5, 1.0, 0.05, RiskLevel::Blue),
            (3.0, 3.0, 7.0, 63.0, RiskLevel::Blue),
            (1.0, 10.0, 7.0, 70.0, RiskLevel::Yellow),
            (6.0, 3.0, 7.0, 126.0, RiskLevel::Yellow),
            (1.0, 10.0, 15.0, 150.0, RiskLevel::Yellow),
            (6.0, 2.0, 15.0, 180.0, RiskLevel::Orange),
            (6.0, 1.0, 40.0, 240.0, RiskLevel::Orange),
            (10.0, 2.0, 15.0, 300.0, RiskLevel::Orange),
            (3.0, 3.0, 40.0, 360.0, RiskLevel::Red),
            (10.0, 10.0, 100.0, 10_000.0, RiskLevel::Red),
        ];
        for (l, e, c, d, level) in cases {
            let g = lec(l, e, c).unwrap();
            assert_eq!((g.score, g.level), (d, level), "L={l} E={e} C={c}");
        }
        assert!(lec(2.0, 1.0, 1.0).is_none(), "2 is not an L of the table");
        assert!(lec(1.0, 4.0, 1.0).is_none());
        assert!(lec(1.0, 1.0, 10.0).is_none());
    }

    #[test]
    fn thresholds_are_inclusive_where_the_tables_say() {
        let g = RiskGrading::default();
        assert_eq!(g.level(RiskMethod::Lec, 320.0), RiskLevel::Orange);
        assert_eq!(g.level(RiskMethod::Lec, 320.01), RiskLevel::Red);
        assert_eq!(g.level(RiskMethod::Lec, 160.0), RiskLevel::Orange);
        assert_eq!(g.level(RiskMethod::Lec, 159.99), RiskLevel::Yellow);
        assert_eq!(g.level(RiskMethod::Lec, 70.0), RiskLevel::Yellow);
        assert_eq!(g.level(RiskMethod::Lec, 69.99), RiskLevel::Blue);
        assert_eq!(g.level(RiskMethod::Ls, 20.0), RiskLevel::Red);
        assert_eq!(g.level(RiskMethod::Ls, 16.0), RiskLevel::Orange);
        assert_eq!(g.level(RiskMethod::Ls, 15.0), RiskLevel::Orange);
        assert_eq!(g.level(RiskMethod::Ls, 12.0), RiskLevel::Yellow);
        assert_eq!(g.level(RiskMethod::Ls, 9.0), RiskLevel::Yellow);
        assert_eq!(g.level(RiskMethod::Ls, 8.0), RiskLevel::Blue);
        assert!(g.check().is_ok());
    }
}
