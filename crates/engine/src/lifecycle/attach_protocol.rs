//! The packet kinds of a supervisor's attach socket (SOCK_SEQPACKET, one
//! kind byte then the data; docs/supervisor.md), for the front ends that
//! speak it: the API's attach, the build's RUN steps.

/// To the supervisor: bytes for the container's stdin.
pub const TO_STDIN: u8 = 0;
/// To the supervisor: the client's input ended.
pub const STDIN_CLOSED: u8 = 1;
/// To the supervisor: `ROWS COLS` for the terminal.
pub const RESIZE: u8 = 2;
/// From the supervisor: stdout bytes.
pub const FROM_STDOUT: u8 = 1;
/// From the supervisor: stderr bytes.
pub const FROM_STDERR: u8 = 2;
/// From the supervisor: the container exited (its output is complete).
pub const EXITED: u8 = 3;
