//! The supervisor's state and its single-threaded poll(2) loop: container
//! output to the log and attach clients, client input to the container,
//! signals (SIGCHLD reaps; SIGTERM means "no more restarts"). Nothing here
//! allocates once the loop runs. Starting, exiting and restarting the
//! container is `lifecycle.rs`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

use crate::args::Args;
use crate::attach::{self, Attach, Input};
use crate::logfile::{Lines, LogFile, Stream};
use crate::runtime::Runtime;
use crate::trim::Trim;
use crate::{sys, Error};

/// Where the container's input goes.
pub enum InputFd {
    None,
    Pipe(OwnedFd),
    /// The pty master in `outputs[0]`.
    Pty,
}

pub struct Supervisor {
    pub args: Args,
    pub rt: Runtime,
    pub sig: OwnedFd,
    pub log: Option<LogFile>,
    pub attach: Option<Attach>,
    pub sync: Option<OwnedFd>,
    /// stdout and stderr read ends (with a terminal: the master, and none).
    pub outputs: [Option<OwnedFd>; 2],
    pub lines: [Lines; 2],
    pub input: InputFd,
    /// Client input the container has not taken yet, from `pending_off`.
    pub pending_in: Vec<u8>,
    pub pending_off: usize,
    /// The container's init, and its wait status once reaped.
    pub init: Option<libc::pid_t>,
    pub status: Option<libc::c_int>,
    /// SIGTERM received: finish after the container's next exit.
    pub stop_requested: bool,
    pub restarts: u32,
    /// The last exit, written again with the new count after a restart.
    pub last_exit: Option<LastExit>,
    pub started: Instant,
    /// When the current run began (wall clock, for the exit file's
    /// `StartedAt`: `inspect` shows it after a restart).
    pub started_at: Option<[u8; crate::json::TIME_LEN]>,
    pub oom_before: u64,
    /// Dropping pages before sleeping; None when turned off.
    pub trim: Option<Trim>,
    /// No event since the last poll timed out after QUIET_MS.
    pub quiet: bool,
    /// Pages dropped since the last event.
    pub trimmed: bool,
    /// The running health monitor.
    pub health: Option<libc::pid_t>,
}

/// What the exit file says about an exit.
pub struct LastExit {
    pub code: i32,
    pub oom: bool,
    pub error: String,
    pub finished_at: [u8; crate::json::TIME_LEN],
}

/// After activity, how long the loop must stay quiet before pages are dropped.
const QUIET_MS: i32 = 1000;

/// When `pump` returns.
#[derive(Clone, Copy)]
pub enum Until {
    /// The container's init has been reaped.
    InitExit,
    /// Both outputs reached end of file, or the deadline passed.
    Drained(Instant),
    /// No client holds output back, or the deadline passed.
    Flushed(Instant),
    /// The deadline passed or a stop was requested.
    Time(Instant),
}

#[derive(Clone, Copy)]
enum Slot {
    Signal,
    Output(usize),
    Input,
    Listener,
    Client(usize),
}

const SLOTS: usize = 5 + attach::MAX_CLIENTS;

impl Supervisor {
    /// Runs the loop until `until` holds.
    pub fn pump(&mut self, until: Until) -> Result<(), Error> {
        loop {
            let Some(mut timeout) = self.timeout(until) else {
                return Ok(());
            };
            let wait_quiet = self.trim.is_some() && !self.quiet && !self.trimmed;
            if wait_quiet && !(0..=QUIET_MS).contains(&timeout) {
                timeout = QUIET_MS;
            }
            let mut fds = [sys::pollfd(-1, 0); SLOTS];
            let mut slots = [Slot::Signal; SLOTS];
            let n = self.fill(&mut fds, &mut slots);
            self.drop_pages();
            if sys::poll(&mut fds[..n], timeout)? == 0 {
                self.quiet |= wait_quiet;
                continue;
            }
            self.quiet = false;
            self.trimmed = false;
            for k in 0..n {
                if fds[k].revents != 0 {
                    self.dispatch(slots[k], fds[k].revents);
                }
            }
            if let Some(a) = &mut self.attach {
                a.drop_dead();
            }
        }
    }

    /// Once quiet, gives memory back right before sleeping (trim.rs).
    fn drop_pages(&mut self) {
        if let (Some(t), true, false) = (&self.trim, self.quiet, self.trimmed) {
            for l in &mut self.lines {
                l.release();
            }
            if let Some(log) = &mut self.log {
                log.release();
            }
            t.heap();
            t.pages();
            self.trimmed = true;
        }
    }

    /// The poll timeout in ms, or None when `until` holds.
    fn timeout(&self, until: Until) -> Option<i32> {
        let left = |deadline: Instant| {
            let ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis();
            (ms > 0).then_some(ms.min(60_000) as i32)
        };
        match until {
            Until::InitExit => self.status.is_none().then_some(-1),
            Until::Drained(d) if self.outputs.iter().any(Option::is_some) => left(d),
            Until::Flushed(d) if self.attach.as_ref().is_some_and(Attach::blocked) => left(d),
            Until::Time(d) if !self.stop_requested => left(d),
            _ => None,
        }
    }

    fn fill(&self, fds: &mut [libc::pollfd; SLOTS], slots: &mut [Slot; SLOTS]) -> usize {
        let mut n = 0;
        let mut push = |fd: RawFd, events: libc::c_short, slot: Slot| {
            fds[n] = sys::pollfd(fd, events);
            slots[n] = slot;
            n += 1;
        };
        push(self.sig.as_raw_fd(), libc::POLLIN, Slot::Signal);
        let blocked = self.attach.as_ref().is_some_and(Attach::blocked);
        for (i, out) in self.outputs.iter().enumerate() {
            if let (Some(fd), false) = (out, blocked) {
                push(fd.as_raw_fd(), libc::POLLIN, Slot::Output(i));
            }
        }
        let in_pending = self.pending_off < self.pending_in.len();
        if let (Some(fd), true) = (self.input_fd(), in_pending) {
            push(fd, libc::POLLOUT, Slot::Input);
        }
        if let Some(a) = &self.attach {
            push(a.listener(), libc::POLLIN, Slot::Listener);
            for i in 0..a.len() {
                let mut ev = if in_pending { 0 } else { libc::POLLIN };
                if a.client_pending(i) {
                    ev |= libc::POLLOUT;
                }
                push(a.client_fd(i), ev, Slot::Client(i));
            }
        }
        n
    }

    fn dispatch(&mut self, slot: Slot, revents: libc::c_short) {
        match slot {
            Slot::Signal => self.signals(),
            Slot::Output(i) => self.output(i),
            Slot::Input => self.write_pending(),
            Slot::Listener => {
                if let Some(a) = &mut self.attach {
                    a.accept();
                }
            }
            Slot::Client(i) => self.client(i, revents),
        }
    }

    fn signals(&mut self) {
        while let Some(signo) = sys::next_signal(&self.sig) {
            match signo as libc::c_int {
                libc::SIGCHLD => self.reap(),
                libc::SIGTERM => self.stop_requested = true,
                _ => {} // SIGINT, SIGHUP: the supervisor has no terminal to lose
            }
        }
    }

    /// Reaps every exited child: the init, and orphans reparented to us.
    pub fn reap(&mut self) {
        while let Some((pid, status)) = sys::reap_one() {
            if Some(pid) == self.init {
                self.status = Some(status);
            }
            // A monitor that ended by itself: its pid is no longer ours
            // to signal.
            if Some(pid) == self.health {
                self.health = None;
            }
        }
    }

    fn output(&mut self, i: usize) {
        let Some(fd) = self.outputs[i].as_ref().map(AsRawFd::as_raw_fd) else {
            return;
        };
        let lines = &mut self.lines[i];
        match sys::read(fd, lines.spare(attach::PAYLOAD_MAX)) {
            Ok(0) => self.close_output(i),
            Ok(n) => {
                if let Some(a) = &mut self.attach {
                    let kind = match lines.stream {
                        Stream::Stdout => attach::OUT_STDOUT,
                        Stream::Stderr => attach::OUT_STDERR,
                    };
                    a.broadcast(kind, lines.fresh(n));
                }
                lines.commit(n, &mut self.log);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => self.close_output(i),
        }
    }

    /// End of one output: its unfinished line is logged, and a terminal's
    /// input goes with it.
    pub fn close_output(&mut self, i: usize) {
        self.lines[i].flush(&mut self.log);
        self.outputs[i] = None;
        if i == 0 && matches!(self.input, InputFd::Pty) {
            self.input = InputFd::None;
        }
    }

    fn input_fd(&self) -> Option<RawFd> {
        match &self.input {
            InputFd::None => None,
            InputFd::Pipe(fd) => Some(fd.as_raw_fd()),
            InputFd::Pty => self.outputs[0].as_ref().map(AsRawFd::as_raw_fd),
        }
    }

    fn client(&mut self, i: usize, revents: libc::c_short) {
        let input_fd = self.input_fd();
        let Some(a) = &mut self.attach else { return };
        if revents & libc::POLLOUT != 0 {
            a.flush(i);
        }
        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 {
            return;
        }
        if self.pending_off < self.pending_in.len() {
            // Not reading input now; a client that hung up is dropped.
            if revents & libc::POLLIN == 0 {
                a.hang_up(i);
            }
            return;
        }
        match a.receive(i) {
            Input::Stdin(data) => {
                if let Some(fd) = input_fd {
                    feed(fd, data, &mut self.pending_in, &mut self.pending_off);
                }
            }
            Input::CloseStdin => {
                if matches!(self.input, InputFd::Pipe(_)) {
                    self.input = InputFd::None;
                }
            }
            Input::Resize(rows, cols) => {
                if let (Some(fd), true) = (&self.outputs[0], self.args.tty) {
                    sys::set_winsize(fd.as_raw_fd(), rows, cols);
                }
            }
            Input::Nothing => {}
        }
    }

    fn write_pending(&mut self) {
        let Some(fd) = self.input_fd() else {
            self.pending_in.clear();
            self.pending_off = 0;
            return;
        };
        match sys::write(fd, &self.pending_in[self.pending_off..]) {
            Ok(n) => self.pending_off += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => self.pending_off = self.pending_in.len(), // the reader is gone
        }
        if self.pending_off == self.pending_in.len() {
            self.pending_in.clear();
            self.pending_off = 0;
        }
    }
}

/// Writes what the container takes now and keeps the rest in `pending`.
fn feed(fd: RawFd, data: &[u8], pending: &mut Vec<u8>, off: &mut usize) {
    let n = match sys::write(fd, data) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => data.len(), // the reader is gone: drop the input
    };
    if n < data.len() {
        pending.clear();
        pending.extend_from_slice(&data[n..]);
        *off = 0;
    }
}
