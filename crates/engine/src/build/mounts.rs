//! `RUN --mount`: what each mount becomes for the step's container.
//!
//! - `type=cache`: a directory under `<root>/build/mounts/cache/`, one per
//!   `id` (default: the target), kept across builds (`builder prune`
//!   removes them), made with `mode`/`uid`/`gid` the first time.
//! - `type=bind`: the context (or `from=` a stage or an image, mounted
//!   for the step) at `source`, read-only; with `rw` a copy, so writes
//!   are discarded as BuildKit's are.
//! - `type=tmpfs`: a tmpfs (`size`).
//! - `type=secret`: a `--secret` of the build, as a read-only file at the
//!   target (default `/run/secrets/<id>`) or an environment variable
//!   (`env=`); a `required` one that was not given fails the step.
//!
//! Mount points the step's image did not have are removed from its
//! changes afterwards (BuildKit's "mount stubs"), so they are not in the
//! layer.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use nix::unistd::{chown, Gid, Uid};
use sha2::{Digest, Sha256};
use yurta_build::mount::{Mount, MountType};
use yurta_images::rwlayer::Lowers;
use yurta_images::{ImageRecord, Store};

use super::copy::Mounted;
use crate::fsutil::scoped_join;

/// What the step's mounts need from the build.
pub struct Sources<'a> {
    pub root: &'a Path,
    pub context: &'a Path,
    pub scratch: &'a Path,
    pub store: &'a Store,
    /// `from=`: a stage's (or image's) result, by the name written.
    pub from: &'a dyn Fn(&str) -> anyhow::Result<ImageRecord>,
    /// `--secret id=…`: the file with its value.
    pub secrets: &'a BTreeMap<String, PathBuf>,
}

/// The step's mounts, ready for the container.
#[derive(Default)]
pub struct Prepared {
    /// `--mount` specs of the container.
    pub specs: Vec<String>,
    /// Secrets given as environment variables.
    pub env: Vec<(String, String)>,
    /// Every mount's target, for the stubs' removal.
    pub targets: Vec<String>,
    /// Stages or images mounted for `from=` (unmounted when dropped).
    _views: Vec<Mounted>,
}

pub fn prepare(mounts: &[Mount], s: &Sources) -> anyhow::Result<Prepared> {
    let mut p = Prepared::default();
    for (i, m) in mounts.iter().enumerate() {
        match m.kind {
            MountType::Cache => cache(m, s, &mut p)?,
            MountType::Bind => bind(m, s, i, &mut p)?,
            MountType::Tmpfs => {
                let target = target(m)?;
                let mut spec = format!("type=tmpfs,target={target}");
                if let Some(size) = m.size {
                    spec.push_str(&format!(",tmpfs-size={size}"));
                }
                p.specs.push(spec);
                p.targets.push(target);
            }
            MountType::Secret => secret(m, s, &mut p)?,
        }
    }
    Ok(p)
}

fn target(m: &Mount) -> anyhow::Result<String> {
    match &m.target {
        Some(t) if t.starts_with('/') => Ok(t.clone()),
        Some(t) => Ok(format!("/{t}")),
        None => bail!("--mount={}: a target is required", m.spec),
    }
}

fn cache(m: &Mount, s: &Sources, p: &mut Prepared) -> anyhow::Result<()> {
    let target = target(m)?;
    let id = m.id.clone().unwrap_or_else(|| target.clone());
    let name = hex::encode(Sha256::digest(id.as_bytes()));
    let dir = s.root.join("build/mounts/cache").join(name);
    if !dir.is_dir() {
        fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(m.mode.unwrap_or(0o755)))?;
        chown(
            &dir,
            Some(Uid::from_raw(m.uid.unwrap_or(0))),
            Some(Gid::from_raw(m.gid.unwrap_or(0))),
        )?;
    }
    p.specs.push(format!(
        "type=bind,source={},target={target}",
        dir.display()
    ));
    p.targets.push(target);
    Ok(())
}

fn bind(m: &Mount, s: &Sources, i: usize, p: &mut Prepared) -> anyhow::Result<()> {
    let target = target(m)?;
    let source = m.source.as_deref().unwrap_or("/");
    let host = match &m.from {
        Some(from) => {
            let image = (s.from)(from)?;
            let view = Mounted::new(s.store, &image, s.scratch.join(format!("mount-{i}")))?;
            let host = scoped_join(&view.merged, Path::new(source))?;
            p._views.push(view);
            host
        }
        None => scoped_join(s.context, Path::new(source))?,
    };
    if !host.exists() {
        bail!("--mount={}: {source}: no such file or directory", m.spec);
    }
    let (host, readonly) = match m.readonly {
        true => (host, true),
        false => {
            // Writes are discarded: the step gets its own copy.
            let copy = s.scratch.join(format!("mount-{i}-rw"));
            copy_tree(&host, &copy)?;
            (copy, false)
        }
    };
    let mut spec = format!("type=bind,source={},target={target}", host.display());
    if readonly {
        spec.push_str(",readonly");
    }
    p.specs.push(spec);
    p.targets.push(target);
    Ok(())
}

fn secret(m: &Mount, s: &Sources, p: &mut Prepared) -> anyhow::Result<()> {
    let id = match (&m.id, &m.target) {
        (Some(id), _) => id.clone(),
        (None, Some(t)) => Path::new(t)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        (None, None) => bail!("--mount={}: a secret needs an id", m.spec),
    };
    let Some(src) = s.secrets.get(&id) else {
        if m.required {
            bail!("secret {id} is required: give it with --secret id={id},src=FILE");
        }
        return Ok(());
    };
    if let Some(var) = &m.env {
        let value = fs::read_to_string(src)
            .with_context(|| format!("secret {id}: read {}", src.display()))?;
        p.env.push((var.clone(), value));
        if m.target.is_none() {
            return Ok(());
        }
    }
    let target = m
        .target
        .clone()
        .unwrap_or_else(|| format!("/run/secrets/{id}"));
    p.specs.push(format!(
        "type=bind,source={},target={target},readonly",
        src.display()
    ));
    p.targets.push(target);
    Ok(())
}

/// `cp -a`, for a `rw` bind's private copy.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .context("run cp")?;
    if !st.success() {
        bail!(
            "copy {} for a rw bind mount: cp exited {st}",
            from.display()
        );
    }
    Ok(())
}

/// Removes from `upper` (the step's changes) the mount points of
/// `targets` that `lowers` (the step's image) did not have, and the
/// directories made only to hold them.
pub fn remove_stubs(upper: &Path, lowers: &Lowers, targets: &[String]) {
    for t in targets {
        let mut rel = PathBuf::from(t.trim_start_matches('/'));
        loop {
            if rel.as_os_str().is_empty() || matches!(lowers.lookup(&rel), Ok(Some(_))) {
                break;
            }
            let path = upper.join(&rel);
            let removed = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir(&path).is_ok(),
                Ok(m) if m.len() == 0 => fs::remove_file(&path).is_ok(),
                _ => false,
            };
            if !removed {
                break;
            }
            match rel.parent() {
                Some(up) => rel = up.to_path_buf(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_go_but_not_what_the_image_had_or_what_the_step_wrote() {
        let tmp = tempfile::tempdir().unwrap();
        let upper = tmp.path().join("upper");
        fs::create_dir_all(upper.join("run/secrets/x")).unwrap();
        fs::create_dir_all(upper.join("cache/dir")).unwrap();
        fs::write(upper.join("cache/kept.txt"), "the step wrote this").unwrap();
        remove_stubs(
            &upper,
            &Lowers::none(),
            &["/run/secrets/x".into(), "/cache/dir".into()],
        );
        assert!(!upper.join("run").exists());
        assert!(!upper.join("cache/dir").exists());
        assert!(upper.join("cache/kept.txt").exists());
    }
}
