//! Docker-like progress of pull and push: one line per blob
//! (`<short digest>: Downloading [==>   ] 12.3MB/45.6MB`, `Pull complete`)
//! redrawn in place on a terminal, plain status lines otherwise, nothing
//! with `-q`. Everything goes to stdout, as Docker's does.

use std::cell::Cell;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::format;

/// The progress of one pull or push.
pub struct Report {
    quiet: bool,
    multi: Option<MultiProgress>,
}

impl Report {
    pub fn new(quiet: bool) -> Report {
        let multi = (!quiet && std::io::stdout().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()));
        Report { quiet, multi }
    }

    /// A line that stays (headers, `Digest: …`, `Status: …`).
    pub fn line(&self, text: &str) {
        match &self.multi {
            _ if self.quiet => {}
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                // Pulling goes on; main ends quietly after it.
                let _ = outln!("{text}");
            }
        }
    }

    /// The line of one blob, starting with `status`.
    pub fn blob(&self, digest: &impl std::fmt::Display, status: &str) -> BlobReport {
        let short = super::short(digest);
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(0));
            let style = ProgressStyle::with_template("{prefix}: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(short.clone());
            bar
        });
        let b = BlobReport {
            short,
            bar,
            quiet: self.quiet,
            drawn: Cell::new(u64::MAX),
        };
        b.status(status);
        b
    }
}

/// One blob's line.
pub struct BlobReport {
    short: String,
    bar: Option<ProgressBar>,
    quiet: bool,
    /// The last drawn permille, so a redraw happens only on change.
    drawn: Cell<u64>,
}

impl BlobReport {
    /// A new state: a plain line, or the bar's text.
    pub fn status(&self, msg: &str) {
        match &self.bar {
            _ if self.quiet => {}
            Some(b) => b.set_message(msg.to_string()),
            None => {
                // Pulling goes on; main ends quietly after it.
                let _ = outln!("{}: {msg}", self.short);
            }
        }
    }

    /// Bytes moved so far (`verb` is Downloading or Pushing); bars only.
    pub fn bytes(&self, verb: &str, done: u64, total: Option<u64>) {
        let Some(b) = &self.bar else { return };
        let total = total.unwrap_or(0);
        let permille = (done * 1000).checked_div(total).unwrap_or(0);
        if permille == self.drawn.get() && done != total {
            return;
        }
        self.drawn.set(permille);
        let filled = (permille / 20) as usize;
        let arrow = if filled < 50 { ">" } else { "" };
        let bar = format!(
            "[{}{arrow}{}]",
            "=".repeat(filled),
            " ".repeat(49 - filled.min(49))
        );
        b.set_message(format!(
            "{verb} {bar} {}/{}",
            format::size(done),
            format::size(total)
        ));
    }

    /// The final state; the line stays.
    pub fn done(&self, msg: &str) {
        match &self.bar {
            _ if self.quiet => {}
            Some(b) => b.finish_with_message(msg.to_string()),
            None => {
                // Pulling goes on; main ends quietly after it.
                let _ = outln!("{}: {msg}", self.short);
            }
        }
    }
}
