//! The web console's service side (issue 13) without a browser: `yurta
//! web user`, and `system service --web` driven by Debian's Python
//! (web_common/service_checks.py) the way a browser would — every route
//! without a session and with a forged Origin, CSRF, throttling, logout, a
//! removed user, a container's terminal over its WebSocket, a console
//! ticket used twice, files, stats. The browser itself: web_browser.rs.

mod api_common;
mod common;

use std::process::Command;

use api_common::Service;
use common::world::World;

const CHECKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/web_common/service_checks.py"
);

/// The account the service tests log in with.
fn add_alice(w: &World) {
    w.run_stdin(
        &["web", "user", "add", "alice", "--password-stdin"],
        "correct horse\n",
    )
    .ok();
}

#[test]
fn accounts_are_private_and_checked() {
    let Some(w) = World::new() else { return };
    let add = |name: &str, password: &str| {
        w.run_stdin(
            &["web", "user", "add", name, "--password-stdin"],
            &format!("{password}\n"),
        )
    };
    assert_eq!(add("alice", "long enough").code, 0);
    let again = add("alice", "long enough");
    assert_eq!(again.code, 125);
    assert_eq!(again.stderr, "yurta: user alice already exists\n");
    let short = add("bob", "short");
    assert_eq!(
        short.stderr,
        "yurta: the password is too short: at least 8 characters\n"
    );
    let bad = add("../x", "long enough");
    assert!(
        bad.stderr.starts_with("yurta: invalid user name \"../x\""),
        "{}",
        bad.stderr
    );
    let users = w.y.root().join("web/users.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&users).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&users).unwrap();
    assert!(text.contains("$argon2id$") && !text.contains("long enough"));
    assert_eq!(w.run(&["web", "user", "ls", "-q"]).ok().stdout, "alice\n");
    let rm = w.run(&["web", "user", "rm", "alice", "nobody"]);
    assert_eq!(rm.code, 125);
    assert_eq!(rm.stdout, "alice\n");
    assert_eq!(rm.stderr, "yurta: no such user: nobody\n");
    assert_eq!(w.run(&["web", "user", "ls", "-q"]).ok().stdout, "");
    let no_tty = w.run(&["web", "user", "add", "carol"]);
    assert_eq!(
        no_tty.stderr,
        "yurta: web user add carol: stdin is not a terminal; use --password-stdin\n"
    );
}

#[test]
fn the_service_side_as_a_browser_meets_it() {
    let Some(w) = World::new() else { return };
    let port = yurta_testutil::net::free_port();
    let addr = format!("127.0.0.1:{port}");
    add_alice(&w);
    w.run(&["run", "-d", "--name", "wct", "img", "sleep", "1000"])
        .ok();
    let s = Service::start(&w, &["--web", &addr]);
    api_common::poll("the web console", || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    let o = Command::new("/usr/bin/python3")
        .arg(CHECKS)
        .arg(format!("http://{addr}"))
        .args(["wct", "alice", "correct horse"])
        .arg(env!("CARGO_BIN_EXE_yurta"))
        .arg(w.y.root())
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success() && out.trim() == "ok",
        "{out}{err}\n{}",
        s.stderr()
    );
    // No secrets in the service's log.
    let log = s.stderr();
    for secret in ["correct horse", "yurta_session=", "csrf"] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    // Nothing left of the uploads or the terminals' console sockets.
    let uploads = w.y.root().join("web/uploads");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let socks: Vec<_> = std::fs::read_dir(w.y.root().join("attach"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("web-"))
                .collect()
        })
        .unwrap_or_default();
    assert!(socks.is_empty(), "{socks:?}");
}

/// On a non-loopback address without --tls-cert the console makes a
/// self-signed certificate, prints its fingerprint, serves only TLS, and
/// keeps the same certificate at the next start; the cookie is Secure.
#[test]
fn a_non_loopback_console_is_tls_with_a_printed_fingerprint() {
    let Some(w) = World::new() else { return };
    add_alice(&w);
    let mut prints = Vec::new();
    for _ in 0..2 {
        let port = yurta_testutil::net::free_port();
        let addr = format!("0.0.0.0:{port}");
        let mut s = Service::start(&w, &["--web", &addr]);
        let local = format!("127.0.0.1:{port}");
        api_common::poll("the web console", || {
            std::net::TcpStream::connect(&local).is_ok()
        });
        let log = s.stderr();
        let fp = log
            .lines()
            .find_map(|l| {
                l.strip_prefix("yurta: its self-signed certificate's SHA-256 fingerprint: ")
            })
            .unwrap_or_else(|| panic!("no fingerprint printed:\n{log}"))
            .to_string();
        assert!(
            log.contains(&format!("yurta: web console on https://0.0.0.0:{port}/")),
            "{log}"
        );
        let o = Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(TLS_PY)
            .arg(&local)
            .arg(&fp)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        prints.push(fp);
        s.stop();
    }
    assert_eq!(prints[0], prints[1], "the certificate is kept");
    let key = w.y.root().join("web/tls/key.pem");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

const TLS_PY: &str = r#"
import hashlib, http.client, socket, ssl, sys, urllib.parse
addr, fp = sys.argv[1], sys.argv[2]
host, port = addr.split(":")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
c.connect()
der = c.sock.getpeercert(binary_form=True)
seen = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
assert seen == fp, (seen, fp)
form = urllib.parse.urlencode({"username": "alice", "password": "correct horse"})
c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); r.read()
assert r.status == 303, r.status
cookie = r.getheader("Set-Cookie")
assert "Secure" in cookie and "HttpOnly" in cookie, cookie
# Plain HTTP on the TLS port gets no page.
s = socket.create_connection((host, int(port)), timeout=30)
s.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    data = s.recv(1024)
except OSError:
    data = b""
assert not data.startswith(b"HTTP/1.1 200"), data
print("ok")
"#;
