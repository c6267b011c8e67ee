//! Progress of long operations (import, load, save), reported to whatever
//! the caller shows: a bar on a terminal, plain lines otherwise, nothing in
//! tests. The library only calls these hooks.

use std::io::{self, Read};

/// Receives progress events. Every method has a do-nothing default.
pub trait Progress: Sync {
    /// A step starts; `total` bytes when known.
    fn begin(&self, _what: &str, _total: Option<u64>) {}
    /// `bytes` more bytes of the current step are done.
    fn advance(&self, _bytes: u64) {}
    /// The current step is done.
    fn end(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// A reader that reports the bytes read through it.
pub struct ProgressReader<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
}

impl<'a, R: Read> ProgressReader<'a, R> {
    pub fn new(inner: R, progress: &'a dyn Progress) -> Self {
        ProgressReader { inner, progress }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
