//! Standard output and error the way a Unix filter treats them.
//!
//! `println!` panics when stdout is a closed pipe (`yurta ps | head -0`) or
//! a full disk (`> /dev/full`). Every command writes through [`outln!`],
//! [`out!`] or [`Stdout`] instead: a failed write is remembered here and
//! returned as an error, and `main` ends the process as a filter would
//! ([`exit_if_stdout_failed`]): on EPIPE quietly, by the SIGPIPE that Rust
//! ignores by default (the shell sees 141, as after `ls | head -0`); on
//! any other error (ENOSPC) with one line, exit 125. Writes to stderr
//! ([`errln!`]) never panic and never fail a command.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicI32, Ordering};

/// The errno of the first failed write to stdout; 0 while none failed.
static FAILED: AtomicI32 = AtomicI32::new(0);
/// Marks a failure without an errno.
const UNKNOWN: i32 = -1;

/// A write to stdout failed; the command should stop (`main` decides how
/// the process ends).
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

impl From<StdoutError> for io::Error {
    fn from(e: StdoutError) -> io::Error {
        io::Error::new(e.0.kind(), e)
    }
}

fn failed(e: io::Error) -> StdoutError {
    let errno = e.raw_os_error().unwrap_or(UNKNOWN);
    let _ = FAILED.compare_exchange(0, errno, Ordering::SeqCst, Ordering::SeqCst);
    StdoutError(e)
}

/// Whether a write to stdout has failed (the reader went away, the disk
/// is full): long-running output (`logs -f`, `attach`) stops.
pub fn stdout_failed() -> bool {
    FAILED.load(Ordering::SeqCst) != 0
}

/// Writes formatted text to stdout and flushes it.
pub fn write(args: fmt::Arguments<'_>, newline: bool) -> Result<(), StdoutError> {
    let mut o = io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| o.flush());
    r.map_err(failed)
}

/// Writes raw bytes to stdout and flushes them.
pub fn write_bytes(data: &[u8]) -> Result<(), StdoutError> {
    let mut o = io::stdout().lock();
    o.write_all(data).and_then(|()| o.flush()).map_err(failed)
}

/// `println!` that returns `Err(StdoutError)` instead of panicking.
#[macro_export]
macro_rules! outln {
    () => { $crate::out::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*), true) };
}

/// `print!` (flushed) that returns `Err(StdoutError)` instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*), false) };
}

/// `eprintln!` that never panics (a closed or full stderr loses the text).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// An error and its causes on one line, `what: why: because`, each cause
/// once: most errors here print their source themselves
/// (`"write {path}: {source}"`), and anyhow's `{:#}` would repeat it
/// (`… No space left on device (os error 28): No space left on device (os error 28)`);
/// a cause is also left out when the text already has its OS message
/// without the `(os error N)` suffix (`ENOENT: No such file or directory`).
/// The line is [`printable`]: a name or content from a bad file cannot
/// put raw control bytes on the user's terminal.
pub struct OneLine<'a>(pub &'a anyhow::Error);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        for cause in self.0.chain() {
            let s = cause.to_string();
            let s = s.trim_end();
            if s.is_empty() || text.contains(s) || text.contains(without_os_error(s)) {
                continue;
            }
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(s);
        }
        f.write_str(&printable(&text))
    }
}

/// `No such file or directory` of `No such file or directory (os error 2)`.
fn without_os_error(s: &str) -> &str {
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') && i > 0 => &s[..i],
        _ => s,
    }
}

/// The most of a message printed: beyond it, the rest is counted, not shown.
const MAX_PRINTED: usize = 2000;

/// `s` safe to print on a terminal, on one line: control characters
/// (newlines, escape sequences, C1 codes) and invisible or text-reordering
/// ones (zero-width, bidi overrides) are escaped as `\x1b` or `\u{202e}`,
/// and text beyond [`MAX_PRINTED`] characters is cut.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let clean = |c: char| !c.is_control() && !invisible(c);
    if s.chars().all(clean) && s.len() <= MAX_PRINTED {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX_PRINTED {
            let rest = s.chars().count() - n;
            out.push_str(&format!("… ({rest} more characters)"));
            break;
        }
        match c {
            c if clean(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that print nothing or reorder what follows.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// Stdout as an `io::Write` for streams (archives, `cp` tars): its errors
/// are remembered like the macros' and carry a [`StdoutError`].
pub struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(|e| failed(e).into())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(|e| failed(e).into())
    }
}

/// Whether stdout's reader is gone (a pipe whose read end is closed
/// reports POLLERR), without writing: `logs -f` and `attach` stop waiting
/// for output nobody reads.
pub fn reader_gone() -> bool {
    let mut pfd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one pollfd on our stack, no timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 && {
        let _ = FAILED.compare_exchange(0, libc::EPIPE, Ordering::SeqCst, Ordering::SeqCst);
        true
    }
}

/// When a write to stdout has failed, ends the process the way a filter
/// ends: EPIPE by SIGPIPE, silently; anything else with one line naming
/// the error and exit 125. Returns when stdout is fine.
pub fn exit_if_stdout_failed() {
    match FAILED.load(Ordering::SeqCst) {
        0 => {}
        libc::EPIPE => die_of_sigpipe(),
        errno => {
            let e = match errno {
                UNKNOWN => io::Error::other("failed"),
                n => io::Error::from_raw_os_error(n),
            };
            crate::errln!("yurta: write to stdout: {e}");
            std::process::exit(i32::from(crate::ENGINE_ERROR));
        }
    }
}

fn die_of_sigpipe() -> ! {
    // SAFETY: restoring SIGPIPE's default action and raising it in this
    // process; the default action ends the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_each_cause_once() {
        let io = io::Error::from_raw_os_error(libc::ENOSPC);
        #[derive(Debug)]
        struct Write(io::Error);
        impl fmt::Display for Write {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "write /r/x.tmp: {}", self.0)
            }
        }
        impl std::error::Error for Write {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = anyhow::Error::new(Write(io)).context("import busybox");
        assert_eq!(
            OneLine(&e).to_string(),
            "import busybox: write /r/x.tmp: No space left on device (os error 28)"
        );
        let plain = anyhow::anyhow!("No such container: x");
        assert_eq!(OneLine(&plain).to_string(), "No such container: x");
    }

    #[test]
    fn one_line_names_an_os_message_once() {
        let io = io::Error::from_raw_os_error(libc::ENOENT);
        let e = anyhow::Error::new(io).context("open /x: ENOENT: No such file or directory");
        assert_eq!(
            OneLine(&e).to_string(),
            "open /x: ENOENT: No such file or directory"
        );
    }

    #[test]
    fn one_line_escapes_bytes_a_terminal_would_obey() {
        let e = anyhow::anyhow!("bad member \"a\x1b[2Jb\"\n").context("load x.tar");
        assert_eq!(
            OneLine(&e).to_string(),
            r#"load x.tar: bad member "a\x1b[2Jb""#
        );
        assert_eq!(printable("a\u{202e}b\u{9b}c\td"), r"a\u{202e}b\u{9b}c\x09d");
        assert_eq!(printable("plain: ünïcode"), "plain: ünïcode");
        let long = "x".repeat(MAX_PRINTED + 5);
        let cut = printable(&long);
        assert!(cut.ends_with("x… (5 more characters)"), "{cut}");
    }

    #[test]
    fn a_stdout_error_keeps_its_kind_through_io_error() {
        let e = StdoutError(io::Error::from_raw_os_error(libc::ENOSPC));
        let io: io::Error = e.into();
        assert_eq!(io.raw_os_error(), None);
        assert_eq!(io.kind(), io::ErrorKind::StorageFull);
        assert!(io.to_string().starts_with("write to stdout: "), "{io}");
    }
}
