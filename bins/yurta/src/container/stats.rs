//! `stats`: CPU, memory, network, block I/O and pids of running containers
//! (`yurta_engine::lifecycle::stats`), over Docker's stats context
//! (`--format`).
//! `--no-stream` prints once; otherwise a new sample every second, drawn
//! over the last on a terminal and appended elsewhere.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use yurta_engine::lifecycle::stats;
use yurta_engine::record::ContainerRecord;
use yurta_engine::Engine;

use super::args::StatsArgs;
use super::reconcile;
use crate::format::{self, Format, Row};
use crate::Ctx;

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
    let now = stats::sample(ctx, r);
    let cpu = match (cpu_before, now.cpu_ns) {
        (Some(b), Some(a)) if r.state.running => a.saturating_sub(b) as f64 / wall * 100.0,
        _ => 0.0,
    };
    let (used, limit) = (now.memory, now.memory_limit);
    let pct = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let (rx, tx, read, written) = (now.rx, now.tx, now.read, now.written);
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
        "PIDs": now.pids.to_string(),
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
        let before: Vec<Option<u64>> = recs
            .iter()
            .map(|(_, r)| stats::sample(ctx, r).cpu_ns)
            .collect();
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
