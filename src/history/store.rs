//! `Store`: the history database behind one interface, SQLite or PostgreSQL through sqlx's
//! `Any` driver, with the versioned migrations of `src/history/migrations/<backend>/`.
//!
//! One SQL text serves both backends (`$N` parameters, `RETURNING`, plain column types); only
//! the first migration differs (an auto-increment key). Booleans and times are stored as
//! integers so both read back alike.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;

use crate::judge_drift::JudgeScore;
use sqlx::{AnyPool, Executor, Row};

use crate::history::location::Location;
use crate::history::record::{CaseRecord, RunRecord};
use crate::results::summary::Summary;
use crate::verdict::CaseStatus;

static SQLITE: Migrator = sqlx::migrate!("src/history/migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("src/history/migrations/postgres");

/// How long a SQLite writer waits for another process's transaction before giving up: two CI
/// jobs recording at once wait in turn instead of failing.
const SQLITE_BUSY_MS: u64 = 30_000;

/// Why the history could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[error("history {location}: {kind}")]
pub struct StoreError {
    pub location: String,
    pub kind: StoreErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreErrorKind {
    #[error("cannot create the folder: {0}")]
    Folder(std::io::Error),
    #[error("cannot connect: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the schema: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("{0}")]
    Query(sqlx::Error),
    #[error("a stored row is malformed: {0}")]
    Row(String),
}

/// Which runs to read.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub branch: Option<String>,
    /// Unix seconds: runs that started at or after.
    pub since: Option<i64>,
    /// The most recent N (after the other filters).
    pub last: Option<u32>,
}

pub struct Store {
    pool: AnyPool,
    location: String,
}

impl Store {
    /// Connects (creating a SQLite file and its folder when missing) and brings the schema up
    /// to date.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = location.display();
        let err = |kind| StoreError {
            location: shown.clone(),
            kind,
        };
        let (url, migrator, sqlite) = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| err(StoreErrorKind::Folder(e)))?;
                }
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    &SQLITE,
                    true,
                )
            }
            Location::Postgres(url) => (url.clone(), &POSTGRES, false),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 1 } else { 4 })
            .acquire_timeout(Duration::from_secs(60))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL: readers never block the writer; the busy timeout makes a
                        // second writer wait its turn.
                        conn.execute(
                            format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| err(StoreErrorKind::Connect(e)))?;
        // Two processes opening a new store at once may both try the first migration; the
        // loser fails on the winner's tables, and a second pass then finds them applied.
        let mut attempt = 0;
        loop {
            match migrator.run(&pool).await {
                Ok(()) => break,
                Err(_) if attempt < 3 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(err(StoreErrorKind::Migrate(e))),
            }
        }
        Ok(Store {
            pool,
            location: shown,
        })
    }

    fn err(&self, kind: StoreErrorKind) -> StoreError {
        StoreError {
            location: self.location.clone(),
            kind,
        }
    }

    fn query_err(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |e| self.err(StoreErrorKind::Query(e))
    }

    /// Records a run and its cases in one transaction; returns the run's id.
    pub async fn record(&self, run: &RunRecord) -> Result<i64, StoreError> {
        let q = self.query_err();
        let summary = serde_json::to_string(&run.summary)
            .map_err(|e| self.err(StoreErrorKind::Row(e.to_string())))?;
        let models = serde_json::to_string(&run.models)
            .map_err(|e| self.err(StoreErrorKind::Row(e.to_string())))?;
        let mut tx = self.pool.begin().await.map_err(&q)?;
        // The first statement writes, so SQLite takes the write lock at once (waiting out the
        // busy timeout) rather than upgrading a read transaction, which could fail outright.
        let row = sqlx::query(
            "INSERT INTO runs (suite, started_at, git_commit, git_branch, target, models, incomplete, \
             gate_passed, total, passed, pass_rate, input_tokens, output_tokens, cost_usd, summary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(&run.suite)
        .bind(run.started_at)
        .bind(run.commit.clone())
        .bind(run.branch.clone())
        .bind(&run.target)
        .bind(models)
        .bind(run.incomplete.clone())
        .bind(i64::from(run.gate_passed))
        .bind(run.summary.total as i64)
        .bind((run.summary.passed + run.summary.soft_failed) as i64)
        .bind(run.summary.pass_rate)
        .bind(run.summary.usage.input_tokens as i64)
        .bind(run.summary.usage.output_tokens as i64)
        .bind(run.cost_usd)
        .bind(summary)
        .fetch_one(&mut *tx)
        .await
        .map_err(&q)?;
        let id: i64 = row.try_get(0).map_err(&q)?;
        for c in &run.cases {
            let json = |v: &Vec<String>| {
                serde_json::to_string(v).map_err(|e| self.err(StoreErrorKind::Row(e.to_string())))
            };
            let (tags, tools) = (json(&c.tags)?, json(&c.tools)?);
            sqlx::query(
                "INSERT INTO cases (run_id, case_id, tags, status, score, runs, passes, \
                 input_tokens, output_tokens, cost_usd, latency_ms, tools) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(&c.id)
            .bind(tags)
            .bind(c.status.as_str())
            .bind(c.score)
            .bind(i64::from(c.runs))
            .bind(i64::from(c.passes))
            .bind(c.input_tokens as i64)
            .bind(c.output_tokens as i64)
            .bind(c.cost_usd)
            .bind(c.latency_ms.map(|l| l as i64))
            .bind(tools)
            .execute(&mut *tx)
            .await
            .map_err(&q)?;
        }
        for s in &run.judge_scores {
            sqlx::query(
                "INSERT INTO judge_scores (run_id, case_id, judge, output_hash, score) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&s.case_id)
            .bind(&s.judge)
            .bind(&s.output_hash)
            .bind(s.score)
            .execute(&mut *tx)
            .await
            .map_err(&q)?;
        }
        tx.commit().await.map_err(&q)?;
        Ok(id)
    }

    /// The runs of `suite` that pass `filter`, oldest first, each with its cases.
    pub async fn runs(
        &self,
        suite: &str,
        filter: &RunFilter,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let q = self.query_err();
        // Newest first to apply `last`, then reversed: a table and a trend read oldest first.
        let rows = sqlx::query(
            "SELECT id, suite, started_at, git_commit, git_branch, target, models, incomplete, \
             gate_passed, cost_usd, summary FROM runs \
             WHERE suite = $1 AND ($2 = '' OR git_branch = $2) AND started_at >= $3 \
             ORDER BY started_at DESC, id DESC LIMIT $4",
        )
        .bind(suite)
        .bind(filter.branch.clone().unwrap_or_default())
        .bind(filter.since.unwrap_or(i64::MIN))
        .bind(filter.last.map_or(i64::MAX, i64::from))
        .fetch_all(&self.pool)
        .await
        .map_err(&q)?;
        let mut runs = rows
            .iter()
            .map(|r| self.run_row(r))
            .collect::<Result<Vec<_>, _>>()?;
        runs.reverse();
        for run in &mut runs {
            let rows = sqlx::query(
                "SELECT case_id, tags, status, score, runs, passes, input_tokens, output_tokens, \
                 cost_usd, latency_ms, tools FROM cases WHERE run_id = $1 ORDER BY case_id",
            )
            .bind(run.id)
            .fetch_all(&self.pool)
            .await
            .map_err(&q)?;
            run.cases = rows
                .iter()
                .map(|r| self.case_row(r))
                .collect::<Result<Vec<_>, _>>()?;
            let rows = sqlx::query(
                "SELECT case_id, judge, output_hash, score FROM judge_scores \
                 WHERE run_id = $1 ORDER BY case_id, judge",
            )
            .bind(run.id)
            .fetch_all(&self.pool)
            .await
            .map_err(&q)?;
            run.judge_scores = rows
                .iter()
                .map(|r| {
                    Ok(JudgeScore {
                        case_id: r.try_get("case_id")?,
                        judge: r.try_get("judge")?,
                        output_hash: r.try_get("output_hash")?,
                        score: r.try_get("score")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(&q)?;
        }
        Ok(runs)
    }

    fn run_row(&self, r: &AnyRow) -> Result<RunRecord, StoreError> {
        let q = self.query_err();
        let bad = |e: serde_json::Error| self.err(StoreErrorKind::Row(e.to_string()));
        let models: String = r.try_get("models").map_err(&q)?;
        let summary: String = r.try_get("summary").map_err(&q)?;
        let summary: Summary = serde_json::from_str(&summary).map_err(bad)?;
        Ok(RunRecord {
            id: r.try_get("id").map_err(&q)?,
            suite: r.try_get("suite").map_err(&q)?,
            started_at: r.try_get("started_at").map_err(&q)?,
            commit: r.try_get("git_commit").map_err(&q)?,
            branch: r.try_get("git_branch").map_err(&q)?,
            target: r.try_get("target").map_err(&q)?,
            models: serde_json::from_str(&models).map_err(bad)?,
            incomplete: r.try_get("incomplete").map_err(&q)?,
            gate_passed: r.try_get::<i64, _>("gate_passed").map_err(&q)? != 0,
            summary,
            cost_usd: r.try_get("cost_usd").map_err(&q)?,
            cases: Vec::new(),
            judge_scores: Vec::new(),
        })
    }

    fn case_row(&self, r: &AnyRow) -> Result<CaseRecord, StoreError> {
        let q = self.query_err();
        let tags: String = r.try_get("tags").map_err(&q)?;
        let tools: String = r.try_get("tools").map_err(&q)?;
        let json = |s: &str| -> Result<Vec<String>, StoreError> {
            serde_json::from_str(s).map_err(|e| self.err(StoreErrorKind::Row(e.to_string())))
        };
        let status: String = r.try_get("status").map_err(&q)?;
        let status: CaseStatus = serde_json::from_value(serde_json::Value::String(status))
            .map_err(|e| self.err(StoreErrorKind::Row(e.to_string())))?;
        let int = |name: &str| -> Result<i64, StoreError> { r.try_get(name).map_err(&q) };
        Ok(CaseRecord {
            id: r.try_get("case_id").map_err(&q)?,
            tags: json(&tags)?,
            tools: json(&tools)?,
            status,
            score: r.try_get("score").map_err(&q)?,
            runs: int("runs")? as u32,
            passes: int("passes")? as u32,
            input_tokens: int("input_tokens")? as u64,
            output_tokens: int("output_tokens")? as u64,
            cost_usd: r.try_get("cost_usd").map_err(&q)?,
            latency_ms: r
                .try_get::<Option<i64>, _>("latency_ms")
                .map_err(&q)?
                .map(|l| l as u64),
        })
    }

    /// Closes the connections (and so SQLite's WAL is checkpointed by the last one out).
    pub async fn close(self) {
        self.pool.close().await;
    }
}
