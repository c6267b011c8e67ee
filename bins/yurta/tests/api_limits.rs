//! `yurta system service` under bad input and at its edges (issue 11):
//! malformed JSON, unknown endpoints and versions, oversized bodies, a
//! client that never finishes its headers, 50 clients at once, idle exit,
//! the socket file's life (stale, in use), TLS, socket activation, and the
//! idle service's memory.

mod api_common;
mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use api_common::{poll, Service};
use common::world::World;

#[test]
fn bad_requests_get_docker_errors_and_the_service_goes_on() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &["--max-body", "4096"]);
    let (code, body) = s.raw("POST", "/v1.41/volumes/create", b"{\"Name\": ");
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("invalid JSON in the request body: EOF while parsing"),
        "{body}"
    );
    let (code, body) = s.raw("POST", "/volumes/create", b"[1, 2]");
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.raw("GET", "/v1.41/nothing/here", b"");
    assert_eq!(
        (code, body.trim()),
        (404, r#"{"message":"page not found"}"#)
    );
    let (code, body) = s.raw("GET", "/v1.12/info", b"");
    assert_eq!(code, 400);
    assert!(
        body.contains("client version 1.12 is too old. Minimum supported API version is 1.24"),
        "{body}"
    );
    let (code, body) = s.raw("GET", "/v1.99/info", b"");
    assert_eq!(code, 400);
    assert!(body.contains("too new"), "{body}");
    let big = format!("{{\"Name\":\"{}\"}}", "x".repeat(8192));
    let (code, body) = s.raw("POST", "/volumes/create", big.as_bytes());
    assert_eq!(code, 413, "{body}");
    let (code, body) = s.raw("GET", "/volumes?filters=%7Bbad", b"");
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.raw("GET", "/volumes/nosuch", b"");
    assert_eq!(code, 404, "{body}");
    let (code, body) = s.raw("DELETE", "/networks/bridge", b"");
    assert_eq!(code, 403, "{body}");
    let (code, body) = s.raw("POST", "/build", &[7u8; 1024]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("build context"), "{body}");
    let (code, body) = s.raw("GET", "/v1.41/distribution/Bad..Name/json", b"");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("invalid reference format"), "{body}");
    let (code, body) = s.raw("POST", "/images/load", b"not an archive");
    assert_eq!(code, 400, "{body}");
    assert_eq!(w.run(&["images", "-q"]).ok().stdout.lines().count(), 1);
    // Unknown fields are ignored, as Docker ignores them.
    let (code, body) = s.raw("POST", "/volumes/create", br#"{"Name":"ok1","Whatever":1}"#);
    assert_eq!(code, 201, "{body}");
    // Both filter encodings.
    w.run(&["volume", "create", "--label", "a=b", "lab"]).ok();
    for f in [r#"{"label":["a=b"]}"#, r#"{"label":{"a=b":true}}"#] {
        let q = f
            .replace('"', "%22")
            .replace('{', "%7B")
            .replace('}', "%7D");
        let (code, body) = s.raw("GET", &format!("/volumes?filters={q}"), b"");
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let names: Vec<&str> = v["Volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["lab"], "{f}");
    }
    let (code, _) = s.raw("HEAD", "/_ping", b"");
    assert_eq!(code, 200);
    let ping = ping_headers(&s);
    for h in [
        "api-version: 1.41",
        "docker-experimental: false",
        "ostype: linux",
    ] {
        assert!(ping.to_lowercase().contains(h), "{h} not in {ping}");
    }
}

fn ping_headers(s: &Service) -> String {
    let mut c = UnixStream::connect(&s.sock).unwrap();
    c.write_all(b"GET /_ping HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_slow_client_does_not_block_others_and_is_dropped() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &["--read-timeout", "2"]);
    let mut slow = UnixStream::connect(&s.sock).unwrap();
    slow.write_all(b"GET /_ping HTTP/1.1\r\nHost: y\r\n")
        .unwrap();
    let o = s.docker(&["version"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // A body announced and never sent: 408 after the read timeout.
    let mut stalled = UnixStream::connect(&s.sock).unwrap();
    stalled
        .write_all(b"POST /volumes/create HTTP/1.1\r\nHost: y\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answer = [0u8; 12];
    stalled.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408");
    // The server closes the connection that never finished its headers.
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buf = Vec::new();
    let r = slow.read_to_end(&mut buf);
    assert!(r.is_ok(), "the slow connection was never closed: {r:?}");
    let text = String::from_utf8_lossy(&buf);
    assert!(buf.is_empty() || text.contains(" 408 "), "{text}");
}

#[test]
fn fifty_clients_at_once() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let s = &s;
    std::thread::scope(|scope| {
        for i in 0..50 {
            scope.spawn(move || {
                let name = format!("c{i}");
                let body = format!("{{\"Name\":\"{name}\"}}");
                let (code, b) = s.raw("POST", "/volumes/create", body.as_bytes());
                assert_eq!(code, 201, "{b}");
                let (code, b) = s.raw("GET", &format!("/volumes/{name}"), b"");
                assert_eq!(code, 200, "{b}");
                let (code, b) = s.raw("DELETE", &format!("/volumes/{name}"), b"");
                assert_eq!(code, 204, "{b}");
                assert_eq!(s.raw("GET", "/_ping", b"").0, 200);
            });
        }
    });
    assert_eq!(w.run(&["volume", "ls", "-q"]).ok().stdout, "");
    // Idle again: the service's resident memory (reported by the test).
    let rss = s.rss_kib();
    eprintln!("idle service RSS after 50 clients: {rss} KiB");
    assert!(rss < 64 * 1024, "{rss} KiB");
}

#[test]
fn idle_exit_and_the_socket_file() {
    let Some(w) = World::new() else { return };
    let sock = w.y.path("api.sock");
    let uri = format!("unix://{}", sock.display());
    // --time 1: exits after a second without connections, removing its socket.
    let mut s = Service::spawn(
        &w,
        &["system", "service", "--time", "1", &uri],
        sock.clone(),
    );
    poll("the service to exit when idle", || {
        s.child.try_wait().unwrap().is_some()
    });
    assert!(s.child.wait().unwrap().success(), "{}", s.stderr());
    assert!(!sock.exists());
    // A live service keeps its path; a second one is refused.
    let first = Service::start(&w, &[]);
    let second = w.run(&["system", "service", "--time", "0", &uri]);
    assert_eq!(second.code, 125);
    assert!(
        second.stderr.contains("another service is listening on"),
        "{}",
        second.stderr
    );
    // Killed, it leaves its socket file: the next service replaces it.
    let mut first = first;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(sock.exists());
    let again = Service::start(&w, &[]);
    assert_eq!(again.docker(&["version"]).code, 0);
    // Not a socket: refused, left alone.
    let file = w.y.path("plain");
    std::fs::write(&file, "x").unwrap();
    let o = w.run(&["system", "service", &format!("unix://{}", file.display())]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains("exists and is not a socket"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    // Plain TCP beyond loopback is refused.
    let o = w.run(&["system", "service", "tcp://0.0.0.0:0"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains("refusing to serve the API without TLS"),
        "{}",
        o.stderr
    );
}

#[test]
fn socket_activation_by_systemd() {
    let Some(w) = World::new() else { return };
    if !std::path::Path::new("/usr/bin/systemd-socket-activate").exists() {
        eprintln!("skipped: no systemd-socket-activate");
        return;
    }
    let sock = w.y.path("activated.sock");
    let exe = env!("CARGO_BIN_EXE_yurta");
    let root = w.y.root();
    let args = [
        "-l",
        sock.to_str().unwrap(),
        exe,
        "--root",
        root.to_str().unwrap(),
        "system",
        "service",
        "--time",
        "1",
    ];
    let mut c = std::process::Command::new("/usr/bin/systemd-socket-activate");
    c.args(args);
    for (k, v) in [
        ("YURTA_NET_TABLE", w.table()),
        ("YURTA_NET_BRIDGE", w.bridge()),
    ] {
        c.env(k, v);
    }
    let mut child = c.stderr(std::process::Stdio::null()).spawn().unwrap();
    poll("the activation socket", || sock.exists());
    let o = std::process::Command::new(api_common::DOCKER)
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .env("DOCKER_CONFIG", w.y.path("dc"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "1.41",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Idle, the service exits; systemd-socket-activate with it.
    poll("the activated service to exit", || {
        child.try_wait().unwrap().is_some()
    });
}

#[test]
fn tls_with_client_certificates() {
    let Some(w) = World::new() else { return };
    let dir = w.y.path("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let sh = |script: &str| {
        let o = std::process::Command::new("sh")
            .arg("-ec")
            .arg(script)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca -keyout ca-key.pem -out ca.pem 2>/dev/null
        for n in server client; do
          openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n-key.pem -out $n.csr 2>/dev/null
        done
        printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
        printf 'extendedKeyUsage=clientAuth\\n' > client.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out client.pem 2>/dev/null
        mkdir -p cfg && cp ca.pem cfg/ca.pem && cp client.pem cfg/cert.pem && cp client-key.pem cfg/key.pem");
    let port = common::world::free_port();
    let uri = format!("tcp://127.0.0.1:{port}");
    let p = |f: &str| dir.join(f).display().to_string();
    let args = [
        "system",
        "service",
        "--time",
        "0",
        "--tls-cert",
        &p("server.pem"),
        "--tls-key",
        &p("server-key.pem"),
        "--tls-verify",
        &p("ca.pem"),
        &uri,
    ];
    let _s = Service::spawn(&w, &args, w.y.path("unused"));
    let host = format!("tcp://127.0.0.1:{port}");
    let docker = || {
        std::process::Command::new(api_common::DOCKER)
            .env("DOCKER_HOST", &host)
            .env("DOCKER_CONFIG", dir.join("cfg"))
            .env("DOCKER_CERT_PATH", dir.join("cfg"))
            .env("DOCKER_TLS_VERIFY", "1")
            .args(["version", "--format", "{{.Server.APIVersion}}"])
            .output()
            .unwrap()
    };
    poll("the TLS service", || docker().status.success());
    assert_eq!(String::from_utf8_lossy(&docker().stdout).trim(), "1.41");
    // Without a client certificate, the handshake fails.
    let no_cert = format!(
        "printf 'GET /_ping HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | \
         openssl s_client -connect 127.0.0.1:{port} -CAfile ca.pem -quiet 2>&1 || true"
    );
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(&no_cert)
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("200 OK"), "{text}");
    assert!(text.contains("certificate required"), "{text}");
    let with_cert = no_cert.replace("-quiet", "-quiet -cert client.pem -key client-key.pem");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(&with_cert)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("200 OK"));
}

#[test]
fn killed_while_binding_its_socket_the_next_service_starts_clean() {
    let Some(w) = World::new() else { return };
    let dir = w.y.path("run");
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("api.sock");
    let uri = format!("unix://{}", sock.display());
    for point in ["service.socket-bound", "service.socket-placed"] {
        let o = w
            .cmd(&["system", "service", "--time", "0", &uri])
            .env("YURTA_FAULT", point)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "{point}: not killed");
        let s = Service::spawn(
            &w,
            &["system", "service", "--time", "0", &uri],
            sock.clone(),
        );
        poll("the service after a kill", || {
            UnixStream::connect(&sock).is_ok()
        });
        assert_eq!(s.docker(&["version"]).code, 0, "{point}");
        drop(s);
        poll("the socket file to go", || !sock.exists());
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["api.sock.lock"], "{point}");
    }
}
