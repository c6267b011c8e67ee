//! Build platforms (`--platform`, `FROM --platform=`) from a small table of
//! the architectures yurta builds for, with e2k first class, and the
//! predefined ARGs (`TARGETPLATFORM`, `BUILDARCH`, ...) they give.
//!
//! Names are normalized as BuildKit does for build arguments: `x86_64` is
//! `amd64`, `aarch64` is `arm64` and its default variant v8 is not spelled
//! (so `TARGETVARIANT` is empty, as Dockerfiles written for Docker expect),
//! `arm` always has a variant (v7 unless given). e2k's variants are the
//! instruction-set generations v3..v7; `linux/e2k` without one means any
//! generation, which is what the image store's matching does with it.
//! Matching a platform against an image index is the image store's job
//! (`yurta_images::platform`), not this module's.

use std::fmt;

use crate::lex::Vars;

/// One architecture: the name in images, the names accepted for it, its
/// variants, and the variant assumed when none is given.
struct Arch {
    name: &'static str,
    aliases: &'static [(&'static str, Option<&'static str>)],
    variants: &'static [&'static str],
    /// Variant given to a platform written without one.
    default: Option<&'static str>,
    /// A variant equal to this is dropped (it is what the bare name means).
    implied: Option<&'static str>,
}

const ARCHES: &[Arch] = &[
    Arch {
        name: "amd64",
        aliases: &[("x86_64", None), ("x86-64", None)],
        variants: &["v1", "v2", "v3", "v4"],
        default: None,
        implied: Some("v1"),
    },
    Arch {
        name: "arm64",
        aliases: &[("aarch64", None)],
        variants: &["v8", "v8.1", "v8.2", "v9"],
        default: None,
        implied: Some("v8"),
    },
    Arch {
        name: "arm",
        aliases: &[
            ("armhf", Some("v7")),
            ("armel", Some("v6")),
            ("armv7l", Some("v7")),
            ("armv6l", Some("v6")),
        ],
        variants: &["v5", "v6", "v7"],
        default: Some("v7"),
        implied: None,
    },
    Arch {
        name: "riscv64",
        aliases: &[],
        variants: &[],
        default: None,
        implied: None,
    },
    Arch {
        name: "ppc64le",
        aliases: &[("powerpc64le", None)],
        variants: &[],
        default: None,
        implied: None,
    },
    Arch {
        name: "s390x",
        aliases: &[],
        variants: &[],
        default: None,
        implied: None,
    },
    Arch {
        name: "386",
        aliases: &[("i386", None), ("i686", None), ("x86", None)],
        variants: &[],
        default: None,
        implied: None,
    },
    Arch {
        name: "e2k",
        aliases: &[("e2k64", None), ("elbrus", None)],
        variants: &["v3", "v4", "v5", "v6", "v7"],
        default: None,
        implied: None,
    },
];

/// A normalized `linux/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Parses and normalizes `os/arch[/variant]` (also `arch` alone, as the
    /// Rust/uname name of a host). The error names the value.
    pub fn parse(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [arch] if !arch.is_empty() => ("linux", *arch, None),
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => {
                return Err(format!(
                    "invalid platform {text:?}: expected os/arch[/variant]"
                ))
            }
        };
        let os = os.to_ascii_lowercase();
        if os != "linux" {
            return Err(format!(
                "unsupported platform {text:?}: yurta builds linux images"
            ));
        }
        let lower = arch.to_ascii_lowercase();
        let (entry, implied) = ARCHES
            .iter()
            .find_map(|a| {
                if a.name == lower {
                    return Some((a, None));
                }
                let alias = a.aliases.iter().find(|(n, _)| *n == lower)?;
                Some((a, alias.1))
            })
            .ok_or_else(|| {
                let known: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
                format!(
                    "unknown architecture {arch:?} in platform {text:?}; known: {}",
                    known.join(", ")
                )
            })?;
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(normalize_variant)
            .or(implied.map(str::to_string));
        let variant = match variant {
            Some(v) if !entry.variants.contains(&v.as_str()) => {
                let list = if entry.variants.is_empty() {
                    "no variants".to_string()
                } else {
                    format!("variants {}", entry.variants.join(", "))
                };
                return Err(format!("{} has {list}; got {v:?} in {text:?}", entry.name));
            }
            Some(v) if Some(v.as_str()) == entry.implied => None,
            Some(v) => Some(v),
            None => entry.default.map(str::to_string),
        };
        Ok(Platform {
            os,
            architecture: entry.name.to_string(),
            variant,
        })
    }

    /// The platform of this process (the build platform), from the Rust
    /// architecture name; the variant is not detected here.
    pub fn host() -> Platform {
        Platform::parse(std::env::consts::ARCH).unwrap_or(Platform {
            os: "linux".into(),
            architecture: std::env::consts::ARCH.into(),
            variant: None,
        })
    }

    /// The four predefined ARGs for this platform under `prefix`
    /// (`TARGET` or `BUILD`): `PLATFORM`, `OS`, `ARCH`, `VARIANT`.
    pub fn args(&self, prefix: &str, into: &mut Vars) {
        into.insert(format!("{prefix}PLATFORM"), self.to_string());
        into.insert(format!("{prefix}OS"), self.os.clone());
        into.insert(format!("{prefix}ARCH"), self.architecture.clone());
        into.insert(
            format!("{prefix}VARIANT"),
            self.variant.clone().unwrap_or_default(),
        );
    }
}

fn normalize_variant(v: &str) -> String {
    let lower = v.to_ascii_lowercase();
    if lower.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v{lower}")
    } else {
        lower
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

/// The names of the predefined platform ARGs.
pub const PREDEFINED_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_normalize_from_the_table() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("x86_64", "linux/amd64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/arm64", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/v6", "linux/arm/v6"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/riscv64", "linux/riscv64"),
            ("linux/ppc64le", "linux/ppc64le"),
            ("linux/s390x", "linux/s390x"),
            ("linux/386", "linux/386"),
            ("linux/i686", "linux/386"),
            ("Linux/E2K", "linux/e2k"),
            ("linux/e2k/v6", "linux/e2k/v6"),
            ("linux/e2k/3", "linux/e2k/v3"),
            ("linux/elbrus/v7", "linux/e2k/v7"),
            ("linux/e2k64/V5", "linux/e2k/v5"),
        ];
        for (text, want) in cases {
            assert_eq!(Platform::parse(text).unwrap().to_string(), want, "{text}");
        }
    }

    #[test]
    fn bad_platforms_say_why() {
        let cases = [
            (
                "linux/e2k/v9",
                "e2k has variants v3, v4, v5, v6, v7; got \"v9\"",
            ),
            ("linux/e2k/v2", "e2k has variants"),
            ("linux/riscv64/v1", "riscv64 has no variants"),
            ("linux/mips", "unknown architecture \"mips\""),
            ("windows/amd64", "yurta builds linux images"),
            ("linux", "unknown architecture \"linux\""),
            ("", "invalid platform"),
            ("linux/amd64/v2/x", "invalid platform"),
            ("linux//v2", "unknown architecture \"\""),
        ];
        for (text, want) in cases {
            let err = Platform::parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn predefined_args_of_a_platform() {
        let mut vars = Vars::new();
        Platform::parse("linux/e2k/v6")
            .unwrap()
            .args("TARGET", &mut vars);
        Platform::parse("linux/arm64")
            .unwrap()
            .args("BUILD", &mut vars);
        let got: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("BUILDARCH", "arm64"),
                ("BUILDOS", "linux"),
                ("BUILDPLATFORM", "linux/arm64"),
                ("BUILDVARIANT", ""),
                ("TARGETARCH", "e2k"),
                ("TARGETOS", "linux"),
                ("TARGETPLATFORM", "linux/e2k/v6"),
                ("TARGETVARIANT", "v6"),
            ]
        );
    }

    #[test]
    fn the_host_is_in_the_table() {
        let host = Platform::host();
        assert!(ARCHES.iter().any(|a| a.name == host.architecture), "{host}");
    }
}
