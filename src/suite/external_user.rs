//! `external_user_problems`: a case's simulated `user:` on a `command` or `http` target that
//! names no `user_model`.
//!
//! An external agent talks with a simulated user through the turn protocol
//! (`agent::conversation`), and the target's `user_model` plays the user. Without one, the
//! case is refused at load rather than run as if it had no user.

use crate::agent::target::Target;
use crate::diagnostic::Diagnostic;
use crate::suite::model::Case;

/// One diagnostic per case with a simulated user, when the target is external and has no
/// `user_model`.
pub(crate) fn external_user_problems(target: &Target, cases: &[Case]) -> Vec<Diagnostic> {
    let (a, kind) = match target {
        Target::Command(_) => ("a", "command"),
        Target::Http(_) => ("an", "http"),
        _ => return Vec::new(),
    };
    if target.user_model().is_some() {
        return Vec::new();
    }
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
                    "case `{}`: a simulated `user` on {a} `{kind}` target needs `user_model` on the target (the model that plays the user)",
                    c.id
                ),
            )
            .hint(format!("e.g. `target: {{{kind}: {{..., user_model: mock:user}}}}`; gauntlet then drives the agent turn by turn (see the turn protocol in the README)"));
            match line {
                Some(l) => d.at(l, None),
                None => d,
            }
        })
        .collect()
}
