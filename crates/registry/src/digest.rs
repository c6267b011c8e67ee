//! sha256 digests (RustCrypto `sha2`): computing them and checking that a
//! digest given by a caller or a registry is one this crate can verify.

use std::str::FromStr;

use oci_spec::image::{Digest, DigestAlgorithm};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> Digest {
    finish(Sha256::new_with_prefix(bytes))
}

/// The digest a hasher has computed so far.
pub fn finish(hasher: Sha256) -> Digest {
    let hex = hex::encode(hasher.finalize());
    Digest::from_str(&format!("sha256:{hex}")).expect("sha256 hex is a valid digest")
}

/// Only sha256 is verified; other algorithms are refused rather than
/// trusted unchecked.
pub(crate) fn require_sha256(d: &Digest) -> Result<()> {
    if *d.algorithm() == DigestAlgorithm::Sha256 && d.digest().len() == 64 {
        Ok(())
    } else {
        Err(Error::UnsupportedDigest {
            digest: d.to_string(),
        })
    }
}

/// Parses a digest a registry sent (a header), if it is well formed.
pub(crate) fn parse_header_digest(value: Option<&str>) -> Option<Digest> {
    value.and_then(|v| Digest::from_str(v.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_digest() {
        assert_eq!(
            sha256_digest(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn only_sha256() {
        let d: Digest = format!("sha512:{}", "a".repeat(128)).parse().unwrap();
        assert!(require_sha256(&d).is_err());
        assert!(require_sha256(&sha256_digest(b"x")).is_ok());
    }
}
