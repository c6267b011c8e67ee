//! What clients may name: repositories, tags and digests, checked with the
//! grammar of the OCI Distribution Spec before any of them becomes a path.
//! A name that passes can never climb out of the storage directory (no
//! `..`, no leading `/`, no uppercase, no empty component).

use std::fmt;

/// The longest repository name (the spec's and distribution's limit).
pub const MAX_NAME: usize = 255;

/// A repository name, e.g. `library/busybox`: components of `[a-z0-9]`
/// joined by one `.`, one or two `_`, or any number of `-`, separated by
/// `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    pub fn parse(s: &str) -> Option<RepoName> {
        if s.is_empty() || s.len() > MAX_NAME || !s.split('/').all(valid_component) {
            return None;
        }
        Some(RepoName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    if !alnum(*first) || !alnum(*last) {
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
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|s| s == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => {}
        _ => return false,
    }
    b.len() <= 128
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A `sha256:<64 hex>` digest, the only algorithm this registry stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Why a string is not a digest this registry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestError {
    /// Not `algorithm:encoded` at all, or a malformed sha256.
    Invalid,
    /// A well-formed digest of another algorithm (sha512, ...).
    Unsupported,
}

impl Digest {
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let (algo, enc) = s.split_once(':').ok_or(DigestError::Invalid)?;
        let algo_ok = !algo.is_empty()
            && algo
                .bytes()
                .all(|c| alnum(c) || matches!(c, b'+' | b'.' | b'_' | b'-'));
        let enc_ok = !enc.is_empty()
            && enc
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'));
        if !algo_ok || !enc_ok {
            return Err(DigestError::Invalid);
        }
        if algo != "sha256" {
            return Err(DigestError::Unsupported);
        }
        if enc.len() != 64 || enc.bytes().any(|c| c.is_ascii_uppercase()) {
            return Err(DigestError::Invalid);
        }
        let mut raw = [0u8; 32];
        hex::decode_to_slice(enc, &mut raw).map_err(|_| DigestError::Invalid)?;
        Ok(Digest(raw))
    }

    /// The digest of finished sha256 output.
    pub fn from_sha256(raw: [u8; 32]) -> Digest {
        Digest(raw)
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(data).into())
    }

    /// The 64 hex characters, as file names use them.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

impl Reference {
    /// A reference with a `:` is a digest (tags cannot contain one).
    pub fn parse(s: &str) -> Result<Reference, DigestError> {
        if s.contains(':') {
            return Digest::parse(s).map(Reference::Digest);
        }
        if valid_tag(s) {
            Ok(Reference::Tag(s.to_string()))
        } else {
            Err(DigestError::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_grammar() {
        for ok in [
            "a",
            "library/busybox",
            "a.b/c__d/e---f",
            "x_y/0-9",
            "e2k/v6",
        ] {
            assert!(RepoName::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "A", "Lib/x", "../x", "a/../b", "a/./b", "/a", "a/", "a//b", "-a", "a-", "a..b",
            "a___b", "a/_b", "a b", "a%2fb", "a\\b",
        ] {
            assert!(RepoName::parse(bad).is_none(), "{bad}");
        }
        assert!(RepoName::parse(&"a".repeat(256)).is_none());
    }

    #[test]
    fn tags_follow_the_spec_grammar() {
        assert!(valid_tag("latest") && valid_tag("_x") && valid_tag("V1.2-rc_3"));
        for bad in ["", ".x", "-x", "a/b", "a:b", "a b"] {
            assert!(!valid_tag(bad), "{bad}");
        }
        assert!(valid_tag(&"a".repeat(128)) && !valid_tag(&"a".repeat(129)));
    }

    #[test]
    fn digests_are_sha256_lowercase_hex() {
        let d = Digest::of(b"abc");
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
        let upper = d.to_string().to_uppercase().replacen("SHA256", "sha256", 1);
        assert_eq!(Digest::parse(&upper), Err(DigestError::Invalid));
        assert_eq!(Digest::parse("sha256:abc"), Err(DigestError::Invalid));
        assert_eq!(Digest::parse("nothing"), Err(DigestError::Invalid));
        let sha512 = format!("sha512:{}", "a".repeat(128));
        assert_eq!(Digest::parse(&sha512), Err(DigestError::Unsupported));
        assert_eq!(Reference::parse("v1"), Ok(Reference::Tag("v1".into())));
        assert!(Reference::parse("../x").is_err());
    }
}
