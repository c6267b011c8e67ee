//! What a container may leave on the host, filtered by its id and test
//! directory (tests run in parallel, so whole-host snapshots would not do).

use std::fs;
use std::path::Path;

/// Describes every cgroup, mount, process and state entry of `id` still present.
pub fn find(id: &str, dir: &Path, root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    cgroups(id, &mut found);
    mounts(dir, &mut found);
    processes(id, dir, &mut found);
    if root.join(id).exists() {
        found.push(format!("state dir {}", root.join(id).display()));
    }
    found
}

/// `/sys/fs/cgroup/<hierarchy>/yurta-test/<id>` (v1, hybrid) and
/// `/sys/fs/cgroup/yurta-test/<id>` (v2).
fn cgroups(id: &str, found: &mut Vec<String>) {
    let base = Path::new("/sys/fs/cgroup");
    let mut parents = vec![base.join("yurta-test")];
    if let Ok(rd) = fs::read_dir(base) {
        parents.extend(rd.flatten().map(|e| e.path().join("yurta-test")));
    }
    for parent in parents {
        let Ok(rd) = fs::read_dir(&parent) else {
            continue;
        };
        for e in rd.flatten() {
            if e.path().is_dir() && e.file_name().to_string_lossy().contains(id) {
                found.push(format!("cgroup {}", e.path().display()));
            }
        }
    }
}

fn mounts(dir: &Path, found: &mut Vec<String>) {
    let dir = dir.to_string_lossy();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    found.extend(
        info.lines()
            .filter(|l| l.contains(&*dir))
            .map(|l| format!("mount {l}")),
    );
}

/// Processes in the container's cgroup, or whose command line or working
/// directory points into the test directory.
fn processes(id: &str, dir: &Path, found: &mut Vec<String>) {
    let me = std::process::id().to_string();
    let cgroup = format!("/yurta-test/{id}");
    let Ok(rd) = fs::read_dir("/proc") else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
            continue;
        }
        let p = e.path();
        let cmdline = fs::read(p.join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let in_cgroup = fs::read_to_string(p.join("cgroup"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.ends_with(&cgroup) || l.contains(&format!("{cgroup}/")));
        let mentions = args
            .iter()
            .any(|a| a == id || Path::new(a).starts_with(dir));
        let cwd_inside = fs::read_link(p.join("cwd")).is_ok_and(|c| c.starts_with(dir));
        if in_cgroup || mentions || cwd_inside {
            found.push(format!("process {name}: {}", args.join(" ").trim()));
        }
    }
}
