//! Registries through `yurta system service` (issue 11): the docker CLI
//! pushes, pulls, logs in and runs an image it does not have yet, against
//! Debian's docker-registry on 127.0.0.1; errors keep their status
//! (`docker run` of an unknown image sees 404 and pulls), credentials
//! travel with each request and are never stored by the service.

mod api_common;
mod common;

use std::io::Write;
use std::process::Stdio;

use api_common::Service;
use common::registry::{Auth, Registry};
use common::world::World;
use common::Out;

fn ok(o: Out, s: &Service) -> String {
    assert_eq!(
        o.code,
        0,
        "stdout:\n{}\nstderr:\n{}\nservice:\n{}",
        o.stdout,
        o.stderr,
        s.stderr()
    );
    o.stdout
}

/// `docker login` with the password on stdin.
fn login(s: &Service, registry: &str, user: &str, password: &str) -> Out {
    let mut child = s
        .command(api_common::DOCKER)
        .args(["login", "-u", user, "--password-stdin", registry])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    Out::of(child.wait_with_output().unwrap())
}

#[test]
fn docker_pushes_pulls_and_runs_an_image_it_lacks_through_the_service() {
    push_pull_run(api_common::DOCKER);
}

#[test]
fn debian_docker_20_10_pushes_pulls_and_runs_through_the_service() {
    let Some(bin) = api_common::docker_20() else {
        eprintln!("skipped: Debian's docker.io client is not installed");
        return;
    };
    push_pull_run(bin.to_str().unwrap());
}

/// The scenario with the client at `bin`.
fn push_pull_run(bin: &str) {
    let Some(w) = World::new() else { return };
    let reg = Registry::plain();
    let s = Service::start(&w, &[]);
    let name = format!("{}/api/img:v1", reg.addr());
    ok(s.client(bin, &["tag", "img", &name]), &s);

    let out = ok(s.client(bin, &["push", &name]), &s);
    let repo = format!("{}/api/img", reg.addr());
    assert!(
        out.contains(&format!("The push refers to repository [{repo}]")),
        "{out}"
    );
    assert!(out.contains("v1: digest: sha256:"), "{out}");
    let digests = ok(
        s.client(
            bin,
            &["image", "inspect", "-f", "{{json .RepoDigests}}", &name],
        ),
        &s,
    );
    assert!(digests.contains(&format!("{repo}@sha256:")), "{digests}");
    let again = ok(s.client(bin, &["push", &name]), &s);
    assert!(again.contains("Layer already exists"), "{again}");

    // Nothing of it left here, then pulled back.
    ok(s.client(bin, &["rmi", &name, "img"]), &s);
    assert_ne!(s.client(bin, &["image", "inspect", &name]).code, 0);
    let out = ok(s.client(bin, &["pull", &name]), &s);
    assert!(out.contains("v1: Pulling from api/img"), "{out}");
    assert!(out.contains("Digest: sha256:"), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}")),
        "{out}"
    );
    let out = ok(s.client(bin, &["pull", &name]), &s);
    assert!(
        out.contains(&format!("Status: Image is up to date for {name}")),
        "{out}"
    );
    let listed = w
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok();
    assert!(
        listed.stdout.lines().any(|l| l == name),
        "{}",
        listed.stdout
    );

    // `docker run` of an image the service lacks: 404, pull, create, run.
    ok(s.client(bin, &["rmi", &name]), &s);
    let run = s.client(bin, &["run", "--rm", &name, "echo", "hi"]);
    assert_eq!(run.code, 0, "{}{}\n{}", run.stdout, run.stderr, s.stderr());
    assert_eq!(run.stdout, "hi\n");
    assert!(
        run.stderr
            .contains(&format!("Unable to find image '{name}' locally")),
        "{}",
        run.stderr
    );

    // Unknown tags and images: Docker's statuses, one clear message.
    let missing = format!("{}/api/img:nope", reg.addr());
    let out = s.client(bin, &["pull", &missing]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("api/img:nope"), "{}", out.stderr);
    assert!(out.stderr.contains("404"), "{}", out.stderr);
    let create = format!("/images/create?fromImage={repo}&tag=nope");
    assert_eq!(s.raw("POST", &create, b"").0, 404);
    assert_eq!(s.raw("POST", "/images/create?fromImage=UPPER", b"").0, 400);
    assert_eq!(s.raw("POST", "/images/create", b"").0, 400);
    let (code, body) = s.raw("POST", "/images/nosuch:1/push", b"");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("nosuch"), "{body}");

    // What happened is in the journal, as the CLI records it.
    let events = ok(
        s.client(
            bin,
            &[
                "events",
                "--since",
                "0",
                "--until",
                &format!("{}", now_secs() + 1),
                "--filter",
                "type=image",
                "--format",
                "{{.Action}} {{.Actor.ID}}",
            ],
        ),
        &s,
    );
    assert!(events.contains(&format!("push {name}")), "{events}");
    assert!(events.contains(&format!("pull {name}")), "{events}");
}

#[test]
fn docker_login_sends_credentials_the_service_never_keeps() {
    let Some(w) = World::new() else { return };
    let reg = Registry::start(Auth::basic("alice", "s3cret"), None);
    let s = Service::start(&w, &[]);
    let name = format!("{}/private/img:1", reg.addr());
    ok(s.docker(&["tag", "img", &name]), &s);

    let denied = s.docker(&["push", &name]);
    assert_eq!(denied.code, 1, "{}", denied.stdout);
    assert!(denied.stderr.contains("HTTP 401"), "{}", denied.stderr);

    let bad = login(&s, &reg.addr(), "alice", "wrong");
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("incorrect username or password"),
        "{}",
        bad.stderr
    );
    let good = login(&s, &reg.addr(), "alice", "s3cret");
    assert_eq!(good.code, 0, "{}", good.stderr);
    assert!(good.stdout.contains("Login Succeeded"), "{}", good.stdout);

    ok(s.docker(&["push", &name]), &s);
    ok(s.docker(&["rmi", &name]), &s);
    ok(s.docker(&["pull", &name]), &s);
    // The client keeps the credentials; the service's own file stays absent.
    assert!(s.config.join("config.json").exists());
    assert!(!w.y.path("auth.json").exists());

    ok(s.docker(&["logout", &reg.addr()]), &s);
    ok(s.docker(&["rmi", &name]), &s);
    let out = s.docker(&["pull", &name]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
}

/// `docker import` through the service (`POST /images/create?fromSrc=-`):
/// a root filesystem tar becomes an image the CLI and the service run.
#[test]
fn docker_import_through_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let tar = w.y.path("import.tar");
    common::tar_of(&w.y.path("rootfs"), &tar);
    let tar_s = tar.to_str().unwrap();
    let id = ok(
        s.docker(&[
            "import",
            "-c",
            "CMD [\"sh\"]",
            "-m",
            "from docker",
            tar_s,
            "imp:1",
        ]),
        &s,
    );
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let run = s.docker(&["run", "--rm", "imp:1", "echo", "imported"]);
    assert_eq!(run.stdout, "imported\n", "{}", run.stderr);
    let cmd = w
        .run(&["image", "inspect", "-f", "{{json .Config.Cmd}}", "imp:1"])
        .ok();
    assert_eq!(cmd.stdout.trim(), "[\"sh\"]");
    let junk = w.y.path("junk.tar");
    std::fs::write(&junk, [7u8; 2048]).unwrap();
    let bad = s.docker(&["import", junk.to_str().unwrap(), "junk:1"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(w.run(&["image", "inspect", "junk:1"]).code != 0);
    // `docker import URL`: the service downloads the tar itself.
    let served = w.y.path("served");
    std::fs::create_dir_all(&served).unwrap();
    std::fs::rename(&tar, served.join("import.tar")).unwrap();
    let files = common::files::FileServer::loopback(&served);
    let from_url = ok(
        s.docker(&["import", &files.url("import.tar"), "imp:url"]),
        &s,
    );
    assert!(from_url.trim().starts_with("sha256:"), "{from_url}");
    let run = s.docker(&["run", "--rm", "imp:url", "echo", "from-url"]);
    assert_eq!(run.stdout, "from-url\n", "{}", run.stderr);
    let missing = files.url("missing.tar");
    let bad = s.docker(&["import", &missing, "missing:1"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains(&format!("{missing}: HTTP 404 Not Found")),
        "{}",
        bad.stderr
    );
    assert!(w.run(&["image", "inspect", "missing:1"]).code != 0);
    let (code, body) = s.raw("POST", "/images/create?fromSrc=ftp://127.0.0.1/x.tar", b"");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("ftp://127.0.0.1/x.tar"), "{body}");
}

/// `GET /distribution/{name}/json` on a multi-platform list: the index's
/// descriptor and every platform, the e2k generation among them; an
/// unknown tag is a 404.
#[test]
fn registry_data_of_a_list_names_its_e2k_entries() {
    let Some(w) = World::new() else { return };
    let reg = Registry::plain();
    w.y.build_file_image("linux/e2k/v6", "app:e2k-v6", "for Elbrus-16C\n");
    w.run(&["manifest", "create", "app:multi", "img", "app:e2k-v6"])
        .ok();
    let dest = format!("{}/team/app:1", reg.addr());
    let pushed = w
        .run(&["manifest", "push", "--all", "-q", "app:multi", &dest])
        .ok();
    let s = Service::start(&w, &[]);
    let (code, body) = s.raw("GET", &format!("/distribution/{dest}/json"), b"");
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["Descriptor"]["digest"], pushed.stdout.trim(), "{body}");
    assert_eq!(
        v["Descriptor"]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms: Vec<String> = v["Platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let variant = p["variant"].as_str().map(|v| format!("/{v}"));
            format!(
                "{}/{}{}",
                p["os"],
                p["architecture"],
                variant.unwrap_or_default()
            )
            .replace('"', "")
        })
        .collect();
    let host = w.run(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "img"]);
    assert_eq!(
        platforms,
        [host.ok().stdout.trim(), "linux/e2k/v6"],
        "{body}"
    );
    let (code, body) = s.raw(
        "GET",
        &format!("/distribution/{}/team/app:2/json", reg.addr()),
        b"",
    );
    assert_eq!(code, 404, "{body}");
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
