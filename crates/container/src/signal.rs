//! Signal names and numbers as `kill` accepts them (TERM, SIGTERM, 15).

use nix::sys::signal::Signal;

use crate::error::{Error, Result};

/// Parses a signal given by name (with or without SIG) or number.
pub fn parse(text: &str) -> Result<i32> {
    if let Ok(n) = text.parse::<i32>() {
        let max = libc::SIGRTMAX();
        return if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(Error::UnknownSignal(text.into()))
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if let Some(rt) = name.strip_prefix("SIGRTMIN") {
        return realtime(libc::SIGRTMIN(), rt, 1, text);
    }
    if let Some(rt) = name.strip_prefix("SIGRTMAX") {
        return realtime(libc::SIGRTMAX(), rt, -1, text);
    }
    name.parse::<Signal>()
        .map(|s| s as i32)
        .map_err(|_| Error::UnknownSignal(text.into()))
}

fn realtime(base: i32, offset: &str, sign: i32, text: &str) -> Result<i32> {
    if offset.is_empty() {
        return Ok(base);
    }
    let n: i32 = offset
        .strip_prefix(if sign > 0 { '+' } else { '-' })
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| Error::UnknownSignal(text.into()))?;
    let sig = base + sign * n;
    if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&sig) {
        Ok(sig)
    } else {
        Err(Error::UnknownSignal(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse("SIGKILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse("kill").unwrap(), libc::SIGKILL);
        assert_eq!(parse("15").unwrap(), 15);
        assert_eq!(parse("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
        assert!(parse("SIGFOO").is_err());
        assert!(parse("0").is_err());
        assert!(parse("99").is_err());
    }
}
