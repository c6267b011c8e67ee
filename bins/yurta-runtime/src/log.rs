//! Error reporting: one line on stderr, and the --log file in text or JSON.

use std::io::Write;
use std::path::PathBuf;

use yurta_oci_cli::{GlobalOpts, LogFormat};

pub struct Logger {
    file: Option<PathBuf>,
    format: LogFormat,
}

impl Logger {
    pub fn new(global: &GlobalOpts) -> Self {
        Logger {
            file: global.log.clone(),
            format: global.log_format,
        }
    }

    /// Reports a failure: the whole chain of causes on one line.
    pub fn error(&self, err: &anyhow::Error) {
        let text = chain(err);
        eprintln!("yurta-runtime: {text}");
        let Some(path) = &self.file else { return };
        let line = match self.format {
            LogFormat::Json => serde_json::json!({"level": "error", "msg": text, "time": yurta_container::time::now()}).to_string(),
            LogFormat::Text => format!("{} error {}", yurta_container::time::now(), text),
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
