//! `/api/vms…`: the VMs of the root through `yurta_engine::vm`, as `yurta
//! vm` has them — inspect documents, create (the form's fields are `vm
//! create`'s flags), start, stop, kill, restart, remove, snapshots and
//! the serial console's log. The API socket has no VMs (Docker has none),
//! so these are the console's own routes.

use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use nix::sys::signal::Signal;
use serde::Deserialize;
use serde_json::Value;
use yurta_api::body::{full, Body};
use yurta_api::Front;
use yurta_engine::vm::store::{view, VmStore};
use yurta_engine::vm::{create, inspect, lifecycle, snapshot};

use crate::http::{self, error, json, status};
use crate::Web;

/// How long `stop` waits for the guest to power off (the CLI's default).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// The create form, as docs/web.md has it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CreateForm {
    name: String,
    kernel: String,
    initrd: String,
    image: String,
    memory: String,
    cpus: u32,
    disk_size: String,
    network: String,
    display: String,
    cmdline: String,
    start: Option<bool>,
}

pub async fn handle(_web: &Web, req: Request<Incoming>, cx: &Front) -> Response<Body> {
    let host = cx.api.engine().clone();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let segs: Vec<String> = path
        .trim_start_matches("/api/vms")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(http::decode)
        .collect();
    let body = match method {
        Method::POST => crate::routes::read_body(req).await,
        _ => None,
    };
    let run = move || -> Result<Response<Body>, (StatusCode, String)> {
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        match (&method, segs.as_slice()) {
            (&Method::GET, []) => Ok(json(StatusCode::OK, &list(&host))),
            (&Method::POST, []) => create(&host, body.as_deref()),
            (&Method::GET, [name]) => Ok(json(StatusCode::OK, &document(&host, name)?)),
            (&Method::DELETE, [name]) => {
                let force = http::param(&query, "force").is_some_and(|v| v == "1" || v == "true");
                let vm = get(&host, name)?;
                lifecycle::remove(&host, &vm, force).map_err(failed)?;
                Ok(status(StatusCode::NO_CONTENT))
            }
            (&Method::GET, [name, "console.log"]) => {
                let vm = get(&host, name)?;
                let log = std::fs::read(vm.console_log()).unwrap_or_default();
                let mut r = Response::new(full(log));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                Ok(r)
            }
            (&Method::GET, [name, "snapshots"]) => {
                let names = snapshot::names(&host, name).map_err(failed)?;
                let v: Vec<Value> = names
                    .into_iter()
                    .map(|n| serde_json::json!({"Name": n}))
                    .collect();
                Ok(json(StatusCode::OK, &v))
            }
            (&Method::POST, [name, "snapshots"]) => {
                #[derive(Deserialize)]
                #[serde(rename_all = "PascalCase")]
                struct Snap {
                    name: String,
                }
                let s: Snap = parse(body.as_deref())?;
                snapshot::change(&host, name, &s.name, snapshot::Op::Create).map_err(failed)?;
                Ok(status(StatusCode::CREATED))
            }
            (&Method::POST, [name, "snapshots", snap, "restore"]) => {
                snapshot::change(&host, name, snap, snapshot::Op::Restore).map_err(failed)?;
                Ok(status(StatusCode::NO_CONTENT))
            }
            (&Method::DELETE, [name, "snapshots", snap]) => {
                snapshot::change(&host, name, snap, snapshot::Op::Remove).map_err(failed)?;
                Ok(status(StatusCode::NO_CONTENT))
            }
            (&Method::POST, [name, action]) => act(&host, name, action),
            _ => Err((StatusCode::NOT_FOUND, "page not found".into())),
        }
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(Ok(r)) => r,
        Ok(Err((code, message))) => error(code, message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

type Failure = (StatusCode, String);

/// An engine error: its kind's status, its one line.
fn failed(e: anyhow::Error) -> Failure {
    let kind = yurta_engine::lifecycle::error_kind(&e);
    let code =
        StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, format!("{e:#}"))
}

fn parse<T: serde::de::DeserializeOwned>(body: Option<&[u8]>) -> Result<T, Failure> {
    let body = body.ok_or((
        StatusCode::BAD_REQUEST,
        "the body is too large or broken".into(),
    ))?;
    serde_json::from_slice(body).map_err(|e| (StatusCode::BAD_REQUEST, format!("bad JSON: {e}")))
}

fn get(host: &yurta_engine::Host, name: &str) -> Result<yurta_engine::vm::store::VmDir, Failure> {
    VmStore::new(&host.root)
        .get(name)
        .map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))
}

fn document(host: &yurta_engine::Host, name: &str) -> Result<Value, Failure> {
    let vm = get(host, name)?;
    let record = vm.load().map_err(failed)?;
    let v = view(&vm, &record);
    Ok(inspect::document(&vm, &record, &v))
}

fn list(host: &yurta_engine::Host) -> Vec<Value> {
    let store = VmStore::new(&host.root);
    store
        .names()
        .iter()
        .filter_map(|n| document(host, n).ok())
        .collect()
}

fn act(host: &yurta_engine::Host, name: &str, action: &str) -> Result<Response<Body>, Failure> {
    let vm = get(host, name)?;
    match action {
        "start" => lifecycle::start(host, &vm),
        "stop" => lifecycle::stop(host, &vm, STOP_GRACE),
        "restart" => {
            lifecycle::stop(host, &vm, STOP_GRACE).and_then(|()| lifecycle::start(host, &vm))
        }
        "kill" => lifecycle::kill_vm(host, &vm, Signal::SIGKILL),
        _ => return Err((StatusCode::NOT_FOUND, format!("no VM action {action:?}"))),
    }
    .map_err(failed)?;
    Ok(status(StatusCode::NO_CONTENT))
}

fn create(host: &yurta_engine::Host, body: Option<&[u8]>) -> Result<Response<Body>, Failure> {
    let f: CreateForm = parse(body)?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut a = create::VmCreate::new(f.name.trim());
    a.kernel = text(&f.kernel).map(Into::into);
    a.initrd = text(&f.initrd).map(Into::into);
    a.image = text(&f.image).map(Into::into);
    a.cmdline = text(&f.cmdline);
    if let Some(m) = text(&f.memory) {
        // A bare number is MiB, as the form's field says.
        a.memory = match m.chars().all(|c| c.is_ascii_digit()) {
            true => format!("{m}M"),
            false => m,
        };
    }
    if f.cpus > 0 {
        a.cpus = f.cpus;
    }
    if let Some(d) = text(&f.disk_size) {
        a.disk.push(d);
    }
    if let Some(n) = text(&f.network) {
        a.network = vec![n];
    }
    if let Some(d) = text(&f.display) {
        a.display = d;
    }
    let made = match f.start.unwrap_or(true) {
        true => create::create_and_start(host, &a),
        false => create::create(host, &a),
    };
    let vm = made.map_err(|e| {
        let (code, message) = failed(e);
        // The engine's checks of the form are plain messages: the
        // user's input, not the service, is at fault.
        match code {
            StatusCode::INTERNAL_SERVER_ERROR => (StatusCode::BAD_REQUEST, message),
            c => (c, message),
        }
    })?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({"Name": vm.name}),
    ))
}
