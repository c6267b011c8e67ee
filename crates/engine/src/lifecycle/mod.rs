//! Running containers: what every front end (the CLI, the Engine API
//! service, later the web console and CRI) calls to start, stop, kill,
//! remove and wait for a container, over the records ([`crate::Engine`]),
//! `yurta-network` (namespaces, addresses, ports), one `yurta-supervisor`
//! per running container and `yurta-runtime` (signals, pause, state).
//!
//! This module owns the files a running container adds to its directory
//! (`netns`, `pid`, `supervisor.pid`, `exit.json`, `stop`, the locks), how
//! a record's state is reconciled with them ([`reconcile`]), the cleanup
//! after an exit ([`state`]) and the container events of the journal
//! ([`events`]). It prints nothing: results and errors are values, and an
//! error's kind is [`error_kind`]'s answer. Terminals, attach streams and
//! tables are the front ends'.

pub mod archive;
pub mod attach_protocol;
pub mod changes;
pub mod commit;
pub mod connect;
pub mod events;
pub mod exec;
pub mod export;
pub mod health;
pub mod logs;
pub mod netns;
pub mod reconcile;
pub mod start;
pub mod state;
pub mod stats;
pub mod stop;
pub mod terminal;
pub mod top;
pub mod update;

use std::path::{Path, PathBuf};

use yurta_error::{ErrorKind, Kinded};

use crate::Binaries;

pub use start::{create, single_run, start, Attach, StartFailed, Started};
pub use stop::{kill, pause, prune_stopped, remove, rename, stop, wait_exit};

/// The state root and the binaries that run containers under it: what
/// every call here needs besides the stores.
#[derive(Debug, Clone)]
pub struct Host {
    pub root: PathBuf,
    pub binaries: Binaries,
}

impl Host {
    /// The runtime's `--root`.
    pub fn runtime_root(&self) -> PathBuf {
        self.root.join("runtime")
    }

    /// The container's files.
    pub fn paths(&self, id: &str) -> Paths {
        Paths::new(&self.root, id)
    }
}

/// The files of a container besides the engine's.
pub struct Paths {
    pub dir: PathBuf,
    pub netns: PathBuf,
    pub pid: PathBuf,
    pub supervisor_pid: PathBuf,
    pub exit: PathBuf,
    pub stop: PathBuf,
    pub cleanup_lock: PathBuf,
    /// Held while the container is being started, settled or removed.
    pub start_lock: PathBuf,
    /// Short (sun_path is 108 bytes): `<root>/attach/<12 hex>`.
    pub attach: PathBuf,
}

impl Paths {
    pub fn new(root: &Path, id: &str) -> Paths {
        let dir = root.join("containers").join(id);
        Paths {
            netns: dir.join("netns"),
            pid: dir.join("pid"),
            supervisor_pid: dir.join("supervisor.pid"),
            exit: dir.join("exit.json"),
            stop: dir.join("stop"),
            cleanup_lock: dir.join("cleanup.lock"),
            start_lock: dir.join("start.lock"),
            attach: root.join("attach").join(&id[..12.min(id.len())]),
            dir,
        }
    }
}

/// An error and its causes on one line (`a: b: c`).
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

/// The kind of an error of this module: the first cause in its chain that
/// knows its kind decides; messages alone never do.
pub fn error_kind(e: &anyhow::Error) -> ErrorKind {
    for cause in e.chain() {
        if let Some(k) = kind_of(cause) {
            return k;
        }
    }
    ErrorKind::Internal
}

fn kind_of(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    if let Some(e) = cause.downcast_ref::<yurta_error::Error>() {
        return Some(e.kind);
    }
    if let Some(e) = cause.downcast_ref::<crate::EngineError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<crate::ContainerError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<crate::OptionError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<yurta_network::Error>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<yurta_network::manage::ManageError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<yurta_images::ReferenceError>() {
        return Some(e.kind());
    }
    if let Some(e) = cause.downcast_ref::<yurta_images::changes::ChangeError>() {
        return Some(e.kind());
    }
    None
}

/// A one-line error of a kind, for `bail!`-style returns.
pub(crate) fn fail(kind: ErrorKind, message: impl Into<String>) -> anyhow::Error {
    yurta_error::Error::new(kind, message).into()
}
