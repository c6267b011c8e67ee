//! Docker-like progress of pull and push: one line per blob
//! (`<short digest>: Downloading [==>   ] 12.3MB/45.6MB`, `Pull complete`)
//! redrawn in place on a terminal, plain status lines otherwise, nothing
//! with `-q`. Everything goes to stdout, as Docker's does.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use yurta_engine::distribution::{progress_bar, Progress};

use crate::format;

/// The progress of one pull or push.
pub struct Report {
    quiet: bool,
    multi: Option<MultiProgress>,
    /// Each blob's bar, by short digest, on a terminal.
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Report {
    pub fn new(quiet: bool) -> Report {
        let multi = (!quiet && std::io::stdout().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()));
        Report {
            quiet,
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// The bar of blob `id`, made on its first use.
    fn bar(&self, multi: &MultiProgress, id: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(id.to_string())
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(0));
                let style = ProgressStyle::with_template("{prefix}: {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_prefix(id.to_string());
                bar
            })
            .clone()
    }

    /// A line that stays.
    fn println(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            // Pulling goes on; main ends quietly after it.
            None => {
                let _ = outln!("{text}");
            }
        }
    }
}

impl Progress for Report {
    fn status(&self, id: Option<&str>, text: &str) {
        if self.quiet {
            return;
        }
        match id {
            Some(id) => self.println(&format!("{id}: {text}")),
            None => self.println(text),
        }
    }

    fn blob(&self, id: &str, text: &str) {
        match &self.multi {
            _ if self.quiet => {}
            Some(m) => self.bar(m, id).set_message(text.to_string()),
            None => self.println(&format!("{id}: {text}")),
        }
    }

    fn bytes(&self, id: &str, verb: &str, done: u64, total: u64) {
        if let Some(m) = &self.multi {
            let bar = progress_bar(done, total, format::size);
            self.bar(m, id).set_message(format!("{verb} {bar}"));
        }
    }

    fn blob_done(&self, id: &str, text: &str) {
        match &self.multi {
            _ if self.quiet => {}
            Some(m) => self.bar(m, id).finish_with_message(text.to_string()),
            None => self.println(&format!("{id}: {text}")),
        }
    }

    fn debug(&self, text: &str) {
        crate::progress::debug(text);
    }
}
