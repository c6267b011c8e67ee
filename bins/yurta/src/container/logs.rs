//! `logs`: the json-file log (and its rotated files, oldest first),
//! `--tail`, `--since`, `-t`, and `-f` until the container's supervisor
//! is gone, read through `yurta_engine::lifecycle::logs`.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context};
use yurta_engine::lifecycle::logs::{time_arg, LogQuery, LogRecord, Logs};
use yurta_engine::Engine;

use super::args::LogsArgs;
use crate::Ctx;

pub fn logs(ctx: &Ctx, a: LogsArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = engine.containers.lookup(&a.container)?;
    let tail: Option<usize> = match a.tail.as_str() {
        "all" | "-1" => None,
        n => Some(n.parse().with_context(|| format!("invalid --tail {n:?}"))?),
    };
    let since = match a.since.as_deref() {
        None => None,
        Some(s) => match time_arg(s, now()) {
            Some(t) => Some(t),
            None => {
                bail!("invalid --since {s:?}: a time, Unix seconds or a duration (10s, 5m, 2h)")
            }
        },
    };
    let mut log = Logs::open(&ctx.root, &rec);
    let query = LogQuery {
        tail,
        since,
        until: None,
    };
    for r in log.past(&query)? {
        print_record(&r, a.timestamps)?;
    }
    if !a.follow {
        return Ok(());
    }
    loop {
        let alive = log.writer_alive();
        for r in log.more()? {
            print_record(&r, a.timestamps)?;
        }
        // Nobody reads any more (`logs -f c | head -1`): stop, as `tail -f`.
        if !alive || crate::out::reader_gone() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn print_record(r: &LogRecord, timestamps: bool) -> Result<(), crate::out::StdoutError> {
    let text = if timestamps {
        format!("{} {}", r.time, r.log)
    } else {
        r.log.clone()
    };
    if r.is_stderr() {
        let _ = std::io::stderr().write_all(text.as_bytes());
        Ok(())
    } else {
        crate::out::write_bytes(text.as_bytes())
    }
}
