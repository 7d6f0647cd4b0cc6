//! `Cancellation`: how far a run has been asked to stop, sent to the runner on a watch channel.

/// Levels only rise: a run that drains may still be aborted, never resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Cancellation {
    #[default]
    NotCancelled,
    /// First Ctrl-C: no new case starts; running cases finish and are reported.
    Draining,
    /// Second Ctrl-C or SIGTERM: running cases are dropped now; finished ones are reported.
    Aborting,
}

impl Cancellation {
    /// Whether new cases may no longer start.
    pub fn stops_scheduling(self) -> bool {
        self >= Cancellation::Draining
    }

    /// Whether running cases are dropped.
    pub fn aborts(self) -> bool {
        self == Cancellation::Aborting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_implies_the_ones_below() {
        let table = [
            (Cancellation::NotCancelled, false, false),
            (Cancellation::Draining, true, false),
            (Cancellation::Aborting, true, true),
        ];
        for (level, stops, aborts) in table {
            assert_eq!(level.stops_scheduling(), stops, "{level:?}");
            assert_eq!(level.aborts(), aborts, "{level:?}");
        }
        assert_eq!(Cancellation::default(), Cancellation::NotCancelled);
    }
}
