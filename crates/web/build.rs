//! Embeds the pages built by scripts/web.sh (web/dist) into the binary: a
//! table of (path, bytes, gzip bytes) in OUT_DIR/assets.rs. Without a
//! built web/dist the table is empty and the console says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        walk(&dist, &dist, &mut files);
    }
    files.sort();
    let mut out = String::from("pub static FILES: &[Embedded] = &[\n");
    for (rel, path) in &files {
        let gz = PathBuf::from(format!("{}.gz", path.display()));
        let gz = match gz.exists() {
            true => format!("Some(include_bytes!({:?}))", gz.display().to_string()),
            false => "None".to_string(),
        };
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?}), {gz}),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(dest, out).unwrap();
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            walk(base, &path, out);
        } else if path.extension().is_none_or(|x| x != "gz") {
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            out.push((rel, path.canonicalize().unwrap()));
        }
    }
}
