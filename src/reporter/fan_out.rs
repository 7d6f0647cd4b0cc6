//! `Reporter` and `Reporters`: one event in, every reporter on the list called with it.

use crate::event::RunEvent;

/// Something that follows a run. Called on the task that drives the run, in event order; a
/// reporter never fails the run (what it cannot do, it warns about).
pub trait Reporter {
    fn on_event(&mut self, event: &RunEvent<'_>);
}

/// The reporters of a run, each given every event in list order.
#[derive(Default)]
pub struct Reporters<'a> {
    list: Vec<&'a mut dyn Reporter>,
}

impl<'a> Reporters<'a> {
    /// An empty list: the events go nowhere (e.g. confirmation reruns).
    pub fn new() -> Self {
        Reporters { list: Vec::new() }
    }

    /// The list with `reporter` appended.
    pub fn with(mut self, reporter: &'a mut dyn Reporter) -> Self {
        self.list.push(reporter);
        self
    }
}

impl Reporter for Reporters<'_> {
    fn on_event(&mut self, event: &RunEvent<'_>) {
        for reporter in &mut self.list {
            reporter.on_event(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what it saw, tagged with its own name.
    struct Recorder<'l> {
        name: &'static str,
        log: &'l std::cell::RefCell<Vec<String>>,
    }

    impl Reporter for Recorder<'_> {
        fn on_event(&mut self, event: &RunEvent<'_>) {
            let what = match event {
                RunEvent::RunStarted { id, repeat } => format!("start {id}/{repeat}"),
                RunEvent::SuiteFinished { suite } => format!("end {suite}"),
                other => format!("{other:?}"),
            };
            self.log.borrow_mut().push(format!("{}: {what}", self.name));
        }
    }

    #[test]
    fn every_reporter_gets_every_event_in_list_order() {
        let log = std::cell::RefCell::new(Vec::new());
        let mut a = Recorder {
            name: "a",
            log: &log,
        };
        let mut b = Recorder {
            name: "b",
            log: &log,
        };
        let mut list = Reporters::new().with(&mut a).with(&mut b);
        list.on_event(&RunEvent::RunStarted {
            id: "c".into(),
            repeat: 2,
        });
        list.on_event(&RunEvent::SuiteFinished { suite: "s".into() });
        assert_eq!(
            *log.borrow(),
            ["a: start c/2", "b: start c/2", "a: end s", "b: end s"]
        );
        // An empty list takes events and does nothing.
        Reporters::new().on_event(&RunEvent::SuiteFinished { suite: "s".into() });
    }
}
