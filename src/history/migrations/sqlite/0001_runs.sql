-- One row per recorded run, one per case of it. Times are unix seconds (UTC).
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suite TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    target TEXT NOT NULL,
    models TEXT NOT NULL,
    incomplete TEXT,
    gate_passed BIGINT NOT NULL,
    total BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    pass_rate DOUBLE PRECISION NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION,
    summary TEXT NOT NULL
);
CREATE INDEX runs_suite_time ON runs (suite, started_at);

CREATE TABLE cases (
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    tags TEXT NOT NULL,
    status TEXT NOT NULL,
    score DOUBLE PRECISION,
    runs BIGINT NOT NULL,
    passes BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION,
    latency_ms BIGINT,
    tools TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id)
);
