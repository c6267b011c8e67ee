//! `GET /containers/{id}/logs`: the json-file log through
//! `yurta_engine::lifecycle::logs`, in Docker's stream format — 8-byte
//! frames (stream 1 stdout, 2 stderr, then the length, big-endian) for a
//! container without a TTY, the raw bytes with one — with `stdout`,
//! `stderr`, `since`, `until`, `tail`, `timestamps` and `follow` (until
//! the container's supervisor is gone or the client leaves).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use tokio::sync::mpsc::Sender;
use yurta_engine::lifecycle::logs::{time_arg, LogQuery, LogRecord, Logs};

use super::with_container;
use crate::body::Channel;
use crate::error::ApiError;
use crate::request::{Call, Reply};

/// How often a follower looks for new lines.
const POLL: Duration = Duration::from_millis(100);

/// What the client asked for besides the records' selection.
#[derive(Clone, Copy)]
struct Shape {
    stdout: bool,
    stderr: bool,
    timestamps: bool,
    /// Frames (no TTY) or raw bytes.
    framed: bool,
}

fn time_param(c: &Call, key: &str) -> Result<Option<f64>, ApiError> {
    match c.q(key).filter(|v| !v.is_empty() && *v != "0") {
        None => Ok(None),
        Some(v) => time_arg(v, now()).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("invalid {key} {v:?}: a time or Unix seconds"))
        }),
    }
}

pub(crate) async fn logs(c: Call) -> Reply {
    let (stdout, stderr) = (c.flag("stdout")?, c.flag("stderr")?);
    if !stdout && !stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let tail = match c.q("tail").unwrap_or("all") {
        "all" | "" | "-1" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid tail {n:?}")))?,
        ),
    };
    let query = LogQuery {
        tail,
        since: time_param(&c, "since")?,
        until: time_param(&c, "until")?,
    };
    let (follow, timestamps) = (c.flag("follow")?, c.flag("timestamps")?);
    let root = Arc::clone(&c.state).root.clone();
    let (log, tty) = with_container(&c, move |_, _, rec| {
        Ok((Logs::open(&root, &rec), rec.config.tty))
    })
    .await?;
    let shape = Shape {
        stdout,
        stderr,
        timestamps,
        framed: !tty,
    };
    let (tx, body) = Channel::open(16);
    tokio::task::spawn_blocking(move || {
        pump(log, &query, follow && query.until.is_none(), shape, &tx)
    });
    let mut r = Response::new(body);
    let kind = match tty {
        true => "application/vnd.docker.raw-stream",
        false => "application/vnd.docker.multiplexed-stream",
    };
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(kind),
    );
    Ok(r)
}

type Tx = Sender<std::io::Result<Bytes>>;

fn pump(mut log: Logs, query: &LogQuery, follow: bool, shape: Shape, tx: &Tx) {
    let past = match log.past(query) {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    if !send_all(&past, shape, tx) || !follow {
        return;
    }
    loop {
        let alive = log.writer_alive();
        match log.more() {
            Ok(more) if send_all(&more, shape, tx) => {}
            _ => return,
        }
        if !alive || tx.is_closed() {
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// Sends the records the client wants; false when it has gone.
fn send_all(records: &[LogRecord], shape: Shape, tx: &Tx) -> bool {
    for r in records {
        let wanted = if r.is_stderr() {
            shape.stderr
        } else {
            shape.stdout
        };
        if wanted && tx.blocking_send(Ok(frame(r, shape))).is_err() {
            return false;
        }
    }
    true
}

/// One record as the client reads it.
fn frame(r: &LogRecord, shape: Shape) -> Bytes {
    let text = match shape.timestamps {
        true => format!("{} {}", r.time, r.log),
        false => r.log.clone(),
    };
    if !shape.framed {
        return Bytes::from(text);
    }
    let mut out = Vec::with_capacity(8 + text.len());
    out.push(if r.is_stderr() { 2 } else { 1 });
    out.extend([0, 0, 0]);
    out.extend((text.len() as u32).to_be_bytes());
    out.extend(text.as_bytes());
    Bytes::from(out)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_stream_and_the_length() {
        let r = LogRecord {
            log: "hi\n".into(),
            stream: "stderr".into(),
            time: "2026-01-01T00:00:00Z".into(),
        };
        let shape = Shape {
            stdout: true,
            stderr: true,
            timestamps: false,
            framed: true,
        };
        assert_eq!(
            &frame(&r, shape)[..],
            b"\x02\x00\x00\x00\x00\x00\x00\x03hi\n"
        );
        let raw = Shape {
            framed: false,
            timestamps: true,
            ..shape
        };
        assert_eq!(&frame(&r, raw)[..], b"2026-01-01T00:00:00Z hi\n");
    }
}
