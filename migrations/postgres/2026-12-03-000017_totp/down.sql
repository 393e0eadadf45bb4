ALTER TABLE sessions DROP COLUMN second_factor;
DROP TABLE account_recovery_codes;
DROP TABLE account_totp;
