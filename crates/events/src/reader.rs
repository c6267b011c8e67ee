//! Reading the journal in order: the previous file, then the current one,
//! then whatever is appended to it, across rotations (`tail -F`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::PathBuf;

use crate::journal::{flock, is_named};
use crate::Journal;

/// Complete lines of the journal, oldest first. [`Reader::next_line`]
/// returns `None` when nothing more is there *now*; calling it again later
/// returns what was appended since (the caller decides how to wait).
pub struct Reader {
    path: PathBuf,
    /// A file read to its end and then dropped: the previous file, or the
    /// current one after a rotation renamed it. No writer appends to it.
    finished: Option<File>,
    /// The file being followed (None while there is none).
    current: Option<File>,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    pos: usize,
}

impl Reader {
    /// Opens the journal at its start. The previous file is the one before
    /// the current file: a shared lock on the current one holds off a
    /// rotation between the two opens.
    pub fn open(journal: &Journal) -> io::Result<Reader> {
        let path = journal.current();
        // Made when missing, so that the first file written is followed
        // from its start even if it is rotated before the next read.
        let _ = std::fs::create_dir_all(journal.dir());
        let _ = OpenOptions::new().append(true).create(true).open(&path);
        let mut current = None;
        for _ in 0..8 {
            let file = match File::open(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                r => r?,
            };
            flock(&file, libc::LOCK_SH)?;
            if is_named(&file, &path) {
                current = Some(file);
                break;
            }
        }
        let finished = match File::open(journal.previous()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            r => Some(r?),
        };
        if let Some(f) = &current {
            flock(f, libc::LOCK_UN)?;
        }
        Ok(Reader {
            path,
            finished,
            current,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        })
    }

    /// The next complete line (without its newline; empty lines skipped),
    /// or None when there is none yet. A line cut short at the end of a
    /// file that will grow no more (torn by a full disk or a crash) is
    /// dropped; at the end of the current file it waits for the rest.
    pub fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(line) = self.take_line() {
                return Some(line);
            }
            if let Some(f) = &mut self.finished {
                if read_more(f, &mut self.buf) {
                    continue;
                }
                self.finished = None;
                self.buf.clear();
                self.pos = 0;
                continue;
            }
            if self.current.is_none() {
                self.current = File::open(&self.path).ok();
                self.current.as_ref()?;
            }
            let f = self.current.as_mut()?;
            if read_more(f, &mut self.buf) {
                continue;
            }
            if is_named(f, &self.path) {
                return None;
            }
            // Rotated: nobody appends to it any more. Read it to its end,
            // then the new current file from its start.
            self.finished = self.current.take();
        }
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let rest = &self.buf[self.pos..];
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                // Keep only the partial line for the next read.
                self.buf.drain(..self.pos);
                self.pos = 0;
                return None;
            };
            let line = rest[..end].to_vec();
            self.pos += end + 1;
            if !line.is_empty() {
                return Some(line);
            }
        }
    }
}

/// Reads what `f` has past its offset onto `buf`, dropping the consumed
/// part first; whether anything came.
fn read_more(f: &mut File, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 64 * 1024];
    match f.read(&mut chunk) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use std::io::Write;

    fn line(i: i64) -> Vec<u8> {
        Event {
            kind: "volume",
            action: "create",
            id: "v",
            attributes: &[],
        }
        .line(i)
    }

    fn all(r: &mut Reader) -> Vec<String> {
        std::iter::from_fn(|| r.next_line())
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn reads_both_files_in_order_and_follows_across_rotations() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::under(t.path()).with_max_file(3 * line(0).len() as u64 - 1);
        let mut r = Reader::open(&j).unwrap();
        assert!(r.next_line().is_none());
        for i in 0..5 {
            j.append(&line(i)).unwrap();
        }
        let seen = all(&mut r);
        assert_eq!(seen.len(), 5, "{seen:?}");
        for i in 5..12 {
            j.append(&line(i)).unwrap();
            let seen = all(&mut r);
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert!(seen[0].starts_with(&format!("{{\"timeNano\":{i},")));
        }
        let mut fresh = Reader::open(&j).unwrap();
        let kept = all(&mut fresh);
        assert!(
            kept.len() >= 3 && kept.last().unwrap().contains(":11,"),
            "{kept:?}"
        );
    }

    #[test]
    fn a_torn_line_is_dropped_at_the_end_of_a_finished_file_and_awaited_in_the_current() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::under(t.path());
        std::fs::create_dir_all(j.dir()).unwrap();
        let mut prev = line(1);
        prev.extend_from_slice(b"{\"timeNano\":2,\"Ty");
        std::fs::write(j.previous(), &prev).unwrap();
        j.append(&line(3)).unwrap();
        let mut cur = std::fs::OpenOptions::new()
            .append(true)
            .open(j.current())
            .unwrap();
        cur.write_all(b"{\"timeNano\":4,").unwrap();
        let mut r = Reader::open(&j).unwrap();
        let seen = all(&mut r);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[1].starts_with("{\"timeNano\":3,"));
        cur.write_all(&line(4)[14..]).unwrap();
        assert_eq!(
            all(&mut r),
            vec![String::from_utf8(line(4)).unwrap().trim_end()]
        );
    }
}
