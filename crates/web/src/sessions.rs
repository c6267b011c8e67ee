//! Logged-in browsers: a random token in the `yurta_session` cookie names
//! a session in memory (a restart of the service logs everyone out), with
//! its user and its CSRF token. A session ends after [`IDLE`] without a
//! request or [`LIFETIME`] in all, at logout, or when its user is removed.
//! Times are passed in, so the rules are tested without waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

pub const COOKIE: &str = "yurta_session";
pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions at once; the oldest go first beyond it.
const MAX_SESSIONS: usize = 4096;

#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    created: Instant,
    seen: Instant,
}

#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// 32 random bytes, URL-safe base64.
pub fn token() -> anyhow::Result<String> {
    let b = yurta_engine::ids::random_bytes::<32>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

impl Sessions {
    /// A new session for `user`; its token.
    pub fn open(&self, user: &str, now: Instant) -> anyhow::Result<String> {
        let id = token()?;
        let s = Session {
            user: user.to_string(),
            csrf: token()?,
            created: now,
            seen: now,
        };
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| live(s, now));
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), s);
        Ok(id)
    }

    /// The live session of `id`, marked as seen now.
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.get_mut(id)?;
        if !live(s, now) {
            map.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    pub fn close(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// How many are open (for tests and the memory numbers).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.seen) < IDLE && now.duration_since(s.created) < LIFETIME
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value for session `id` (empty `id`: one that clears it).
pub fn set_cookie(id: &str, secure: bool) -> String {
    let mut c = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict");
    if id.is_empty() {
        c.push_str("; Max-Age=0");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_old_or_closed() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let id = s.open("alice", t0).unwrap();
        assert_eq!(s.get(&id, t0).unwrap().user, "alice");
        // Kept alive by use, up to the lifetime.
        let mut t = t0;
        while t.duration_since(t0) + IDLE / 2 < LIFETIME {
            t += IDLE / 2;
            assert!(s.get(&id, t).is_some());
        }
        assert!(s.get(&id, t0 + LIFETIME).is_none());
        let id = s.open("bob", t0).unwrap();
        assert!(s.get(&id, t0 + IDLE).is_none(), "idle too long");
        let id = s.open("carol", t0).unwrap();
        s.close(&id);
        assert!(s.get(&id, t0).is_none());
        assert!(s.get("forged", t0).is_none());
    }

    #[test]
    fn tokens_differ_and_csrf_is_not_the_session() {
        let s = Sessions::default();
        let now = Instant::now();
        let a = s.open("alice", now).unwrap();
        let b = s.open("alice", now).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(s.get(&a, now).unwrap().csrf, a);
    }

    #[test]
    fn cookies_parse_and_are_strict() {
        assert_eq!(cookie("a=1; yurta_session=xyz; b=2", COOKIE), Some("xyz"));
        assert_eq!(cookie("yurta_sessionx=1", COOKIE), None);
        let c = set_cookie("xyz", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set_cookie("xyz", false).contains("Secure"));
        assert!(set_cookie("", false).contains("Max-Age=0"));
    }
}
