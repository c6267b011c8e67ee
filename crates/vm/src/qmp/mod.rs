//! A QMP client over a unix socket, with serde_json and nothing else.
//!
//! Owns the wire protocol: the greeting, capabilities negotiation, ids that
//! match replies to commands, per-command timeouts, and a queue of the
//! events that arrive while it waits for something else (during
//! negotiation, between replies), which [`Qmp::next_event`] hands out in
//! order. It does not know what a VM's life looks like; that is
//! [`crate::instance`].

mod types;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

pub use types::{Command, Event, EventKind, StatusInfo, Timestamp};

/// What went wrong talking to QEMU.
#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    #[error("connect to QMP socket {path}: {source}")]
    Connect { path: PathBuf, source: io::Error },
    #[error("QMP {what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("QMP {what}: no answer from QEMU within {:.1} s", after.as_secs_f64())]
    Timeout { what: String, after: Duration },
    #[error("QMP {what}: QEMU closed the connection")]
    Closed { what: String },
    #[error("QMP {what}: unexpected message from QEMU: {line}")]
    Protocol { what: String, line: String },
    #[error("QMP {command}: {class}: {desc}")]
    Qemu {
        command: String,
        class: String,
        desc: String,
    },
}

impl QmpError {
    fn io(what: &str, source: io::Error) -> QmpError {
        QmpError::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// Default time a command may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A negotiated QMP connection.
pub struct Qmp {
    stream: UnixStream,
    buf: Vec<u8>,
    events: VecDeque<Event>,
    next_id: u64,
    greeting: Value,
    /// Time allowed for each command's reply.
    pub timeout: Duration,
}

impl Qmp {
    /// Connects (retrying while the socket is not there yet or not yet
    /// listening, until `timeout`), reads the greeting and negotiates.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Qmp, QmpError> {
        let stream =
            crate::sock::connect_retrying(path, timeout).map_err(|source| QmpError::Connect {
                path: path.to_path_buf(),
                source,
            })?;
        Qmp::negotiate(stream, timeout)
    }

    /// Reads the greeting and negotiates on an already connected socket.
    pub fn negotiate(stream: UnixStream, timeout: Duration) -> Result<Qmp, QmpError> {
        let mut qmp = Qmp {
            stream,
            buf: Vec::new(),
            events: VecDeque::new(),
            next_id: 1,
            greeting: Value::Null,
            timeout,
        };
        qmp.read_greeting(Instant::now() + timeout)?;
        qmp.execute(&Command::QmpCapabilities)?;
        Ok(qmp)
    }

    /// The `QMP` object of the greeting (`version`, `capabilities`).
    pub fn greeting(&self) -> &Value {
        &self.greeting
    }

    fn read_greeting(&mut self, deadline: Instant) -> Result<(), QmpError> {
        loop {
            let msg = self.read_message("greeting", deadline, self.timeout)?;
            if let Some(g) = msg.get("QMP") {
                self.greeting = g.clone();
                return Ok(());
            }
            self.queue_event_or_fail("greeting", msg)?;
        }
    }

    fn queue_event_or_fail(&mut self, what: &str, msg: Map<String, Value>) -> Result<(), QmpError> {
        match Event::from_json(&msg) {
            Some(e) => {
                self.events.push_back(e);
                Ok(())
            }
            None => Err(QmpError::Protocol {
                what: what.to_string(),
                line: Value::Object(msg).to_string(),
            }),
        }
    }

    /// Sends `cmd` and waits up to [`Qmp::timeout`] for its reply.
    pub fn execute(&mut self, cmd: &Command) -> Result<Value, QmpError> {
        self.execute_timeout(cmd, self.timeout)
    }

    /// Sends `cmd` and waits up to `timeout` for the reply with its id;
    /// events met meanwhile are queued, replies to earlier commands that
    /// timed out are dropped.
    pub fn execute_timeout(&mut self, cmd: &Command, timeout: Duration) -> Result<Value, QmpError> {
        let name = cmd.name();
        let id = format!("yurta-{}", self.next_id);
        self.next_id += 1;
        self.send(cmd, &id, &name)?;
        let deadline = Instant::now() + timeout;
        loop {
            let msg = self.read_message(&name, deadline, timeout)?;
            if msg.contains_key("event") {
                self.queue_event_or_fail(&name, msg)?;
                continue;
            }
            match msg.get("id") {
                Some(Value::String(got)) if *got == id => return reply(&name, msg),
                Some(_) => continue,
                // QEMU answers without an id only when it could not parse
                // the command at all.
                None if msg.contains_key("error") => return reply(&name, msg),
                None => continue,
            }
        }
    }

    fn send(&mut self, cmd: &Command, id: &str, name: &str) -> Result<(), QmpError> {
        let mut v = serde_json::to_value(cmd).map_err(|e| QmpError::Protocol {
            what: name.to_string(),
            line: e.to_string(),
        })?;
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), Value::String(id.to_string()));
        }
        let mut line = v.to_string();
        line.push('\n');
        self.stream
            .set_write_timeout(Some(self.timeout))
            .map_err(|e| QmpError::io(name, e))?;
        match self.stream.write_all(line.as_bytes()) {
            Ok(()) => Ok(()),
            Err(e) if is_closed(&e) => Err(QmpError::Closed { what: name.into() }),
            Err(e) => Err(QmpError::io(name, e)),
        }
    }

    /// The next event: a queued one, or one read within `timeout`;
    /// `Ok(None)` when none came in time.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<Event>, QmpError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let msg = match self.read_message("event wait", deadline, timeout) {
                Ok(m) => m,
                Err(QmpError::Timeout { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(e) = Event::from_json(&msg) {
                return Ok(Some(e));
            }
        }
    }

    /// Events read so far and not yet taken.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// One JSON object from the socket, waiting until `deadline`.
    fn read_message(
        &mut self,
        what: &str,
        deadline: Instant,
        window: Duration,
    ) -> Result<Map<String, Value>, QmpError> {
        loop {
            if let Some(line) = self.take_line() {
                let text = String::from_utf8_lossy(&line);
                if text.trim().is_empty() {
                    continue;
                }
                return match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => Ok(m),
                    _ => Err(QmpError::Protocol {
                        what: what.to_string(),
                        line: text.into_owned(),
                    }),
                };
            }
            self.fill(what, deadline, window)?;
        }
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        let nl = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
        line.pop();
        Some(line)
    }

    fn fill(&mut self, what: &str, deadline: Instant, window: Duration) -> Result<(), QmpError> {
        let timeout = || QmpError::Timeout {
            what: what.to_string(),
            after: window,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timeout());
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| QmpError::io(what, e))?;
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(QmpError::Closed { what: what.into() }),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(timeout())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) if is_closed(&e) => Err(QmpError::Closed { what: what.into() }),
            Err(e) => Err(QmpError::io(what, e)),
        }
    }
}

/// Typed commands.
impl Qmp {
    pub fn query_status(&mut self) -> Result<StatusInfo, QmpError> {
        let v = self.execute(&Command::QueryStatus)?;
        serde_json::from_value(v.clone()).map_err(|_| QmpError::Protocol {
            what: "query-status".into(),
            line: v.to_string(),
        })
    }

    /// Presses the ACPI power button; the guest decides what to do.
    pub fn system_powerdown(&mut self) -> Result<(), QmpError> {
        self.execute(&Command::SystemPowerdown).map(drop)
    }

    pub fn system_reset(&mut self) -> Result<(), QmpError> {
        self.execute(&Command::SystemReset).map(drop)
    }

    pub fn stop(&mut self) -> Result<(), QmpError> {
        self.execute(&Command::Stop).map(drop)
    }

    pub fn cont(&mut self) -> Result<(), QmpError> {
        self.execute(&Command::Cont).map(drop)
    }

    /// Asks QEMU to exit. QEMU may close the socket before its reply
    /// arrives; that counts as done.
    pub fn quit(&mut self) -> Result<(), QmpError> {
        match self.execute(&Command::Quit) {
            Ok(_) | Err(QmpError::Closed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn device_add(
        &mut self,
        driver: &str,
        id: &str,
        props: Map<String, Value>,
    ) -> Result<(), QmpError> {
        let cmd = Command::DeviceAdd {
            driver: driver.into(),
            id: id.into(),
            props,
        };
        self.execute(&cmd).map(drop)
    }

    /// Asks for removal; the device is gone at its `DEVICE_DELETED` event.
    pub fn device_del(&mut self, id: &str) -> Result<(), QmpError> {
        self.execute(&Command::DeviceDel { id: id.into() })
            .map(drop)
    }

    pub fn blockdev_add(&mut self, options: Map<String, Value>) -> Result<(), QmpError> {
        self.execute(&Command::BlockdevAdd(options)).map(drop)
    }

    pub fn blockdev_del(&mut self, node_name: &str) -> Result<(), QmpError> {
        let cmd = Command::BlockdevDel {
            node_name: node_name.into(),
        };
        self.execute(&cmd).map(drop)
    }

    /// Runs an HMP command (e.g. `savevm NAME`) and returns its output.
    pub fn human_monitor_command(&mut self, line: &str) -> Result<String, QmpError> {
        let cmd = Command::HumanMonitorCommand {
            command_line: line.into(),
        };
        let v = self.execute(&cmd)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }
}

fn reply(name: &str, mut msg: Map<String, Value>) -> Result<Value, QmpError> {
    if let Some(r) = msg.remove("return") {
        return Ok(r);
    }
    let err = msg.remove("error").unwrap_or(Value::Null);
    let field = |k: &str| err.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Err(QmpError::Qemu {
        command: name.to_string(),
        class: field("class"),
        desc: field("desc"),
    })
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
    )
}

#[cfg(test)]
mod tests;
