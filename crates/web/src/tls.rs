//! A self-signed certificate for a console on a non-loopback address
//! without `--tls-cert`: made once under `<root>/web/tls/` (key 0600) and
//! reused, so the fingerprint the service prints stays the same.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509NameBuilder, X509};
use yurta_api::TlsFiles;

/// The files and the certificate's SHA-256 fingerprint (`AB:CD:…`).
pub fn self_signed(root: &Path) -> anyhow::Result<(TlsFiles, String)> {
    let dir = root.join("web").join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() || !key.exists() {
        make(&dir, &cert, &key).context("make the web console's self-signed certificate")?;
    }
    let pem = fs::read(&cert).with_context(|| format!("read {}", cert.display()))?;
    let x = X509::from_pem(&pem)?;
    let fp = x
        .digest(MessageDigest::sha256())?
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let files = TlsFiles {
        cert,
        key,
        client_ca: None,
    };
    Ok((files, fp))
}

fn make(dir: &Path, cert: &Path, key: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let pkey = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let host = hostname();
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, &host)?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "yurta web console")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&pkey)?;
    let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(825)?);
    b.set_not_before(&from)?;
    b.set_not_after(&until)?;
    let san = SubjectAlternativeName::new()
        .dns(&host)
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))?;
    b.append_extension(san)?;
    b.sign(&pkey, MessageDigest::sha256())?;
    let pem = b.build().to_pem()?;
    let key_pem = pkey.private_key_to_pem_pkcs8()?;
    yurta_sysutil::replace_file(key, &key_pem, 0o600, yurta_sysutil::Durability::Synced)?;
    yurta_sysutil::replace_file(cert, &pem, 0o644, yurta_sysutil::Durability::Synced)?;
    Ok(())
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_loadable() {
        let dir = tempfile::tempdir().unwrap();
        let (files, fp) = self_signed(dir.path()).unwrap();
        assert_eq!(fp.len(), 32 * 3 - 1);
        let mode = fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        yurta_tls::acceptor(&files).unwrap();
        let (_, again) = self_signed(dir.path()).unwrap();
        assert_eq!(fp, again, "reused, not made again");
    }
}
