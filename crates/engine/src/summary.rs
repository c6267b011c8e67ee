//! A container as lists show it: Docker's `ContainerSummary` (the Engine
//! API's `GET /containers/json`), its `Status` text ("Up 5 minutes"), its
//! ports and its sizes, shared by `yurta ps`, `system df` and the API
//! service.

use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use crate::fsutil::apparent_size;
use crate::record::{ContainerRecord, Status};

/// One published or exposed port (Docker's `Port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSummary {
    /// The host address of a published port; None for an exposed one.
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private: u16,
    /// 0 for an exposed port.
    #[serde(rename = "PublicPort", skip_serializing_if = "is_zero")]
    pub public: u16,
    #[serde(rename = "Type")]
    pub proto: String,
}

fn is_zero(p: &u16) -> bool {
    *p == 0
}

/// The record's ports: each binding of a published port, and each exposed
/// port without one.
pub fn ports(r: &ContainerRecord) -> Vec<PortSummary> {
    let mut out = Vec::new();
    for (key, bindings) in &r.network_settings.ports {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        let private = port.parse().unwrap_or(0);
        let proto = proto.to_string();
        match bindings {
            Some(b) if !b.is_empty() => out.extend(b.iter().map(|b| PortSummary {
                ip: Some(if b.host_ip.is_empty() {
                    "0.0.0.0".into()
                } else {
                    b.host_ip.clone()
                }),
                private,
                public: b.host_port.parse().unwrap_or(0),
                proto: proto.clone(),
            })),
            _ => out.push(PortSummary {
                ip: None,
                private,
                public: 0,
                proto,
            }),
        }
    }
    out
}

/// go-units' `HumanDuration`, which Docker's `Status` and `CREATED`
/// columns use ("Less than a second", "About a minute", "3 hours").
pub fn human_duration(secs: i64) -> String {
    let m = secs / 60;
    // time.Duration.Round(time.Hour): halves away from zero.
    let h = (secs + 1800) / 3600;
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 2 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

/// `N ago`, or `N/A` for no time at all.
pub fn ago(epoch_secs: i64, now: i64) -> String {
    if epoch_secs == 0 {
        return "N/A".to_string();
    }
    format!(
        "{} ago",
        human_duration(now.saturating_sub(epoch_secs).max(0))
    )
}

/// An RFC 3339 time as Unix seconds (0 when unset).
pub fn secs(t: &str) -> i64 {
    yurta_time::parse(t).unwrap_or(0)
}

/// Docker's `Status`: `Up 5 minutes`, `Exited (0) 2 hours ago`, ...
pub fn status_text(r: &ContainerRecord, now: i64) -> String {
    let s = &r.state;
    let up = || human_duration(now - secs(&s.started_at));
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => format!("Up {}{}", up(), health_suffix(r)),
        Status::Paused => format!("Up {} (Paused)", up()),
        Status::Restarting => "Restarting".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Exited => format!(
            "Exited ({}) {}",
            s.exit_code,
            ago(secs(&s.finished_at), now)
        ),
        Status::Dead => "Dead".into(),
    }
}

/// ` (healthy)`, ` (unhealthy)` or ` (health: starting)` for a running
/// container with a health check, as Docker's `Status` ends.
fn health_suffix(r: &ContainerRecord) -> String {
    match r.state.health.as_ref().map(|h| h.status.as_str()) {
        Some("starting") => " (health: starting)".into(),
        Some(s) if !s.is_empty() => format!(" ({s})"),
        _ => String::new(),
    }
}

/// The daemon's `Command`: the path and the arguments, those with spaces
/// in single quotes.
pub fn command(r: &ContainerRecord) -> String {
    let mut parts = vec![r.path.clone()];
    for a in &r.args {
        parts.push(if a.contains(' ') {
            format!("'{a}'")
        } else {
            a.clone()
        });
    }
    parts.join(" ")
}

/// Docker's `ContainerSummary`, as `GET /containers/json` lists it.
pub fn container_summary(r: &ContainerRecord, now: i64) -> Value {
    let networks: serde_json::Map<String, Value> = r
        .network_settings
        .networks
        .iter()
        .map(|(name, ep)| {
            (
                name.clone(),
                serde_json::to_value(ep).unwrap_or(Value::Null),
            )
        })
        .collect();
    json!({
        "Id": r.id,
        "Names": [format!("/{}", r.bare_name())],
        "Image": r.image_name.clone().unwrap_or_else(|| r.image.clone()),
        "ImageID": r.image,
        "Command": command(r),
        "Created": secs(&r.created),
        "Ports": ports(r),
        "Labels": r.config.labels,
        "State": r.state.status.to_string(),
        "Status": status_text(r, now),
        "HostConfig": {"NetworkMode": r.host_config.network_mode},
        "NetworkSettings": {"Networks": networks},
        "Mounts": r.mounts,
    })
}

/// A container's writable layer (its overlay's upper directory, or what
/// its copied root filesystem adds to the image) and its whole root
/// filesystem (the image and that layer): Docker's `SizeRw` and
/// `SizeRootFs`.
pub fn container_sizes(
    root: &Path,
    store: &yurta_images::Store,
    r: &ContainerRecord,
) -> (u64, u64) {
    let dir = crate::lifecycle::Paths::new(root, &r.id).dir;
    let image = store.resolve(&r.image).map_or(0, |i| i.size);
    let rw = match r.driver.as_str() {
        "copy" => apparent_size(&dir.join("rootfs")).saturating_sub(image),
        _ => apparent_size(&dir.join("diff")),
    };
    (rw, image + rw)
}

/// The filters `ps --filter` and `GET /containers/json` take.
pub const FILTERS: [&str; 8] = [
    "status", "name", "id", "label", "ancestor", "exited", "network", "health",
];

/// Whether the record passes every filter: values of one key are
/// alternatives, except `label`, whose values must all hold (Docker's).
pub fn filters_match(r: &ContainerRecord, filters: &[(String, String)]) -> bool {
    let mut keys: Vec<&str> = filters.iter().map(|(k, _)| k.as_str()).collect();
    keys.dedup();
    keys.iter().all(|key| {
        let mut values = filters.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        match *key {
            "label" => values.all(|v| matches(r, key, v)),
            _ => values.any(|v| matches(r, key, v)),
        }
    })
}

/// One filter: `status=running`, `name=web` (a substring), `id=` (a
/// prefix), `label=k` or `label=k=v`, `ancestor=` (the image as named or
/// its ID), `exited=N` (an exit code), `network=` (a network's name),
/// `health=starting|healthy|unhealthy|none`.
pub fn matches(r: &ContainerRecord, key: &str, value: &str) -> bool {
    match key {
        "status" => r.state.status.to_string() == value,
        "name" => r.bare_name().contains(value.trim_start_matches('/')),
        "id" => r.id.starts_with(value),
        "label" => match value.split_once('=') {
            Some((k, v)) => r.config.labels.get(k).is_some_and(|x| x == v),
            None => r.config.labels.contains_key(value),
        },
        "ancestor" => r.image_name.as_deref() == Some(value) || r.image.contains(value),
        "exited" => r.state.status == Status::Exited && value.parse() == Ok(r.state.exit_code),
        "network" => {
            r.network_settings.networks.contains_key(value) || r.host_config.network_mode == value
        }
        "health" => match r.state.health.as_ref() {
            Some(h) if r.config.healthcheck.as_ref().is_some_and(|c| c.enabled()) => {
                h.status == value
            }
            _ => value == "none",
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_docker_prints_them() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(61), "About a minute");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(ago(0, 100), "N/A");
        assert_eq!(ago(40, 100), "About a minute ago");
    }
}
