//! `GET /containers/{id}/stats`: Docker's stats JSON (`cpu_stats` and
//! `precpu_stats`, `memory_stats`, `networks`, `blkio_stats`,
//! `pids_stats`) from `yurta_engine::lifecycle::stats` samples — one
//! object (`stream=false`, two samples half a second apart so that the
//! client can compute the CPU share) or one per second until the client
//! leaves or the container stops.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use serde_json::{json, Value};
use yurta_engine::lifecycle::reconcile;
use yurta_engine::lifecycle::stats::{sample, Sample};
use yurta_engine::record::ContainerRecord;

use super::{lookup, open};
use crate::body::Channel;
use crate::request::{blocking, Call, Reply};
use crate::server::State;

/// Between the two samples of a one-shot answer.
const ONE_SHOT_GAP: Duration = Duration::from_millis(500);
/// Between two objects of a stream (Docker's).
const PERIOD: Duration = Duration::from_secs(1);

pub(crate) async fn stats(c: Call) -> Reply {
    let stream = match c.q("stream") {
        None => true,
        Some(_) => c.flag("stream")?,
    };
    let (state, name) = (Arc::clone(&c.state), c.param(0).to_string());
    let rec = {
        let state = state.clone();
        blocking(move || lookup(&state, &open(&state)?, &name)).await?
    };
    let (tx, body) = Channel::open(2);
    tokio::task::spawn_blocking(move || {
        let mut before = read(&state, &rec);
        let mut read_at = yurta_time::now();
        if !stream {
            std::thread::sleep(ONE_SHOT_GAP);
        }
        loop {
            let rec = current(&state, &rec);
            let now = read(&state, &rec);
            let now_at = yurta_time::now();
            let v = to_json(&rec, &now, &before, &now_at, &read_at);
            let line = format!("{v}\n");
            if tx.blocking_send(Ok(Bytes::from(line))).is_err() || !stream || !rec.state.running {
                return;
            }
            (before, read_at) = (now, now_at);
            std::thread::sleep(PERIOD);
        }
    });
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

fn read(state: &State, rec: &ContainerRecord) -> Sample {
    match rec.state.running {
        true => sample(&state.engine, rec),
        false => Sample::default(),
    }
}

/// The record as it is now (the container may have stopped).
fn current(state: &State, rec: &ContainerRecord) -> ContainerRecord {
    open(state)
        .ok()
        .and_then(|e| {
            let r = e.containers.read(&rec.id).ok()?;
            Some(reconcile::refresh(&state.engine, &e, r))
        })
        .unwrap_or_else(|| rec.clone())
}

fn cpu(s: &Sample) -> Value {
    json!({
        "cpu_usage": {
            "total_usage": s.cpu_ns.unwrap_or(0),
            "usage_in_kernelmode": 0,
            "usage_in_usermode": 0,
        },
        "system_cpu_usage": s.system_ns,
        "online_cpus": s.online_cpus,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    })
}

/// Docker's `StatsJSON` of one sample and the one before it.
fn to_json(rec: &ContainerRecord, s: &Sample, pre: &Sample, at: &str, pre_at: &str) -> Value {
    json!({
        "read": at,
        "preread": pre_at,
        "id": rec.id,
        "name": format!("/{}", rec.bare_name()),
        "pids_stats": {"current": s.pids},
        "num_procs": 0,
        "cpu_stats": cpu(s),
        "precpu_stats": cpu(pre),
        "memory_stats": {"usage": s.memory, "limit": s.memory_limit, "stats": {}},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"major": 0, "minor": 0, "op": "read", "value": s.read},
            {"major": 0, "minor": 0, "op": "write", "value": s.written},
        ]},
        "networks": {"eth0": {"rx_bytes": s.rx, "tx_bytes": s.tx, "rx_packets": 0,
            "tx_packets": 0, "rx_errors": 0, "tx_errors": 0, "rx_dropped": 0, "tx_dropped": 0}},
    })
}
