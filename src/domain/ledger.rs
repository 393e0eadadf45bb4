//! How the ledgers (台账) name things: the Chinese labels an exported file shows for each
//! stored value, in the words regulators' paper ledgers use.

use super::hazard::{HazardLevel, HazardSource, HazardStatus};
use super::listing::{ListingLevel, ListingStatus};
use super::lists::{MeasureKind, MeasureStatus, ProblemStatus};

/// A value's label in a ledger.
pub trait Label {
    fn label(self) -> &'static str;
}

impl Label for HazardLevel {
    fn label(self) -> &'static str {
        match self {
            HazardLevel::General => "一般隐患",
            HazardLevel::Major => "重大隐患",
        }
    }
}

impl Label for HazardSource {
    fn label(self) -> &'static str {
        match self {
            HazardSource::SelfInspection => "企业自查",
            HazardSource::RegulatorInspection => "监管检查",
            HazardSource::PublicReport => "群众举报",
            HazardSource::Other => "其他",
        }
    }
}

impl Label for HazardStatus {
    fn label(self) -> &'static str {
        match self {
            HazardStatus::Reported => "已登记",
            HazardStatus::Rectifying => "整改中",
            HazardStatus::PendingAcceptance => "待验收",
            HazardStatus::Closed => "已销号",
            HazardStatus::Void => "已作废",
        }
    }
}

impl Label for ListingLevel {
    fn label(self) -> &'static str {
        match self {
            ListingLevel::Province => "省级",
            ListingLevel::City => "市级",
            ListingLevel::County => "县级",
        }
    }
}

impl Label for ListingStatus {
    fn label(self) -> &'static str {
        match self {
            ListingStatus::Listed => "挂牌督办中",
            ListingStatus::Delisted => "已摘牌销号",
            ListingStatus::Cancelled => "已撤销",
        }
    }
}

impl Label for ProblemStatus {
    fn label(self) -> &'static str {
        match self {
            ProblemStatus::Open => "未整改",
            ProblemStatus::InProgress => "整改中",
            ProblemStatus::Done => "已完成",
            ProblemStatus::Cancelled => "已取消",
        }
    }
}

impl Label for MeasureKind {
    fn label(self) -> &'static str {
        match self {
            MeasureKind::Law => "法律",
            MeasureKind::Regulation => "法规",
            MeasureKind::Standard => "标准",
            MeasureKind::NormativeDocument => "规范性文件",
            MeasureKind::Mechanism => "工作机制",
            MeasureKind::InternalSystem => "内部制度",
        }
    }
}

impl Label for MeasureStatus {
    fn label(self) -> &'static str {
        match self {
            MeasureStatus::Planned => "计划制定",
            MeasureStatus::Drafting => "起草中",
            MeasureStatus::Issued => "已出台",
            MeasureStatus::Implementing => "实施中",
            MeasureStatus::Repealed => "已废止",
        }
    }
}

/// The hazard ledger's columns, in the usual order, with their widths in characters.
pub const HAZARD_COLUMNS: &[(&str, f64)] = &[
    ("序号", 6.0),
    ("隐患编号", 20.0),
    ("企业名称", 30.0),
    ("统一社会信用代码", 22.0),
    ("所属区县", 12.0),
    ("行业领域", 14.0),
    ("隐患描述", 50.0),
    ("隐患级别", 10.0),
    ("隐患来源", 10.0),
    ("发现日期", 12.0),
    ("整改责任人", 16.0),
    ("整改期限", 12.0),
    ("整改措施", 40.0),
    ("整改资金(万元)", 14.0),
    ("验收标准", 30.0),
    ("状态", 10.0),
    ("是否逾期", 10.0),
    ("逾期天数", 10.0),
    ("是否挂牌", 10.0),
    ("验收人", 14.0),
    ("销号日期", 12.0),
];

/// The listed-supervision ledger (挂牌督办台账).
pub const LISTING_COLUMNS: &[(&str, f64)] = &[
    ("序号", 6.0),
    ("督办文号", 22.0),
    ("隐患编号", 20.0),
    ("隐患名称", 30.0),
    ("企业名称", 30.0),
    ("统一社会信用代码", 22.0),
    ("所属区县", 12.0),
    ("行业领域", 14.0),
    ("督办级别", 10.0),
    ("挂牌单位", 16.0),
    ("督办要求", 40.0),
    ("整改责任单位", 24.0),
    ("挂牌日期", 12.0),
    ("整改期限", 12.0),
    ("状态", 12.0),
    ("是否逾期", 10.0),
    ("销号日期", 12.0),
    ("销号说明", 30.0),
];

/// The problem list (问题隐患清单).
pub const PROBLEM_COLUMNS: &[(&str, f64)] = &[
    ("序号", 6.0),
    ("编号", 8.0),
    ("清单单位", 16.0),
    ("行业领域", 14.0),
    ("问题隐患", 30.0),
    ("具体描述", 50.0),
    ("责任单位", 24.0),
    ("整改时限", 12.0),
    ("状态", 10.0),
    ("关联隐患数", 10.0),
];

/// The measure list (制度措施清单).
pub const MEASURE_COLUMNS: &[(&str, f64)] = &[
    ("序号", 6.0),
    ("编号", 8.0),
    ("清单单位", 16.0),
    ("制度措施", 36.0),
    ("类别", 12.0),
    ("文号", 20.0),
    ("牵头单位", 24.0),
    ("完成时限", 12.0),
    ("状态", 10.0),
    ("对应问题数", 10.0),
];

/// The quarterly reports ledger (季度隐患排查治理统计台账).
pub const QUARTERLY_COLUMNS: &[(&str, f64)] = &[
    ("序号", 6.0),
    ("企业名称", 30.0),
    ("统一社会信用代码", 22.0),
    ("所属区县", 12.0),
    ("行业领域", 14.0),
    ("报告期", 16.0),
    ("排查隐患数", 10.0),
    ("其中重大隐患", 12.0),
    ("已整改", 10.0),
    ("其中重大已整改", 14.0),
    ("未整改", 10.0),
    ("逾期未整改", 12.0),
    ("整改率", 10.0),
    ("整改资金(万元)", 14.0),
    ("以前季度未整改", 14.0),
    ("主要负责人签字", 14.0),
    ("报送日期", 12.0),
    ("是否逾期报送", 12.0),
    ("内容摘要(SHA-256)", 66.0),
];
