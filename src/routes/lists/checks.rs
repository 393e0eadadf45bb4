//! What a write to the lists checks before it stores: the role, the owner and its reach, the
//! fields and the links.

use super::*;

/// The caller's reach over lists: regulators and auditors see the lists of units at or below
/// their jurisdiction; enterprise accounts see none (404).
pub fn lists_reach(p: &Principal) -> ApiResult<Reach> {
    crate::db::scope::list_owner_reach(&p.scope())
        .cloned()
        .ok_or_else(ApiError::not_found)
}

/// Checks an owner (jurisdiction and optional department) and returns its tree path:
/// it must be within reach (403, the policy), exist and be a county-level unit or a city (422).
pub fn check_owner(
    c: &mut AnyConnection,
    p: &Principal,
    owner: &str,
    department: Option<i64>,
    errors: &mut Errors,
) -> ApiResult<Option<String>> {
    let Some((path, level)) = jurisdiction_path(c, owner)? else {
        errors.add("/owner_jurisdiction_code", "unknown jurisdiction");
        return Ok(None);
    };
    policy::list_owner(p, &path)?;
    rules::check_owner_level(errors, level);
    if let Some(d) = department {
        let dept = reference::departments(c, Some(owner), &reference::Window::all())?;
        if !dept.iter().any(|x| x.id == d) {
            errors.add(
                "/department_id",
                "not a department of the owner's jurisdiction",
            );
        }
    }
    Ok(Some(path))
}

/// The checks every item write shares, in the order their errors are listed: the role (403),
/// the owner and its reach, then (after the caller's own field checks) the links. `found`
/// answers which of the added ids are in the owner's jurisdiction (and the caller's reach);
/// links the item had already (`existing`) stay without a new check.
struct ItemCheck {
    owner_path: Option<String>,
}

impl ItemCheck {
    fn start(
        c: &mut AnyConnection,
        p: &Principal,
        owner: (&str, Option<i64>),
        e: &mut Errors,
    ) -> ApiResult<ItemCheck> {
        policy::edit_lists(p)?;
        Ok(ItemCheck {
            owner_path: check_owner(c, p, owner.0, owner.1, e)?,
        })
    }

    fn links(
        &self,
        c: &mut AnyConnection,
        links: (&str, &[i64], &[i64]),
        e: &mut Errors,
        found: impl FnOnce(&mut AnyConnection, &str, &[i64]) -> ApiResult<Vec<i64>>,
    ) -> ApiResult<()> {
        let (pointer, wanted, existing) = links;
        if let Some(path) = &self.owner_path {
            let mut allowed = found(c, path, &rules::added_links(wanted, existing))?;
            allowed.extend_from_slice(existing);
            rules::check_links(e, pointer, wanted, &allowed);
        }
        Ok(())
    }
}

/// Validates a problem item for `p` and returns what to store. `existing`: the hazards it
/// links already (an edit re-checks only what it adds).
pub(super) fn checked_problem(
    c: &mut AnyConnection,
    p: &Principal,
    input: ProblemInput,
    existing: &[i64],
) -> ApiResult<ProblemInput> {
    let mut e = Errors::default();
    let check = ItemCheck::start(
        c,
        p,
        (&input.owner_jurisdiction_code, input.department_id),
        &mut e,
    )?;
    let input = input.normalized(&mut e);
    if let Some(s) = &input.sector_code {
        if !reference::sector_exists(c, s)? {
            e.add("/sector_code", "unknown sector");
        }
    }
    let scope = p.scope();
    check.links(
        c,
        ("/hazard_ids", &input.hazard_ids, existing),
        &mut e,
        |c, path, ids| Ok(lists::hazards_under(c, &scope, path, ids)?),
    )?;
    e.into_result().map_err(ApiError::validation)?;
    Ok(input.dedup_links())
}

/// Validates a measure item; `existing`: the problem items it links already.
pub(super) fn checked_measure(
    c: &mut AnyConnection,
    p: &Principal,
    input: MeasureInput,
    existing: &[i64],
) -> ApiResult<MeasureInput> {
    let mut e = Errors::default();
    let check = ItemCheck::start(
        c,
        p,
        (&input.owner_jurisdiction_code, input.department_id),
        &mut e,
    )?;
    let input = input.normalized(&mut e);
    check.links(
        c,
        ("/problem_ids", &input.problem_ids, existing),
        &mut e,
        |c, path, ids| Ok(lists::problems_under(c, path, ids)?),
    )?;
    e.into_result().map_err(ApiError::validation)?;
    Ok(input.dedup_links())
}

pub(super) fn problem_values(i: &ProblemInput) -> ProblemValues<'_> {
    ProblemValues {
        owner_jurisdiction_code: &i.owner_jurisdiction_code,
        department_id: i.department_id,
        sector_code: i.sector_code.as_deref(),
        title: &i.title,
        description: &i.description,
        responsible_unit: &i.responsible_unit,
        deadline: i.deadline,
        status: i.status.as_str(),
    }
}

pub(super) fn measure_values(i: &MeasureInput) -> MeasureValues<'_> {
    MeasureValues {
        owner_jurisdiction_code: &i.owner_jurisdiction_code,
        department_id: i.department_id,
        title: &i.title,
        kind: i.kind.as_str(),
        doc_no: i.doc_no.as_deref(),
        lead_unit: &i.lead_unit,
        target_date: i.target_date,
        status: i.status.as_str(),
    }
}
