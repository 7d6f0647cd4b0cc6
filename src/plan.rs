//! `Plan`: which cases of a suite run, after `--filter` and `--tag`.

use std::collections::BTreeSet;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::shard::Shard;
use crate::suite::model::Case;

/// The user's selection. Empty lists select everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// Case id globs (`refund-*`); a case matching any is selected.
    pub filters: Vec<String>,
    /// Tags; a case carrying any is selected.
    pub tags: Vec<String>,
    /// `--shard K/N`: only this slice of the cases.
    pub shard: Option<Shard>,
}

/// A `--filter` that is not a glob: a usage error naming it.
#[derive(Debug, thiserror::Error)]
#[error("invalid --filter{}: {source}", .filter.as_ref().map(|f| format!(" `{f}`")).unwrap_or_default())]
pub(crate) struct FilterError {
    filter: Option<String>,
    source: globset::Error,
}

impl Selection {
    /// Compiles the globs; a bad glob is a usage error naming it.
    pub(crate) fn compile(&self) -> Result<CompiledSelection, FilterError> {
        let mut builder = GlobSetBuilder::new();
        for f in &self.filters {
            builder.add(Glob::new(f).map_err(|source| FilterError {
                filter: Some(f.clone()),
                source,
            })?);
        }
        let globs = builder.build().map_err(|source| FilterError {
            filter: None,
            source,
        })?;
        Ok(CompiledSelection {
            globs,
            filters: self.filters.clone(),
            tags: self.tags.clone(),
            shard: self.shard,
        })
    }
}

/// One run to do: a case and which of its repeats this is (0-based).
pub(crate) type WorkItem = (Arc<Case>, u32);

/// Every case `repeat` times, case by case, minus the runs already `done` (from a journal).
pub(crate) fn work_items(
    cases: &[Arc<Case>],
    repeat: u32,
    done: &BTreeSet<(String, u32)>,
) -> Vec<WorkItem> {
    cases
        .iter()
        .flat_map(|c| (0..repeat.max(1)).map(move |r| (c.clone(), r)))
        .filter(|(c, r)| !done.contains(&(c.id.clone(), *r)))
        .collect()
}

#[derive(Debug)]
pub(crate) struct CompiledSelection {
    globs: GlobSet,
    /// The globs as given (none: every id).
    filters: Vec<String>,
    tags: Vec<String>,
    shard: Option<Shard>,
}

impl CompiledSelection {
    pub(crate) fn selects(&self, case: &Case) -> bool {
        self.selects_id(&case.id, &case.tags)
    }

    /// The same choice for a case known only by id and tags (a baseline report's case).
    pub(crate) fn selects_id(&self, id: &str, tags: &[String]) -> bool {
        let by_id = self.filters.is_empty() || self.globs.is_match(id);
        let by_tag = self.tags.is_empty() || tags.iter().any(|t| self.tags.contains(t));
        let by_shard = self.shard.is_none_or(|s| s.contains(id));
        by_id && by_tag && by_shard
    }

    /// What `--filter` and `--tag` keep of the suite, for the run history (`a slice of the
    /// suite (--filter refund-* --tag smoke)`); `None` when they keep every case. Shards are
    /// left out: `merge` joins them into the whole run again.
    pub(crate) fn slice(&self) -> Option<String> {
        let words: Vec<String> = self
            .filters
            .iter()
            .map(|f| format!("--filter {f}"))
            .chain(self.tags.iter().map(|t| format!("--tag {t}")))
            .collect();
        (!words.is_empty()).then(|| format!("a slice of the suite ({})", words.join(" ")))
    }

    /// The selected cases, in the suite's order (sorted by id).
    pub(crate) fn apply(&self, cases: &[Arc<Case>]) -> Vec<Arc<Case>> {
        cases.iter().filter(|c| self.selects(c)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, tags: &[&str]) -> Arc<Case> {
        Arc::new(Case {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Case::new(id, "hi")
        })
    }

    #[test]
    fn filters_and_tags_combine() {
        let cases = [
            case("refund-late", &["refund"]),
            case("refund-ok", &[]),
            case("kb-1", &["kb"]),
        ];
        let ids = |f: &[&str], t: &[&str]| -> Vec<String> {
            let sel = Selection {
                filters: f.iter().map(|s| s.to_string()).collect(),
                tags: t.iter().map(|s| s.to_string()).collect(),
                shard: None,
            };
            sel.compile()
                .unwrap()
                .apply(&cases)
                .iter()
                .map(|c| c.id.clone())
                .collect()
        };
        assert_eq!(ids(&[], &[]).len(), 3);
        assert_eq!(ids(&["refund-*"], &[]), vec!["refund-late", "refund-ok"]);
        assert_eq!(ids(&["refund-*"], &["refund"]), vec!["refund-late"]);
        assert_eq!(ids(&[], &["kb", "refund"]), vec!["refund-late", "kb-1"]);
        assert!(ids(&["nope"], &[]).is_empty());
    }

    #[test]
    fn a_slice_names_its_filters_and_tags_but_not_its_shard() {
        let slice = |f: &[&str], t: &[&str], shard: Option<&str>| {
            Selection {
                filters: f.iter().map(|s| s.to_string()).collect(),
                tags: t.iter().map(|s| s.to_string()).collect(),
                shard: shard.map(|s| s.parse().unwrap()),
            }
            .compile()
            .unwrap()
            .slice()
        };
        assert_eq!(slice(&[], &[], None), None);
        assert_eq!(slice(&[], &[], Some("1/2")), None);
        assert_eq!(
            slice(&["refund-*"], &["smoke"], Some("1/2")).as_deref(),
            Some("a slice of the suite (--filter refund-* --tag smoke)")
        );
    }

    #[test]
    fn work_items_repeat_each_case_and_skip_what_is_done() {
        let cases = [case("a", &[]), case("b", &[])];
        let done = BTreeSet::from([("a".to_string(), 1)]);
        let items: Vec<(String, u32)> = work_items(&cases, 2, &done)
            .into_iter()
            .map(|(c, r)| (c.id.clone(), r))
            .collect();
        let want = [("a", 0), ("b", 0), ("b", 1)].map(|(i, r)| (i.to_string(), r));
        assert_eq!(items, want);
        assert_eq!(
            work_items(&cases, 0, &BTreeSet::new()).len(),
            2,
            "at least one run"
        );
    }

    #[test]
    fn bad_glob_is_an_error() {
        let sel = Selection {
            filters: vec!["[".into()],
            ..Default::default()
        };
        assert!(sel
            .compile()
            .unwrap_err()
            .to_string()
            .contains("invalid --filter `[`"));
    }
}
