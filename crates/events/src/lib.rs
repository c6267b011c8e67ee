//! The event journal: what happened to containers, images, networks,
//! volumes and VMs, recorded by whichever process did it (the `yurta` CLI,
//! a container's supervisor, a VM's supervisor) in files under
//! `<root>/events/`, and read back by `yurta events`. There is no daemon
//! to hold a stream: the files are the stream. See docs/events.md.
//!
//! This crate owns the files and their protocol: how a line is encoded
//! ([`Event::line`]), appended ([`Journal::append`]: one `write(2)` with
//! `O_APPEND` under a shared `flock`, never failing the caller's
//! operation), rotated (two files, [`MAX_FILE`] each) and read in order,
//! following the journal as it grows and rotates ([`Reader`]). It does not
//! parse lines (the CLI does, with serde) and depends on libc alone, since
//! every supervisor links it.

mod encode;
mod journal;
mod reader;

pub use encode::{json_string, Event};
pub use journal::{emit, now_nanos, Journal, CURRENT, DIR, MAX_FILE, PREVIOUS};
pub use reader::Reader;

/// How every journal line begins. A reader that finds a line it cannot
/// parse (a line torn by a full disk, with the next writer's line glued
/// to it) looks for a later occurrence of this to recover the rest.
pub const LINE_START: &str = "{\"timeNano\":";
