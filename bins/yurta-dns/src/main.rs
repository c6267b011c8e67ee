//! `yurta-dns --root ROOT`: the embedded DNS resolver of a state root (see
//! yurta-resolver and docs/network.md). Started by `yurta` when a
//! container joins a user network; not meant to be run by hand.

fn main() {
    let mut args = std::env::args_os().skip(1);
    let root = match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(root), None) if flag == "--root" => std::path::PathBuf::from(root),
        _ => {
            eprintln!("usage: yurta-dns --root ROOT");
            std::process::exit(2);
        }
    };
    std::process::exit(yurta_resolver::server::main(&root));
}
