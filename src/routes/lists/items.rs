//! The list items as the API answers them, with their links, read in one query per page.

use super::*;

#[derive(Serialize, ToSchema, Clone)]
#[schema(example = json!({
    "id": 3, "owner_jurisdiction_code": "431302", "department_id": null, "sector_code": "hazardous_chemicals",
    "title": "加油站油气回收装置普遍失修", "description": "辖区 12 座加油站中 5 座油气回收装置失效",
    "responsible_unit": "娄星区应急管理局", "deadline": "2026-12-31", "status": "in_progress", "hazard_ids": [7, 9],
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-28T02:00:00Z", "version": 2
}))]
pub struct ProblemItem {
    pub id: i64,
    #[serde(flatten)]
    pub fields: ProblemInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Serialize, ToSchema, Clone)]
#[schema(example = json!({
    "id": 5, "owner_jurisdiction_code": "431302", "department_id": null,
    "title": "加油站油气回收装置定期检测制度", "kind": "normative_document", "doc_no": null,
    "lead_unit": "娄星区应急管理局", "target_date": "2026-12-31", "status": "drafting", "problem_ids": [3],
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-20T02:00:00Z", "version": 1
}))]
pub struct MeasureItem {
    pub id: i64,
    #[serde(flatten)]
    pub fields: MeasureInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub(super) fn links_of(links: &[(i64, i64)], id: i64) -> Vec<i64> {
    links
        .iter()
        .filter(|(owner, _)| *owner == id)
        .map(|(_, l)| *l)
        .collect()
}

pub fn problem_items(c: &mut AnyConnection, rows: Vec<ProblemRow>) -> ApiResult<Vec<ProblemItem>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = lists::hazard_links(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| ProblemItem {
            id: r.id,
            fields: ProblemInput {
                hazard_ids: links_of(&links, r.id),
                owner_jurisdiction_code: r.owner_jurisdiction_code,
                department_id: r.department_id,
                sector_code: r.sector_code,
                title: r.title,
                description: r.description,
                responsible_unit: r.responsible_unit,
                deadline: r.deadline,
                status: r.status,
            },
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

pub fn measure_items(c: &mut AnyConnection, rows: Vec<MeasureRow>) -> ApiResult<Vec<MeasureItem>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = lists::problem_links(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| MeasureItem {
            id: r.id,
            fields: MeasureInput {
                problem_ids: links_of(&links, r.id),
                owner_jurisdiction_code: r.owner_jurisdiction_code,
                department_id: r.department_id,
                title: r.title,
                kind: r.kind,
                doc_no: r.doc_no,
                lead_unit: r.lead_unit,
                target_date: r.target_date,
                status: r.status,
            },
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

pub(super) fn one<T>(mut v: Vec<T>) -> ApiResult<T> {
    v.pop().ok_or_else(|| ApiError::internal("item vanished"))
}
