//! `vm console` (the serial console through the supervisor's socket,
//! interactive on a terminal, Ctrl-] detaches) and `vm logs` (what the
//! console printed, across boots).

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::termios;

use super::args::LogsArgs;
use super::relay::rotated;
use super::store::{view, Status, VmDir, VmStore};
use crate::Ctx;

/// Ctrl-]: detach, as telnet and virsh console.
const DETACH: u8 = 0x1d;

enum Ended {
    Detached,
    VmStopped,
}

pub fn console(ctx: &Ctx, name: &str) -> anyhow::Result<()> {
    let vm = VmStore::new(&ctx.root).get(name)?;
    running_supervised(&vm)?;
    let sock = UnixStream::connect(vm.console_sock())
        .with_context(|| format!("connect to the console of VM {name}"))?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let saved = if tty {
        errln!("Connected to the console of VM {name}; Ctrl-] detaches.\r");
        crate::container::attach::raw_mode()
    } else {
        None
    };
    let (tx, rx) = mpsc::channel();
    let mut from_vm = sock.try_clone()?;
    let done = tx.clone();
    std::thread::spawn(move || {
        let mut out = crate::out::Stdout::lock();
        let _ = copy_flushing(&mut from_vm, &mut out);
        let _ = done.send(Ended::VmStopped);
    });
    let mut to_vm = sock;
    std::thread::spawn(move || {
        if forward_stdin(&mut to_vm, tty) {
            let _ = tx.send(Ended::Detached);
        }
    });
    let ended = rx.recv().unwrap_or(Ended::VmStopped);
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), termios::SetArg::TCSANOW, &saved);
    }
    if tty {
        match ended {
            Ended::Detached => errln!("\r\nDetached from VM {name}."),
            Ended::VmStopped => errln!("\r\nVM {name} stopped."),
        }
    }
    Ok(())
}

fn running_supervised(vm: &VmDir) -> anyhow::Result<()> {
    let record = vm.load()?;
    let v = view(vm, &record);
    if v.status != Status::Running {
        bail!("VM {} is not running", vm.name);
    }
    if v.unsupervised {
        bail!(
            "VM {} runs without its supervisor (killed): no console; restart the VM",
            vm.name
        );
    }
    Ok(())
}

fn copy_flushing(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
        to.flush()?;
    }
}

/// Our stdin to the console; true when the user detached (on a terminal,
/// Ctrl-]). At the end of a piped stdin the output goes on until the VM
/// stops.
fn forward_stdin(to: &mut UnixStream, tty: bool) -> bool {
    let mut buf = [0u8; 1024];
    let mut stdin = std::io::stdin();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let (chunk, detach) = match chunk.iter().position(|b| tty && *b == DETACH) {
            Some(i) => (&chunk[..i], true),
            None => (chunk, false),
        };
        if to.write_all(chunk).is_err() {
            return false;
        }
        if detach {
            return true;
        }
    }
}

pub fn logs(ctx: &Ctx, a: &LogsArgs) -> anyhow::Result<()> {
    let vm = VmStore::new(&ctx.root).get(&a.name)?;
    let tail = match &a.tail {
        None => None,
        Some(t) if t == "all" => None,
        Some(t) => Some(
            t.parse::<usize>()
                .map_err(|_| anyhow::anyhow!("--tail {t:?}: expected a number or \"all\""))?,
        ),
    };
    let path = vm.console_log();
    let mut data = std::fs::read(rotated(&path)).unwrap_or_default();
    let current = std::fs::read(&path).unwrap_or_default();
    let offset = current.len() as u64;
    data.extend(current);
    let mut out = crate::out::Stdout::lock();
    out.write_all(tail_lines(&data, tail))?;
    out.flush()?;
    if a.follow {
        follow(&vm, offset, &mut out)?;
    }
    Ok(())
}

/// Prints what is appended to the log until the VM is not running.
fn follow(vm: &VmDir, mut offset: u64, out: &mut impl Write) -> anyhow::Result<()> {
    loop {
        let running = vm
            .load()
            .map(|r| view(vm, &r).status == Status::Running)
            .unwrap_or(false);
        let path = vm.console_log();
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if len < offset {
            // Rotated: the rest of the old file, then the new one.
            out.write_all(&read_from(&rotated(&path), offset)?)?;
            offset = 0;
        }
        let more = read_from(&path, offset)?;
        offset += more.len() as u64;
        out.write_all(&more)?;
        out.flush()?;
        if !running || crate::out::reader_gone() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The bytes of `path` from `offset` on (none for a missing file).
fn read_from(path: &std::path::Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut more = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        f.seek(SeekFrom::Start(offset))?;
        f.read_to_end(&mut more)?;
    }
    Ok(more)
}

/// The last `n` lines of `data` (all of it with `None`).
fn tail_lines(data: &[u8], n: Option<usize>) -> &[u8] {
    let Some(n) = n else { return data };
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let start = body
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i + 1);
    match (n, start) {
        (0, _) => &[],
        (_, Some(s)) => &data[s..],
        (_, None) => data,
    }
}

#[cfg(test)]
mod tests {
    use super::tail_lines;

    #[test]
    fn tails() {
        let d = b"a\nb\nc\n";
        assert_eq!(tail_lines(d, None), d);
        assert_eq!(tail_lines(d, Some(0)), b"");
        assert_eq!(tail_lines(d, Some(1)), b"c\n");
        assert_eq!(tail_lines(d, Some(2)), b"b\nc\n");
        assert_eq!(tail_lines(d, Some(9)), d);
        assert_eq!(tail_lines(b"a\nb", Some(1)), b"b");
    }
}
