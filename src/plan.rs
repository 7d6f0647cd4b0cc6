//! `Plan`: which cases of a suite run, after `--filter` and `--tag`.

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::suite::model::Case;

/// The user's selection. Empty lists select everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Case id globs (`refund-*`); a case matching any is selected.
    pub filters: Vec<String>,
    /// Tags; a case carrying any is selected.
    pub tags: Vec<String>,
}

impl Selection {
    /// Compiles the globs; a bad glob is a usage error naming it.
    pub fn compile(&self) -> Result<CompiledSelection, String> {
        let mut builder = GlobSetBuilder::new();
        for f in &self.filters {
            builder.add(Glob::new(f).map_err(|e| format!("invalid --filter `{f}`: {e}"))?);
        }
        let globs = builder
            .build()
            .map_err(|e| format!("invalid --filter: {e}"))?;
        Ok(CompiledSelection {
            globs,
            any_glob: !self.filters.is_empty(),
            tags: self.tags.clone(),
        })
    }
}

#[derive(Debug)]
pub struct CompiledSelection {
    globs: GlobSet,
    any_glob: bool,
    tags: Vec<String>,
}

impl CompiledSelection {
    pub fn selects(&self, case: &Case) -> bool {
        let by_id = !self.any_glob || self.globs.is_match(&case.id);
        let by_tag = self.tags.is_empty() || case.tags.iter().any(|t| self.tags.contains(t));
        by_id && by_tag
    }

    /// The selected cases, in the suite's order (sorted by id).
    pub fn apply(&self, cases: &[Arc<Case>]) -> Vec<Arc<Case>> {
        cases.iter().filter(|c| self.selects(c)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, tags: &[&str]) -> Arc<Case> {
        Arc::new(Case {
            id: id.into(),
            description: None,
            turns: vec!["hi".into()],
            vars: Default::default(),
            expected: Default::default(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            checks: vec![],
            world_fixture: None,
            mock: vec![],
            user: None,
            source: String::new(),
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
    fn bad_glob_is_an_error() {
        let sel = Selection {
            filters: vec!["[".into()],
            tags: vec![],
        };
        assert!(sel.compile().unwrap_err().contains("invalid --filter `[`"));
    }
}
