//! QMP's messages as Rust types: the commands yurta sends and the events it
//! understands. Anything else QEMU emits is kept as raw JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A command. Serialized as `{"execute": NAME, "arguments": {...}}`; the
/// client adds the `id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "execute", content = "arguments")]
pub enum Command {
    #[serde(rename = "qmp_capabilities")]
    QmpCapabilities,
    #[serde(rename = "query-status")]
    QueryStatus,
    #[serde(rename = "system_powerdown")]
    SystemPowerdown,
    #[serde(rename = "system_reset")]
    SystemReset,
    #[serde(rename = "quit")]
    Quit,
    #[serde(rename = "stop")]
    Stop,
    #[serde(rename = "cont")]
    Cont,
    /// `device_add`: `driver`, `id` and the device's own properties.
    #[serde(rename = "device_add")]
    DeviceAdd {
        driver: String,
        id: String,
        #[serde(flatten)]
        props: Map<String, Value>,
    },
    #[serde(rename = "device_del")]
    DeviceDel { id: String },
    /// `blockdev-add`: the options as QEMU's BlockdevOptions JSON (must
    /// hold `node-name` and `driver`).
    #[serde(rename = "blockdev-add")]
    BlockdevAdd(Map<String, Value>),
    #[serde(rename = "blockdev-del")]
    BlockdevDel {
        #[serde(rename = "node-name")]
        node_name: String,
    },
    /// HMP through QMP, for what QMP lacks (`savevm`, `loadvm`, `delvm`).
    #[serde(rename = "human-monitor-command")]
    HumanMonitorCommand {
        #[serde(rename = "command-line")]
        command_line: String,
    },
}

impl Command {
    /// The QMP name, for messages.
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m
                .get("execute")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            _ => "?".to_string(),
        }
    }
}

/// The reply to `query-status`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusInfo {
    pub running: bool,
    /// `running`, `paused`, `shutdown`, `prelaunch`, `inmigrate`, ...
    pub status: String,
    #[serde(default)]
    pub singlestep: bool,
}

/// When QEMU emitted an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Timestamp {
    pub seconds: i64,
    pub microseconds: i64,
}

/// An asynchronous event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// QEMU is going to exit (or stop, with `-no-shutdown`). `guest`: the
    /// guest asked for it; `reason`: QEMU's ShutdownCause, e.g.
    /// `guest-shutdown`, `host-qmp-quit`, `host-signal`.
    Shutdown {
        guest: bool,
        reason: String,
    },
    Reset {
        guest: bool,
        reason: String,
    },
    Stop,
    Resume,
    /// ACPI power button pressed (`system_powerdown`).
    Powerdown,
    DeviceDeleted {
        device: Option<String>,
        path: String,
    },
    /// Any other event, as QEMU sent it.
    Other {
        name: String,
        data: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub timestamp: Timestamp,
}

impl Event {
    /// Parses `{"event": NAME, "data": {...}, "timestamp": {...}}`.
    pub fn from_json(msg: &Map<String, Value>) -> Option<Event> {
        let name = msg.get("event")?.as_str()?;
        let data = msg.get("data").cloned().unwrap_or(Value::Null);
        let timestamp = msg
            .get("timestamp")
            .and_then(|t| Timestamp::deserialize(t).ok())
            .unwrap_or_default();
        Some(Event {
            kind: EventKind::parse(name, data),
            timestamp,
        })
    }
}

impl EventKind {
    fn parse(name: &str, data: Value) -> EventKind {
        let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
        let b = |k: &str| data.get(k).and_then(Value::as_bool).unwrap_or(false);
        match name {
            "SHUTDOWN" => EventKind::Shutdown {
                guest: b("guest"),
                reason: s("reason").unwrap_or_default(),
            },
            "RESET" => EventKind::Reset {
                guest: b("guest"),
                reason: s("reason").unwrap_or_default(),
            },
            "STOP" => EventKind::Stop,
            "RESUME" => EventKind::Resume,
            "POWERDOWN" => EventKind::Powerdown,
            "DEVICE_DELETED" => EventKind::DeviceDeleted {
                device: s("device"),
                path: s("path").unwrap_or_default(),
            },
            _ => EventKind::Other {
                name: name.to_string(),
                data,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_serialize_as_qmp() {
        let v = |c: &Command| serde_json::to_value(c).unwrap();
        assert_eq!(v(&Command::Quit), json!({"execute": "quit"}));
        assert_eq!(v(&Command::QueryStatus), json!({"execute": "query-status"}));
        assert_eq!(Command::SystemPowerdown.name(), "system_powerdown");
        assert_eq!(
            v(&Command::DeviceDel { id: "d1".into() }),
            json!({"execute": "device_del", "arguments": {"id": "d1"}})
        );
        let mut props = Map::new();
        props.insert("drive".into(), json!("node1"));
        assert_eq!(
            v(&Command::DeviceAdd {
                driver: "virtio-blk-pci".into(),
                id: "d1".into(),
                props
            }),
            json!({"execute": "device_add",
                   "arguments": {"driver": "virtio-blk-pci", "id": "d1", "drive": "node1"}})
        );
        assert_eq!(
            v(&Command::BlockdevDel {
                node_name: "n".into()
            }),
            json!({"execute": "blockdev-del", "arguments": {"node-name": "n"}})
        );
        assert_eq!(
            v(&Command::HumanMonitorCommand {
                command_line: "savevm s1".into()
            }),
            json!({"execute": "human-monitor-command", "arguments": {"command-line": "savevm s1"}})
        );
    }

    #[test]
    fn events_parse() {
        let msg = json!({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"},
                         "timestamp": {"seconds": 5, "microseconds": 7}});
        let e = Event::from_json(msg.as_object().unwrap()).unwrap();
        assert_eq!(
            e.kind,
            EventKind::Shutdown {
                guest: true,
                reason: "guest-shutdown".into()
            }
        );
        assert_eq!(
            e.timestamp,
            Timestamp {
                seconds: 5,
                microseconds: 7
            }
        );
        let msg = json!({"event": "BLOCK_JOB_READY", "data": {"device": "x"}});
        let e = Event::from_json(msg.as_object().unwrap()).unwrap();
        assert!(matches!(e.kind, EventKind::Other { ref name, .. } if name == "BLOCK_JOB_READY"));
        assert!(Event::from_json(json!({"return": {}}).as_object().unwrap()).is_none());
    }
}
