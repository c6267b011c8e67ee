//! Error reporting: one line on stderr, and the --log file in text or JSON.

use std::io::Write;
use std::path::PathBuf;

use yurta_oci_cli::{GlobalOpts, LogFormat};

pub struct Logger {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    pub fn new(global: &GlobalOpts) -> Self {
        Logger {
            file: global.log.clone(),
            format: global.log_format,
            debug: global.debug,
        }
    }

    /// Reports a failure: the whole chain of causes on one line.
    pub fn error(&self, err: &anyhow::Error) {
        let text = chain(err);
        eprintln!("yurta-runtime: {text}");
        self.write("error", &text);
    }

    /// With --debug, records what is about to happen (to --log, else stderr).
    pub fn debug(&self, text: &str) {
        if !self.debug {
            return;
        }
        if self.file.is_none() {
            eprintln!("yurta-runtime: debug: {text}");
        }
        self.write("debug", text);
    }

    fn write(&self, level: &str, text: &str) {
        let Some(path) = &self.file else { return };
        let now = yurta_container::time::now();
        let line = match self.format {
            LogFormat::Json => {
                serde_json::json!({"level": level, "msg": text, "time": now}).to_string()
            }
            LogFormat::Text => format!("{now} {level} {text}"),
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The causes joined by ": ", skipping those whose text is already shown.
fn chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
