//! `vm ls`, `vm inspect` (both with `--format`, as Docker's lists and
//! inspect), `vm vnc`: read-only, no lock taken.

use anyhow::bail;
use serde_json::{json, Value};

use super::args::LsArgs;
use super::store::{view, Status, View, VmDir, VmRecord, VmStore};
use crate::format::{self, Format, Row};
use crate::Ctx;

const HEADERS: [(&str, &str); 8] = [
    ("ID", "VM ID"),
    ("Name", "NAME"),
    ("Status", "STATUS"),
    ("Arch", "ARCH"),
    ("Cpus", "CPUS"),
    ("Memory", "MEMORY"),
    ("Accel", "ACCEL"),
    ("Addresses", "ADDRESSES"),
];

const DEFAULT_FORMAT: &str =
    r"table {{.Name}}\t{{.Status}}\t{{.Arch}}\t{{.Cpus}}\t{{.Memory}}\t{{.Accel}}\t{{.Addresses}}";

/// `vm ls`: one row per VM, Docker-style (`--format` over the fields in
/// [`HEADERS`], `json` one object per line).
pub fn ls(ctx: &Ctx, a: &LsArgs) -> anyhow::Result<()> {
    let store = VmStore::new(&ctx.root);
    let mut rows = Vec::new();
    for name in store.names() {
        let Ok(vm) = store.get(&name) else { continue };
        let Ok(record) = vm.load() else { continue };
        let v = view(&vm, &record);
        rows.push(Row::new(json!({
            "ID": record.id,
            "Name": name,
            "Status": status_text(&v),
            "Arch": record.config.arch.name(),
            "Cpus": record.config.cpus.to_string(),
            "Memory": record.config.memory.to_string(),
            "Accel": v.live.as_ref().map(|l| l.accel.clone()).unwrap_or_default(),
            "Addresses": addresses(&v),
        })));
    }
    let f = match a.quiet {
        true => Format::new(Some("{{.Name}}"), ""),
        false => Format::new(a.format.as_deref(), DEFAULT_FORMAT),
    };
    format::list(&f, &rows, &HEADERS)
}

fn status_text(v: &View) -> String {
    match v.status {
        Status::Running if v.unsupervised => "running (unsupervised)".into(),
        Status::Stopped if !v.last.exit_reason.is_empty() => {
            format!("stopped ({})", v.last.exit_reason)
        }
        s => s.as_str().into(),
    }
}

fn addresses(v: &View) -> String {
    let Some(live) = &v.live else {
        return String::new();
    };
    if v.status != Status::Running {
        return String::new();
    }
    live.taps
        .iter()
        .map(|t| format!("{}/{}", t.ip, t.prefix))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn inspect(ctx: &Ctx, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    let store = VmStore::new(&ctx.root);
    let mut docs = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match store.get(name).and_then(|vm| Ok((vm.load()?, vm))) {
            Ok((record, vm)) => {
                let v = view(&vm, &record);
                docs.push(inspect_doc(&vm, &record, &v));
            }
            Err(e) => missing.push(e.to_string()),
        }
    }
    format::inspect(format, &docs)?;
    if let Some(first) = missing.first() {
        bail!("{first}");
    }
    Ok(())
}

/// Docker's inspect layout: Name, State{…}, Config{…}.
fn inspect_doc(vm: &VmDir, r: &VmRecord, v: &View) -> Value {
    let c = &r.config;
    let running = v.status == Status::Running;
    let live = v.live.as_ref().filter(|_| running);
    let disks: Vec<Value> = c
        .disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"Id": format!("vblk{i}"), "Path": d.path, "Format": d.format.as_str(),
                   "ReadOnly": d.readonly, "Created": d.created})
        })
        .collect();
    let networks: Vec<Value> = r
        .networks
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let tap = live.and_then(|l| l.taps.get(i));
            json!({
                "Network": n.network,
                "MacAddress": n.mac.as_str(),
                "Tap": tap.map(|t| t.tap.clone()),
                "Bridge": tap.map(|t| t.bridge.clone()),
                "IPAddress": tap.map(|t| t.ip.to_string()).or(n.ip.map(|ip| ip.to_string())),
                "IPPrefixLen": tap.map(|t| t.prefix),
                "Gateway": tap.map(|t| t.gateway.to_string()),
            })
        })
        .collect();
    json!({
        "Id": r.id,
        "Name": vm.name,
        "Created": r.created,
        "State": {
            "Status": v.status.as_str(),
            "Running": running,
            "Supervised": running && !v.unsupervised,
            "Pid": live.map(|l| l.pid).unwrap_or(0),
            "StartedAt": v.last.started_at.clone().unwrap_or_default(),
            "FinishedAt": if running { String::new() } else { v.last.finished_at.clone().unwrap_or_default() },
            "ExitReason": if running { String::new() } else { v.last.exit_reason.clone() },
        },
        "Config": {
            "Arch": c.arch.name(),
            "Machine": c.machine,
            "Accel": c.accel.as_str(),
            "AccelUsed": v.last.accel,
            "AccelReason": v.last.accel_reason,
            "Cpus": c.cpus,
            "Memory": c.memory.bytes(),
            "Kernel": c.kernel,
            "Initrd": c.initrd,
            "Cmdline": c.effective_cmdline(),
            "Image": r.image,
            "Cdrom": c.cdrom,
            "Disks": disks,
            "Networks": networks,
            "CloudInit": r.cloud_init.is_some(),
            "Display": if r.vnc { "vnc" } else { "none" },
        },
        "Vnc": live.and_then(|l| l.vnc.clone()),
        "Console": { "Log": vm.console_log(), "Socket": live.map(|_| vm.console_sock()) },
        "QemuCommand": live.map(|l| l.command.clone()),
    })
}

pub fn vnc(ctx: &Ctx, name: &str) -> anyhow::Result<()> {
    let vm = VmStore::new(&ctx.root).get(name)?;
    let record = vm.load()?;
    if !record.vnc {
        bail!("VM {name} has no display: create it with --display vnc");
    }
    let v = view(&vm, &record);
    match v
        .live
        .filter(|_| v.status == Status::Running)
        .and_then(|l| l.vnc)
    {
        Some(addr) => {
            outln!("vnc://{addr}")?;
            Ok(())
        }
        None => bail!("VM {name} is not running"),
    }
}
