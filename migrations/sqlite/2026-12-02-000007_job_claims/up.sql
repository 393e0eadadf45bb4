-- Background jobs are claimed per time slot: the node whose insert wins runs the job for that
-- slot, every other node skips it, so several nodes never run one slot twice.
CREATE TABLE job_claims (
    job        TEXT NOT NULL,
    slot       BIGINT NOT NULL,
    node       TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (job, slot)
);
