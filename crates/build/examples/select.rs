//! Prints what COPY would take from a context: `cargo run -p yurta-build
//! --example select -- CONTEXT [DOCKERFILE] -- SOURCE...`. The ignore file
//! is found as for a build (beside DOCKERFILE, then in CONTEXT).

use std::path::Path;
use std::process::ExitCode;

use yurta_build::context::{Context, EntryKind};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (head, sources) = (&args[..split], args.get(split + 1..).unwrap_or(&[]));
    let Some(root) = head.first() else {
        eprintln!("usage: select CONTEXT [DOCKERFILE] -- SOURCE...");
        return ExitCode::FAILURE;
    };
    let dockerfile = head.get(1).map(Path::new);
    let result = Context::open(Path::new(root), dockerfile).and_then(|c| c.select(sources));
    match result {
        Ok(selection) => {
            for e in selection.entries {
                let kind = match e.kind {
                    EntryKind::File { size } => format!("file {size}"),
                    EntryKind::Dir => "dir".to_string(),
                    EntryKind::Symlink { target } => format!("link {target}"),
                    EntryKind::Other => "other".to_string(),
                };
                println!("{}\t{}\t{:o}\t{kind}", e.root, e.rel, e.mode);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
