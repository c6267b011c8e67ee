//! What a pull or push reports as it goes, in Docker's terms: lines about
//! the image (`latest: Pulling from library/busybox`, `Digest: …`) and
//! the states and bytes of each blob, named by its short digest.

/// Where a pull's or push's progress goes. Blobs move on several threads
/// at once, so it is `Sync`.
pub trait Progress: Sync {
    /// A line about the image; `id` is Docker's (`latest` in
    /// `latest: Pulling from …`), when there is one.
    fn status(&self, id: Option<&str>, text: &str);
    /// A blob's new state (`Pulling fs layer`, `Extracting`, `Pushed`).
    fn blob(&self, id: &str, text: &str);
    /// Bytes moved so far (`verb` is `Downloading` or `Pushing`); called
    /// when the whole permille changes, and at the end.
    fn bytes(&self, id: &str, verb: &str, done: u64, total: u64);
    /// The blob's last state (`Pull complete`, `Layer already exists`).
    fn blob_done(&self, id: &str, text: &str) {
        self.blob(id, text);
    }
    /// A detail for `--log-level debug`.
    fn debug(&self, _text: &str) {}
}

/// Reports nothing (`-q`, `run`'s implicit pull, hidden blobs).
pub struct Silent;

impl Progress for Silent {
    fn status(&self, _: Option<&str>, _: &str) {}
    fn blob(&self, _: &str, _: &str) {}
    fn bytes(&self, _: &str, _: &str, _: u64, _: u64) {}
}

/// Docker's bar text: `[=====>        ] 12.3MB/45.6MB`, 50 columns, sizes
/// as `size` renders them.
pub fn progress_bar(done: u64, total: u64, size: impl Fn(u64) -> String) -> String {
    let permille = (done * 1000).checked_div(total).unwrap_or(0).min(1000);
    let filled = (permille / 20) as usize;
    let arrow = if filled < 50 { ">" } else { "" };
    format!(
        "[{}{arrow}{}] {}/{}",
        "=".repeat(filled),
        " ".repeat(49 - filled.min(49)),
        size(done),
        size(total)
    )
}

/// Calls `bytes` only when the permille moves (or at the end), so a
/// terminal or a client is not flooded by every 16 KiB read.
pub(crate) struct Throttle {
    last: std::cell::Cell<u64>,
}

impl Throttle {
    pub fn new() -> Throttle {
        Throttle {
            last: std::cell::Cell::new(u64::MAX),
        }
    }

    pub fn due(&self, done: u64, total: u64) -> bool {
        let permille = (done * 1000).checked_div(total).unwrap_or(0);
        if permille == self.last.get() && done != total {
            return false;
        }
        self.last.set(permille);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_with_the_bytes() {
        let n = |b: u64| format!("{b}B");
        let half = progress_bar(50, 100, n);
        assert!(half.starts_with(&format!("[{}>", "=".repeat(25))), "{half}");
        assert!(half.ends_with("] 50B/100B"), "{half}");
        let full = progress_bar(100, 100, n);
        assert_eq!(full, format!("[{}] 100B/100B", "=".repeat(50)));
        assert!(progress_bar(0, 0, n).starts_with("[>"));
    }

    #[test]
    fn throttle_passes_each_permille_once_and_the_end() {
        let t = Throttle::new();
        assert!(t.due(0, 1000));
        assert!(!t.due(0, 1000));
        assert!(t.due(1, 1000));
        assert!(!t.due(1, 1000));
        assert!(t.due(1000, 1000));
        assert!(t.due(1000, 1000));
    }
}
