//! Files of a container as tar streams (`docker cp`): the container's
//! side runs in the `yurta container cp-helper` role of the yurta binary,
//! which enters a running container's mount namespace and root, or
//! chroots into a stopped container's root filesystem mounted for the
//! copy ([`StoppedView`]), so that paths, symlinks included, resolve as
//! inside and never escape. A stopped container's volumes are not part
//! of the copy.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context};

use super::{state, Host, Paths};
use crate::record::ContainerRecord;
use crate::Engine;

/// What the helper does with a path inside the container.
#[derive(Debug, Clone, Copy)]
pub enum ArchiveOp<'a> {
    /// Its stat as JSON on stdout.
    Stat(&'a str),
    /// It as a tar on stdout.
    Pack(&'a str),
    /// A tar from stdin unpacked into it.
    Unpack(&'a str),
    /// A directory's entries as a JSON array on stdout.
    List(&'a str),
}

/// The helper's command (stdio is the caller's) and, for a stopped
/// container, its mounted root filesystem, which must outlive the command:
/// keep the `Helper` until the command has ended.
pub struct Helper {
    pub command: Command,
    _view: Option<StoppedView>,
}

/// The helper for `op` in `rec`, running or not.
pub fn helper(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    op: ArchiveOp,
) -> anyhow::Result<Helper> {
    let pid = state::init_pid(&Paths::new(&host.root, &rec.id)).filter(|_| rec.state.running);
    let mut command = Command::new(&host.binaries.yurta);
    command.args(["container", "cp-helper"]);
    let view = match pid {
        Some(pid) => {
            command.args(["--pid", &pid.to_string()]);
            None
        }
        None => {
            let view = StoppedView::mount(engine, rec)?;
            command.arg("--root-dir").arg(&view.dir);
            Some(view)
        }
    };
    match op {
        ArchiveOp::Stat(p) => command.args(["--stat", p]),
        ArchiveOp::Pack(p) => command.args(["--pack", p]),
        ArchiveOp::Unpack(p) => command.args(["--unpack", p]),
        ArchiveOp::List(p) => command.args(["--list", p]),
    };
    Ok(Helper {
        command,
        _view: view,
    })
}

/// Copies at once in this process get their own mount points.
static VIEWS: AtomicU64 = AtomicU64::new(0);

/// A stopped container's root filesystem, mounted on `cp-PID-N/` in its
/// directory for one copy and unmounted (and the directory removed) when
/// dropped. A container using the flattened copy is used in place.
pub struct StoppedView {
    pub dir: PathBuf,
    mounted: bool,
}

impl StoppedView {
    pub fn mount(engine: &Engine, rec: &ContainerRecord) -> anyhow::Result<Self> {
        let cdir = engine.containers.container_dir(&rec.id);
        let paths = crate::rootfs::RootfsPaths::new(&cdir);
        if rec.driver == "copy" {
            return Ok(StoppedView {
                dir: paths.rootfs,
                mounted: false,
            });
        }
        let image = engine
            .images
            .resolve(&rec.image)
            .with_context(|| format!("cp: the image {} of the container is gone", rec.image))?;
        let n = VIEWS.fetch_add(1, Ordering::Relaxed);
        let dir = cdir.join(format!("cp-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let view = StoppedView { dir, mounted: true };
        let kind = yurta_images::layers::mount_rootfs(
            &engine.images,
            &image,
            &view.dir,
            &paths.upper,
            &paths.work,
            false,
        )
        .with_context(|| format!("cp: mount the root filesystem of {}", rec.bare_name()))?;
        if kind == yurta_images::layers::RootfsKind::Copy {
            // No overlay here: a flattened copy would lose what is copied in.
            let _ = fs::remove_dir_all(&view.dir);
            bail!(
                "cp {}: the container is stopped and its root filesystem cannot be mounted (no overlayfs); start it first",
                rec.bare_name()
            );
        }
        Ok(view)
    }
}

impl Drop for StoppedView {
    fn drop(&mut self) {
        if self.mounted {
            let _ = yurta_images::layers::unmount_rootfs(&self.dir);
            let _ = fs::remove_dir(&self.dir);
        }
    }
}
