//! Random ids and MAC addresses, and timestamps, without extra crates.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if ok.is_err() {
        // Not secret: only uniqueness matters. Mix time and pid.
        let mut x = now_nanos() ^ u128::from(std::process::id()) << 64;
        for b in &mut buf {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (x >> 64) as u8;
        }
    }
    buf
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// `n` random bytes as 2n lowercase hex digits.
pub fn random_hex(n: usize) -> String {
    random_bytes(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// A random locally administered unicast MAC.
pub fn random_mac() -> [u8; 6] {
    let b = random_bytes(6);
    [(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

pub fn format_mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Now as RFC 3339 in UTC (`2024-05-01T12:34:56.123456789Z`).
pub fn now_rfc3339() -> String {
    yurta_time::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_dates() {
        assert_eq!(random_hex(32).len(), 64);
        let m = random_mac();
        assert_eq!(m[0] & 3, 2);
        assert_eq!(format_mac(&[2, 0, 0xab, 0, 0, 1]), "02:00:ab:00:00:01");
        assert!(now_rfc3339().ends_with('Z'));
    }
}
