//! `yurta events`: what happened, from the journal under the root
//! (yurta_events), which the CLI and the supervisors write as they go: no
//! daemon keeps a stream. Past events with `--since`/`--until`, then new
//! ones as they are appended, until `--until` or until nobody reads our
//! output. See docs/events.md.

mod emit;
mod message;

use std::time::Duration;

use clap::Args;
use yurta_events::{Journal, Reader};

pub use emit::*;
use message::{Filters, Record};

use crate::Ctx;

/// How often a follower looks for new lines.
const POLL: Duration = Duration::from_millis(100);

#[derive(Args)]
pub struct EventsArgs {
    /// Show events since this time: RFC 3339, Unix seconds, or a duration
    /// before now (10m, 1h30m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stop at this time (same forms); without it, follow new events
    #[arg(long)]
    pub until: Option<String>,
    /// container=, image=, event=, type=, label=, network=, volume=, vm=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// json, or a Go template ({{.Type}} {{.Action}} {{.Actor.ID}})
    #[arg(long)]
    pub format: Option<String>,
}

/// What is printed: the time window and the filters.
struct Query {
    since: i64,
    until: Option<i64>,
    filters: Filters,
    format: Option<String>,
}

pub fn events(ctx: &Ctx, a: EventsArgs) -> anyhow::Result<()> {
    let now = yurta_events::now_nanos();
    let time = |flag, v: &Option<String>| {
        v.as_deref()
            .map(|s| message::timestamp(flag, s, now))
            .transpose()
    };
    let (since, until) = (time("--since", &a.since)?, time("--until", &a.until)?);
    let q = Query {
        // No --since: new events only (Docker's), unless --until asks for past ones.
        since: since.unwrap_or(if until.is_some() { i64::MIN } else { now }),
        until,
        filters: Filters::parse(&a.filter)?,
        format: a.format.filter(|f| !f.is_empty()),
    };
    // A bad template is refused before following starts.
    if let Some(f) = q.format.as_deref().filter(|f| *f != "json") {
        yurta_template::Template::parse("--format", f)?;
    }
    let mut reader = Reader::open(&Journal::under(&ctx.root))?;
    loop {
        let last = q.until.is_some_and(|u| yurta_events::now_nanos() > u);
        while let Some(line) = reader.next_line() {
            if let Some(r) = Record::parse(&line) {
                print_if_wanted(&q, &r)?;
            }
        }
        if last || crate::out::reader_gone() {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}

fn print_if_wanted(q: &Query, r: &Record) -> anyhow::Result<()> {
    let in_window = r.time_nano >= q.since && q.until.is_none_or(|u| r.time_nano <= u);
    if !in_window || !q.filters.matches(r) {
        return Ok(());
    }
    let text = match q.format.as_deref() {
        None => r.plain(),
        Some("json" | "{{json .}}") => serde_json::to_string(&r.message())?,
        Some(t) => crate::format::render(t, &serde_json::to_value(r.message())?)?,
    };
    outln!("{text}")?;
    Ok(())
}
