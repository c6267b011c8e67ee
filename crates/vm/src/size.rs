//! Sizes as people write them for memory and disks: `512M`, `2G`, `1.5G`,
//! `1024` (MiB, as QEMU's `-m` reads a bare number), `10GiB`, `4096K`.
//!
//! Owns only the parsing; what a size is for (memory, disk) is the caller's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
const TIB: u64 = 1024 * GIB;

/// Why a size string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SizeError {
    #[error(
        "bad size {0:?}: expected a number with an optional unit K, M, G or T (e.g. 512M, 2G)"
    )]
    Syntax(String),
    #[error("bad size {0:?}: must be more than zero")]
    Zero(String),
    #[error("bad size {0:?}: too large")]
    Overflow(String),
}

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// Whole mebibytes, rounded up (QEMU's `-m` takes MiB).
    pub fn mib_ceil(self) -> u64 {
        self.0.div_ceil(MIB)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, mult) in [("T", TIB), ("G", GIB), ("M", MIB), ("K", KIB)] {
            if n >= mult && (n / mult) * mult == n {
                return write!(f, "{}{unit}", n / mult);
            }
        }
        write!(f, "{n}B")
    }
}

impl FromStr for ByteSize {
    type Err = SizeError;

    /// A bare number means MiB; a `B` suffix means bytes.
    fn from_str(s: &str) -> Result<Self, SizeError> {
        parse_size(s, MIB)
    }
}

/// Parses `s`; `bare_unit` is the multiplier of a number without a unit.
pub fn parse_size(s: &str, bare_unit: u64) -> Result<ByteSize, SizeError> {
    let syntax = || SizeError::Syntax(s.to_string());
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(syntax());
    }
    let mult = unit_multiplier(unit, bare_unit).ok_or_else(syntax)?;
    let bytes = scale(num, mult).ok_or_else(|| SizeError::Overflow(s.to_string()))?;
    if bytes == 0 {
        return Err(SizeError::Zero(s.to_string()));
    }
    Ok(ByteSize(bytes))
}

fn unit_multiplier(unit: &str, bare_unit: u64) -> Option<u64> {
    let u = unit.to_ascii_uppercase();
    let u = u
        .strip_suffix("IB")
        .or_else(|| u.strip_suffix('B').filter(|p| !p.is_empty()));
    let u = match u {
        Some(p) => p.to_string(),
        None if unit.eq_ignore_ascii_case("b") => return Some(1),
        None => unit.to_ascii_uppercase(),
    };
    match u.as_str() {
        "" => Some(bare_unit),
        "K" => Some(KIB),
        "M" => Some(MIB),
        "G" => Some(GIB),
        "T" => Some(TIB),
        _ => None,
    }
}

/// `num` (digits with at most one dot) times `mult`, exactly for whole
/// numbers and truncated to a byte for fractions.
fn scale(num: &str, mult: u64) -> Option<u64> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if frac.contains('.') {
        return None;
    }
    let whole = int.parse::<u64>().ok()?.checked_mul(mult)?;
    if frac.is_empty() {
        return Some(whole);
    }
    let digits = frac.len().min(9) as u32;
    let f: u64 = frac[..digits as usize].parse().ok()?;
    let part = (u128::from(f) * u128::from(mult)) / 10u128.pow(digits);
    whole.checked_add(u64::try_from(part).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!("512M".parse::<ByteSize>().unwrap().bytes(), 512 * MIB);
        assert_eq!("2G".parse::<ByteSize>().unwrap().bytes(), 2 * GIB);
        assert_eq!("2g".parse::<ByteSize>().unwrap().bytes(), 2 * GIB);
        assert_eq!("10GiB".parse::<ByteSize>().unwrap().bytes(), 10 * GIB);
        assert_eq!("4096K".parse::<ByteSize>().unwrap().bytes(), 4 * MIB);
        assert_eq!("1024".parse::<ByteSize>().unwrap().bytes(), GIB);
        assert_eq!("1.5G".parse::<ByteSize>().unwrap().bytes(), 3 * GIB / 2);
        assert_eq!("4096B".parse::<ByteSize>().unwrap().bytes(), 4096);
        assert_eq!("1T".parse::<ByteSize>().unwrap().bytes(), TIB);
    }

    #[test]
    fn errors_name_the_value() {
        let e = "12x".parse::<ByteSize>().unwrap_err();
        assert_eq!(e, SizeError::Syntax("12x".into()));
        assert!(e.to_string().contains("\"12x\""), "{e}");
        for bad in [
            "",
            "M",
            ".5G",
            "1..5G",
            "5.G",
            "-1G",
            "1 G G",
            "99999999999999T",
        ] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad}");
        }
        assert_eq!("0M".parse::<ByteSize>(), Err(SizeError::Zero("0M".into())));
    }

    #[test]
    fn display_and_mib() {
        assert_eq!(ByteSize(2 * GIB).to_string(), "2G");
        assert_eq!(ByteSize(1536 * MIB).to_string(), "1536M");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
        assert_eq!(ByteSize(MIB + 1).mib_ceil(), 2);
    }
}
