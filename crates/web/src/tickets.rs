//! Console tickets: a link that opens one console (a container's
//! terminal, a VM's serial console or screen) without a session, once,
//! within [`VALID`] of its making.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const VALID: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Exec,
    Serial,
    Vnc,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "exec" => Some(Kind::Exec),
            "serial" => Some(Kind::Serial),
            "vnc" => Some(Kind::Vnc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exec => "exec",
            Kind::Serial => "serial",
            Kind::Vnc => "vnc",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub kind: Kind,
    pub target: String,
    made: Instant,
}

#[derive(Default)]
pub struct Tickets(Mutex<HashMap<String, Ticket>>);

impl Tickets {
    pub fn make(&self, kind: Kind, target: &str, now: Instant) -> anyhow::Result<String> {
        let id = crate::sessions::token()?;
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, t| now.duration_since(t.made) < VALID);
        map.insert(
            id.clone(),
            Ticket {
                kind,
                target: target.to_string(),
                made: now,
            },
        );
        Ok(id)
    }

    /// The ticket, still valid, without using it (the console's page).
    pub fn peek(&self, id: &str, now: Instant) -> Option<Ticket> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|t| now.duration_since(t.made) < VALID)
            .cloned()
    }

    /// The ticket, used up: a second call finds nothing.
    pub fn take(&self, id: &str, now: Instant) -> Option<Ticket> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id)
            .filter(|t| now.duration_since(t.made) < VALID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_works_once_and_expires() {
        let t = Tickets::default();
        let now = Instant::now();
        let id = t.make(Kind::Serial, "vm1", now).unwrap();
        assert_eq!(t.peek(&id, now).unwrap().target, "vm1");
        assert_eq!(t.take(&id, now).unwrap().kind, Kind::Serial);
        assert!(t.take(&id, now).is_none());
        let id = t.make(Kind::Exec, "c1", now).unwrap();
        assert!(t.peek(&id, now + VALID).is_none());
        assert!(t.take(&id, now + VALID).is_none());
    }
}
