//! `GET /api/stats`: CPU and memory of every running container and VM, one
//! JSON line every [`PERIOD`], for the lists and the graphs. One sampler
//! serves every open page (a broadcast); it runs only while a page
//! listens. Containers are read through `yurta_engine::lifecycle::stats`,
//! VMs from their QEMU process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::Response;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use yurta_api::body::{Body, Channel};
use yurta_api::Front;
use yurta_engine::vm::store::{view, Status, VmStore};

use crate::Web;

pub const PERIOD: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Hub(Mutex<Option<broadcast::Sender<Bytes>>>);

impl Hub {
    fn subscribe(&self, host: &yurta_engine::Host) -> broadcast::Receiver<Bytes> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = slot.as_ref().filter(|tx| tx.receiver_count() > 0) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(4);
        *slot = Some(tx.clone());
        tokio::spawn(sample_while_listened(tx, host.clone()));
        rx
    }
}

pub fn stream(web: &Arc<Web>, cx: &Front) -> Response<Body> {
    let mut rx = web.stats.subscribe(cx.api.engine());
    let busy = cx.api.busy();
    let (tx, body) = Channel::open(4);
    tokio::spawn(async move {
        let _busy = busy;
        loop {
            match rx.recv().await {
                Ok(line) => {
                    if tx.send(Ok(line)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The previous reading of each, for CPU percentages.
#[derive(Default)]
struct Last {
    containers: HashMap<String, (u64, u64)>,
    vms: HashMap<String, (u64, u64)>,
}

async fn sample_while_listened(tx: broadcast::Sender<Bytes>, host: yurta_engine::Host) {
    let last = Arc::new(Mutex::new(Last::default()));
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        if tx.receiver_count() == 0 {
            return;
        }
        let (host, last) = (host.clone(), last.clone());
        let line = tokio::task::spawn_blocking(move || {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            let mut v = json!({
                "containers": containers(&host, &mut last.containers),
                "vms": vms(&host, &mut last.vms),
            })
            .to_string();
            v.push('\n');
            Bytes::from(v)
        })
        .await;
        if let Ok(line) = line {
            let _ = tx.send(line);
        }
    }
}

/// Percent of one CPU, from two (used, total) readings and CPUs online.
fn percent(prev: Option<(u64, u64)>, now: (u64, u64), cpus: u32) -> f64 {
    match prev {
        Some((u0, s0)) if now.1 > s0 && now.0 >= u0 => {
            (now.0 - u0) as f64 / (now.1 - s0) as f64 * f64::from(cpus.max(1)) * 100.0
        }
        _ => 0.0,
    }
}

fn containers(host: &yurta_engine::Host, last: &mut HashMap<String, (u64, u64)>) -> Value {
    let mut out = Map::new();
    let Ok(engine) = yurta_engine::Engine::open(&host.root) else {
        return Value::Object(out);
    };
    let mut seen = HashMap::new();
    for rec in engine.containers.list().unwrap_or_default() {
        if !rec.state.running {
            continue;
        }
        let s = yurta_engine::lifecycle::stats::sample(host, &rec);
        let now = (s.cpu_ns.unwrap_or(0), s.system_ns);
        let cpu = percent(last.get(&rec.id).copied(), now, s.online_cpus);
        seen.insert(rec.id.clone(), now);
        out.insert(
            rec.id.clone(),
            json!({"cpu": round(cpu), "memory": s.memory, "limit": s.memory_limit}),
        );
    }
    *last = seen;
    Value::Object(out)
}

fn vms(host: &yurta_engine::Host, last: &mut HashMap<String, (u64, u64)>) -> Value {
    let mut out = Map::new();
    let store = VmStore::new(&host.root);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let mut seen = HashMap::new();
    for name in store.names() {
        let Ok(vm) = store.get(&name) else { continue };
        let Ok(record) = vm.load() else { continue };
        let v = view(&vm, &record);
        let Some(live) = v.live.filter(|_| v.status == Status::Running) else {
            continue;
        };
        let Some((cpu_ns, rss)) = process(live.pid) else {
            continue;
        };
        let now = (cpu_ns, yurta_engine::lifecycle::stats::system_ns());
        let cpu = percent(last.get(&name).copied(), now, cpus);
        seen.insert(name.clone(), now);
        out.insert(name, json!({"cpu": round(cpu), "memory": rss}));
    }
    *last = seen;
    Value::Object(out)
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn ticks_ns() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    1_000_000_000 / if hz > 0 { hz as u64 } else { 100 }
}

/// A process's CPU time (ns) and resident memory (bytes).
fn process(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are 11 and 12 after the name.
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Some((ticks * ticks_ns(), rss_kib * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_our_own_process() {
        assert_eq!(percent(None, (5, 10), 2), 0.0);
        assert_eq!(percent(Some((0, 0)), (50, 100), 2), 100.0);
        assert_eq!(
            percent(Some((10, 100)), (5, 200), 1),
            0.0,
            "a reset counter"
        );
        let (_, rss) = process(std::process::id()).unwrap();
        assert!(rss > 0);
    }
}
