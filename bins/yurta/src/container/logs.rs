//! `logs`: the json-file log (and its rotated files, oldest first),
//! `--tail`, `--since`, `-t`, and `-f` until the container's supervisor
//! is gone.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use yurta_engine::Engine;

use super::args::LogsArgs;
use super::{state, Paths};
use crate::Ctx;

#[derive(Deserialize)]
struct Record {
    log: String,
    stream: String,
    time: String,
}

pub fn logs(ctx: &Ctx, a: LogsArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = engine.containers.lookup(&a.container)?;
    let path = Path::new(&rec.log_path).to_path_buf();
    let tail: Option<usize> = match a.tail.as_str() {
        "all" | "-1" => None,
        n => Some(n.parse().with_context(|| format!("invalid --tail {n:?}"))?),
    };
    let since = a.since.as_deref().map(since_secs).transpose()?;
    let mut lines = Vec::new();
    for n in (1..100).rev() {
        let rotated = path.with_file_name(format!(
            "{}.{n}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        if let Ok(t) = fs::read_to_string(&rotated) {
            lines.extend(t.lines().map(str::to_string));
        }
    }
    let mut file = fs::File::open(&path).ok();
    let mut text = String::new();
    if let Some(f) = file.as_mut() {
        f.read_to_string(&mut text)?;
    }
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    lines.extend(text[..complete].lines().map(str::to_string));
    let mut pos = complete as u64;
    let records: Vec<Record> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &Record| since.is_none_or(|s| ts(&r.time) >= s))
        .collect();
    let skip = tail.map_or(0, |t| records.len().saturating_sub(t));
    for r in &records[skip..] {
        print_record(r, a.timestamps)?;
    }
    if !a.follow {
        return Ok(());
    }
    let p = Paths::new(&ctx.root, &rec.id);
    let mut pending = String::new();
    loop {
        let alive = state::supervisor_alive(&p);
        if file.is_none() {
            file = fs::File::open(&path).ok();
        }
        if let Some(f) = file.as_mut() {
            let len = f.metadata()?.len();
            if len < pos {
                pos = 0; // rotated
                *f = fs::File::open(&path)?;
            }
            f.seek(SeekFrom::Start(pos))?;
            let mut more = String::new();
            pos += f.read_to_string(&mut more)? as u64;
            pending.push_str(&more);
            while let Some(i) = pending.find('\n') {
                let line: String = pending.drain(..=i).collect();
                if let Ok(r) = serde_json::from_str::<Record>(&line) {
                    print_record(&r, a.timestamps)?;
                }
            }
        }
        // Nobody reads any more (`logs -f c | head -1`): stop, as `tail -f`.
        if !alive || crate::out::reader_gone() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn print_record(r: &Record, timestamps: bool) -> Result<(), crate::out::StdoutError> {
    let text = if timestamps {
        format!("{} {}", r.time, r.log)
    } else {
        r.log.clone()
    };
    if r.stream == "stderr" {
        let _ = std::io::stderr().write_all(text.as_bytes());
        Ok(())
    } else {
        crate::out::write_bytes(text.as_bytes())
    }
}

/// Seconds and nanoseconds as one sortable number.
fn ts(t: &str) -> f64 {
    let secs = yurta_images::time::parse_rfc3339(t).unwrap_or(0) as f64;
    let frac = t
        .split_once('.')
        .map(|(_, f)| f.trim_end_matches('Z'))
        .and_then(|f| format!("0.{f}").parse::<f64>().ok())
        .unwrap_or(0.0);
    secs + frac
}

/// `--since`: RFC 3339, Unix seconds, or a duration ago (`10s`, `5m`, `2h`).
fn since_secs(s: &str) -> anyhow::Result<f64> {
    if let Some(t) = yurta_images::time::parse_rfc3339(s) {
        return Ok(t as f64);
    }
    if let Ok(t) = s.parse::<f64>() {
        return Ok(t);
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => bail!("invalid --since {s:?}: a time, Unix seconds or a duration (10s, 5m, 2h)"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid --since {s:?}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    Ok(now - n * mult)
}
