//! Health checks: `--health-*` flags into Docker's `HealthConfig`, the
//! checks Docker's daemon refuses, and the container's own check merged
//! over its image's (`HEALTHCHECK` in a Dockerfile).

use std::time::Duration;

use super::OptionError;
use crate::record::Healthcheck;

/// `run`/`create`'s health flags, as given.
#[derive(Debug, Clone, Default)]
pub struct HealthFlags {
    pub cmd: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<i64>,
    pub none: bool,
}

/// The container's own check from its flags; None when no flag was
/// given (the image's applies).
pub fn from_flags(f: &HealthFlags) -> Result<Option<Healthcheck>, OptionError> {
    let timing = [&f.interval, &f.timeout, &f.start_period, &f.start_interval];
    let any = f.cmd.is_some() || f.retries.is_some() || timing.iter().any(|t| t.is_some());
    if f.none {
        if any {
            return Err(bad("--no-healthcheck conflicts with --health-* options"));
        }
        return Ok(Some(Healthcheck {
            test: vec!["NONE".into()],
            ..Healthcheck::default()
        }));
    }
    if !any {
        return Ok(None);
    }
    let duration = |flag: &str, v: &Option<String>| -> Result<i64, OptionError> {
        let Some(text) = v else { return Ok(0) };
        let d = yurta_build::parser::go_duration(text)
            .map_err(|e| bad(&format!("invalid argument {text:?} for {flag}: {e}")))?;
        Ok(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    };
    let h = Healthcheck {
        test: match &f.cmd {
            Some(c) if !c.is_empty() => vec!["CMD-SHELL".into(), c.clone()],
            _ => vec![],
        },
        interval: duration("--health-interval", &f.interval)?,
        timeout: duration("--health-timeout", &f.timeout)?,
        start_period: duration("--health-start-period", &f.start_period)?,
        start_interval: duration("--health-start-interval", &f.start_interval)?,
        retries: f.retries.unwrap_or(0),
    };
    validate(&h)?;
    Ok(Some(h))
}

/// What Docker's daemon refuses in a `HealthConfig`.
pub fn validate(h: &Healthcheck) -> Result<(), OptionError> {
    let min = Duration::from_millis(1).as_nanos() as i64;
    for (name, v) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if v < 0 {
            return Err(bad(&format!("{name} in Healthcheck cannot be negative")));
        }
        if v != 0 && v < min {
            return Err(bad(&format!(
                "{name} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if h.retries < 0 {
        return Err(bad("Retries in Healthcheck cannot be negative"));
    }
    match h.test.first().map(String::as_str) {
        None | Some("NONE" | "CMD" | "CMD-SHELL") => Ok(()),
        Some(other) => Err(bad(&format!(
            "invalid Healthcheck test {other:?}: expected CMD, CMD-SHELL or NONE"
        ))),
    }
}

/// The check a container runs: its own over its image's, field by field
/// (an empty test or a zero field takes the image's), as Docker merges
/// them.
pub fn merge(own: Option<&Healthcheck>, image: Option<&Healthcheck>) -> Option<Healthcheck> {
    let (own, image) = match (own, image) {
        (None, image) => return image.cloned(),
        (Some(own), None) => return Some(own.clone()),
        (Some(own), Some(image)) => (own, image),
    };
    let pick = |a: i64, b: i64| if a == 0 { b } else { a };
    Some(Healthcheck {
        test: match own.test.is_empty() {
            true => image.test.clone(),
            false => own.test.clone(),
        },
        interval: pick(own.interval, image.interval),
        timeout: pick(own.timeout, image.timeout),
        start_period: pick(own.start_period, image.start_period),
        start_interval: pick(own.start_interval, image.start_interval),
        retries: pick(own.retries, image.retries),
    })
}

fn bad(message: &str) -> OptionError {
    OptionError::Health(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(cmd: &str) -> HealthFlags {
        HealthFlags {
            cmd: Some(cmd.into()),
            ..HealthFlags::default()
        }
    }

    #[test]
    fn flags_make_docker_s_config() {
        let mut f = flags("curl -f http://localhost/");
        f.interval = Some("2s".into());
        f.retries = Some(5);
        let h = from_flags(&f).unwrap().unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "curl -f http://localhost/"]);
        assert_eq!((h.interval, h.timeout, h.retries), (2_000_000_000, 0, 5));
        assert!(h.enabled());
        assert_eq!(from_flags(&HealthFlags::default()).unwrap(), None);
        let none = HealthFlags {
            none: true,
            ..HealthFlags::default()
        };
        let h = from_flags(&none).unwrap().unwrap();
        assert_eq!(h.test, ["NONE"]);
        assert!(!h.enabled());
    }

    #[test]
    fn bad_flags_name_the_value() {
        let mut f = flags("true");
        f.none = true;
        let e = from_flags(&f).unwrap_err().to_string();
        assert_eq!(e, "--no-healthcheck conflicts with --health-* options");
        let mut f = flags("true");
        f.interval = Some("soon".into());
        let e = from_flags(&f).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid argument \"soon\" for --health-interval"),
            "{e}"
        );
        let mut f = flags("true");
        f.retries = Some(-1);
        let e = from_flags(&f).unwrap_err().to_string();
        assert_eq!(e, "Retries in Healthcheck cannot be negative");
        let h = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            interval: 5,
            ..Healthcheck::default()
        };
        let e = validate(&h).unwrap_err().to_string();
        assert_eq!(e, "Interval in Healthcheck cannot be less than 1ms");
    }

    #[test]
    fn the_container_s_fields_win_over_the_image_s() {
        let image = Healthcheck {
            test: vec!["CMD".into(), "check".into()],
            interval: 10,
            retries: 2,
            ..Healthcheck::default()
        };
        let own = Healthcheck {
            interval: 20,
            ..Healthcheck::default()
        };
        let m = merge(Some(&own), Some(&image)).unwrap();
        assert_eq!(m.test, ["CMD", "check"]);
        assert_eq!((m.interval, m.retries), (20, 2));
        assert_eq!(merge(None, Some(&image)), Some(image.clone()));
        assert_eq!(merge(None, None), None);
    }
}
