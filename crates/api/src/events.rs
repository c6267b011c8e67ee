//! `GET /events`: the journal's events as Docker's JSON stream, past ones
//! from `since`, then new ones as they are appended, until `until` (or the
//! client leaves). Filters: `type`, `event`, `container`, `image`,
//! `network`, `volume`, `label` (values of one name are alternatives).
//! The same journal the CLI reads (see docs/events.md).

use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use serde_json::{json, Value};
use yurta_events::{Journal, Reader};

use crate::body::Channel;
use crate::error::ApiError;
use crate::filters::Filters;
use crate::request::{Call, Reply};

/// How often a follower looks for new lines (as `yurta events`).
const POLL: Duration = Duration::from_millis(100);

const KNOWN: &[&str] = &[
    "type",
    "event",
    "container",
    "image",
    "network",
    "volume",
    "label",
    "scope",
];

/// `SECONDS[.NANOS]` (what clients send) as nanoseconds.
fn timestamp(name: &str, v: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::bad_request(format!("invalid {name} {v:?}: expected Unix seconds"));
    let (s, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: i64 = s.parse().map_err(|_| bad())?;
    let nanos: i64 = match frac {
        "" => 0,
        f if f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse().map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    Ok(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

/// Docker's message for a journal line (legacy `status`/`id`/`from` for
/// containers and images), or None for a line that is not an event.
fn message(line: &[u8]) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(line).ok()?;
    let kind = v["Type"].as_str()?.to_string();
    let nanos = v["timeNano"].as_i64()?;
    v["scope"] = json!("local");
    v["time"] = json!(nanos.div_euclid(1_000_000_000));
    if kind == "container" || kind == "image" {
        v["status"] = v["Action"].clone();
        v["id"] = v["Actor"]["ID"].clone();
        if kind == "container" {
            v["from"] = v["Actor"]["Attributes"]["image"].clone();
        }
    }
    Some(v)
}

fn wanted(f: &Filters, v: &Value) -> bool {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let kind = s("/Type");
    let attrs = &v["Actor"]["Attributes"];
    let about = |k: &str, want: &str| {
        kind == k && (s("/Actor/ID").starts_with(want) || attrs["name"].as_str() == Some(want))
    };
    f.0.iter().all(|(key, values)| {
        values.iter().any(|want| match key.as_str() {
            "type" => kind == want,
            "event" => s("/Action") == want || s("/Action").starts_with(&format!("{want}:")),
            "container" => about("container", want),
            "network" => about("network", want),
            "volume" => about("volume", want),
            "image" => {
                about("image", want)
                    || (kind == "container" && attrs["image"].as_str() == Some(want))
            }
            "label" => match want.split_once('=') {
                Some((k, val)) => attrs[k].as_str() == Some(val),
                None => attrs.get(want.as_str()).is_some(),
            },
            "scope" => want == "local",
            _ => false,
        })
    })
}

pub(crate) async fn events(c: Call) -> Reply {
    let filters = c.filters()?;
    filters.only(KNOWN)?;
    let now = yurta_events::now_nanos();
    let since = c
        .q("since")
        .filter(|s| !s.is_empty())
        .map(|s| timestamp("since", s))
        .transpose()?;
    let until = c
        .q("until")
        .filter(|s| !s.is_empty())
        .map(|s| timestamp("until", s))
        .transpose()?;
    let since = since.unwrap_or(if until.is_some() { i64::MIN } else { now });
    let mut reader = Reader::open(&Journal::under(&c.state.root))
        .map_err(|e| ApiError::internal(format!("open the event journal: {e}")))?;
    let (tx, body) = Channel::open(16);
    tokio::spawn(async move {
        loop {
            let last = until.is_some_and(|u| yurta_events::now_nanos() > u);
            while let Some(line) = reader.next_line() {
                let Some(v) = message(&line) else { continue };
                let t = v["timeNano"].as_i64().unwrap_or(0);
                if t < since || until.is_some_and(|u| t > u) || !wanted(&filters, &v) {
                    continue;
                }
                let text = v.to_string() + "\n";
                if tx.send(Ok(Bytes::from(text))).await.is_err() {
                    return;
                }
            }
            if last || tx.is_closed() {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_filters() {
        assert_eq!(timestamp("since", "12").unwrap(), 12_000_000_000);
        assert_eq!(timestamp("since", "1.5").unwrap(), 1_500_000_000);
        assert!(timestamp("since", "1h").is_err());
        let line = br#"{"timeNano":5,"Type":"volume","Action":"create","Actor":{"ID":"v1","Attributes":{"driver":"local"}}}"#;
        let v = message(line).unwrap();
        let f = |t: &str| Filters::parse(Some(t)).unwrap();
        assert!(wanted(&f(r#"{"type":["volume"]}"#), &v));
        assert!(wanted(
            &f(r#"{"volume":{"v1":true},"event":["create"]}"#),
            &v
        ));
        assert!(!wanted(&f(r#"{"type":["image"]}"#), &v));
        assert!(wanted(&f(r#"{"label":["driver=local"]}"#), &v));
    }
}
