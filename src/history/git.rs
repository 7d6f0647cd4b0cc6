//! `GitInfo`: the commit and branch a run was made on, asked of `git` as a process (no git
//! library: the repository's own `git` knows its worktrees, hooks and config best).

use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitInfo {
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// The commit and branch of the repository `dir` is in; empty outside one or without `git`.
/// CI checkouts are often detached: then `GITHUB_HEAD_REF`/`GITHUB_REF_NAME` or
/// `CI_COMMIT_REF_NAME` name the branch.
pub(crate) fn git_info(dir: &Path) -> GitInfo {
    let commit = git(dir, &["rev-parse", "HEAD"]);
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"])
        .filter(|b| b != "HEAD")
        .or_else(|| {
            ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        });
    GitInfo { commit, branch }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_repository_there_is_nothing() {
        let dir = std::env::temp_dir().join(format!("gauntlet-nogit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // /tmp is not in a repository on any sane machine; GIT_DIR is not set by the tests.
        let info = git_info(&dir);
        assert_eq!(info.commit, None);
        let _ = std::fs::remove_dir(&dir);
    }
}
