//! Image references as Docker parses them: `busybox` is
//! `docker.io/library/busybox:latest`, `host:5000/a/b:tag`, `name@sha256:…`.
//!
//! This module owns parsing and printing of references; it does not decide
//! which endpoint (scheme, API host) a registry is reached at — that is
//! `endpoint.rs`.

use std::fmt;
use std::str::FromStr;

use oci_spec::image::Digest;

/// The registry an unqualified name (`busybox`, `user/app`) belongs to.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];
const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// Why a reference did not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct ReferenceError {
    pub input: String,
    pub reason: String,
}

fn invalid(input: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// A repository in a registry: `docker.io` + `library/busybox`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    /// `host[:port]` as written by the user, with Docker Hub's aliases
    /// folded to `docker.io`.
    pub registry: String,
    /// The path inside the registry, e.g. `library/busybox`.
    pub name: String,
}

impl Repository {
    /// Parses `[registry/]name` (no tag or digest).
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let (registry, name) = split_registry(input);
        let registry = normalize_registry(registry);
        let name = match name.contains('/') || registry != DOCKER_HUB {
            true => name.to_string(),
            false => format!("library/{name}"),
        };
        validate_registry(input, &registry)?;
        validate_name(input, &name)?;
        Ok(Repository { registry, name })
    }

    /// The short form Docker prints: `busybox` for `docker.io/library/busybox`.
    pub fn familiar(&self) -> String {
        if self.registry != DOCKER_HUB {
            return self.to_string();
        }
        match self.name.strip_prefix("library/") {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.name.clone(),
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// A fully qualified image reference. At least one of `tag` and `digest` is
/// set; a name with neither gets the tag `latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub repo: Repository,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference the way `docker pull` does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(invalid(input, "empty"));
        }
        let (rest, digest) = match input.rsplit_once('@') {
            Some((rest, d)) => (rest, Some(parse_digest(input, d)?)),
            None => (input, None),
        };
        let (name, tag) = split_tag(rest);
        if let Some(tag) = tag {
            validate_tag(input, tag)?;
        }
        let repo = Repository::parse(name).map_err(|e| invalid(input, e.reason))?;
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Ok(Reference { repo, tag, digest })
    }

    /// What goes after `/manifests/` in a URL: the digest if there is one
    /// (it pins the content), else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            repo: self.repo.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    /// The same repository pinned to a digest (the tag is kept for display).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            repo: self.repo.clone(),
            tag: self.tag.clone(),
            digest: Some(digest),
        }
    }

    /// The short form Docker prints: `busybox:latest`.
    pub fn familiar(&self) -> String {
        format!("{}{}", self.repo.familiar(), self.suffix())
    }

    fn suffix(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d.as_ref());
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.repo, self.suffix())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Splits off the registry when the first component looks like a host:
/// it has a `.` or `:`, is `localhost`, or has an upper-case letter
/// (repository paths never do) — Docker's rule.
fn split_registry(input: &str) -> (&str, &str) {
    match input.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (first, rest),
        _ => (DOCKER_HUB, input),
    }
}

fn looks_like_host(s: &str) -> bool {
    s.contains(['.', ':']) || s == "localhost" || s.chars().any(|c| c.is_ascii_uppercase())
}

fn normalize_registry(registry: &str) -> String {
    if DOCKER_HUB_ALIASES.contains(&registry) {
        DOCKER_HUB.to_string()
    } else {
        registry.to_string()
    }
}

/// A tag is what follows the last `:` after the last `/`.
fn split_tag(s: &str) -> (&str, Option<&str>) {
    let last_slash = s.rfind('/').map_or(0, |i| i + 1);
    match s[last_slash..].rfind(':') {
        Some(i) => (&s[..last_slash + i], Some(&s[last_slash + i + 1..])),
        None => (s, None),
    }
}

fn parse_digest(input: &str, d: &str) -> Result<Digest, ReferenceError> {
    let (algo, hex) = d
        .split_once(':')
        .ok_or_else(|| invalid(input, "digest must be ALGORITHM:HEX"))?;
    if algo == "sha256" && (hex.len() != 64 || !hex.bytes().all(is_lower_hex)) {
        return Err(invalid(
            input,
            "sha256 digest must be 64 lower-case hex digits",
        ));
    }
    Digest::from_str(d).map_err(|e| invalid(input, format!("bad digest: {e}")))
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn validate_tag(input: &str, tag: &str) -> Result<(), ReferenceError> {
    let ok_first = tag
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ok_rest = tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok_first || !ok_rest || tag.len() > MAX_TAG_LEN {
        return Err(invalid(
            input,
            format!("tag {tag:?} must be [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}"),
        ));
    }
    Ok(())
}

fn validate_registry(input: &str, registry: &str) -> Result<(), ReferenceError> {
    let (host, port) = split_host_port(registry);
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']')
            .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'))
    } else {
        host.split('.').all(valid_label)
    };
    let port_ok = match port {
        Some(p) => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    };
    // Nothing may follow "[v6]" but ":port" (split_host_port drops it).
    let whole = host.len() + port.map_or(0, |p| p.len() + 1) == registry.len();
    if host_ok && port_ok && whole {
        Ok(())
    } else {
        Err(invalid(input, format!("bad registry host {registry:?}")))
    }
}

/// A DNS label as Docker takes it: letters and digits, dashes inside.
fn valid_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

/// `host:port` → (`host`, `port`); an IPv6 literal keeps its brackets.
pub(crate) fn split_host_port(registry: &str) -> (&str, Option<&str>) {
    if registry.starts_with('[') {
        return match registry.find(']') {
            Some(i) => {
                let port = registry[i + 1..].strip_prefix(':');
                (&registry[..=i], port)
            }
            None => (registry, None),
        };
    }
    match registry.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    }
}

fn validate_name(input: &str, name: &str) -> Result<(), ReferenceError> {
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(input, "repository name longer than 255 characters"));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(invalid(input, "repository name must be lowercase"));
    }
    if let Some(bad) = name.split('/').find(|c| !valid_component(c)) {
        return Err(invalid(
            input,
            format!("bad path component {bad:?}: lower-case letters and digits separated by '.', '_', '__' or '-'"),
        ));
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn short_names_go_to_docker_hub_library() {
        let r = p("busybox");
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(p("user/app:1").to_string(), "docker.io/user/app:1");
        assert_eq!(p("docker.io/busybox").repo.name, "library/busybox");
        assert_eq!(p("index.docker.io/library/x").repo.registry, "docker.io");
    }

    #[test]
    fn hosts_ports_and_localhost() {
        let r = p("host:5000/a/b:tag");
        assert_eq!(r.repo.registry, "host:5000");
        assert_eq!(r.repo.name, "a/b");
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(p("localhost/x").repo.registry, "localhost");
        assert_eq!(p("localhost:5000/x").repo.name, "x");
        assert_eq!(p("127.0.0.1:5000/test:1").repo.registry, "127.0.0.1:5000");
        assert_eq!(p("[::1]:5000/x").repo.registry, "[::1]:5000");
        assert_eq!(p("quay.io/a/b").familiar(), "quay.io/a/b:latest");
        // not a host: no dot, colon or "localhost"
        assert_eq!(p("foo/bar").repo.registry, "docker.io");
    }

    #[test]
    fn digests() {
        let r = p(&format!("busybox@{D}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), D);
        let r = p(&format!("h:1/a:t@{D}"));
        assert_eq!(r.tag.as_deref(), Some("t"));
        assert_eq!(r.manifest_ref(), D);
        assert_eq!(r.to_string(), format!("h:1/a:t@{D}"));
        assert!(Reference::parse("busybox@sha256:abc").is_err());
        assert!(Reference::parse("busybox@nodigest").is_err());
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "", "Busybox", "a//b", "a/-b", "a/b-", "a:", "a:-x", "a/b:t@", "ho st/x", "h:port/x",
            "a/B", "a...b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        let e = Reference::parse("a/B").unwrap_err().to_string();
        assert!(e.contains("\"a/B\"") && e.contains("lowercase"), "{e}");
    }

    /// Docker's host grammar, as the store's parser checks it too
    /// (fuzz/image_reference compares the two): empty or dash-edged labels
    /// and text after "[v6]" other than ":port" are not hosts.
    #[test]
    fn registry_hosts_follow_dockers_grammar() {
        for bad in [
            "a..b/x", "-a.b/x", "a-.b/x", ".a/x", "[::1]x/y", "[::1]0/x", "[::1]:/x",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        for ok in [
            "my-host.example.com/x",
            "[fe80::1]/x",
            "[::1]:5000/x",
            "a.b:1/x",
        ] {
            assert!(Reference::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn separators() {
        for ok in ["a.b", "a_b", "a__b", "a---b", "a-b.c_d"] {
            assert!(valid_component(ok), "{ok}");
        }
        for bad in ["a___b", "a._b", "_a", "a.", ""] {
            assert!(!valid_component(bad), "{bad}");
        }
    }

    #[test]
    fn upper_case_first_component_is_a_host() {
        let r = p("MyHost/app");
        assert_eq!(r.repo.registry, "MyHost");
    }

    #[test]
    fn with_tag_and_digest() {
        let r = p("busybox:1");
        assert_eq!(r.with_tag("2").to_string(), "docker.io/library/busybox:2");
        let d: Digest = D.parse().unwrap();
        assert_eq!(r.with_digest(d).manifest_ref(), D);
    }
}
