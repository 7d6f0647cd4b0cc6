//! `external_user_problems`: a case's simulated `user:` on a `command` or `http` target.
//!
//! Only the bundled harness plays a simulated user; an external agent gets the request once
//! (scripted `turns` included) and answers once. Until a turn protocol drives external agents,
//! such a case is refused at load rather than run as if it had no user.

use crate::agent::target::Target;
use crate::diagnostic::Diagnostic;
use crate::suite::model::Case;

/// One diagnostic per case with a simulated user, when the target is external.
pub(crate) fn external_user_problems(target: &Target, cases: &[Case]) -> Vec<Diagnostic> {
    let kind = match target {
        Target::Command(_) => "command",
        Target::Http(_) => "http",
        _ => return Vec::new(),
    };
    cases
        .iter()
        .filter(|c| c.user.is_some())
        .map(|c| {
            // `source` is `file:line`, as the case's dataset wrote it.
            let (file, line) = match c.source.rsplit_once(':') {
                Some((f, l)) => (f, l.parse().ok()),
                None => (c.source.as_str(), None),
            };
            let d = Diagnostic::new(
                file,
                format!(
                    "case `{}`: a simulated `user` needs the harness target; a `{kind}` agent gets one request and answers once",
                    c.id
                ),
            )
            .hint("drive the conversation with scripted turns (`input: [...]`, sent as `turns`), or run the case on `target: {harness: ...}`");
            match line {
                Some(l) => d.at(l, None),
                None => d,
            }
        })
        .collect()
}
