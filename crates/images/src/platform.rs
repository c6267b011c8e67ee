//! Platforms (`os/arch[/variant]`): parsing with alias normalization, host
//! detection (with the CPU variant), and choosing the best entry of an image
//! index. Every command that takes `--platform` goes through this module; no
//! other place in yurta compares platforms.
//!
//! e2k is first class: its variants are the instruction-set generations
//! v3..v7 (see [`E2K_GENERATIONS`]). A host of generation N runs images of
//! generations <= N and prefers the newest. The same "older runs on newer"
//! rule applies to every architecture whose variants are ordered versions
//! (arm v5 < v6 < v7 < v8, amd64 v1 < v2 < v3 < v4).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlatformError {
    #[error("invalid platform {0:?}: expected os/arch[/variant]")]
    Invalid(String),
    #[error("no image for {wanted} in {reference}; it has {}", list(.available))]
    NoMatch {
        wanted: Platform,
        reference: String,
        available: Vec<Platform>,
    },
}

fn list(platforms: &[Platform]) -> String {
    if platforms.is_empty() {
        return "no platforms".to_string();
    }
    let names: Vec<String> = platforms.iter().map(|p| p.to_string()).collect();
    names.join(", ")
}

/// An `os/arch[/variant]` triple, always kept normalized (OCI/Go names:
/// `amd64`, `arm64`, `e2k`; ordered variants spelled `vN`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// One e2k instruction-set generation and the processors that implement it.
/// CPU names are compared after [`cpu_key`] (lowercase, without "elbrus",
/// "эльбрус", "e", spaces and dashes at the front), so "Elbrus-8C", "E8C"
/// and "e8c" are the same key "8c".
pub struct E2kGeneration {
    pub variant: &'static str,
    pub iset: u32,
    pub cpus: &'static [&'static str],
}

/// The e2k generations (PRODUCT.md, Platforms). v7 is the next generation.
pub const E2K_GENERATIONS: &[E2kGeneration] = &[
    E2kGeneration {
        variant: "v3",
        iset: 3,
        cpus: &["4c"],
    },
    E2kGeneration {
        variant: "v4",
        iset: 4,
        cpus: &["8c", "1c+", "1cp"],
    },
    E2kGeneration {
        variant: "v5",
        iset: 5,
        cpus: &["8cb", "8c2"],
    },
    E2kGeneration {
        variant: "v6",
        iset: 6,
        cpus: &["16c", "12c", "2c3"],
    },
    E2kGeneration {
        variant: "v7",
        iset: 7,
        cpus: &["32c"],
    },
];

/// How an architecture treats variants.
struct ArchRule {
    arch: &'static str,
    /// The variant assumed when none is given (`arm64` means `arm64/v8`).
    default_variant: Option<&'static str>,
    /// A wanted platform without a variant accepts every variant (newest
    /// first) instead of only the default. True for e2k, whose generations
    /// are chosen on purpose by whoever writes `linux/e2k`.
    unspecified_takes_any: bool,
}

const ARCH_RULES: &[ArchRule] = &[
    ArchRule {
        arch: "arm64",
        default_variant: Some("v8"),
        unspecified_takes_any: false,
    },
    ArchRule {
        arch: "arm",
        default_variant: Some("v7"),
        unspecified_takes_any: false,
    },
    ArchRule {
        arch: "e2k",
        default_variant: None,
        unspecified_takes_any: true,
    },
];

fn arch_rule(arch: &str) -> Option<&'static ArchRule> {
    ARCH_RULES.iter().find(|r| r.arch == arch)
}

/// Architecture aliases → the OCI name, and a variant implied by the alias.
const ARCH_ALIASES: &[(&str, &str, Option<&str>)] = &[
    ("x86_64", "amd64", None),
    ("x86-64", "amd64", None),
    ("amd64", "amd64", None),
    ("i386", "386", None),
    ("i486", "386", None),
    ("i586", "386", None),
    ("i686", "386", None),
    ("x86", "386", None),
    ("aarch64", "arm64", None),
    ("arm64", "arm64", None),
    ("armhf", "arm", Some("v7")),
    ("armel", "arm", Some("v6")),
    ("armv7l", "arm", Some("v7")),
    ("armv6l", "arm", Some("v6")),
    ("e2k", "e2k", None),
    ("e2k64", "e2k", None),
    ("elbrus", "e2k", None),
    ("powerpc64le", "ppc64le", None),
    ("riscv64gc", "riscv64", None),
];

impl Platform {
    /// A normalized platform from its parts.
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let os = match os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let lower = arch.to_ascii_lowercase();
        let (architecture, implied) = ARCH_ALIASES
            .iter()
            .find(|(alias, _, _)| *alias == lower)
            .map(|(_, name, v)| (name.to_string(), v.map(str::to_string)))
            .unwrap_or((lower, None));
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(normalize_variant)
            .or(implied);
        let variant = match (architecture.as_str(), variant) {
            ("amd64", Some(v)) if v == "v1" => None,
            (arch, None) => arch_rule(arch).and_then(|r| r.default_variant.map(str::to_string)),
            (_, v) => v,
        };
        Platform {
            os,
            architecture,
            variant,
        }
    }

    /// The platform this process runs on, with the CPU variant read from
    /// /proc/cpuinfo where the architecture has variants.
    pub fn host() -> Platform {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Platform::host_from(std::env::consts::ARCH, &cpuinfo)
    }

    /// [`Platform::host`] for a given Rust/uname architecture name and
    /// /proc/cpuinfo text.
    pub fn host_from(arch: &str, cpuinfo: &str) -> Platform {
        let base = Platform::new("linux", arch, None);
        let variant = match base.architecture.as_str() {
            "e2k" => e2k_variant(cpuinfo),
            "arm" => cpuinfo_field(cpuinfo, "CPU architecture")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .map(|n| format!("v{}", n.min(8))),
            _ => None,
        };
        match variant {
            Some(v) => Platform::new("linux", &base.architecture, Some(&v)),
            None => base,
        }
    }

    /// How well `candidate` serves a host wanting `self`: `None` when it
    /// cannot run, otherwise a rank where higher is better.
    pub fn rank(&self, candidate: &Platform) -> Option<u32> {
        if self.os != candidate.os || self.architecture != candidate.architecture {
            return None;
        }
        let takes_any = self.variant.is_none()
            && arch_rule(&self.architecture).is_some_and(|r| r.unspecified_takes_any);
        if self.variant == candidate.variant && !takes_any {
            return Some(u32::MAX);
        }
        let wanted = match &self.variant {
            _ if takes_any => u32::MAX - 2,
            Some(v) => version(v)?,
            None => return None,
        };
        let have = match &candidate.variant {
            None => return Some(0),
            Some(v) => version(v)?,
        };
        (have <= wanted).then_some(have + 1)
    }
}

/// "vN" / "vN.M" → N*100+M for ordering; unordered variants give None.
fn version(variant: &str) -> Option<u32> {
    let digits = variant.strip_prefix('v')?;
    let (major, minor) = digits.split_once('.').unwrap_or((digits, "0"));
    let major: u32 = major.parse().ok()?;
    let minor: u32 = minor.parse().ok()?;
    major.checked_mul(100)?.checked_add(minor.min(99))
}

fn normalize_variant(variant: &str) -> String {
    let lower = variant.to_ascii_lowercase();
    if lower.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        format!("v{lower}")
    } else {
        lower
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(PlatformError::Invalid(s.to_string()));
        }
        match parts.as_slice() {
            [os, arch] => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(PlatformError::Invalid(s.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Picks the best of `candidates` for `wanted`. `platform_of` gives each
/// candidate's platform (None for entries that are not images, such as
/// attestation manifests); `reference` names the image in the error.
pub fn select<'a, T>(
    wanted: &Platform,
    reference: &str,
    candidates: &'a [T],
    platform_of: impl Fn(&T) -> Option<Platform>,
) -> Result<&'a T, PlatformError> {
    let mut best: Option<(u32, &T)> = None;
    let mut available = Vec::new();
    for candidate in candidates {
        let Some(platform) = platform_of(candidate) else {
            continue;
        };
        if let Some(rank) = wanted.rank(&platform) {
            let better = match best {
                Some((r, _)) => rank > r,
                None => true,
            };
            if better {
                best = Some((rank, candidate));
            }
        }
        if !available.contains(&platform) {
            available.push(platform);
        }
    }
    best.map(|(_, c)| c).ok_or_else(|| PlatformError::NoMatch {
        wanted: wanted.clone(),
        reference: reference.to_string(),
        available,
    })
}

/// The value of the first `field : value` line of /proc/cpuinfo.
fn cpuinfo_field<'a>(cpuinfo: &'a str, field: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == field).then(|| value.trim())
    })
}

/// The e2k variant from /proc/cpuinfo: the "cpu family" is the
/// instruction-set generation on MCST kernels; the model name decides when
/// the family is missing or outside the table.
pub fn e2k_variant(cpuinfo: &str) -> Option<String> {
    let by_family = cpuinfo_field(cpuinfo, "cpu family")
        .and_then(|f| f.parse::<u32>().ok())
        .and_then(|iset| E2K_GENERATIONS.iter().find(|g| g.iset == iset));
    let by_name = || {
        let name = cpuinfo_field(cpuinfo, "model name")?;
        let key = cpu_key(name);
        E2K_GENERATIONS
            .iter()
            .find(|g| g.cpus.contains(&key.as_str()))
    };
    by_family.or_else(by_name).map(|g| g.variant.to_string())
}

/// "Elbrus-8C" / "E8C" / "Эльбрус-8С" → "8c".
fn cpu_key(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let rest = ["elbrus", "эльбрус", "e"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    rest.trim_start_matches([' ', '-'])
        .replace(' ', "")
        .replace('с', "c")
}

#[cfg(test)]
#[path = "platform_tests.rs"]
mod tests;
