//! What a test's yurta holds on the host, as one comparable value: the
//! files under its root, its mounts, links, nft rules, cgroups and
//! processes. A fault-injection test takes one before, kills a command at
//! some step, lets `ps`/`rm -f`/`prune` settle, and takes another: any
//! difference is something left behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The host resources of one test's yurta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub files: BTreeSet<String>,
    pub mounts: BTreeSet<String>,
    pub links: BTreeSet<String>,
    pub rules: BTreeSet<String>,
    pub cgroups: BTreeSet<String>,
    pub processes: BTreeSet<String>,
}

/// Where to look: the root, the link name prefixes and nft table that are
/// the test's own, and the container IDs the test has seen (their cgroups
/// are looked for, since a cgroup does not name the root).
pub struct Scope<'a> {
    pub root: &'a Path,
    pub link_prefixes: &'a [&'a str],
    pub table: &'a str,
    pub ids: &'a BTreeSet<String>,
}

/// Files under the root that come and go by design, not leftovers: lock
/// files (kept once made, like podman's), logs of the fault trace.
fn ignored(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.ends_with(".lock") || name == "lock"
}

impl Fingerprint {
    pub fn take(s: &Scope) -> Fingerprint {
        Fingerprint {
            files: files(s.root),
            mounts: mounts(s.root),
            links: links(s.link_prefixes),
            rules: rules(s.table),
            cgroups: cgroups(s.ids),
            processes: processes(s.root)
                .into_iter()
                .chain(in_cgroups(s.ids))
                .collect(),
        }
    }

    /// What `other` has that `self` lacks and the reverse, one line each.
    pub fn diff(&self, other: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let pairs = [
            ("file", &self.files, &other.files),
            ("mount", &self.mounts, &other.mounts),
            ("link", &self.links, &other.links),
            ("rule", &self.rules, &other.rules),
            ("cgroup", &self.cgroups, &other.cgroups),
            ("process", &self.processes, &other.processes),
        ];
        for (what, a, b) in pairs {
            out.extend(b.difference(a).map(|x| format!("+ {what} {x}")));
            out.extend(a.difference(b).map(|x| format!("- {what} {x}")));
        }
        out
    }
}

fn files(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let Ok(ft) = e.file_type() else { continue };
            // A container's root filesystem is the image's (or a mount):
            // its presence is what counts, not its content.
            let inside_rootfs = rel.contains("/rootfs/") || rel.contains("/diff/");
            if ft.is_dir() && !inside_rootfs && !rel.starts_with("images/") {
                stack.push(path);
            }
            if !ignored(&rel) && !inside_rootfs {
                out.insert(rel);
            }
        }
    }
    out
}

fn mounts(root: &Path) -> BTreeSet<String> {
    let r = root.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&r))
        .map(str::to_string)
        .collect()
}

fn links(prefixes: &[&str]) -> BTreeSet<String> {
    super::world::links_with(prefixes).into_iter().collect()
}

/// The table's rules, without handles.
fn rules(table: &str) -> BTreeSet<String> {
    let out = std::process::Command::new("nft")
        .args(["list", "table", "ip", table])
        .output();
    let Ok(out) = out else {
        return BTreeSet::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("table") && !l.starts_with('}'))
        .map(str::to_string)
        .collect()
}

fn cgroups(ids: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let controllers: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    for id in ids {
        let mut places = vec![PathBuf::from("/sys/fs/cgroup/yurta").join(id)];
        places.extend(controllers.iter().map(|c| c.join("yurta").join(id)));
        out.extend(
            places
                .into_iter()
                .filter(|p| p.exists())
                .map(|p| p.display().to_string()),
        );
    }
    out
}

/// Processes of this root: any whose command line names it (CLIs,
/// supervisors, exit commands); containers' are [`in_cgroups`].
fn processes(root: &Path) -> BTreeSet<String> {
    let r = root.display().to_string();
    let me = std::process::id().to_string();
    let mut out = BTreeSet::new();
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
            continue;
        }
        if !pid.parse().is_ok_and(yurta_sysutil::proc::running) {
            continue; // gone, or a zombie the host's init has not reaped yet
        }
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&r) {
            out.insert(format!("{pid}: {}", cmdline.trim()));
        }
    }
    out
}

/// Live processes in the cgroup of one of the containers `ids` (a
/// container's processes name neither the root nor the container).
pub fn in_cgroups(ids: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if !pid.parse().is_ok_and(yurta_sysutil::proc::running) {
            continue; // gone, or a zombie the host's init has not reaped yet
        }
        let cgroup = std::fs::read_to_string(p.path().join("cgroup")).unwrap_or_default();
        if let Some(id) = ids
            .iter()
            .find(|id| cgroup.contains(&format!("/yurta/{id}")))
        {
            let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
            out.insert(format!("{pid} ({}) in container {id}", comm.trim()));
        }
    }
    out
}
