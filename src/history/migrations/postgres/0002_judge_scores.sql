-- Each judge's score of each case's output, with the output's hash: the judge drift test
-- (src/judge_drift.rs) compares a judge's scores of outputs that did not change.
CREATE TABLE judge_scores (
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    judge TEXT NOT NULL,
    output_hash TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, case_id, judge)
);
