//! The events the supervisor records in the journal (`--events-dir`):
//! `start` after each start of the container (restarts included), `oom`
//! and `die` (with `exitCode`) after each exit, with the attributes the
//! engine passed (`--event-attr`: name, image, labels). Written before the
//! exit code reaches an attached CLI, so that its `destroy` comes after.

use crate::supervisor::Supervisor;

impl Supervisor {
    pub fn event(&self, action: &str, extra: Option<(&str, &str)>) {
        let Some(dir) = &self.args.events_dir else {
            return;
        };
        let mut attrs: Vec<(&str, &str)> = extra.into_iter().collect();
        let given = self.args.event_attrs.iter();
        attrs.extend(given.map(|(k, v)| (k.as_str(), v.as_str())));
        let event = yurta_events::Event {
            kind: "container",
            action,
            id: &self.args.id,
            attributes: &attrs,
        };
        let line = event.line(yurta_events::now_nanos());
        // Never fails the supervision: a full disk drops the event.
        let _ = yurta_events::Journal::at(dir.clone()).append(&line);
    }

    /// `oom` (when the cgroup counted a kill) and `die`.
    pub fn exit_events(&self, code: i32, oom: bool) {
        if oom {
            self.event("oom", None);
        }
        self.event("die", Some(("exitCode", &code.to_string())));
    }
}
