//! The client against a scripted fake QMP server on a unix socket.

use super::*;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixListener;
use std::thread::{self, JoinHandle};

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}"#;

struct Fake {
    _dir: tempfile::TempDir,
    path: PathBuf,
    server: JoinHandle<()>,
}

/// Serves one connection with `script`, given a line reader and writer.
fn fake(script: impl FnOnce(&mut BufReader<UnixStream>, &mut UnixStream) + Send + 'static) -> Fake {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qmp.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || {
        let (mut w, _) = listener.accept().unwrap();
        let mut r = BufReader::new(w.try_clone().unwrap());
        script(&mut r, &mut w);
    });
    Fake {
        _dir: dir,
        path,
        server,
    }
}

fn send(w: &mut UnixStream, line: &str) {
    w.write_all(line.as_bytes()).unwrap();
    w.write_all(b"\n").unwrap();
}

/// Reads one command and returns it with its id.
fn recv(r: &mut BufReader<UnixStream>) -> (Value, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    (v, id)
}

fn ok(w: &mut UnixStream, id: &str, ret: &str) {
    send(w, &format!(r#"{{"return": {ret}, "id": "{id}"}}"#));
}

fn negotiate(r: &mut BufReader<UnixStream>, w: &mut UnixStream) {
    send(w, GREETING);
    let (v, id) = recv(r);
    assert_eq!(v["execute"], "qmp_capabilities");
    ok(w, &id, "{}");
}

fn event(name: &str, data: &str) -> String {
    format!(
        r#"{{"event": "{name}", "data": {data}, "timestamp": {{"seconds": 1, "microseconds": 2}}}}"#
    )
}

#[test]
fn greeting_negotiation_and_query_status() {
    let f = fake(|r, w| {
        negotiate(r, w);
        let (v, id) = recv(r);
        assert_eq!(v["execute"], "query-status");
        ok(
            w,
            &id,
            r#"{"status": "running", "singlestep": false, "running": true}"#,
        );
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    assert_eq!(q.greeting()["version"]["qemu"]["major"], 7);
    let st = q.query_status().unwrap();
    assert!(st.running);
    assert_eq!(st.status, "running");
    f.server.join().unwrap();
}

#[test]
fn events_during_negotiation_and_between_replies_are_queued() {
    let f = fake(|r, w| {
        send(w, &event("RESUME", "{}"));
        send(w, GREETING);
        let (_, id) = recv(r);
        send(w, &event("STOP", "{}"));
        ok(w, &id, "{}");
        let (_, id) = recv(r);
        send(w, &event("POWERDOWN", "{}"));
        // A late reply to some other command is ignored.
        send(w, r#"{"return": {}, "id": "someone-else"}"#);
        ok(w, &id, "{}");
        send(
            w,
            &event("SHUTDOWN", r#"{"guest": false, "reason": "host-qmp-quit"}"#),
        );
        send(
            w,
            &event(
                "DEVICE_DELETED",
                r#"{"device": "d1", "path": "/machine/peripheral/d1"}"#,
            ),
        );
        send(w, &event("NIC_RX_FILTER_CHANGED", r#"{"name": "n"}"#));
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    q.system_powerdown().unwrap();
    assert_eq!(q.pending_events(), 3);
    let mut kinds = Vec::new();
    while let Some(e) = q.next_event(Duration::from_secs(2)).unwrap() {
        kinds.push(e.kind);
        if kinds.len() == 6 {
            break;
        }
    }
    assert_eq!(kinds[0], EventKind::Resume);
    assert_eq!(kinds[1], EventKind::Stop);
    assert_eq!(kinds[2], EventKind::Powerdown);
    assert_eq!(
        kinds[3],
        EventKind::Shutdown {
            guest: false,
            reason: "host-qmp-quit".into()
        }
    );
    assert_eq!(
        kinds[4],
        EventKind::DeviceDeleted {
            device: Some("d1".into()),
            path: "/machine/peripheral/d1".into()
        }
    );
    assert!(matches!(&kinds[5], EventKind::Other { name, .. } if name == "NIC_RX_FILTER_CHANGED"));
    f.server.join().unwrap();
}

#[test]
fn qemu_errors_are_one_line() {
    let f = fake(|r, w| {
        negotiate(r, w);
        let (v, id) = recv(r);
        assert_eq!(v["arguments"]["id"], "nope");
        send(
            w,
            &format!(
                r#"{{"error": {{"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}, "id": "{id}"}}"#
            ),
        );
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    let e = q.device_del("nope").unwrap_err().to_string();
    assert_eq!(e, "QMP device_del: DeviceNotFound: Device 'nope' not found");
    f.server.join().unwrap();
}

#[test]
fn command_timeout_then_late_reply_is_skipped() {
    let f = fake(|r, w| {
        negotiate(r, w);
        let (_, first) = recv(r);
        // No reply until the client has given up and sent the next one.
        let (_, second) = recv(r);
        ok(w, &first, r#"{"status": "paused", "running": false}"#);
        ok(w, &second, r#"{"status": "running", "running": true}"#);
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    let t = Instant::now();
    let e = q
        .execute_timeout(&Command::QueryStatus, Duration::from_millis(300))
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(
        e.to_string(),
        "QMP query-status: no answer from QEMU within 0.3 s"
    );
    assert!(q.query_status().unwrap().running);
    f.server.join().unwrap();
}

#[test]
fn next_event_times_out_with_none() {
    let f = fake(|r, w| {
        negotiate(r, w);
        thread::sleep(Duration::from_millis(500));
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    assert!(q.next_event(Duration::from_millis(100)).unwrap().is_none());
    f.server.join().unwrap();
}

#[test]
fn quit_tolerates_close_and_other_commands_report_it() {
    let f = fake(|r, w| {
        negotiate(r, w);
        let (v, _) = recv(r);
        assert_eq!(v["execute"], "quit");
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    q.quit().unwrap();
    f.server.join().unwrap();
    let e = q.query_status().unwrap_err().to_string();
    assert_eq!(e, "QMP query-status: QEMU closed the connection");
}

#[test]
fn greeting_timeout_and_garbage() {
    let f = fake(|_, _| thread::sleep(Duration::from_millis(600)));
    let e = Qmp::connect(&f.path, Duration::from_millis(200))
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "QMP greeting: no answer from QEMU within 0.2 s"
    );
    f.server.join().unwrap();
    let f = fake(|_, w| send(w, "this is not json"));
    let e = Qmp::connect(&f.path, Duration::from_secs(2)).err().unwrap();
    assert_eq!(
        e.to_string(),
        "QMP greeting: unexpected message from QEMU: this is not json"
    );
    f.server.join().unwrap();
}

#[test]
fn connect_to_missing_socket_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("none.sock");
    let e = Qmp::connect(&p, Duration::from_millis(100))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with(&format!("connect to QMP socket {}: ", p.display())),
        "{e}"
    );
}

#[test]
fn hmp_output() {
    let f = fake(|r, w| {
        negotiate(r, w);
        let (v, id) = recv(r);
        assert_eq!(v["arguments"]["command-line"], "info snapshots");
        ok(w, &id, r#""There is no snapshot available.\r\n""#);
    });
    let mut q = Qmp::connect(&f.path, Duration::from_secs(5)).unwrap();
    let out = q.human_monitor_command("info snapshots").unwrap();
    assert!(out.starts_with("There is no snapshot"));
    f.server.join().unwrap();
}
