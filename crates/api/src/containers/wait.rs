//! `POST /containers/{id}/wait`: the answer's headers at once, its body
//! (`{"StatusCode": N}`) when the condition holds — `not-running` (the
//! default), `next-exit` (an exit after this request; `docker run`
//! waits so before starting), `removed` (`docker run --rm`). The waiting
//! ends early when the client goes away.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use serde_json::json;
use yurta_engine::lifecycle::{reconcile, state};
use yurta_engine::record::ContainerRecord;
use yurta_engine::{ContainerError, Engine, Paths};
use yurta_events::{Journal, Reader};

use super::{lookup, open};
use crate::body::Channel;
use crate::error::ApiError;
use crate::request::{blocking, Call, Reply};
use crate::server::State;

/// How often the container's state is looked at: soon after the wait
/// begins and after the container is seen to start (a short container,
/// `docker run --rm IMAGE true`, ends within milliseconds), then less and
/// less often, down to every 50 ms.
const FIRST_POLL: Duration = Duration::from_millis(2);
const LAST_POLL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    NotRunning,
    NextExit,
    Removed,
}

pub(crate) async fn wait(c: Call) -> Reply {
    let condition = match c.q("condition").unwrap_or("") {
        "" | "not-running" => Condition::NotRunning,
        "next-exit" => Condition::NextExit,
        "removed" => Condition::Removed,
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid condition {other:?}: not-running, next-exit or removed"
            )))
        }
    };
    let (state, name) = (Arc::clone(&c.state), c.param(0).to_string());
    // The container must exist now: a 404 before the headers.
    let first = {
        let (state, name) = (Arc::clone(&state), name.clone());
        blocking(move || lookup(&state, &open(&state)?, &name)).await?
    };
    let (tx, body) = Channel::open(1);
    tokio::task::spawn_blocking(move || {
        let code = match open(&state) {
            Ok(engine) => until(&state, &engine, first, condition, &|| tx.is_closed()),
            Err(_) => None,
        };
        if let Some(code) = code {
            let answer = json!({"StatusCode": code, "Error": null}).to_string();
            let _ = tx.blocking_send(Ok(Bytes::from(answer)));
        }
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// Waits for `condition`; the exit code, or None when `gone()` (the
/// client left) first.
fn until(
    state: &State,
    engine: &Engine,
    first: ContainerRecord,
    condition: Condition,
    gone: &dyn Fn() -> bool,
) -> Option<i32> {
    let p = Paths::new(&state.root, &first.id);
    let started_at = first.state.started_at.clone();
    let mut seen_running = first.state.running;
    let mut code = exit_code(&p, &first);
    // A `--rm` container may run, exit and be removed between two looks:
    // its last `die` event has the code.
    let mut dies = (condition == Condition::Removed).then(|| Dies::new(&state.root, &first.id));
    let mut poll = FIRST_POLL;
    loop {
        if let Some(d) = dies.as_mut() {
            code = d.last_code().unwrap_or(code);
        }
        let rec = match engine.containers.read(&first.id) {
            Ok(r) => reconcile::refresh(&state.engine, engine, r),
            Err(ContainerError::NotFound(_)) => {
                return Some(dies.as_mut().and_then(Dies::last_code).unwrap_or(code))
            }
            Err(_) => return Some(code),
        };
        let started = rec.state.running || rec.state.started_at != started_at;
        if started && !seen_running {
            poll = FIRST_POLL;
        }
        seen_running |= started;
        if !rec.state.running {
            code = exit_code(&p, &rec);
            let done = match condition {
                Condition::NotRunning => true,
                Condition::NextExit => seen_running,
                Condition::Removed => false,
            };
            if done {
                return Some(code);
            }
        }
        if gone() {
            return None;
        }
        std::thread::sleep(poll);
        poll = (poll * 2).min(LAST_POLL);
    }
}

/// The last exit's code: the supervisor's exit file, else the record's.
fn exit_code(p: &Paths, rec: &ContainerRecord) -> i32 {
    state::read_exit(p).map_or(rec.state.exit_code, |e| e.exit_code)
}

/// The container's `die` events in the journal, as they are appended.
struct Dies {
    reader: Option<Reader>,
    id: String,
    code: Option<i32>,
}

impl Dies {
    fn new(root: &std::path::Path, id: &str) -> Dies {
        Dies {
            reader: Reader::open(&Journal::under(root)).ok(),
            id: id.to_string(),
            code: None,
        }
    }

    /// The exit code of the last `die` so far.
    fn last_code(&mut self) -> Option<i32> {
        let Some(reader) = self.reader.as_mut() else {
            return self.code;
        };
        while let Some(line) = reader.next_line() {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
                continue;
            };
            if v["Action"] == "die" && v["Actor"]["ID"] == self.id.as_str() {
                let code = v["Actor"]["Attributes"]["exitCode"].as_str();
                self.code = code.and_then(|c| c.parse().ok()).or(self.code);
            }
        }
        self.code
    }
}
