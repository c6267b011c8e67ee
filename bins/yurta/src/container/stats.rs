//! `stats`: CPU, memory, network, block I/O and pids of running containers, from
//! their cgroups (v1, v2 or hybrid: cgroupsPath `/yurta/<id>`) and the
//! init's /proc/PID/net/dev, over Docker's stats context (`--format`).
//! `--no-stream` prints once; otherwise a new sample every second, drawn
//! over the last on a terminal and appended elsewhere.

use std::fs;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use yurta_engine::record::ContainerRecord;
use yurta_engine::Engine;

use super::args::StatsArgs;
use super::{reconcile, state, Paths};
use crate::format::{self, Format, Row};
use crate::Ctx;

fn read_u64(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// CPU time used, in nanoseconds.
fn cpu_ns(id: &str) -> Option<u64> {
    if v2() {
        let stat = fs::read_to_string(format!("/sys/fs/cgroup/yurta/{id}/cpu.stat")).ok()?;
        let usec = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse::<u64>()
            .ok()?;
        return Some(usec * 1000);
    }
    read_u64(&format!("/sys/fs/cgroup/cpuacct/yurta/{id}/cpuacct.usage")).or_else(|| {
        read_u64(&format!(
            "/sys/fs/cgroup/cpu,cpuacct/yurta/{id}/cpuacct.usage"
        ))
    })
}

fn memory(id: &str) -> (u64, Option<u64>) {
    let host = host_memory();
    if v2() {
        let usage = read_u64(&format!("/sys/fs/cgroup/yurta/{id}/memory.current")).unwrap_or(0);
        let limit = read_u64(&format!("/sys/fs/cgroup/yurta/{id}/memory.max"));
        return (usage, limit.or(host));
    }
    let base = format!("/sys/fs/cgroup/memory/yurta/{id}");
    let usage = read_u64(&format!("{base}/memory.usage_in_bytes")).unwrap_or(0);
    let limit = read_u64(&format!("{base}/memory.limit_in_bytes"));
    let limit = match (limit, host) {
        (Some(l), Some(h)) if l < h => Some(l),
        _ => host,
    };
    (usage, limit)
}

fn host_memory() -> Option<u64> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn pids(id: &str) -> u64 {
    let path = if v2() {
        format!("/sys/fs/cgroup/yurta/{id}/pids.current")
    } else {
        format!("/sys/fs/cgroup/pids/yurta/{id}/pids.current")
    };
    read_u64(&path).unwrap_or(0)
}

/// Bytes received and sent on the container's interfaces (lo excluded).
/// Bytes read and written by the container's processes (block I/O), from
/// the blkio (v1) or io (v2) controller.
fn block_io(id: &str) -> (u64, u64) {
    if v2() {
        let text = std::fs::read_to_string(format!("/sys/fs/cgroup/yurta/{id}/io.stat"));
        let stats = yurta_cgroups::parse_io_stat(&text.unwrap_or_default());
        return yurta_cgroups::read_write(&stats.io_service_bytes_recursive);
    }
    // The throttle layer counts where limits are enabled, bfq where it is
    // the disk's scheduler.
    ["throttle", "bfq"]
        .iter()
        .filter_map(|kind| {
            let file =
                format!("/sys/fs/cgroup/blkio/yurta/{id}/blkio.{kind}.io_service_bytes_recursive");
            std::fs::read_to_string(file).ok()
        })
        .map(|t| yurta_cgroups::read_write(&yurta_cgroups::parse_blkio_v1(&t)))
        .find(|&(r, w)| r > 0 || w > 0)
        .unwrap_or((0, 0))
}

fn net(pid: i32) -> (u64, u64) {
    let text = fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    let mut rx_tx = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() > 8 {
            rx_tx.0 += f[0];
            rx_tx.1 += f[8];
        }
    }
    rx_tx
}

const DEFAULT_FORMAT: &str = r"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Docker's column names of the stats context.
const HEADERS: [(&str, &str); 9] = [
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("ID", "CONTAINER ID"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// The containers to show, each with the name `.Container` shows (what
/// was asked for, or the short ID).
fn targets(
    ctx: &Ctx,
    engine: &Engine,
    a: &StatsArgs,
) -> anyhow::Result<Vec<(String, ContainerRecord)>> {
    if a.containers.is_empty() {
        return Ok(engine
            .containers
            .list()?
            .into_iter()
            .map(|r| reconcile::refresh(ctx, engine, r))
            .filter(|r| a.all || r.state.running)
            .map(|r| (format::id(&r.id, false), r))
            .collect());
    }
    let mut v = Vec::new();
    for q in &a.containers {
        let rec = reconcile::refresh(ctx, engine, engine.containers.lookup(q)?);
        v.push((q.clone(), rec));
    }
    Ok(v)
}

/// Docker's stats context of one container: CPU over `wall` nanoseconds
/// from `cpu_before`.
fn context(
    ctx: &Ctx,
    a: &StatsArgs,
    shown: &str,
    r: &ContainerRecord,
    cpu_before: Option<u64>,
    wall: f64,
) -> Value {
    let cpu = match (cpu_before, cpu_ns(&r.id)) {
        (Some(b), Some(a)) if r.state.running => a.saturating_sub(b) as f64 / wall * 100.0,
        _ => 0.0,
    };
    let (used, limit) = memory(&r.id);
    let limit = limit.unwrap_or(0);
    let pct = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let p = Paths::new(&ctx.root, &r.id);
    let (rx, tx) = state::init_pid(&p).map(net).unwrap_or((0, 0));
    let (read, written) = block_io(&r.id);
    let name = match r.bare_name() {
        "" => "--",
        n => n,
    };
    json!({
        "Container": shown,
        "Name": name,
        "ID": format::id(&r.id, a.no_trunc),
        "CPUPerc": format!("{cpu:.2}%"),
        "MemUsage": format!("{} / {}", format::bytes_iec(used), format::bytes_iec(limit)),
        "MemPerc": format!("{pct:.2}%"),
        "NetIO": format!("{} / {}", format::size(rx), format::size(tx)),
        "BlockIO": format!("{} / {}", format::size(read), format::size(written)),
        "PIDs": pids(&r.id).to_string(),
    })
}

pub fn stats(ctx: &Ctx, a: StatsArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let f = Format::new(a.format.as_deref(), DEFAULT_FORMAT);
    // Redraw in place on a terminal; elsewhere (a pipe, a file) each
    // sample follows the last, without control codes.
    let redraw = !a.no_stream && std::io::stdout().is_terminal();
    loop {
        let recs = targets(ctx, &engine, &a)?;
        let before: Vec<Option<u64>> = recs.iter().map(|(_, r)| cpu_ns(&r.id)).collect();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(500));
        let wall = t0.elapsed().as_nanos() as f64;
        let rows: Vec<Row<'_>> = recs
            .iter()
            .zip(before)
            .map(|((shown, r), b)| Row::new(context(ctx, &a, shown, r, b, wall)))
            .collect();
        if redraw {
            out!("\x1b[2J\x1b[H")?;
        }
        format::list(&f, &rows, &HEADERS)?;
        if a.no_stream || (recs.is_empty() && !a.containers.is_empty()) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
