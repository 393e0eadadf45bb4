-- A second factor for administrators (TOTP, RFC 6238) with one-time recovery codes. A session
-- records whether its login passed the second factor; with HAZREG_ADMIN_TOTP=required an
-- administrator's session without it may only enrol. Old binaries ignore all three (their
-- sessions count as without a second factor).
CREATE TABLE account_totp (
    account_id   BIGINT PRIMARY KEY REFERENCES accounts (id),
    secret       TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL
);
CREATE TABLE account_recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMP,
    PRIMARY KEY (account_id, code_hash)
);
ALTER TABLE sessions ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;
