//! `vm ls`, `vm inspect` (both with `--format`, as Docker's lists and
//! inspect), `vm vnc`: read-only, no lock taken.

use anyhow::bail;
use serde_json::json;
use yurta_engine::vm::inspect;

use super::args::LsArgs;
use super::store::{view, Status, VmStore};
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
            "Status": inspect::status_text(&v),
            "Arch": record.config.arch.name(),
            "Cpus": record.config.cpus.to_string(),
            "Memory": record.config.memory.to_string(),
            "Accel": v.live.as_ref().map(|l| l.accel.clone()).unwrap_or_default(),
            "Addresses": inspect::addresses(&v),
        })));
    }
    let f = match a.quiet {
        true => Format::new(Some("{{.Name}}"), ""),
        false => Format::new(a.format.as_deref(), DEFAULT_FORMAT),
    };
    format::list(&f, &rows, &HEADERS)
}

pub fn inspect(ctx: &Ctx, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    let store = VmStore::new(&ctx.root);
    let mut docs = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match store.get(name).and_then(|vm| Ok((vm.load()?, vm))) {
            Ok((record, vm)) => {
                let v = view(&vm, &record);
                docs.push(inspect::document(&vm, &record, &v));
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
