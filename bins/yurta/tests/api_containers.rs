//! Containers through `yurta system service` (issue 11), driven by the
//! real docker CLI 28 and Debian's docker.io 20.10 client, with the yurta
//! CLI on the same root seeing the same containers at once; the error
//! answers as Docker gives them; nothing left on the host afterwards.

mod api_common;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use api_common::{docker_20, Service, DOCKER};
use common::fingerprint::{Fingerprint, Scope};
use common::world::World;
use common::Out;

fn fingerprint(w: &World, ids: &BTreeSet<String>) -> Fingerprint {
    let prefixes = [w.veth_prefix(), w.bridge()];
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    Fingerprint::take(&Scope {
        root: &w.y.root(),
        link_prefixes: &prefixes,
        table: &w.table(),
        ids,
    })
}

/// `docker ARGS` that must succeed; its stdout.
fn ok(s: &Service, bin: &str, args: &[&str]) -> String {
    s.client_ok(bin, args)
}

/// `docker ARGS` that must fail with `code` and say `message`.
fn fails(s: &Service, bin: &str, args: &[&str], code: i32, message: &str) -> Out {
    let o = s.client(bin, args);
    assert_eq!(o.code, code, "docker {args:?}: {}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains(message),
        "docker {args:?}: {:?} lacks {message:?}",
        o.stderr
    );
    o
}

/// The scenario each client runs; `sfx` keeps names apart.
fn drive(w: &World, s: &Service, bin: &str, sfx: &str) {
    let d = |args: &[&str]| ok(s, bin, args);
    let job = format!("job{sfx}");
    // create + start + wait + logs, as a batch job.
    let id = d(&[
        "create",
        "--name",
        &job,
        "-e",
        "A=1",
        "-l",
        "team=api",
        "img",
        "sh",
        "-c",
        "echo out $A; echo err >&2; exit 3",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    // The yurta CLI sees it at once, as created.
    assert_eq!(w.inspect(&job, ".State.Status"), "created");
    assert_eq!(d(&["start", &job]).trim(), job);
    assert_eq!(d(&["wait", &job]).trim(), "3");
    let logs = s.client(bin, &["logs", &job]);
    assert_eq!(logs.stdout, "out 1\n", "{}", logs.stderr);
    assert_eq!(logs.stderr, "err\n");
    let tail = s.client(bin, &["logs", "--tail", "1", "-t", &job]);
    assert!(
        tail.stderr.ends_with(" err\n") && tail.stdout.is_empty(),
        "{} {}",
        tail.stdout,
        tail.stderr
    );
    let listed = d(&[
        "ps",
        "-a",
        "--filter",
        "label=team=api",
        "--format",
        "{{.Names}} {{.Status}}",
    ]);
    assert!(listed.starts_with(&format!("{job} Exited (3)")), "{listed}");
    assert_eq!(
        d(&[
            "inspect",
            "-f",
            "{{.State.ExitCode}} {{.Config.Labels.team}}",
            &job
        ])
        .trim(),
        "3 api"
    );
    // A published port, from the host.
    let port = common::world::free_port();
    let web = format!("web{sfx}");
    d(&[
        "run",
        "-d",
        "--name",
        &web,
        "-p",
        &format!("127.0.0.1:{port}:8080"),
        "img",
        "sh",
        "-c",
        "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www",
    ]);
    let shown = d(&["port", &web]);
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    let mut page = String::new();
    yurta_testutil::process::poll_until(
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(100),
        || {
            page = api_common::http_get(port);
            page.contains("served")
        },
    );
    assert!(page.contains("served"), "{page}");
    d(&["rm", "-f", &web]);
    // A long-running service: run -d, ps, stop, start, kill, rm.
    let svc = format!("svc{sfx}");
    d(&["run", "-d", "--name", &svc, "img", "sleep", "300"]);
    assert_eq!(w.inspect(&svc, ".State.Running"), "true");
    let ps = d(&["ps", "--format", "{{.Names}}|{{.Status}}|{{.Command}}"]);
    assert!(
        ps.lines()
            .any(|l| l.starts_with(&format!("{svc}|Up ")) && l.ends_with("\"sleep 300\"")),
        "{ps}"
    );
    let exited = d(&[
        "ps",
        "-a",
        "--filter",
        "status=exited",
        "--format",
        "{{.Names}}",
    ]);
    assert!(exited.contains(&job) && !exited.contains(&svc), "{exited}");
    fails(
        s,
        bin,
        &["rm", &svc],
        1,
        "stop the container before removing",
    );
    exec(s, bin, &svc);
    archive(w, s, bin, &svc);
    let top = d(&["top", &svc]);
    assert!(top.contains("PID") && top.contains("sleep 300"), "{top}");
    let st = d(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.PIDs}} {{.MemUsage}}",
        &svc,
    ]);
    assert!(st.starts_with(&format!("{svc} 1 ")), "{st}");
    let top = d(&["top", &svc, "-o", "pid,comm"]);
    assert!(
        top.lines().any(|l| l.trim_end().ends_with("sleep")),
        "{top}"
    );
    d(&["stop", "-t", "1", &svc]);
    assert_eq!(w.inspect(&svc, ".State.Status"), "exited");
    stopped_archive(w, s, bin, &svc);
    d(&["start", &svc]);
    let o = s.client(bin, &["exec", &svc, "cat", "/while-stopped"]);
    assert_eq!(o.stdout, "copied in while stopped\n", "{}", o.stderr);
    d(&["restart", "-t", "0", &svc]);
    assert_eq!(w.inspect(&svc, ".State.Running"), "true");
    d(&["pause", &svc]);
    assert_eq!(w.inspect(&svc, ".State.Status"), "paused");
    d(&["unpause", &svc]);
    // update: the running container's limit and policy, as yurta sees them.
    d(&[
        "update",
        "--memory",
        "64m",
        "--restart",
        "on-failure:2",
        &svc,
    ]);
    assert_eq!(w.inspect(&svc, ".HostConfig.Memory"), "67108864");
    assert_eq!(
        w.inspect(&svc, ".HostConfig.RestartPolicy.Name"),
        "on-failure"
    );
    assert_eq!(
        w.inspect(&svc, ".HostConfig.RestartPolicy.MaximumRetryCount"),
        "2"
    );
    fails(s, bin, &["update", "--cpus", "-1", &svc], 1, "cpus");
    d(&["kill", &svc]);
    assert_eq!(d(&["wait", &svc]).trim(), "137");
    d(&["rename", &svc, &format!("{svc}b")]);
    // The yurta CLI's container, removed through the service, and the
    // other way round.
    let cli = format!("cli{sfx}");
    w.run(&["run", "-d", "--name", &cli, "img", "sleep", "300"])
        .ok();
    d(&["rm", "-f", &cli]);
    assert!(w.run(&["inspect", &cli]).code != 0);
    w.run(&["rm", &format!("{svc}b")]).ok();
    // Errors, as Docker words them.
    fails(s, bin, &["start", "nosuch"], 1, "No such container: nosuch");
    fails(
        s,
        bin,
        &["create", "--name", &job, "img"],
        1,
        "already in use",
    );
    fails(
        s,
        bin,
        &["create", "--memory-swap", "1k", "-m", "4m", "img"],
        1,
        "memory",
    );
    fails(s, bin, &["kill", &job], 1, "is not running");
    let pruned = d(&["container", "prune", "-f"]);
    assert!(pruned.contains(id), "{pruned}");
    assert_eq!(d(&["ps", "-aq"]).trim(), "");
}

/// Foreground `docker run` (attach, wait, start): output, exit codes,
/// stdin, `--rm`.
fn foreground(s: &Service, bin: &str, sfx: &str) {
    let o = s.client(bin, &["run", "--rm", "img", "echo", "hi"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "hi\n"),
        "{}{}",
        o.stderr,
        s.stderr()
    );
    let o = s.client(
        bin,
        &[
            "run",
            "--rm",
            "img",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ],
    );
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("out\n", "err\n"));
    let name = format!("fg{sfx}");
    let o = s.client(bin, &["run", "--name", &name, "img", "sh", "-c", "exit 5"]);
    assert_eq!(o.code, 5, "{}", o.stderr);
    let o = s.client(bin, &["start", "-a", &name]);
    assert_eq!(o.code, 5, "{}", o.stderr);
    ok(s, bin, &["rm", &name]);
    let mut child = s
        .command(bin)
        .args(["run", "-i", "--rm", "img", "sh", "-c", "cat; echo done"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"data\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "data\ndone\n");
    assert!(out.status.success());
    let o = s.client(bin, &["run", "--rm", "img", "nosuchcommand"]);
    assert_eq!(o.code, 127, "{}", o.stderr);
}

/// `docker cp` both ways into a stopped container: its root filesystem is
/// mounted for each request, and unmounted after it.
fn stopped_archive(w: &World, s: &Service, bin: &str, name: &str) {
    let host = w.y.path(&format!("cp-stopped-{name}"));
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in"), "copied in while stopped\n").unwrap();
    let inside = format!("{name}:/while-stopped");
    ok(
        s,
        bin,
        &["cp", &host.join("in").display().to_string(), &inside],
    );
    let back = host.join("back");
    ok(s, bin, &["cp", &inside, &back.display().to_string()]);
    assert_eq!(
        std::fs::read_to_string(&back).unwrap(),
        "copied in while stopped\n"
    );
    // diff and export of the stopped container see the file.
    let diff = ok(s, bin, &["diff", name]);
    assert!(diff.lines().any(|l| l == "A /while-stopped"), "{diff}");
    let tar = host.join("export.tar");
    ok(s, bin, &["export", "-o", &tar.display().to_string(), name]);
    let list = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&tar)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.lines()
            .any(|l| l.trim_start_matches("./") == "while-stopped"),
        "{list}"
    );
    assert!(list.lines().any(|l| l.contains("bin/busybox")), "{list}");
    let none = host.join("none.tar").display().to_string();
    fails(s, bin, &["export", "-o", &none, "nosuch"], 1, "nosuch");
    let o = s.client(bin, &["cp", &format!("{name}:/nosuch"), "-"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("nosuch"), "{}", o.stderr);
    let id = w.inspect(name, ".Id");
    let dir = w.y.root().join("containers").join(&id);
    let views: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("cp-"))
        .collect();
    assert!(views.is_empty(), "{views:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&format!("{id}/cp-")), "{mounts}");
}

/// `docker cp` both ways through the archive routes.
fn archive(w: &World, s: &Service, bin: &str, name: &str) {
    let host = w.y.path(&format!("cp-{name}"));
    std::fs::create_dir_all(host.join("dir/sub")).unwrap();
    std::fs::write(host.join("dir/sub/a"), "in a dir\n").unwrap();
    std::fs::write(host.join("file"), "a file\n").unwrap();
    let p = |rel: &str| host.join(rel).display().to_string();
    ok(s, bin, &["cp", &p("file"), &format!("{name}:/bin/")]);
    ok(s, bin, &["cp", &p("file"), &format!("{name}:/bin/renamed")]);
    ok(s, bin, &["cp", &p("dir"), &format!("{name}:/")]);
    let o = s.client(
        bin,
        &[
            "exec",
            name,
            "sh",
            "-c",
            "cat /bin/file /bin/renamed /dir/sub/a",
        ],
    );
    assert_eq!(o.stdout, "a file\na file\nin a dir\n", "{}", o.stderr);
    ok(s, bin, &["cp", &format!("{name}:/dir"), &p("back")]);
    assert_eq!(
        std::fs::read_to_string(host.join("back/sub/a")).unwrap(),
        "in a dir\n"
    );
    fails(
        s,
        bin,
        &["cp", &format!("{name}:/nope"), &p("x")],
        1,
        "/nope", /* 28: "Could not find the file", 20.10: "No such container:path" */
    );
    assert!(!host.join("x").exists());
}

/// `docker exec` in a running container: output, exit codes, stdin,
/// environment and working directory, detached, errors.
fn exec(s: &Service, bin: &str, name: &str) {
    let o = s.client(
        bin,
        &["exec", name, "sh", "-c", "echo hi; echo err >&2; exit 4"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("hi\n", "err\n"));
    let o = s.client(
        bin,
        &[
            "exec",
            "-e",
            "X=5",
            "-w",
            "/bin",
            name,
            "sh",
            "-c",
            "echo $X $(pwd)",
        ],
    );
    assert_eq!(o.stdout, "5 /bin\n", "{}", o.stderr);
    let mut child = s
        .command(bin)
        .args(["exec", "-i", name, "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"input\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "input\n");
    let o = s.client(bin, &["exec", name, "nosuch"]);
    assert_eq!(o.code, 127, "{}", o.stderr);
    assert!(o.stderr.contains("nosuch"), "{}", o.stderr);
    ok(s, bin, &["exec", "-d", name, "true"]);
    fails(
        s,
        bin,
        &["exec", "nosuchc", "true"],
        1,
        "No such container: nosuchc",
    );
}

fn run_client(bin: &str, sfx: &str) {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    // The default network and the root's directories are made by the
    // first run and stay: made before the "before".
    w.run(&["run", "--rm", "img", "true"]).ok();
    let before = fingerprint(&w, &BTreeSet::new());
    drive(&w, &s, bin, sfx);
    foreground(&s, bin, sfx);
    assert_eq!(ok(&s, bin, &["ps", "-aq"]).trim(), "");
    let mut diff = Vec::new();
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(50), || {
        diff = before.diff(&fingerprint(&w, &BTreeSet::new()));
        diff.is_empty()
    });
    assert!(diff.is_empty(), "left behind: {diff:#?}");
}

#[test]
fn docker_cli_28_runs_containers() {
    run_client(DOCKER, "28");
}

#[test]
fn debian_docker_20_10_runs_containers() {
    let Some(bin) = docker_20() else {
        eprintln!("skipped: Debian's docker.io client is not installed");
        return;
    };
    run_client(bin.to_str().unwrap(), "20");
}

/// The answers a client reads the status of, over raw HTTP.
#[test]
fn container_routes_answer_with_dockers_statuses() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let (code, body) = s.raw(
        "POST",
        "/v1.41/containers/create?name=raw",
        br#"{"Image":"img","Cmd":["sleep","30"]}"#,
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(s.raw("POST", "/containers/raw/start", b"").0, 204);
    assert_eq!(s.raw("POST", "/containers/raw/start", b"").0, 304);
    assert_eq!(
        s.raw("POST", "/containers/raw/wait?condition=bogus", b"").0,
        400
    );
    assert_eq!(s.raw("POST", "/containers/raw/stop?t=0", b"").0, 204);
    assert_eq!(s.raw("POST", "/containers/raw/stop", b"").0, 304);
    let (code, body) = s.raw("GET", "/containers/raw/logs", b"");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("at least one stream"), "{body}");
    let (code, body) = s.raw("POST", "/containers/create", br#"{"Image":"nosuch"}"#);
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("No such image: nosuch"), "{body}");
    let (code, body) = s.raw(
        "POST",
        "/containers/create",
        br#"{"Image":"img","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"x"}]}}}"#,
    );
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.raw(
        "GET",
        "/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D",
        b"",
    );
    assert_eq!(code, 400, "{body}");
    // docker-compose 1.x's filter encoding (a set) and Compose v2's (a list).
    for f in [r#"{"name":{"raw":true}}"#, r#"{"name":["raw"]}"#] {
        let q = f
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace('"', "%22")
            .replace(':', "%3A")
            .replace('[', "%5B")
            .replace(']', "%5D");
        let (code, body) = s.raw("GET", &format!("/containers/json?all=1&filters={q}"), b"");
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["Names"][0], "/raw", "{body}");
    }
    assert_eq!(s.raw("DELETE", "/containers/raw", b"").0, 204);
    assert_eq!(s.raw("DELETE", "/containers/raw", b"").0, 404);
}

/// The service holds no container: killed with SIGKILL mid-stream, its
/// containers run on under their supervisors, the CLI manages them, and a
/// new service (after the old socket file is cleaned up) sees them all.
#[test]
fn containers_outlive_a_killed_service() {
    let Some(w) = World::new() else { return };
    let mut s = Service::start(&w, &[]);
    ok(
        &s,
        DOCKER,
        &["run", "-d", "--name", "outlive", "img", "sleep", "300"],
    );
    // A client following the logs when the service dies.
    let mut follower = s
        .command(DOCKER)
        .args(["logs", "-f", "outlive"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(s.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    s.child.wait().unwrap();
    // The follower's connection ends with the service (wait returns).
    follower.wait().unwrap();
    assert_eq!(w.inspect("outlive", ".State.Running"), "true");
    let _ = std::fs::remove_file(&s.sock);
    let s2 = Service::start(&w, &[]);
    let ps = ok(&s2, DOCKER, &["ps", "--format", "{{.Names}} {{.State}}"]);
    assert_eq!(ps.trim(), "outlive running");
    ok(&s2, DOCKER, &["rm", "-f", "outlive"]);
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
}
