//! `top`: the container's processes (its cgroup's, and its init's
//! descendants), as the host's `ps` shows them with the given options
//! (`-ef` by default), in Docker's columns: the titles and the rows.

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::{bail, Context};
use yurta_error::ErrorKind;

use super::{fail, state, Host, Paths};
use crate::record::ContainerRecord;

/// `ps`'s titles and the container's rows.
pub type Table = (Vec<String>, Vec<Vec<String>>);

/// The processes of a running container; `ps_args` empty means `-ef`.
pub fn top(host: &Host, rec: &ContainerRecord, ps_args: &[String]) -> anyhow::Result<Table> {
    if !rec.state.running {
        return Err(fail(
            ErrorKind::Conflict,
            format!("container {} is not running", rec.bare_name()),
        ));
    }
    let p = Paths::new(&host.root, &rec.id);
    let init = state::init_pid(&p).context("the container's init is gone")?;
    let mut pids = cgroup_pids(&rec.id);
    pids.insert(init);
    pids.extend(descendants(init));
    let args = match ps_args.is_empty() {
        true => vec!["-ef".to_string()],
        false => ps_args.to_vec(),
    };
    check_ps_args(&args)?;
    parse_ps(&run_ps(&args, &pids)?, &pids)
}

/// Docker refuses options that would rename the PID column.
fn check_ps_args(args: &[String]) -> anyhow::Result<()> {
    let joined = args.join(" ");
    for (i, _) in joined.match_indices("=PID") {
        let key = joined[..i].rsplit(' ').next().unwrap_or_default();
        if key != "pid" {
            let value = joined[i + 1..].split(' ').next().unwrap_or_default();
            return Err(fail(
                ErrorKind::Invalid,
                format!("specifying \"{key}={value}\" is not allowed"),
            ));
        }
    }
    Ok(())
}

/// `ps ARGS -qPIDS`, or `ps ARGS` where those options refuse `-q`.
fn run_ps(args: &[String], pids: &BTreeSet<i32>) -> anyhow::Result<String> {
    let list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    let with_q = Command::new("ps")
        .args(args)
        .arg(format!("-q{}", list.join(",")))
        .output()
        .context("ps")?;
    if with_q.status.success() {
        return Ok(String::from_utf8_lossy(&with_q.stdout).into_owned());
    }
    let out = Command::new("ps").args(args).output().context("ps")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "ps {}: {}",
            args.join(" "),
            err.lines().next().unwrap_or("failed")
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The titles and the container's rows of `ps` output (the daemon's
/// parsePSOutput: the last column takes the rest of the line).
fn parse_ps(output: &str, pids: &BTreeSet<i32>) -> anyhow::Result<Table> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let Some(pid_col) = titles.iter().position(|t| t == "PID") else {
        bail!("Couldn't find PID field in ps output");
    };
    let mut rows = Vec::new();
    let mut in_container = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_col) else {
            continue;
        };
        if *pid == "-" {
            if in_container {
                rows.push(merge(&fields, titles.len()));
            }
            continue;
        }
        let p: i32 = pid
            .parse()
            .with_context(|| format!("Unexpected pid '{pid}'"))?;
        in_container = pids.contains(&p);
        if in_container {
            rows.push(merge(&fields, titles.len()));
        }
    }
    Ok((titles, rows))
}

fn merge(fields: &[&str], columns: usize) -> Vec<String> {
    let split = columns.saturating_sub(1).min(fields.len());
    let mut row: Vec<String> = fields[..split].iter().map(|f| f.to_string()).collect();
    row.push(fields[split..].join(" "));
    row
}

/// The processes of the container's cgroup (v2, or v1's pids/memory).
fn cgroup_pids(id: &str) -> BTreeSet<i32> {
    ["", "pids/", "memory/", "cpu,cpuacct/"]
        .iter()
        .map(|c| format!("/sys/fs/cgroup/{c}yurta/{id}/cgroup.procs"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            t.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let path = format!("/proc/{p}/task/{p}/children");
        for c in std::fs::read_to_string(path)
            .unwrap_or_default()
            .split_whitespace()
        {
            if let Ok(c) = c.parse::<i32>() {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_output_as_the_daemon_parses_it() {
        let out = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:00 /sbin/init\nroot 42 1 0 10:00 ? 00:00:00 sleep 1000 now\n";
        let (titles, rows) = parse_ps(out, &BTreeSet::from([42])).unwrap();
        assert_eq!(titles.len(), 8);
        assert_eq!(
            rows,
            vec![vec![
                "root",
                "42",
                "1",
                "0",
                "10:00",
                "?",
                "00:00:00",
                "sleep 1000 now"
            ]]
        );
        assert!(parse_ps("USER COMMAND\n", &BTreeSet::new()).is_err());
        assert!(check_ps_args(&["-o".into(), "pid=PID".into()]).is_ok());
        assert_eq!(
            check_ps_args(&["-o".into(), "user=PID".into()])
                .unwrap_err()
                .to_string(),
            "specifying \"user=PID\" is not allowed"
        );
    }
}
