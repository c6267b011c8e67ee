//! The `yurta` command (work in progress, issue 3).

fn main() {
    eprintln!("yurta: not yet implemented");
    std::process::exit(125);
}
