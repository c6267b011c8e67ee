//! Progress for long operations (load, import, save): an indicatif bar on
//! stderr when both stdout and stderr are terminals, nothing otherwise.
//! Docker's `load` is quiet when its output is not a terminal; a script
//! that runs `yurta load -i x.tar` or `id=$(yurta import ...)` gets only
//! the result, never `layer sha256:…: done` lines. Also the `--log-level`
//! switch.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use yurta_images::Progress;

static LEVEL: AtomicU8 = AtomicU8::new(1);

/// error=0, warn=1, info=2, debug=3; unknown names keep `warn`.
pub fn set_log_level(name: &str) {
    let level = match name.to_ascii_lowercase().as_str() {
        "error" | "fatal" | "panic" => 0,
        "info" => 2,
        "debug" | "trace" => 3,
        _ => 1,
    };
    LEVEL.store(level, Ordering::Relaxed);
}

/// The level's name, as `--log-level` takes it.
pub fn log_level() -> &'static str {
    ["error", "warn", "info", "debug"][usize::from(LEVEL.load(Ordering::Relaxed).min(3))]
}

/// Prints a debug line to stderr when `--log-level debug`.
pub fn debug(msg: &str) {
    if LEVEL.load(Ordering::Relaxed) >= 3 {
        errln!("yurta: debug: {msg}");
    }
}

/// The reporter for a command; `quiet` reports nothing, and neither does
/// a command whose output is not a terminal.
pub fn reporter(quiet: bool) -> Box<dyn Progress> {
    if quiet || !on_terminal() {
        Box::new(yurta_images::Silent)
    } else {
        Box::new(Bar {
            bar: Mutex::new(None),
        })
    }
}

/// Whether stdout and stderr (where the bar is drawn) are terminals.
fn on_terminal() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn begin(&self, what: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template("{msg:40!} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_string());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(bytes);
        }
    }

    fn end(&self, what: &str) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_with_message(format!("{what}: done"));
        }
    }
}
