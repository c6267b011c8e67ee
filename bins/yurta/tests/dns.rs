//! The embedded DNS resolver of user networks, end to end as root: busybox
//! `nslookup` (which asks the DNS server and never reads /etc/hosts) in
//! containers, queries over UDP and TCP to 127.0.0.11 from inside a
//! container's namespace, names following `rename`/`connect`/`disconnect`,
//! forwarding to test name servers on loopback and on the test's bridge
//! (no query leaves the machine: the resolver reads a test resolv.conf),
//! one resolver process for many containers, kill -9 of the resolver and
//! at each of its steps. Also `-p 0:80`/`-p 80`, `[::1]` refused, and
//! `--network host`'s hostname.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::fingerprint::{Fingerprint, Scope};
use common::world::World;
use common::Out;
use serde_json::Value;
use yurta_resolver::wire::{self, Answer, Rcode};

/// What the test name servers answer for the one external name.
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

/// A name server of the test's: `outside.test` is OUTSIDE, every other
/// name NXDOMAIN; it records the names it was asked.
struct TestServer {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    /// Holds the sockets: joined at the drop, so the next test can bind.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    fn start(ip: IpAddr) -> TestServer {
        let udp = UdpSocket::bind((ip, 53)).unwrap_or_else(|e| panic!("bind {ip}:53: {e}"));
        let tcp = TcpListener::bind((ip, 53)).unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !st.load(Ordering::SeqCst) {
                if let Ok((n, from)) = udp.recv_from(&mut buf) {
                    if let Some(r) = test_answer(&buf[..n], &s) {
                        let _ = udp.send_to(&r, from);
                    }
                }
                if let Ok((c, _)) = tcp.accept() {
                    serve_tcp(c, &s);
                }
            }
        });
        TestServer {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn test_answer(msg: &[u8], seen: &Mutex<Vec<String>>) -> Option<Vec<u8>> {
    let q = wire::parse_query(msg).ok()?;
    let name = q.name.clone().unwrap_or_default();
    seen.lock().unwrap().push(name.clone());
    Some(match (name.as_str(), q.qtype) {
        ("outside.test", wire::TYPE_A) => {
            wire::reply(&q, Rcode::NoError, &[Answer::A(OUTSIDE)], 65535)
        }
        ("outside.test", _) => wire::reply(&q, Rcode::NoError, &[], 65535),
        _ => wire::reply(&q, Rcode::NxDomain, &[], 65535),
    })
}

fn serve_tcp(mut c: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut len = [0u8; 2];
    if c.read_exact(&mut len).is_err() {
        return;
    }
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    if c.read_exact(&mut msg).is_err() {
        return;
    }
    if let Some(r) = test_answer(&msg, seen) {
        let mut out = (r.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&r);
        let _ = c.write_all(&out);
    }
}

/// The test's world, with the resolver's resolv.conf pointing at a test
/// server on a loopback address of the test's own.
struct Dns {
    // Dropped first: its address is free before the next test (the
    // World's drop lets it start) binds the same one.
    host_server: TestServer,
    w: World,
    resolv_conf: PathBuf,
}

impl Dns {
    fn new() -> Option<Dns> {
        let w = World::new()?;
        let pid = std::process::id();
        let ip = Ipv4Addr::new(127, 53, (pid % 250) as u8, (pid / 250 % 250) as u8 + 1);
        let resolv_conf = w.y.path("host-resolv.conf");
        std::fs::write(
            &resolv_conf,
            format!("nameserver {ip}\nsearch test.invalid\n"),
        )
        .unwrap();
        let host_server = TestServer::start(ip.into());
        Some(Dns {
            host_server,
            w,
            resolv_conf,
        })
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let o = self
            .w
            .cmd(args)
            .env("YURTA_DNS_RESOLV_CONF", &self.resolv_conf)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Out::of(o)
    }

    /// `run -d --name NAME --network NET EXTRA… img sleep 1000`.
    fn sleeper(&self, name: &str, net: &str, extra: &[&str]) {
        let mut args = vec!["run", "-d", "--name", name, "--network", net];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["img", "sleep", "1000"]);
        self.run(&args).ok();
    }

    /// busybox nslookup in container `c`: the addresses it printed (none
    /// when the name was not found or the server did not answer).
    fn nslookup(&self, c: &str, name: &str) -> Vec<String> {
        let o = self.run(&["exec", c, "busybox", "nslookup", name]);
        answers(&o.stdout)
    }

    fn inspect(&self, name: &str) -> Value {
        let o = self.run(&["inspect", name]).ok();
        serde_json::from_str::<Value>(&o.stdout).unwrap()[0].clone()
    }

    fn ip_on(&self, c: &str, net: &str) -> String {
        let v = self.inspect(c);
        v["NetworkSettings"]["Networks"][net]["IPAddress"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn netns(&self, c: &str) -> PathBuf {
        let id = self.inspect(c)["Id"].as_str().unwrap().to_string();
        self.w.y.root().join("containers").join(id).join("netns")
    }

    /// The resolver's processes of this root: (pid, parent pid, comm).
    fn resolvers(&self) -> Vec<(i32, i32, String)> {
        resolver_processes(&self.w.y.root())
    }
}

/// The `Address: IP` lines of busybox nslookup's answers (the server's own
/// line has a tab and a port).
fn answers(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("Address: "))
        .map(|a| a.trim().to_string())
        .collect()
}

fn resolver_processes(root: &Path) -> Vec<(i32, i32, String)> {
    let r = root.display().to_string();
    let mut out = Vec::new();
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains("yurta-dns") || !cmdline.contains(&r) {
            continue;
        }
        if !yurta_sysutil::proc::running(pid) {
            continue; // a zombie the host's init has not reaped yet
        }
        let stat = std::fs::read_to_string(p.path().join("stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or_default();
        let ppid = after
            .split_whitespace()
            .nth(1)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
        out.push((pid, ppid, comm.trim().to_string()));
    }
    out
}

/// One query to 127.0.0.11:53 from inside the namespace at `netns`, over
/// UDP or TCP: the reply's rcode and A records.
fn ask(netns: &Path, name: &str, tcp: bool) -> Option<(u16, Vec<Ipv4Addr>)> {
    let ns = std::fs::File::open(netns).unwrap();
    let name = name.to_string();
    std::thread::spawn(move || {
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let q = wire::query(0x4242, &name, wire::TYPE_A, false);
        let server = SocketAddr::from(([127, 0, 0, 11], 53));
        let reply = if tcp {
            let mut s = TcpStream::connect_timeout(&server, Duration::from_secs(5)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
            let mut out = (q.len() as u16).to_be_bytes().to_vec();
            out.extend_from_slice(&q);
            s.write_all(&out).ok()?;
            let mut len = [0u8; 2];
            s.read_exact(&mut len).ok()?;
            let mut r = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut r).ok()?;
            r
        } else {
            let s = UdpSocket::bind("127.0.0.1:0").ok()?;
            s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
            s.send_to(&q, server).ok()?;
            let mut r = vec![0u8; 4096];
            let (n, from) = s.recv_from(&mut r).ok()?;
            assert_eq!(from, server, "the reply comes from 127.0.0.11:53");
            r.truncate(n);
            r
        };
        assert_eq!(wire::id_of(&reply), Some(0x4242));
        wire::answers_a(&reply)
    })
    .join()
    .unwrap()
}

fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let ok = yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(50),
        &mut f,
    );
    assert!(ok, "timed out waiting: {what}");
}

#[test]
fn names_aliases_rename_connect_disconnect_and_scope() {
    let Some(d) = Dns::new() else { return };
    d.run(&["network", "create", "dn1"]).ok();
    d.run(&["network", "create", "dn2"]).ok();
    d.sleeper("db", "dn1", &["--network-alias", "database"]);
    d.sleeper("cl", "dn1", &[]);
    d.sleeper("far", "dn2", &[]);
    d.sleeper("plain", "bridge", &[]);
    let db = d.ip_on("db", "dn1");

    let conf = d
        .run(&["exec", "cl", "cat", "/etc/resolv.conf"])
        .ok()
        .stdout;
    let servers: Vec<&str> = conf
        .lines()
        .filter(|l| l.starts_with("nameserver"))
        .collect();
    assert_eq!(servers, ["nameserver 127.0.0.11"], "{conf}");
    assert!(conf.contains("options ndots:0"), "{conf}");
    let plain = d
        .run(&["exec", "plain", "cat", "/etc/resolv.conf"])
        .ok()
        .stdout;
    assert!(
        !plain.contains("127.0.0.11"),
        "the default network has no resolver: {plain}"
    );

    // By name, alias, NAME.NETWORK, short id; and back (PTR).
    assert_eq!(d.nslookup("cl", "db"), [db.as_str()]);
    assert_eq!(d.nslookup("cl", "database"), [db.as_str()]);
    assert_eq!(d.nslookup("cl", "db.dn1"), [db.as_str()]);
    let short = d.inspect("db")["Id"].as_str().unwrap()[..12].to_string();
    assert_eq!(d.nslookup("cl", &short), [db.as_str()]);
    let ptr = d
        .run(&["exec", "cl", "busybox", "nslookup", &db])
        .ok()
        .stdout;
    assert!(ptr.contains("name = db.dn1"), "{ptr}");
    // The same over UDP and TCP from inside the namespace.
    let ns = d.netns("cl");
    let want: Ipv4Addr = db.parse().unwrap();
    assert_eq!(ask(&ns, "db", false), Some((0, vec![want])));
    assert_eq!(ask(&ns, "DATABASE", true), Some((0, vec![want])));

    // Scope: another network's names are not local; they are forwarded
    // (the test server says NXDOMAIN).
    assert!(d.nslookup("far", "db").is_empty());
    assert!(d.host_server.seen().contains(&"db".to_string()));

    // rename: the new name at once, the old one gone.
    d.run(&["rename", "db", "db2"]).ok();
    assert_eq!(d.nslookup("cl", "db2"), [db.as_str()]);
    assert!(d.nslookup("cl", "db").is_empty());
    let hosts = d.run(&["exec", "cl", "cat", "/etc/hosts"]).ok().stdout;
    assert!(
        hosts.contains("db2"),
        "peers' /etc/hosts follow the rename: {hosts}"
    );

    // disconnect, connect with an alias.
    d.run(&["network", "disconnect", "dn1", "db2"]).ok();
    assert!(d.nslookup("cl", "db2").is_empty());
    d.run(&["network", "connect", "--alias", "store", "dn1", "db2"])
        .ok();
    let db = d.ip_on("db2", "dn1");
    assert_eq!(d.nslookup("cl", "store"), [db.as_str()]);
    assert_eq!(d.nslookup("cl", "db2"), [db.as_str()]);

    // A container from the default network connected to a user network
    // gets the resolver, its resolv.conf rewritten.
    d.run(&["network", "connect", "dn1", "plain"]).ok();
    let plain = d
        .run(&["exec", "plain", "cat", "/etc/resolv.conf"])
        .ok()
        .stdout;
    assert!(plain.starts_with("nameserver 127.0.0.11\n"), "{plain}");
    assert_eq!(d.nslookup("plain", "store"), [db.as_str()]);
}

#[test]
fn other_names_go_to_the_hosts_or_the_containers_servers() {
    let Some(d) = Dns::new() else { return };
    d.run(&["network", "create", "dx"]).ok();
    let net = d.run(&["network", "inspect", "dx"]).ok().stdout;
    let net: Value = serde_json::from_str(&net).unwrap();
    let gw: IpAddr = net[0]["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The host's server (loopback) is asked from the host's namespace.
    d.sleeper("c1", "dx", &[]);
    assert_eq!(d.nslookup("c1", "outside.test"), [OUTSIDE.to_string()]);
    assert_eq!(
        ask(&d.netns("c1"), "outside.test", true),
        Some((0, vec![OUTSIDE]))
    );
    assert!(d.nslookup("c1", "nowhere.test").is_empty());
    // --dns: asked from the container's namespace (here the bridge's
    // gateway, where a second test server listens).
    let on_bridge = TestServer::start(gw);
    let gw = gw.to_string();
    d.sleeper("c2", "dx", &["--dns", &gw]);
    let before = d.host_server.seen().len();
    assert_eq!(d.nslookup("c2", "outside.test"), [OUTSIDE.to_string()]);
    assert!(on_bridge.seen().contains(&"outside.test".to_string()));
    assert_eq!(d.host_server.seen().len(), before, "not the host's server");
    assert_eq!(
        ask(&d.netns("c2"), "outside.test", true),
        Some((0, vec![OUTSIDE]))
    );
}

#[test]
fn one_resolver_for_many_containers_and_none_after_them() {
    let Some(d) = Dns::new() else { return };
    d.run(&["network", "create", "dm"]).ok();
    assert!(d.resolvers().is_empty());
    d.sleeper("m0", "dm", &[]);
    let one = d.resolvers();
    assert_eq!(one.len(), 2, "a keeper and a worker: {one:?}");
    for i in 1..5 {
        d.sleeper(&format!("m{i}"), "dm", &[]);
    }
    let five = d.resolvers();
    assert_eq!(five, one, "the same two processes for five containers");
    for (pid, _, comm) in &five {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .unwrap_or("");
        eprintln!("{comm}: {rss}");
    }
    for i in 0..5 {
        assert_eq!(d.nslookup(&format!("m{i}"), "m4").len(), 1);
    }
    let unix_name = socket_name(&d.w.y.root());
    assert!(abstract_sockets().contains(&unix_name));
    for i in 0..5 {
        d.run(&["rm", "-f", &format!("m{i}")]).ok();
    }
    poll("the resolver exits with the last container", || {
        d.resolvers().is_empty()
    });
    assert!(!abstract_sockets().contains(&unix_name));
}

fn socket_name(root: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(root.join("networks")).unwrap();
    format!("@yurta-dns/{}:{}", m.dev(), m.ino())
}

fn abstract_sockets() -> String {
    std::fs::read_to_string("/proc/net/unix").unwrap()
}

#[test]
fn a_killed_resolver_comes_back() {
    let Some(d) = Dns::new() else { return };
    d.run(&["network", "create", "dk"]).ok();
    d.sleeper("kdb", "dk", &[]);
    d.sleeper("kcl", "dk", &[]);
    let db = d.ip_on("kdb", "dk");
    assert_eq!(d.nslookup("kcl", "kdb"), [db.as_str()]);
    // The worker killed: its keeper starts another at once.
    let procs = d.resolvers();
    let keeper = procs.iter().find(|p| p.2 == "yurta-dns").unwrap().0;
    let worker = procs.iter().find(|p| p.1 == keeper).unwrap().0;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(worker),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    poll("a new worker", || {
        d.resolvers().iter().any(|p| p.1 == keeper && p.0 != worker)
    });
    assert_eq!(d.nslookup("kcl", "kdb"), [db.as_str()]);
    // Both killed: no answer until the next container start (or connect).
    for (pid, _, _) in d.resolvers() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    }
    poll("no resolver", || d.resolvers().is_empty());
    assert!(d.nslookup("kcl", "kdb").is_empty());
    d.sleeper("knew", "dk", &[]);
    assert_eq!(d.nslookup("kcl", "kdb"), [db.as_str()]);
    assert_eq!(d.nslookup("knew", "kdb"), [db.as_str()]);
}

/// The host's state for the test: files under the root, mounts, links,
/// rules, cgroups, processes.
fn fingerprint(w: &World, ids: &BTreeSet<String>) -> Fingerprint {
    let user_bridges = format!("ytu{}-", w.tag);
    let prefixes = [w.veth_prefix(), user_bridges, w.bridge()];
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    Fingerprint::take(&Scope {
        root: &w.y.root(),
        link_prefixes: &prefixes,
        table: &w.table(),
        ids,
    })
}

#[test]
fn kill_9_at_each_resolver_step_leaves_nothing() {
    let Some(d) = Dns::new() else { return };
    d.run(&["network", "create", "df"]).ok();
    d.sleeper("fdb", "df", &[]);
    d.run(&["rm", "-f", "fdb"]).ok();
    poll("no resolver", || d.resolvers().is_empty());
    let ids: BTreeSet<String> = BTreeSet::new();
    // The removed container's veth goes with its namespace, a moment
    // after `rm` returns: the baseline is taken once it has.
    let veth = d.w.veth_prefix();
    let mut before = fingerprint(&d.w, &ids);
    poll("the removed container's veth to go", || {
        before = fingerprint(&d.w, &ids);
        !before.links.iter().any(|l| l.starts_with(&veth))
    });
    for point in [
        "dns.keeper",
        "dns.netns.bound",
        "dns.netns.rules",
        "dns.synced",
    ] {
        // The resolver dies at the step each time it is started; the
        // container runs without it (a warning, as Docker's), and nothing
        // of the resolver is left.
        let o = d.run_env(
            &[
                "run",
                "-d",
                "--name",
                "fdb",
                "--network",
                "df",
                "img",
                "sleep",
                "1000",
            ],
            &[("YURTA_FAULT", point)],
        );
        assert_eq!(o.code, 0, "{point}: {}", o.stderr);
        assert!(o.stderr.contains("warning: "), "{point}: {}", o.stderr);
        poll("no resolver", || d.resolvers().is_empty());
        let db = d.ip_on("fdb", "df");
        // The next start serves every container again.
        let o = d.run(&[
            "run",
            "--rm",
            "--network",
            "df",
            "img",
            "busybox",
            "nslookup",
            "fdb",
        ]);
        assert_eq!(
            answers(&o.stdout),
            [db.as_str()],
            "after {point}: {}",
            o.stderr
        );
        assert_eq!(d.nslookup("fdb", "fdb"), [db], "after {point}");
        d.run(&["rm", "-f", "fdb"]).ok();
        poll("no resolver", || d.resolvers().is_empty());
        let ids: BTreeSet<String> = d.w.ids().into_iter().collect();
        let mut diff = Vec::new();
        yurta_testutil::process::poll_until(
            Duration::from_secs(10),
            Duration::from_millis(50),
            || {
                diff = before.diff(&fingerprint(&d.w, &ids));
                diff.is_empty()
            },
        );
        assert!(diff.is_empty(), "after a kill at {point}: {diff:#?}");
    }
}

#[test]
fn published_ports_0_and_none_pick_a_free_port() {
    let Some(d) = Dns::new() else { return };
    d.run(&[
        "run",
        "-d",
        "--name",
        "pw",
        "-p",
        "127.0.0.1:0:80",
        "-p",
        "81",
        "img",
        "sh",
        "-c",
        "echo picked > /index.html; exec httpd -f -p 80 -h /",
    ])
    .ok();
    let ports = d.run(&["port", "pw"]).ok().stdout;
    let port_of = |key: &str| -> u16 {
        let line = ports
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{ports}"));
        line.rsplit(':').next().unwrap().parse().unwrap()
    };
    let (p80, p81) = (port_of("80/tcp"), port_of("81/tcp"));
    assert!(p80 > 0 && p81 > 0 && p80 != p81, "{ports}");
    assert!(
        ports.contains(&format!("80/tcp -> 127.0.0.1:{p80}")),
        "{ports}"
    );
    assert!(
        ports.contains(&format!("81/tcp -> 0.0.0.0:{p81}")),
        "{ports}"
    );
    let v = d.inspect("pw");
    assert_eq!(
        v["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        p80.to_string()
    );
    assert_eq!(
        v["NetworkSettings"]["Ports"]["81/tcp"][0]["HostPort"],
        p81.to_string()
    );
    let mut body = String::new();
    poll("the published port answers", || {
        body.clear();
        TcpStream::connect(("127.0.0.1", p80))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
                s.read_to_string(&mut body)
            })
            .is_ok()
            && body.contains("picked")
    });
    // IPv6 host addresses: refused, naming the value; nothing made.
    let o = d.run(&["run", "--name", "p6", "-p", "[::1]:8080:80", "img", "true"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains(r#""[::1]:8080:80""#) && o.stderr.contains("IPv4"),
        "{}",
        o.stderr
    );
    assert!(d.run(&["inspect", "p6"]).code != 0);
}

#[test]
fn network_host_keeps_the_hosts_hostname() {
    let Some(d) = Dns::new() else { return };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let o = d
        .run(&[
            "run",
            "--rm",
            "--network",
            "host",
            "img",
            "sh",
            "-c",
            "hostname; cat /etc/hostname",
        ])
        .ok();
    assert_eq!(o.stdout, format!("{}\n{}\n", host.trim(), host.trim()));
    let o = d
        .run(&[
            "run",
            "--rm",
            "--network",
            "host",
            "--hostname",
            "mine",
            "img",
            "hostname",
        ])
        .ok();
    assert_eq!(o.stdout, "mine\n");
    let o = d.run(&["run", "--rm", "img", "hostname"]).ok();
    assert_ne!(o.stdout.trim(), host.trim());
}
