use super::*;

fn p(s: &str) -> Platform {
    s.parse().unwrap()
}

#[test]
fn parse_normalizes_aliases() {
    let cases = [
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/8", "linux/arm64/v8"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/e2k", "linux/e2k"),
        ("linux/e2k64/v6", "linux/e2k/v6"),
        ("Linux/E2K/6", "linux/e2k/v6"),
        ("linux/i686", "linux/386"),
        ("linux/s390x", "linux/s390x"),
    ];
    for (input, want) in cases {
        assert_eq!(p(input).to_string(), want, "{input}");
    }
}

#[test]
fn parse_rejects_malformed() {
    for bad in [
        "linux",
        "",
        "linux/",
        "/amd64",
        "linux/amd64/v8/x",
        "linux//v7",
    ] {
        assert_eq!(
            bad.parse::<Platform>(),
            Err(PlatformError::Invalid(bad.to_string())),
            "{bad}"
        );
    }
    assert_eq!(
        PlatformError::Invalid("linux".into()).to_string(),
        "invalid platform \"linux\": expected os/arch[/variant]"
    );
}

#[test]
fn serde_uses_oci_field_names() {
    let json = serde_json::to_string(&p("linux/e2k/v5")).unwrap();
    assert_eq!(
        json,
        r#"{"os":"linux","architecture":"e2k","variant":"v5"}"#
    );
    let back: Platform = serde_json::from_str(r#"{"os":"linux","architecture":"amd64"}"#).unwrap();
    assert_eq!(back, p("linux/amd64"));
}

const E8C: &str =
    "processor\t: 0\nvendor_id\t: E8C\ncpu family\t: 4\nmodel\t\t: 7\nmodel name\t: E8C\n";
const E8C2: &str = "processor\t: 0\ncpu family\t: 5\nmodel name\t: E8C2\n";
const E16C_NO_FAMILY: &str = "processor\t: 0\nmodel name\t: Elbrus-16C\n";
const E2C3_CYRILLIC: &str = "model name\t: Эльбрус-2С3\n";
const E1CP: &str = "model name\t: E1C+\n";
const E4C: &str = "model name\t: Elbrus-4C\n";
const E32C: &str = "cpu family\t: 7\nmodel name\t: E32C\n";
const E12C: &str = "cpu family\t: 99\nmodel name\t: E12C\n";

#[test]
fn e2k_variant_from_cpuinfo() {
    assert_eq!(e2k_variant(E8C).as_deref(), Some("v4"));
    assert_eq!(e2k_variant(E8C2).as_deref(), Some("v5"));
    assert_eq!(e2k_variant(E16C_NO_FAMILY).as_deref(), Some("v6"));
    assert_eq!(e2k_variant(E2C3_CYRILLIC).as_deref(), Some("v6"));
    assert_eq!(e2k_variant(E1CP).as_deref(), Some("v4"));
    assert_eq!(e2k_variant(E4C).as_deref(), Some("v3"));
    assert_eq!(e2k_variant(E32C).as_deref(), Some("v7"));
    // An unknown family falls back to the model name.
    assert_eq!(e2k_variant(E12C).as_deref(), Some("v6"));
    assert_eq!(e2k_variant("model name\t: Pentium\n"), None);
    assert_eq!(e2k_variant(""), None);
}

#[test]
fn host_platform_with_variant() {
    assert_eq!(Platform::host_from("e2k", E8C2).to_string(), "linux/e2k/v5");
    assert_eq!(
        Platform::host_from("e2k64", E16C_NO_FAMILY).to_string(),
        "linux/e2k/v6"
    );
    assert_eq!(Platform::host_from("e2k", "").to_string(), "linux/e2k");
    assert_eq!(
        Platform::host_from("x86_64", "flags: sse").to_string(),
        "linux/amd64"
    );
    assert_eq!(
        Platform::host_from("aarch64", "").to_string(),
        "linux/arm64/v8"
    );
    let arm6 = "CPU architecture: 6\n";
    assert_eq!(Platform::host_from("arm", arm6).to_string(), "linux/arm/v6");
    assert_eq!(Platform::host_from("arm", "").to_string(), "linux/arm/v7");
}

#[test]
fn host_matches_this_machine() {
    let host = Platform::host();
    assert_eq!(host.os, "linux");
    let want = Platform::new("linux", std::env::consts::ARCH, None).architecture;
    assert_eq!(host.architecture, want);
}

fn index(entries: &[&str]) -> Vec<Platform> {
    entries.iter().map(|s| p(s)).collect()
}

fn pick(wanted: &str, entries: &[&str]) -> Result<String, PlatformError> {
    let all = index(entries);
    select(&p(wanted), "docker.io/x:1", &all, |e| Some(e.clone())).map(|e| e.to_string())
}

#[test]
fn e2k_host_runs_older_generations_preferring_newest() {
    let idx = [
        "linux/amd64",
        "linux/e2k/v3",
        "linux/e2k/v5",
        "linux/e2k/v7",
    ];
    assert_eq!(pick("linux/e2k/v6", &idx).unwrap(), "linux/e2k/v5");
    assert_eq!(pick("linux/e2k/v5", &idx).unwrap(), "linux/e2k/v5");
    assert_eq!(pick("linux/e2k/v4", &idx).unwrap(), "linux/e2k/v3");
    assert_eq!(pick("linux/e2k/v7", &idx).unwrap(), "linux/e2k/v7");
    // No variant on the wanted side: every generation, newest first.
    assert_eq!(pick("linux/e2k", &idx).unwrap(), "linux/e2k/v7");
    // A generic e2k image runs anywhere but loses to a real generation.
    assert_eq!(
        pick("linux/e2k/v4", &["linux/e2k", "linux/e2k/v4"]).unwrap(),
        "linux/e2k/v4"
    );
    assert_eq!(
        pick("linux/e2k/v4", &["linux/e2k", "linux/e2k/v6"]).unwrap(),
        "linux/e2k"
    );
}

#[test]
fn no_match_lists_what_the_index_has() {
    let idx = ["linux/amd64", "linux/arm64", "linux/e2k/v6", "linux/e2k/v6"];
    let err = pick("linux/e2k/v4", &idx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no image for linux/e2k/v4 in docker.io/x:1; it has linux/amd64, linux/arm64/v8, linux/e2k/v6"
    );
    let none: [&str; 0] = [];
    assert_eq!(
        pick("linux/amd64", &none).unwrap_err().to_string(),
        "no image for linux/amd64 in docker.io/x:1; it has no platforms"
    );
}

#[test]
fn other_architectures() {
    let idx = [
        "linux/amd64",
        "linux/arm/v6",
        "linux/arm/v7",
        "linux/arm64",
        "windows/amd64",
    ];
    assert_eq!(pick("linux/x86_64", &idx).unwrap(), "linux/amd64");
    assert_eq!(pick("linux/arm64", &idx).unwrap(), "linux/arm64/v8");
    assert_eq!(pick("linux/arm/v7", &idx).unwrap(), "linux/arm/v7");
    assert_eq!(pick("linux/arm/v8", &idx).unwrap(), "linux/arm/v7");
    assert_eq!(pick("linux/arm/v6", &idx).unwrap(), "linux/arm/v6");
    assert!(pick("linux/arm/v5", &idx).is_err());
    assert!(pick("linux/386", &idx).is_err());
    assert_eq!(pick("windows/amd64", &idx).unwrap(), "windows/amd64");
    // amd64 without a variant does not take x86-64-v3 builds.
    assert!(pick("linux/amd64", &["linux/amd64/v3"]).is_err());
    assert_eq!(
        pick("linux/amd64/v3", &["linux/amd64", "linux/amd64/v2"]).unwrap(),
        "linux/amd64/v2"
    );
}

#[test]
fn entries_without_platform_are_skipped() {
    let all = index(&["linux/amd64", "linux/e2k/v6"]);
    let got = select(&p("linux/e2k/v6"), "r", &all, |e| {
        (e.architecture != "amd64").then(|| e.clone())
    });
    assert_eq!(got.unwrap().to_string(), "linux/e2k/v6");
    let err = select(&p("linux/amd64"), "r", &all, |e| {
        (e.architecture != "amd64").then(|| e.clone())
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no image for linux/amd64 in r; it has linux/e2k/v6"
    );
}
