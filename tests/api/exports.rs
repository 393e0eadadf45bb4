//! Ledger exports (台账, SPEC §9): the file holds exactly the rows the list gives with the same
//! filters and order, in scope; Chinese text, commas, quotes and line breaks survive CSV and
//! XLSX (read back here); bad parameters are problem answers.

use serde_json::{json, Value};
use std::io::Cursor;

use crate::support::*;

const HAZARD_HEADER: [&str; 21] = [
    "序号",
    "隐患编号",
    "企业名称",
    "统一社会信用代码",
    "所属区县",
    "行业领域",
    "隐患描述",
    "隐患级别",
    "隐患来源",
    "发现日期",
    "整改责任人",
    "整改期限",
    "整改措施",
    "整改资金(万元)",
    "验收标准",
    "状态",
    "是否逾期",
    "逾期天数",
    "是否挂牌",
    "验收人",
    "销号日期",
];

/// The RFC 5987 `filename*` of a `Content-Disposition`, decoded.
fn utf8_filename(disposition: &str) -> Option<String> {
    let encoded = disposition.split("filename*=UTF-8''").nth(1)?;
    let encoded = encoded.split(';').next()?.trim();
    let bytes = encoded.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(encoded.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every page of a list, in order.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{sep}limit=2");
    loop {
        let r = app.get(token, &next).await;
        r.assert_status(200);
        items.extend(r.items().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}limit=2&cursor={c}"),
            None => return items,
        }
    }
}

/// A CSV answer's rows (the header first), after checking the byte-order mark.
pub(crate) fn csv_rows(r: &Resp) -> Vec<Vec<String>> {
    assert_eq!(&r.raw[..3], "\u{feff}".as_bytes(), "CSV starts with a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&r.raw[3..]);
    reader
        .records()
        .map(|rec| {
            rec.expect("CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// An XLSX answer's first sheet as text cells (the header first), and the sheet names.
pub(crate) fn xlsx_rows(r: &Resp) -> (Vec<String>, Vec<Vec<String>>) {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.raw.clone())).expect("an XLSX file");
    let names = book.sheet_names().to_vec();
    let range = book
        .worksheet_range(&names[0])
        .expect("the first sheet reads");
    let rows = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Bool(b) => b.to_string(),
                    // Excel's serial day number, counted from 1899-12-30.
                    Data::DateTime(d) => (chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
                        + chrono::Duration::days(d.as_f64() as i64))
                    .to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

struct Setup {
    admin: String,
    officer: String,
    sibling: String,
    auditor: String,
    ent: String,
    enterprise: i64,
    /// Hazard ids in creation order: four in 娄星区, one in 双峰县.
    ids: Vec<i64>,
}

async fn setup(app: &TestApp) -> Setup {
    app.set_now("2026-11-25T08:00:00Z");
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let other = app
        .enterprise(&admin, &uscc(2), "431321", "construction")
        .await;
    let (_, officer) = app
        .regulator(&admin, "lx.officer", "county_officer", "431302")
        .await;
    let (_, sibling) = app
        .regulator(&admin, "sf.officer", "county_officer", "431321")
        .await;
    let (_, auditor) = app.regulator(&admin, "auditor", "auditor", "431300").await;
    let (_, ent) = app
        .account(
            &admin,
            "ent.a",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    let (_, ent_b) = app
        .account(
            &admin,
            "ent.b",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    let mut ids = Vec::new();
    let tricky = [
        (
            "储罐区,报警器\"失效\"",
            "第一行\n第二行：可燃气体报警器失效",
        ),
        ("配电室未配置绝缘垫", "高压柜前未铺设绝缘垫"),
        ("消防通道堵塞", "堆放杂物"),
        ("安全出口锁闭", "夜间锁闭"),
    ];
    for (i, (title, description)) in tricky.iter().enumerate() {
        let mut body = five_fixes(
            hazard_body(Some(enterprise), "general", "2026-11-20"),
            if i == 0 { "2026-11-22" } else { "2026-12-20" },
        );
        body["title"] = json!(title);
        body["description"] = json!(description);
        let r = app.post(&admin, "/api/v1/hazards", &body).await;
        r.assert_status(201);
        ids.push(r.id());
    }
    let r = app
        .post(
            &admin,
            "/api/v1/hazards",
            &hazard_body(Some(other), "general", "2026-11-20"),
        )
        .await;
    r.assert_status(201);
    ids.push(r.id());
    // The second one is closed: submitted by one enterprise user, accepted by the other.
    app.upload(&ent, ids[1], "after", "after.png", png())
        .await
        .assert_status(201);
    app.act(
        &ent,
        ids[1],
        json!({"action": "submit_for_acceptance", "note": "已铺设"}),
    )
    .await
    .assert_status(200);
    app.act(&ent_b, ids[1], json!({"action": "accept", "note": "合格"}))
        .await
        .assert_status(200);
    Setup {
        admin,
        officer,
        sibling,
        auditor,
        ent,
        enterprise,
        ids,
    }
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|h| h["code"].as_str().unwrap().to_string())
        .collect()
}

both!(hazard_export_matches_the_list_in_csv_and_xlsx, |app| {
    let s = setup(app).await;
    let filters = "status=rectifying,closed&sort=-rectification_deadline";
    let listed = all_pages(app, &s.officer, &format!("/api/v1/hazards?{filters}")).await;
    assert_eq!(listed.len(), 4);

    let r = app
        .get(
            &s.officer,
            &format!("/api/v1/hazards/export?{filters}&format=csv"),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment")
            && disposition.contains("filename=\"hazards-2026-11-25.csv\"")
            && utf8_filename(&disposition).as_deref() == Some("隐患台账-2026-11-25.csv"),
        "{disposition}"
    );
    let rows = csv_rows(&r);
    assert_eq!(rows[0], HAZARD_HEADER);
    let body = &rows[1..];
    assert_eq!(body.len(), listed.len());
    let codes: Vec<String> = body.iter().map(|r| r[1].clone()).collect();
    assert_eq!(codes, ids_of(&listed), "same rows, same order");
    // Numbered from 1; the tricky text comes back whole.
    assert_eq!(body[0][0], "1");
    let first = body
        .iter()
        .find(|r| r[1] == listed.iter().find(|h| h["id"] == s.ids[0]).unwrap()["code"])
        .unwrap();
    assert_eq!(
        first[6],
        "储罐区,报警器\"失效\"：第一行\n第二行：可燃气体报警器失效"
    );
    assert_eq!(first[2], format!("测试企业 {}", uscc(1)));
    assert_eq!(first[3], uscc(1));
    assert_eq!(first[4], "娄星区");
    assert_eq!(first[7], "一般隐患");
    assert_eq!(first[8], "监管检查");
    assert_eq!(first[11], "2026-11-22");
    assert_eq!(first[13], "1.5");
    assert_eq!(first[15], "整改中");
    assert_eq!((first[16].as_str(), first[17].as_str()), ("是", "3"));
    let closed_code = listed.iter().find(|h| h["id"] == s.ids[1]).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let closed = body.iter().find(|r| r[1] == closed_code).unwrap();
    assert_eq!(closed[15], "已销号");
    assert_eq!(closed[19], "ent.b", "验收人 is who accepted");
    assert_eq!(closed[20], "2026-11-25");

    // The same rows as XLSX, read back.
    let r = app
        .get(
            &s.officer,
            &format!("/api/v1/hazards/export?{filters}&format=xlsx"),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("filename=\"hazards-2026-11-25.xlsx\""));
    let (sheets, xrows) = xlsx_rows(&r);
    assert_eq!(sheets, vec!["隐患台账".to_string()]);
    assert_eq!(xrows[0], HAZARD_HEADER);
    assert_eq!(xrows.len(), rows.len());
    for (x, c) in xrows.iter().zip(rows.iter()).skip(1) {
        assert_eq!(x[1], c[1]);
        assert_eq!(x[6], c[6], "Chinese text round-trips");
        assert_eq!(x[11], c[11], "dates are dates");
        assert_eq!(x[15], c[15]);
    }
});

both!(hazard_export_holds_scope_and_refuses_bad_input, |app| {
    let s = setup(app).await;
    let codes =
        |r: &Resp| -> Vec<String> { csv_rows(r)[1..].iter().map(|row| row[1].clone()).collect() };
    // Each caller gets what its own list gives.
    for token in [&s.admin, &s.officer, &s.sibling, &s.auditor, &s.ent] {
        let listed = all_pages(app, token, "/api/v1/hazards").await;
        let r = app.get(token, "/api/v1/hazards/export").await;
        r.assert_status(200);
        assert_eq!(codes(&r), ids_of(&listed));
    }
    let sibling = app.get(&s.sibling, "/api/v1/hazards/export").await;
    assert_eq!(codes(&sibling).len(), 1);
    let ent = app.get(&s.ent, "/api/v1/hazards/export").await;
    assert_eq!(codes(&ent).len(), 4);
    // Naming another county's jurisdiction finds nothing of it for an officer.
    let r = app
        .get(
            &s.sibling,
            "/api/v1/hazards/export?jurisdiction_code=431302",
        )
        .await;
    r.assert_status(200);
    assert!(codes(&r).is_empty());
    // No rows: the header alone.
    let r = app
        .get(&s.officer, "/api/v1/hazards/export?q=不存在的词")
        .await;
    r.assert_status(200);
    assert_eq!(csv_rows(&r), vec![HAZARD_HEADER.map(String::from).to_vec()]);
    let r = app
        .get(
            &s.officer,
            "/api/v1/hazards/export?q=不存在的词&format=xlsx",
        )
        .await;
    r.assert_status(200);
    assert_eq!(xlsx_rows(&r).1.len(), 1);
    // Search, enterprise and updated_since filters apply as in the list.
    let r = app
        .get(
            &s.officer,
            &format!(
                "/api/v1/hazards/export?q={}&enterprise_id={}&updated_since=2026-11-01T00:00:00Z",
                query_value("报警器"),
                s.enterprise
            ),
        )
        .await;
    r.assert_status(200);
    assert_eq!(codes(&r).len(), 1);

    // Bad input is a problem answer.
    app.get("", "/api/v1/hazards/export")
        .await
        .assert_problem(401, "unauthorized");
    for bad in [
        "format=pdf",
        "limit=10",
        "cursor=abc",
        "colour=red",
        "status=bogus",
        "sort=title",
        "updated_since=yesterday",
        "format=csv%00",
    ] {
        app.get(&s.officer, &format!("/api/v1/hazards/export?{bad}"))
            .await
            .assert_problem(400, "invalid_query");
    }
    app.get(
        &s.officer,
        "/api/v1/hazards/export?jurisdiction_code=999999",
    )
    .await
    .assert_problem(422, "validation_failed");
    // Another method on the export is 405, though `/hazards/{id}` takes PATCH.
    let r = app
        .patch(&s.admin, "/api/v1/hazards/export", None, &json!({}))
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
});

// The listed-supervision ledger and the two lists export like the hazard ledger: the same rows
// as their lists, in scope (the lists refuse enterprise accounts with 404), in CSV and XLSX.
both!(listing_and_list_exports_match_their_lists, |app| {
    app.set_now("2026-11-25T08:00:00Z");
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let (_, lx_admin) = app
        .regulator(&admin, "lx.admin", "county_admin", "431302")
        .await;
    let (_, sf_admin) = app
        .regulator(&admin, "sf.admin", "county_admin", "431321")
        .await;
    let (_, ent) = app
        .account(
            &admin,
            "ent.user",
            "enterprise",
            json!({"enterprise_id": enterprise}),
        )
        .await;
    let mut hazards = Vec::new();
    for _ in 0..3 {
        let body = major_documents(five_fixes(
            hazard_body(Some(enterprise), "major", "2026-11-20"),
            "2026-12-20",
        ));
        let r = app.post(&lx_admin, "/api/v1/hazards", &body).await;
        r.assert_status(201);
        hazards.push(r.id());
    }
    for (i, h) in hazards.iter().enumerate() {
        let deadline = if i == 0 { "2026-11-26" } else { "2026-12-31" };
        app.post(
            &lx_admin,
            "/api/v1/listings",
            &json!({
                "hazard_id": h, "level": "county", "notice_no": format!("娄星安委办督〔2026〕{i}号"),
                "requirements": "限期整改，每周报送进展", "responsible_unit": "华兴化工",
                "deadline": deadline
            }),
        )
        .await
        .assert_status(201);
    }
    // The first listing's deadline passes.
    app.set_now("2026-11-28T08:00:00Z");
    let listed = all_pages(app, &lx_admin, "/api/v1/listings").await;
    let r = app
        .get(&lx_admin, "/api/v1/listings/export?format=csv")
        .await;
    r.assert_status(200);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("filename=\"listings-2026-11-28.csv\""));
    let rows = csv_rows(&r);
    assert_eq!(rows[0][..4], ["序号", "督办文号", "隐患编号", "隐患名称"]);
    assert_eq!(rows.len(), listed.len() + 1);
    assert_eq!(rows[1][1], "娄星安委办督〔2026〕0号");
    assert_eq!(rows[1][8], "县级");
    assert_eq!(rows[1][9], "娄星区");
    assert_eq!(rows[1][14], "挂牌督办中");
    assert_eq!(rows[1][15], "是", "past its deadline");
    assert_eq!(rows[2][15], "否");
    let (sheets, xrows) = xlsx_rows(
        &app.get(
            &lx_admin,
            "/api/v1/listings/export?format=xlsx&overdue=false",
        )
        .await,
    );
    assert_eq!(sheets, vec!["挂牌督办台账".to_string()]);
    assert_eq!(xrows.len(), 3, "the header and the two not overdue");
    assert_eq!(xrows[1][1], "娄星安委办督〔2026〕1号");
    // Another county sees none; the enterprise sees its own.
    assert_eq!(
        csv_rows(&app.get(&sf_admin, "/api/v1/listings/export").await).len(),
        1
    );
    assert_eq!(
        csv_rows(&app.get(&ent, "/api/v1/listings/export").await).len(),
        4
    );

    // The two lists.
    let problem = app
        .post(
            &lx_admin,
            "/api/v1/problem-items",
            &json!({
                "owner_jurisdiction_code": "431302", "sector_code": "hazardous_chemicals",
                "title": "加油站油气回收装置失修", "description": "5 座加油站，\"装置\"失效",
                "responsible_unit": "区应急管理局", "deadline": "2026-12-31",
                "hazard_ids": [hazards[0], hazards[1]]
            }),
        )
        .await;
    problem.assert_status(201);
    app.post(
        &lx_admin,
        "/api/v1/measure-items",
        &json!({
            "owner_jurisdiction_code": "431302", "title": "油气回收装置定期检测制度",
            "kind": "normative_document", "doc_no": "娄星应急〔2026〕7号",
            "lead_unit": "区应急管理局", "target_date": "2026-12-31",
            "problem_ids": [problem.id()]
        }),
    )
    .await
    .assert_status(201);
    let rows = csv_rows(&app.get(&lx_admin, "/api/v1/problem-items/export").await);
    assert_eq!(
        rows,
        vec![
            [
                "序号",
                "编号",
                "清单单位",
                "行业领域",
                "问题隐患",
                "具体描述",
                "责任单位",
                "整改时限",
                "状态",
                "关联隐患数"
            ]
            .map(String::from)
            .to_vec(),
            [
                "1",
                &problem.id().to_string(),
                "娄星区",
                "危险化学品",
                "加油站油气回收装置失修",
                "5 座加油站，\"装置\"失效",
                "区应急管理局",
                "2026-12-31",
                "未整改",
                "2"
            ]
            .map(String::from)
            .to_vec(),
        ]
    );
    let (sheets, xrows) = xlsx_rows(
        &app.get(&lx_admin, "/api/v1/measure-items/export?format=xlsx")
            .await,
    );
    assert_eq!(sheets, vec!["制度措施清单".to_string()]);
    assert_eq!(xrows.len(), 2);
    assert_eq!(
        xrows[1][2..],
        [
            "娄星区",
            "油气回收装置定期检测制度",
            "规范性文件",
            "娄星应急〔2026〕7号",
            "区应急管理局",
            "2026-12-31",
            "计划制定",
            "1"
        ]
    );
    // Out of reach: another county's list is empty; enterprises have no lists (404).
    assert_eq!(
        csv_rows(&app.get(&sf_admin, "/api/v1/problem-items/export").await).len(),
        1
    );
    app.get(&ent, "/api/v1/problem-items/export")
        .await
        .assert_problem(404, "not_found");
    app.get(&ent, "/api/v1/measure-items/export?format=xlsx")
        .await
        .assert_problem(404, "not_found");
    app.get(&lx_admin, "/api/v1/problem-items/export?status=bogus")
        .await
        .assert_problem(400, "invalid_query");
});
