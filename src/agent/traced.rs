//! `Traced`: the trace side of a `command` or `http` target with `traces: otlp` — the receiver
//! (started at the first traced case, shared by the target's cases), a trace context per run,
//! and the run's spans as its trajectory when the reply carries none.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::agent::protocol::{read_reply, Reply};
use crate::otlp::mapping::to_steps;
use crate::otlp::receiver::{Receiver, TraceRun, GRACE};
use crate::otlp::traces::Traces;
use crate::trajectory::Trajectory;

#[derive(Debug, Default)]
pub struct Traced {
    pub traces: Option<Traces>,
    receiver: OnceCell<Arc<Receiver>>,
}

impl Clone for Traced {
    /// A clone shares the setting, not a running receiver: each target starts its own.
    fn clone(&self) -> Self {
        Traced::new(self.traces)
    }
}

/// The OTLP receiver could not listen: the runs of a traced target error with this.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the OTLP receiver on 127.0.0.1: {0}")]
pub struct ReceiverStartError(std::io::Error);

impl Traced {
    pub fn new(traces: Option<Traces>) -> Self {
        Traced {
            traces,
            receiver: OnceCell::new(),
        }
    }

    /// The receiver, started on first use; `None` when the target is not traced.
    pub async fn receiver(
        &self,
        max_body_bytes: u64,
    ) -> Result<Option<&Arc<Receiver>>, ReceiverStartError> {
        match self.traces {
            None => Ok(None),
            Some(Traces::Otlp) => self
                .receiver
                .get_or_try_init(|| Receiver::start(max_body_bytes))
                .await
                .map(Some)
                .map_err(ReceiverStartError),
        }
    }

    /// Opens the trace of one run when the target is traced.
    pub async fn begin(
        &self,
        case_id: &str,
        repeat: u32,
        max_body_bytes: u64,
    ) -> Result<Option<TraceRun>, ReceiverStartError> {
        Ok(self
            .receiver(max_body_bytes)
            .await?
            .map(|r| r.begin(case_id, repeat)))
    }

    /// Spans so far that belonged to no run (0 when no receiver was started).
    pub fn unattributed(&self) -> u64 {
        self.receiver.get().map_or(0, |r| r.unattributed())
    }
}

/// The trajectory of a reply: the agent's own when it reported one, else the run's spans.
pub(crate) async fn reply_trajectory(text: &str, trace: Option<TraceRun>) -> Trajectory {
    match read_reply(text) {
        Ok(reply) => with_spans(reply, trace).await.into_trajectory(),
        Err(t) => t,
    }
}

/// A reply with the spans of its trace (a run's, or a turn's) as its steps when it reported
/// none. Dropping the trace closes it.
pub(crate) async fn with_spans(reply: Reply, trace: Option<TraceRun>) -> Reply {
    match trace {
        Some(run) if !reply.has_trajectory() => {
            let spans = run.finish(GRACE).await;
            reply.with_steps_if_none(to_steps(&spans))
        }
        _ => reply,
    }
}
