//! Journal lines as Docker's event messages, Docker's `--filter`s on
//! them, and Docker's `--since`/`--until` times.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// One journal line (see yurta_events::Event::line).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
    #[serde(rename = "Type")]
    pub kind: String,
    pub action: String,
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// Docker's `events.Message`, field for field (`docker events --format
/// '{{json .}}'`): `status`, `id` and `from` are the legacy fields, set for
/// containers and images.
#[derive(Debug, Serialize)]
pub struct Message<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    pub status: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub from: &'a str,
    #[serde(rename = "Type")]
    pub kind: &'a str,
    #[serde(rename = "Action")]
    pub action: &'a str,
    #[serde(rename = "Actor")]
    pub actor: &'a Actor,
    pub scope: &'static str,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Record {
    /// Parses a line; a line torn by a full disk with the next writer's
    /// line glued to it yields that next line.
    pub fn parse(line: &[u8]) -> Option<Record> {
        if let Ok(r) = serde_json::from_slice(line) {
            return Some(r);
        }
        let start = yurta_events::LINE_START.as_bytes();
        (1..line.len())
            .filter(|&i| line[i..].starts_with(start))
            .find_map(|i| serde_json::from_slice(&line[i..]).ok())
    }

    pub fn message(&self) -> Message<'_> {
        let legacy = matches!(self.kind.as_str(), "container" | "image");
        let from = match self.kind.as_str() {
            "container" => self.attr("image"),
            _ => "",
        };
        Message {
            status: if legacy { &self.action } else { "" },
            id: if legacy { &self.actor.id } else { "" },
            from,
            kind: &self.kind,
            action: &self.action,
            actor: &self.actor,
            scope: "local",
            time: self.time_nano.div_euclid(1_000_000_000),
            time_nano: self.time_nano,
        }
    }

    fn attr(&self, key: &str) -> &str {
        self.actor.attributes.get(key).map_or("", String::as_str)
    }

    /// Docker's plain line: `TIME TYPE ACTION ID (k=v, ...)`.
    pub fn plain(&self) -> String {
        let (secs, nanos) = (
            self.time_nano.div_euclid(1_000_000_000),
            self.time_nano.rem_euclid(1_000_000_000) as u32,
        );
        let mut s = format!(
            "{} {} {} {}",
            yurta_time::format(secs, nanos),
            self.kind,
            self.action,
            self.actor.id
        );
        if !self.actor.attributes.is_empty() {
            let attrs: Vec<String> = self
                .actor
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            s.push_str(&format!(" ({})", attrs.join(", ")));
        }
        s
    }
}

/// `--filter KEY=VALUE`s: values of one key are alternatives, keys must
/// all match (Docker's events filter).
#[derive(Debug, Default)]
pub struct Filters(BTreeMap<String, Vec<String>>);

const KEYS: [&str; 8] = [
    "container",
    "image",
    "event",
    "type",
    "label",
    "network",
    "volume",
    "vm",
];

impl Filters {
    pub fn parse(given: &[String]) -> anyhow::Result<Filters> {
        let mut f = Filters::default();
        for g in given {
            let Some((k, v)) = g.split_once('=') else {
                bail!("bad format of filter {g:?} (expected name=value)");
            };
            let k = k.to_ascii_lowercase();
            if !KEYS.contains(&k.as_str()) {
                bail!("invalid filter {k:?} (container, image, event, type, label, network, volume, vm)");
            }
            f.0.entry(k).or_default().push(v.to_string());
        }
        Ok(f)
    }

    pub fn matches(&self, r: &Record) -> bool {
        self.0.iter().all(|(k, values)| match k.as_str() {
            "event" => values.iter().any(|v| event_matches(v, &r.action)),
            "type" => values.contains(&r.kind),
            "label" => values.iter().any(|v| label_matches(v, &r.actor.attributes)),
            "image" => values.iter().any(|v| image_matches(v, r)),
            kind => values.iter().any(|v| r.kind == kind && name_matches(v, r)),
        })
    }
}

/// `exec_start` matches `exec_start: sh -c ...` (Docker's fuzzy match for
/// the exec events); others exactly.
fn event_matches(want: &str, action: &str) -> bool {
    match want {
        "exec_create" | "exec_start" | "exec_die" | "health_status" => action.starts_with(want),
        _ => want == action,
    }
}

/// An ID or name beginning with the value (Docker's fuzzy name match).
fn name_matches(want: &str, r: &Record) -> bool {
    r.actor.id.starts_with(want) || r.attr("name").starts_with(want)
}

fn label_matches(want: &str, attrs: &BTreeMap<String, String>) -> bool {
    match want.split_once('=') {
        Some((k, v)) => attrs.get(k).is_some_and(|x| x == v),
        None => attrs.contains_key(want),
    }
}

/// The image's ID or name, with or without its tag.
fn image_matches(want: &str, r: &Record) -> bool {
    let name = match r.kind.as_str() {
        "image" => r.attr("name"),
        _ => r.attr("image"),
    };
    let id = r.actor.id.as_str();
    [
        id,
        name,
        super::emit::strip_tag(id),
        super::emit::strip_tag(name),
    ]
    .iter()
    .any(|c| !c.is_empty() && *c == want)
}

/// Docker's `--since`/`--until` (timetypes.GetTimestamp): Unix seconds
/// (`1700000000`, `1700000000.5`), a Go duration before now (`10m`,
/// `1h30m`, `500ms`), RFC 3339, or a date and time in UTC
/// (`2024-01-02`, `2024-01-02T15:04`, `2024-01-02T15:04:05`). In
/// nanoseconds since the epoch.
pub fn timestamp(flag: &str, s: &str, now_nanos: i64) -> anyhow::Result<i64> {
    let bad = || format!("invalid {flag} {s:?}: a time, Unix seconds or a duration (10m, 1h30m)");
    if let Some(n) = unix_seconds(s) {
        return Ok(n);
    }
    if let Some(d) = go_duration(s) {
        return Ok(now_nanos - d);
    }
    let full = match s.len() {
        10 => format!("{s}T00:00:00Z"),
        13 => format!("{s}:00:00Z"),
        16 => format!("{s}:00Z"),
        19 => format!("{s}Z"),
        _ => s.to_string(),
    };
    let secs = yurta_time::parse(&full).with_context(bad)?;
    Ok(secs * 1_000_000_000 + fraction_nanos(&full))
}

fn unix_seconds(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let nanos: i64 = format!("{frac:0<9}").parse().ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// `1h30m`, `10m`, `2.5s`, `500ms` → nanoseconds.
fn go_duration(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|&n| n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[u..];
    }
    Some(total as i64)
}

fn fraction_nanos(t: &str) -> i64 {
    let Some(frac) = t.get(19..).and_then(|r| r.strip_prefix('.')) else {
        return 0;
    };
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    format!("{digits:0<9}").parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn times_as_docker_takes_them() {
        let t = |s| timestamp("--since", s, NOW).unwrap();
        assert_eq!(t("1700000000"), NOW);
        assert_eq!(t("1700000000.5"), NOW + 500_000_000);
        assert_eq!(t("10m"), NOW - 600_000_000_000);
        assert_eq!(t("1h30m"), NOW - 5_400_000_000_000);
        assert_eq!(t("500ms"), NOW - 500_000_000);
        assert_eq!(t("2023-11-14T22:13:20Z"), NOW);
        assert_eq!(t("2023-11-14T22:13:20.25Z"), NOW + 250_000_000);
        assert_eq!(t("2023-11-14T22:13:20"), NOW);
        assert_eq!(
            t("2023-11-14"),
            NOW - (22 * 3600 + 13 * 60 + 20) * 1_000_000_000
        );
        let e = timestamp("--until", "yesterday", NOW).unwrap_err();
        assert!(e.to_string().contains("--until \"yesterday\""), "{e}");
        assert!(timestamp("--since", "10x", NOW).is_err());
    }

    fn record(line: &str) -> Record {
        Record::parse(line.as_bytes()).unwrap()
    }

    const DIE: &str = "{\"timeNano\":1700000000123456789,\"Type\":\"container\",\"Action\":\"die\",\
        \"Actor\":{\"ID\":\"abcdef\",\"Attributes\":{\"exitCode\":\"3\",\"image\":\"busybox:1\",\"name\":\"web\",\"tier\":\"db\"}}}";

    #[test]
    fn messages_have_dockers_fields_and_plain_lines() {
        let r = record(DIE);
        let j = serde_json::to_string(&r.message()).unwrap();
        assert_eq!(
            j,
            "{\"status\":\"die\",\"id\":\"abcdef\",\"from\":\"busybox:1\",\"Type\":\"container\",\
             \"Action\":\"die\",\"Actor\":{\"ID\":\"abcdef\",\"Attributes\":{\"exitCode\":\"3\",\
             \"image\":\"busybox:1\",\"name\":\"web\",\"tier\":\"db\"}},\"scope\":\"local\",\
             \"time\":1700000000,\"timeNano\":1700000000123456789}"
        );
        assert_eq!(
            r.plain(),
            "2023-11-14T22:13:20.123456789Z container die abcdef \
             (exitCode=3, image=busybox:1, name=web, tier=db)"
        );
    }

    #[test]
    fn a_torn_line_gives_the_line_glued_to_it() {
        let torn = format!("{{\"timeNano\":1,\"Type\":\"conta{DIE}");
        assert_eq!(record(&torn).action, "die");
        assert!(Record::parse(b"{\"timeNano\":1,\"Ty").is_none());
    }

    #[test]
    fn filters_as_docker() {
        let r = record(DIE);
        let f = |list: &[&str]| {
            let v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            Filters::parse(&v).unwrap().matches(&r)
        };
        assert!(f(&[]));
        assert!(f(&["container=web"]) && f(&["container=abc"]) && !f(&["container=x"]));
        assert!(f(&["event=die", "event=start"]) && !f(&["event=start"]));
        assert!(f(&["type=container"]) && !f(&["type=image"]));
        assert!(f(&["image=busybox"]) && f(&["image=busybox:1"]) && !f(&["image=busy"]));
        assert!(f(&["label=tier"]) && f(&["label=tier=db"]) && !f(&["label=tier=web"]));
        assert!(!f(&["network=web"]) && !f(&["volume=abc"]));
        assert!(!f(&["container=web", "event=start"]));
        assert!(Filters::parse(&["colour=red".into()]).is_err());
        assert!(Filters::parse(&["event".into()]).is_err());
    }
}
