//! Image references (`[domain/]path[:tag][@digest]`) normalized as Docker
//! does: `busybox` is `docker.io/library/busybox:latest`. The store keeps
//! full names; [`Reference::familiar`] gives the short form Docker prints.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format: {0:?}")]
    Invalid(String),
    #[error("invalid reference format: repository name must be lowercase: {0:?}")]
    Uppercase(String),
}

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `domain/path`, e.g. `docker.io/library/busybox`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// The reference with `latest` filled in when it has neither tag nor digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// The registry host (`docker.io`, `localhost:5000`, ...).
    pub fn domain(&self) -> &str {
        self.name.split('/').next().unwrap_or(DEFAULT_DOMAIN)
    }

    /// The repository path inside the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        self.name.split_once('/').map(|(_, p)| p).unwrap_or("")
    }

    /// `name:tag` (the key of the tag index); None without a tag.
    pub fn tagged(&self) -> Option<String> {
        self.tag.as_ref().map(|t| format!("{}:{t}", self.name))
    }

    /// The name as Docker prints it (`busybox`, `myorg/app`, `quay.io/x/y`).
    pub fn familiar_name(&self) -> &str {
        familiar(&self.name)
    }
}

/// `docker.io/library/x` → `x`, `docker.io/a/b` → `a/b`, others unchanged.
pub fn familiar(name: &str) -> &str {
    let rest = match name.strip_prefix("docker.io/") {
        Some(rest) => rest,
        None => return name,
    };
    match rest.strip_prefix("library/") {
        Some(short) if !short.contains('/') => short,
        _ => rest,
    }
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
        return false;
    }
    // Separators between alphanumeric runs: '.', '_', '__', one or more '-'.
    b.split(alnum)
        .all(|sep| matches!(sep, b"" | b"." | b"_" | b"__") || sep.iter().all(|x| *x == b'-'))
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

/// Docker's grammar: a host name (dot-separated labels of letters, digits
/// and inner dashes) or a bracketed IPv6 address, then an optional `:port`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.find(']').filter(|_| d.starts_with('[')) {
        Some(i) => match &d[i + 1..] {
            "" => (&d[..=i], None),
            rest => match rest.strip_prefix(':') {
                Some(port) => (&d[..=i], Some(port)),
                None => return false,
            },
        },
        None => match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let v6 = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let host_ok = match v6 {
        Some(a) => !a.is_empty() && a.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
        None => host.split('.').all(valid_label),
    };
    port_ok && host_ok
}

/// A DNS label as Docker takes it: letters and digits, dashes inside.
fn valid_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        let invalid = || ReferenceError::Invalid(s.to_string());
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|_| invalid())?)),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if tag.is_some_and(|t| !valid_tag(t)) {
            return Err(invalid());
        }
        let (domain, path) = split_domain(name);
        if !valid_domain(domain) {
            return Err(invalid());
        }
        if path
            .split('/')
            .any(|c| c.bytes().any(|b| b.is_ascii_uppercase()))
        {
            return Err(ReferenceError::Uppercase(s.to_string()));
        }
        if !path.split('/').all(valid_component) || domain.len() + path.len() > 255 {
            return Err(invalid());
        }
        Ok(Reference {
            name: format!("{domain}/{path}"),
            tag: tag.map(str::to_string),
            digest,
        })
    }
}

/// Docker's rule: the first component is a domain when it has a `.` or `:`,
/// is `localhost`, or has an upper-case letter (a path component cannot);
/// otherwise the domain is docker.io and single names live under
/// `library/`.
fn split_domain(name: &str) -> (&str, String) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            let domain = if first == "index.docker.io" {
                DEFAULT_DOMAIN
            } else {
                first
            };
            let path = if domain == DEFAULT_DOMAIN && !rest.contains('/') {
                format!("library/{rest}")
            } else {
                rest.to_string()
            };
            (domain, path)
        }
        Some(_) => (DEFAULT_DOMAIN, name.to_string()),
        None => (DEFAULT_DOMAIN, format!("library/{name}")),
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        s.parse::<Reference>()
            .unwrap()
            .with_default_tag()
            .to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(full("myorg/app:v1"), "docker.io/myorg/app:v1");
        assert_eq!(
            full("docker.io/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full("index.docker.io/library/x"),
            "docker.io/library/x:latest"
        );
        assert_eq!(full("localhost/base"), "localhost/base:latest");
        assert_eq!(
            full("127.0.0.1:5000/e2k/base:6"),
            "127.0.0.1:5000/e2k/base:6"
        );
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(full(&format!("x@{d}")), format!("docker.io/library/x@{d}"));
        let r: Reference = "localhost:5000/a/b:t".parse().unwrap();
        assert_eq!((r.domain(), r.path()), ("localhost:5000", "a/b"));
    }

    /// Found by fuzz/image_reference (the registry's parser refused it):
    /// any mix of `[`, `]`, `:` and `.` passed for a registry host.
    #[test]
    fn domains_follow_dockers_grammar() {
        for ok in [
            "localhost:5000/x",
            "127.0.0.1:5000/x",
            "[::1]:5000/x",
            "[fe80::1]/x",
            "my-host.example.com/x",
            "a.b/c",
        ] {
            assert!(ok.parse::<Reference>().is_ok(), "{ok}");
        }
        for bad in [
            ":[:[:1]:1:5000/x",
            "[::1/x",
            "[]:5000/x",
            "[::1]x/y",
            "[::1]0/x",
            "[::g]/x",
            "a..b/x",
            "-a.b/x",
            "a-.b/x",
            "a.b:/x",
            "a.b:5x/x",
            "a:1:2/x",
            ".a/x",
        ] {
            assert_eq!(
                bad.parse::<Reference>(),
                Err(ReferenceError::Invalid(bad.into())),
                "{bad}"
            );
        }
    }

    /// Mixed separators such as `-_` or `._` are not in Docker's grammar;
    /// the registry's parser refused them already (fuzz/image_reference
    /// compares the two parsers).
    #[test]
    fn path_separators_are_dockers() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a-b.c_d__e"] {
            assert!(ok.parse::<Reference>().is_ok(), "{ok}");
        }
        for bad in [
            "a-_b", "a._b", "a_-b", "a.-b", "a-.b", "a___b", "a..b", "a_.b",
        ] {
            assert_eq!(
                bad.parse::<Reference>(),
                Err(ReferenceError::Invalid(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn familiar_names() {
        assert_eq!(familiar("docker.io/library/busybox"), "busybox");
        assert_eq!(familiar("docker.io/myorg/app"), "myorg/app");
        assert_eq!(familiar("docker.io/library/a/b"), "library/a/b");
        assert_eq!(familiar("quay.io/x/y"), "quay.io/x/y");
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "a:",
            ":t",
            "a//b",
            "-a",
            "a@sha256:12",
            "a:b:c",
            "a b",
            "a/.b",
            "a:-t",
        ] {
            assert_eq!(
                bad.parse::<Reference>(),
                Err(ReferenceError::Invalid(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            "Busybox".parse::<Reference>().unwrap_err().to_string(),
            "invalid reference format: repository name must be lowercase: \"Busybox\""
        );
    }

    #[test]
    fn an_upper_case_first_component_is_a_registry_host() {
        // Docker's splitDockerDomain: a path component cannot be upper-case.
        let r: Reference = "MyRegistry/team/app:1".parse().unwrap();
        assert_eq!(r.name, "MyRegistry/team/app");
        let r: Reference = "Registry.Example:5000/app".parse().unwrap();
        assert_eq!(r.name, "Registry.Example:5000/app");
        assert!(matches!(
            "registry.example/App".parse::<Reference>(),
            Err(ReferenceError::Uppercase(_))
        ));
    }
}
