//! Hand-written, portable schema (the same on PostgreSQL and SQLite).

diesel::table! {
    jurisdictions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        path -> Text,
        updated_at -> Timestamp,
        city_code -> Nullable<Text>,
        county_code -> Nullable<Text>,
    }
}

diesel::table! {
    sectors (code) {
        code -> Text,
        name -> Text,
        high_risk -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    departments (id) {
        id -> BigInt,
        name -> Text,
        jurisdiction_code -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    department_sectors (department_id, sector_code) {
        department_id -> BigInt,
        sector_code -> Text,
    }
}

diesel::table! {
    enterprises (id) {
        id -> BigInt,
        uscc -> Text,
        name -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        address -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        principal_name -> Nullable<Text>,
        principal_phone -> Nullable<Text>,
        employees -> Integer,
        annual_revenue_10k_yuan -> Double,
        safety_director_name -> Nullable<Text>,
        safety_director_phone -> Nullable<Text>,
        safety_director_appointed_on -> Nullable<Date>,
        risk_level -> Nullable<Text>,
        standardization_grade -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        city_code -> Text,
        county_code -> Text,
        computed_risk_level -> Nullable<Text>,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        jurisdiction_code -> Nullable<Text>,
        department_id -> Nullable<BigInt>,
        enterprise_id -> Nullable<BigInt>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        second_factor -> Bool,
    }
}

diesel::table! {
    account_totp (account_id) {
        account_id -> BigInt,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    account_recovery_codes (account_id, code_hash) {
        account_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        location -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_claims (job, slot) {
        job -> Text,
        slot -> BigInt,
        node -> Text,
        claimed_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        changes -> Text,
        request_id -> Nullable<Text>,
        jurisdiction_path -> Nullable<Text>,
        city_code -> Nullable<Text>,
        county_code -> Nullable<Text>,
        jurisdiction_code -> Nullable<Text>,
        chain_pos -> Nullable<BigInt>,
        chain_hash -> Nullable<Text>,
    }
}

diesel::joinable!(departments -> jurisdictions (jurisdiction_code));
diesel::joinable!(department_sectors -> departments (department_id));
diesel::joinable!(enterprises -> jurisdictions (jurisdiction_code));
diesel::joinable!(accounts -> enterprises (enterprise_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(account_totp -> accounts (account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::table! {
    hazard_code_counters (prefix) {
        prefix -> Text,
        last_value -> Integer,
    }
}

diesel::table! {
    hazards (id) {
        id -> BigInt,
        code -> Text,
        enterprise_id -> BigInt,
        jurisdiction_code -> Text,
        county_code -> Text,
        sector_code -> Text,
        title -> Text,
        description -> Text,
        location -> Nullable<Text>,
        level -> Text,
        source -> Text,
        nature -> Nullable<Text>,
        standard_ref -> Nullable<Text>,
        major_reason -> Nullable<Text>,
        discovered_on -> Date,
        responsible_person -> Nullable<Text>,
        rectification_deadline -> Nullable<Date>,
        deadline_key -> Date,
        measures -> Nullable<Text>,
        funds_10k_yuan -> Nullable<Double>,
        acceptance_criteria -> Nullable<Text>,
        major_report -> Nullable<Text>,
        governance_plan -> Nullable<Text>,
        rectification_note -> Nullable<Text>,
        status -> Text,
        listed -> Bool,
        reported_by -> BigInt,
        submitted_by -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        city_code -> Text,
        public_report_id -> Nullable<BigInt>,
        check_record_id -> Nullable<BigInt>,
        control_measure_id -> Nullable<BigInt>,
        risk_unit_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    deadline_extensions (id) {
        id -> BigInt,
        subject_type -> Text,
        subject_id -> BigInt,
        old_deadline -> Nullable<Date>,
        new_deadline -> Date,
        reason -> Text,
        status -> Text,
        requested_by -> BigInt,
        requested_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        hazard_id -> Nullable<BigInt>,
        sha256 -> Text,
        content_type -> Text,
        size -> BigInt,
        stage -> Text,
        file_name -> Nullable<Text>,
        uploaded_by -> BigInt,
        created_at -> Timestamp,
        staged_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(hazards -> enterprises (enterprise_id));
diesel::joinable!(attachments -> hazards (hazard_id));

diesel::table! {
    listings (id) {
        id -> BigInt,
        hazard_id -> BigInt,
        level -> Text,
        authority_code -> Text,
        notice_no -> Text,
        requirements -> Text,
        responsible_unit -> Text,
        deadline -> Date,
        status -> Text,
        enterprise_id -> BigInt,
        jurisdiction_code -> Text,
        sector_code -> Text,
        listed_by -> BigInt,
        listed_at -> Timestamp,
        delisted_by -> Nullable<BigInt>,
        delisted_at -> Nullable<Timestamp>,
        delisting_note -> Nullable<Text>,
        cancelled_by -> Nullable<BigInt>,
        cancelled_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        city_code -> Text,
        county_code -> Text,
    }
}

diesel::table! {
    problem_items (id) {
        id -> BigInt,
        owner_jurisdiction_code -> Text,
        owner_city_code -> Text,
        owner_county_code -> Text,
        department_id -> Nullable<BigInt>,
        sector_code -> Nullable<Text>,
        title -> Text,
        description -> Text,
        responsible_unit -> Text,
        deadline -> Date,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    problem_item_hazards (problem_item_id, hazard_id) {
        problem_item_id -> BigInt,
        hazard_id -> BigInt,
    }
}

diesel::table! {
    measure_items (id) {
        id -> BigInt,
        owner_jurisdiction_code -> Text,
        owner_city_code -> Text,
        owner_county_code -> Text,
        department_id -> Nullable<BigInt>,
        title -> Text,
        kind -> Text,
        doc_no -> Nullable<Text>,
        lead_unit -> Text,
        target_date -> Date,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    measure_item_problems (measure_item_id, problem_item_id) {
        measure_item_id -> BigInt,
        problem_item_id -> BigInt,
    }
}

diesel::table! {
    list_submissions (id) {
        id -> BigInt,
        owner_jurisdiction_code -> Text,
        owner_city_code -> Text,
        owner_county_code -> Text,
        department_id -> Nullable<BigInt>,
        period -> Text,
        status -> Text,
        content -> Text,
        content_sha256 -> Text,
        submitted_by -> BigInt,
        submitted_at -> Timestamp,
        reviewed_by -> Nullable<BigInt>,
        reviewed_at -> Nullable<Timestamp>,
        review_opinion -> Nullable<Text>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    login_throttle,
    account_totp,
    account_recovery_codes,
    jurisdictions,
    sectors,
    departments,
    department_sectors,
    enterprises,
    accounts,
    sessions,
    refresh_tokens,
    idempotency_keys,
    audit_events,
    hazard_code_counters,
    hazards,
    deadline_extensions,
    attachments,
    listings,
    problem_items,
    problem_item_hazards,
    measure_items,
    measure_item_problems,
    list_submissions,
    events,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    reminders,
    quarterly_reports,
    public_reports,
    public_report_photos,
    risk_units,
    risk_events,
    risk_assessments,
    control_measures,
    inspection_tasks,
    inspection_task_measures,
    inspection_slots,
    check_records,
    check_results,
);

diesel::table! {
    /// Deadline reminders and escalations (migration 000022, `db::reminders`).
    reminders (id) {
        id -> BigInt,
        kind -> Text,
        subject_type -> Text,
        subject_id -> BigInt,
        subject_code -> Text,
        deadline -> Date,
        fire_on -> Date,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        enterprise_id -> BigInt,
        sector_code -> Text,
        acknowledged_by -> Nullable<BigInt>,
        acknowledged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Subscriptions to the change feed (migration 000019, `db::webhooks`).
    webhooks (id) {
        id -> BigInt,
        owner_id -> BigInt,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Integer,
        cursor_tx -> BigInt,
        cursor_id -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        subject_key -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        delivery_id -> BigInt,
        event_id -> BigInt,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        response_excerpt -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    /// The change feed's outbox (migration 000018, `db::events`).
    events (id) {
        id -> BigInt,
        tx -> BigInt,
        #[sql_name = "type"]
        event_type -> Text,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        subject_type -> Text,
        subject_id -> BigInt,
        audience -> Text,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        enterprise_id -> Nullable<BigInt>,
        sector_code -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    event_horizon (id) {
        id -> Integer,
        tx -> BigInt,
        event_id -> BigInt,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One row per tally on SQLite; on PostgreSQL one per tally and writing session (`slot`,
    /// migration 000012), summed by every reader.
    hazard_tallies (jurisdiction_code, sector_code, level, source, month, slot) {
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        level -> Text,
        source -> Text,
        month -> Text,
        slot -> Integer,
        found -> BigInt,
        closed -> BigInt,
        listed -> BigInt,
        delisted -> BigInt,
        extensions_granted -> BigInt,
    }
}

diesel::table! {
    /// Quarterly hazard statistics reports (migration 000023, `db::quarterly`).
    quarterly_reports (id) {
        id -> BigInt,
        enterprise_id -> BigInt,
        year -> Integer,
        quarter -> Integer,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        signed_by -> Text,
        found -> BigInt,
        found_major -> BigInt,
        rectified -> BigInt,
        rectified_major -> BigInt,
        overdue -> BigInt,
        funds_10k_yuan -> Double,
        earlier_open -> BigInt,
        due_on -> Date,
        late -> Bool,
        content -> Text,
        content_sha256 -> Text,
        submitted_by -> BigInt,
        submitted_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Public reports (举报, migration 000024, `db::public_reports`).
    public_reports (id) {
        id -> BigInt,
        tracking_code -> Text,
        secret_sha256 -> Text,
        status -> Text,
        description -> Text,
        location -> Nullable<Text>,
        enterprise_name -> Nullable<Text>,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        reply -> Nullable<Text>,
        enterprise_id -> Nullable<BigInt>,
        hazard_id -> Nullable<BigInt>,
        dismiss_reason -> Nullable<Text>,
        outcome -> Nullable<Text>,
        outcome_note -> Nullable<Text>,
        fine_yuan -> Nullable<BigInt>,
        reward_yuan -> Nullable<BigInt>,
        handled_by -> Nullable<BigInt>,
        handled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Photos sent with a public report (migration 000024).
    public_report_photos (id) {
        id -> BigInt,
        report_id -> BigInt,
        sha256 -> Text,
        content_type -> Text,
        size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Risk analysis units (风险分析单元, migration 000025, `db::risk`).
    risk_units (id) {
        id -> BigInt,
        uuid -> Text,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        name -> Text,
        location -> Nullable<Text>,
        department -> Nullable<Text>,
        responsible_person -> Nullable<Text>,
        longitude -> Nullable<Double>,
        latitude -> Nullable<Double>,
        major_hazard_source -> Bool,
        principal_person -> Nullable<Text>,
        technical_person -> Nullable<Text>,
        operating_person -> Nullable<Text>,
        risk_level -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Risk events (风险事件, migration 000025).
    risk_events (id) {
        id -> BigInt,
        uuid -> Text,
        unit_id -> BigInt,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        name -> Text,
        description -> Nullable<Text>,
        method -> Text,
        l -> Double,
        s -> Nullable<Double>,
        e -> Nullable<Double>,
        c -> Nullable<Double>,
        score -> Double,
        level -> Text,
        assessed_by -> BigInt,
        assessed_on -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Every assessment of a risk event (migration 000025).
    risk_assessments (id) {
        id -> BigInt,
        event_id -> BigInt,
        method -> Text,
        l -> Double,
        s -> Nullable<Double>,
        e -> Nullable<Double>,
        c -> Nullable<Double>,
        score -> Double,
        level -> Text,
        assessed_by -> BigInt,
        assessed_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Control measures (管控措施, migration 000025).
    control_measures (id) {
        id -> BigInt,
        uuid -> Text,
        event_id -> BigInt,
        unit_id -> BigInt,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        description -> Text,
        classification -> Text,
        tier -> Text,
        responsible_account_id -> Nullable<BigInt>,
        responsible_person -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Inspection tasks (排查任务, migration 000026, `db::inspections`).
    inspection_tasks (id) {
        id -> BigInt,
        uuid -> Text,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        name -> Text,
        assignee_account_id -> Nullable<BigInt>,
        assignee_post -> Nullable<Text>,
        cycle_unit -> Text,
        cycle_every -> Integer,
        working_days_only -> Bool,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    inspection_task_measures (task_id, measure_id) {
        task_id -> BigInt,
        measure_id -> BigInt,
    }
}

diesel::table! {
    /// A task's due slots (migration 000026).
    inspection_slots (id) {
        id -> BigInt,
        task_id -> BigInt,
        seq -> Integer,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        record_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Check records (排查记录, migration 000026).
    check_records (id) {
        id -> BigInt,
        uuid -> Text,
        slot_id -> BigInt,
        task_id -> BigInt,
        enterprise_id -> BigInt,
        city_code -> Text,
        county_code -> Text,
        jurisdiction_code -> Text,
        sector_code -> Text,
        checked_by -> BigInt,
        checked_at -> Timestamp,
        failed -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    check_results (record_id, measure_id) {
        record_id -> BigInt,
        measure_id -> BigInt,
        ok -> Bool,
        note -> Nullable<Text>,
        hazard_id -> Nullable<BigInt>,
    }
}
