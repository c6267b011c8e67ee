//! `/containers/...`: create, start, stop, restart, kill, pause, rename,
//! wait, remove, list, inspect, logs and prune, over
//! `yurta_engine::lifecycle` — the calls `yurta run`, `stop`, `rm`, ...
//! make, so a container made here is the CLI's and the other way round.

mod archive;
mod attach;
mod attach_ws;
mod create;
mod export;
mod logs;
mod stats;
mod update;
mod wait;

pub(crate) use archive::{get as archive_get, head as archive_head, put as archive_put};
pub(crate) use attach::{attach, frame, hijacked, resize, Pending};
pub(crate) use attach_ws::attach_ws;
pub(crate) use export::{changes, export};
pub(crate) use logs::logs;
pub(crate) use stats::stats;
pub(crate) use update::update;
pub(crate) use wait::wait;

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::json;
use yurta_engine::lifecycle::{self, reconcile};
use yurta_engine::record::ContainerRecord;
use yurta_engine::{summary, Engine};

use crate::error::ApiError;
use crate::request::{blocking, json, ok, status, Call, Reply};
use crate::server::State;

/// A lifecycle error with Docker's status for its kind.
pub(crate) fn lifecycle_error(e: anyhow::Error) -> ApiError {
    ApiError::kind(lifecycle::error_kind(&e), format!("{e:#}"))
}

pub(crate) fn open(state: &State) -> Result<Engine, ApiError> {
    Engine::open(&state.root).map_err(|e| ApiError::of(&e))
}

/// The container named by the path, its state reconciled with its
/// supervisor (as every CLI command sees it).
pub(crate) fn lookup(
    state: &State,
    engine: &Engine,
    name: &str,
) -> Result<ContainerRecord, ApiError> {
    let rec = engine
        .containers
        .lookup(name)
        .map_err(|e| ApiError::of(&e))?;
    Ok(reconcile::refresh(&state.engine, engine, rec))
}

/// Runs `f` on the path's container in the blocking pool.
async fn with_container<T, F>(c: &Call, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&State, &Engine, ContainerRecord) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (state, name) = (Arc::clone(&c.state), c.param(0).to_string());
    blocking(move || {
        let engine = open(&state)?;
        let rec = lookup(&state, &engine, &name)?;
        f(&state, &engine, rec)
    })
    .await
}

pub(crate) async fn create(mut c: Call) -> Reply {
    let body: create::CreateBody = c.json().await?;
    let req = body.into_request(c.q("name").map(str::to_string))?;
    let state = Arc::clone(&c.state);
    let rec = blocking(move || {
        let engine = open(&state)?;
        lifecycle::create(&state.engine, &engine, &req.options, &req.aliases)
            .map_err(lifecycle_error)
    })
    .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"Id": rec.id, "Warnings": []}),
    ))
}

/// Starts the container; an attach waiting for it (`docker run`) gets the
/// stream made with the start.
pub(crate) async fn start(c: Call) -> Reply {
    let started = with_container(&c, |state, engine, rec| {
        let mode = match state.attaches.waiting(&rec.id) {
            true => lifecycle::Attach::Stream,
            false => lifecycle::Attach::No,
        };
        match lifecycle::start(&state.engine, engine, &rec, mode) {
            Ok(mut started) => {
                state.attaches.hand_over(&rec.id, started.attach.take());
                Ok(started)
            }
            Err(e) => {
                state.attaches.cancel(&rec.id);
                // As Docker's daemon: an `--rm` container that could not
                // start goes (`docker run --rm` waits for its removal).
                if rec.host_config.auto_remove {
                    let _ = lifecycle::remove(&state.engine, engine, &rec, true, true);
                }
                Err(lifecycle_error(e))
            }
        }
    })
    .await?;
    match started.was_running {
        true => status(StatusCode::NOT_MODIFIED),
        false => status(StatusCode::NO_CONTENT),
    }
}

/// `t` (seconds before SIGKILL) and `signal`, as `docker stop` sends them.
fn stop_args(c: &Call) -> Result<(Option<i64>, Option<String>), ApiError> {
    let timeout =
        match c.q("t").filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("invalid t {t:?}: a number of seconds"))
            })?),
        };
    Ok((
        timeout,
        c.q("signal").filter(|s| !s.is_empty()).map(str::to_string),
    ))
}

pub(crate) async fn stop(c: Call) -> Reply {
    let (timeout, signal) = stop_args(&c)?;
    let stopped = with_container(&c, move |state, engine, rec| {
        if !rec.state.running {
            return Ok(false);
        }
        lifecycle::stop(&state.engine, engine, &rec, timeout, signal.as_deref())
            .map_err(lifecycle_error)?;
        Ok(true)
    })
    .await?;
    match stopped {
        true => status(StatusCode::NO_CONTENT),
        false => status(StatusCode::NOT_MODIFIED),
    }
}

pub(crate) async fn restart(c: Call) -> Reply {
    let (timeout, signal) = stop_args(&c)?;
    with_container(&c, move |state, engine, rec| {
        lifecycle::stop(&state.engine, engine, &rec, timeout, signal.as_deref())
            .map_err(lifecycle_error)?;
        let rec = engine
            .containers
            .read(&rec.id)
            .map_err(|e| ApiError::of(&e))?;
        lifecycle::start(&state.engine, engine, &rec, lifecycle::Attach::No)
            .map_err(lifecycle_error)?;
        Ok(())
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

pub(crate) async fn kill(c: Call) -> Reply {
    let signal = c
        .q("signal")
        .filter(|s| !s.is_empty())
        .unwrap_or("KILL")
        .to_string();
    with_container(&c, move |state, _, rec| {
        lifecycle::kill(&state.engine, &rec, &signal).map_err(lifecycle_error)
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

pub(crate) async fn pause(c: Call) -> Reply {
    pause_or_not(c, true).await
}

pub(crate) async fn unpause(c: Call) -> Reply {
    pause_or_not(c, false).await
}

async fn pause_or_not(c: Call, pause: bool) -> Reply {
    with_container(&c, move |state, engine, rec| {
        lifecycle::pause(&state.engine, engine, &rec, pause).map_err(lifecycle_error)
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

pub(crate) async fn rename(c: Call) -> Reply {
    let Some(new_name) = c.q("name").filter(|n| !n.is_empty()).map(str::to_string) else {
        return Err(ApiError::bad_request(
            "rename needs a new name (the name parameter)",
        ));
    };
    with_container(&c, move |state, engine, rec| {
        lifecycle::rename(&state.engine, engine, &rec.id, &new_name).map_err(lifecycle_error)
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

pub(crate) async fn remove(c: Call) -> Reply {
    let (force, volumes) = (c.flag("force")?, c.flag("v")?);
    with_container(&c, move |state, engine, rec| {
        lifecycle::remove(&state.engine, engine, &rec, force, volumes).map_err(lifecycle_error)
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

/// `GET /containers/{id}/top?ps_args=`: `{"Titles", "Processes"}`.
pub(crate) async fn top(c: Call) -> Reply {
    let args: Vec<String> = c
        .q("ps_args")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let (titles, processes) = with_container(&c, move |state, _, rec| {
        lifecycle::top::top(&state.engine, &rec, &args).map_err(lifecycle_error)
    })
    .await?;
    ok(&json!({"Titles": titles, "Processes": processes}))
}

pub(crate) async fn inspect(c: Call) -> Reply {
    let v = with_container(&c, |_, _, rec| Ok(rec.inspect())).await?;
    ok(&v)
}

pub(crate) async fn list(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&summary::FILTERS)?;
    let filters = f.pairs();
    let all = c.flag("all")?;
    let size = c.flag("size")?;
    let limit: Option<usize> = match c.q("limit").filter(|l| !l.is_empty() && *l != "-1") {
        None => None,
        Some(l) => Some(
            l.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        ),
    };
    let state = Arc::clone(&c.state);
    let list = blocking(move || {
        let engine = open(&state)?;
        let mut recs: Vec<ContainerRecord> = engine
            .containers
            .list()
            .map_err(|e| ApiError::of(&e))?
            .into_iter()
            .map(|r| reconcile::refresh(&state.engine, &engine, r))
            .collect();
        recs.sort_by(|a, b| b.created.cmp(&a.created));
        // A limit shows the last created whatever their state (`ps -n`).
        let all = all || limit.is_some() || filters.iter().any(|(k, _)| k == "status");
        let now = now();
        let mut shown: Vec<&ContainerRecord> = recs
            .iter()
            .filter(|r| all || r.state.running)
            .filter(|r| summary::filters_match(r, &filters))
            .collect();
        if let Some(n) = limit {
            shown.truncate(n);
        }
        // Sizes (`docker ps -s`) walk the writable layers: only when asked.
        let store = match size {
            true => Some(yurta_images::Store::open_root(&state.root)?),
            false => None,
        };
        Ok(shown
            .into_iter()
            .map(|r| {
                let mut j = summary::container_summary(r, now);
                if let Some(store) = &store {
                    let (rw, root_fs) = summary::container_sizes(&state.root, store, r);
                    j["SizeRw"] = json!(rw);
                    j["SizeRootFs"] = json!(root_fs);
                }
                j
            })
            .collect::<Vec<_>>())
    })
    .await?;
    ok(&list)
}

pub(crate) async fn prune(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&[])?;
    let state = Arc::clone(&c.state);
    let (ids, reclaimed, errors) = blocking(move || {
        let mut errors = Vec::new();
        let (ids, bytes) =
            lifecycle::prune_stopped(&state.engine, &mut errors).map_err(lifecycle_error)?;
        Ok((ids, bytes, errors))
    })
    .await?;
    if !errors.is_empty() {
        return Err(ApiError::internal(errors.join("; ")));
    }
    ok(&json!({"ContainersDeleted": ids, "SpaceReclaimed": reclaimed}))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
