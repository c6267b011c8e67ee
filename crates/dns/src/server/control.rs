//! The resolver's end of the control socket (see [`crate::client`]): one
//! request line, one reply line, then the connection is closed.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use super::sys;

/// `sync [PATH]`: reread the records now; PATH names the namespace file
/// the caller needs served.
pub struct Request {
    pub path: Option<PathBuf>,
}

/// Reads a request from a root (or the resolver's own user's) client.
pub fn read_request(stream: &UnixStream) -> Option<Request> {
    // SAFETY: geteuid has no arguments and cannot fail.
    let me = unsafe { libc::geteuid() };
    let uid = sys::peer_uid(stream.as_raw_fd())?;
    if uid != 0 && uid != me {
        return None;
    }
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut line = String::new();
    BufReader::new(std::io::Read::take(stream, 4096))
        .read_line(&mut line)
        .ok()?;
    parse(&line)
}

pub fn parse(line: &str) -> Option<Request> {
    let line = line.strip_suffix('\n')?;
    match line.split_once(' ') {
        None if line == "sync" => Some(Request { path: None }),
        Some(("sync", p)) if !p.is_empty() => Some(Request {
            path: Some(PathBuf::from(p)),
        }),
        _ => None,
    }
}

/// `ok`, or `error MESSAGE` (the namespace asked for could not be served).
pub fn reply(mut stream: UnixStream, error: Option<&str>) {
    let line = match error {
        None => "ok\n".to_string(),
        Some(e) => format!("error {}\n", e.replace('\n', " ")),
    };
    let _ = stream.write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert!(parse("sync\n").unwrap().path.is_none());
        let r = parse("sync /r/containers/a b/netns\n").unwrap();
        assert_eq!(r.path.unwrap(), PathBuf::from("/r/containers/a b/netns"));
        assert!(parse("sync").is_none(), "a line ends with a newline");
        assert!(parse("sync \n").is_none());
        assert!(parse("stop\n").is_none());
    }
}
