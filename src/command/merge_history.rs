//! `merge --history`: the run history of a sharded run, recorded once, whole. What the shards'
//! `meta.json` say about the run (start, models, judge checks, slice), the drift test of the
//! merged cases and the record, on a runtime of its own (`merge` is otherwise synchronous).

use std::collections::BTreeSet;
use std::path::Path;

use crate::command::history_record::HistoryHook;
use crate::drift::Drift;
use crate::history::location::Location;
use crate::history::record::LatencyLog;
use crate::results::case_result::CaseResult;
use crate::results::run_report::{Meta, RunReport};

/// What the shards' `meta.json` say about the whole run: it started when the first shard did,
/// with every model and judge check any shard had; shards of a `--filter`/`--tag` slice join
/// into that slice.
pub(crate) fn shards_meta(metas: &[Meta]) -> Meta {
    let union = |f: fn(&Meta) -> &Vec<String>| -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for m in metas {
            for v in f(m) {
                if !all.contains(v) {
                    all.push(v.clone());
                }
            }
        }
        all
    };
    Meta {
        started_at: metas.iter().filter_map(|m| m.started_at).min(),
        models: union(|m| &m.models),
        judges: union(|m| &m.judges),
        slice: metas.iter().find_map(|m| m.slice.clone()),
        ..Meta::default()
    }
}

/// The run history of a merged run (`merge --history`): its store, on a runtime of its own,
/// and the suite's judge checks (from the shards' `meta.json`).
pub(crate) struct MergedHistory {
    runtime: tokio::runtime::Runtime,
    hook: HistoryHook,
    judges: BTreeSet<String>,
}

impl MergedHistory {
    /// `Ok(None)`: the store could not be opened (a warning, as for `eval --history`).
    pub(crate) fn open(location: &Location, meta: &Meta) -> std::io::Result<Option<MergedHistory>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let started_at = meta
            .started_at
            .unwrap_or_else(crate::history::time::now_unix);
        // Merged where the shards' reports were gathered: git is asked here.
        let hook = runtime
            .block_on(HistoryHook::open(location, Path::new("."), started_at))
            .map(|h| h.with_slice(meta.slice.clone()));
        Ok(hook.map(|hook| MergedHistory {
            runtime,
            hook,
            judges: meta.judges.iter().cloned().collect(),
        }))
    }

    /// The merged run's drift over the history (the gate judges it by the suite's
    /// `max_drift`, which the shards kept in their gates).
    pub(crate) fn drift(
        &self,
        suite: &str,
        cases: &[CaseResult],
        latencies: &LatencyLog,
    ) -> Option<Drift> {
        let drift = self.hook.drift(suite, cases, latencies, &self.judges);
        self.runtime.block_on(drift)
    }

    /// Records the merged run with its cases' latencies; a failure is a warning.
    pub(crate) fn record(self, report: &RunReport, meta: &Meta, latencies: LatencyLog) {
        let models = meta.models.clone();
        let recorded = self.hook.record(report, models, latencies, &self.judges);
        self.runtime.block_on(recorded);
    }
}
