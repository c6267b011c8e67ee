//! Queries forwarded over UDP and waiting for their reply: each has its
//! own random id on the socket it left from; a reply is taken only from
//! the server it was sent to, with that id and the same question.
//! Unanswered, a query goes to the next server after [`TIMEOUT`], and the
//! client gets SERVFAIL when none is left.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::wire;
use crate::zone::Upstream;

use super::sys;

/// How long one server has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// At most this many queries wait at once; more are refused.
pub const MAX_FLIGHTS: usize = 4096;

/// The socket a query left from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// The host's namespace, IPv4 or IPv6.
    Host4,
    Host6,
    /// The forwarding socket in the namespace of this served key.
    Ns(u64),
}

/// A query on its way.
#[derive(Debug, Clone)]
pub struct Flight {
    /// The served key of the client's namespace.
    pub client: u64,
    pub client_addr: SocketAddr,
    pub client_id: u16,
    /// The query, carrying the id of its current attempt.
    pub query: Vec<u8>,
    pub question_len: usize,
    pub ups: Vec<Upstream>,
    /// The index in `ups` of the server asked now.
    pub tried: usize,
    pub deadline: Instant,
}

impl Flight {
    fn question(&self) -> &[u8] {
        self.query
            .get(wire::HEADER_LEN..wire::HEADER_LEN + self.question_len)
            .unwrap_or_default()
    }

    /// The socket the current server is asked from.
    pub fn via(&self) -> Option<Via> {
        let up = self.ups.get(self.tried)?;
        Some(match (up.from_host, up.addr) {
            (true, SocketAddr::V4(_)) => Via::Host4,
            (true, SocketAddr::V6(_)) => Via::Host6,
            (false, _) => Via::Ns(self.client),
        })
    }
}

/// The queries on their way.
#[derive(Default)]
pub struct Flights {
    map: HashMap<(Via, u16), Flight>,
}

impl Flights {
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// An id no query waiting on `via` has.
    pub fn fresh_id(&self, via: Via) -> u16 {
        loop {
            let id = sys::random_u16();
            if !self.map.contains_key(&(via, id)) {
                return id;
            }
        }
    }

    pub fn insert(&mut self, via: Via, id: u16, f: Flight) {
        self.map.insert((via, id), f);
    }

    /// The query `msg` answers, if it came on `via` from the server asked,
    /// with the id and the question sent.
    pub fn take_reply(&mut self, via: Via, from: SocketAddr, msg: &[u8]) -> Option<Flight> {
        let key = (via, wire::id_of(msg)?);
        let f = self.map.get(&key)?;
        let asked = f.ups.get(f.tried).map(|u| u.addr);
        if asked != Some(from) || !wire::answers_question(msg, f.question()) {
            return None;
        }
        self.map.remove(&key)
    }

    /// The queries whose server did not answer in time.
    pub fn expired(&mut self, now: Instant) -> Vec<Flight> {
        let keys: Vec<(Via, u16)> = self
            .map
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| self.map.remove(k)).collect()
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.map.values().map(|f| f.deadline).min()
    }

    /// Forgets the queries of a namespace that is no longer served.
    pub fn drop_client(&mut self, key: u64) {
        self.map
            .retain(|(via, _), f| f.client != key && *via != Via::Ns(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(ups: &[&str]) -> Flight {
        let query = wire::query(77, "x.test", wire::TYPE_A, false);
        let question_len = wire::parse_query(&query).unwrap().question.len();
        Flight {
            client: 1,
            client_addr: "127.0.0.1:5000".parse().unwrap(),
            client_id: 77,
            query,
            question_len,
            ups: ups
                .iter()
                .map(|a| Upstream {
                    addr: a.parse().unwrap(),
                    from_host: a.starts_with("127.") || a.starts_with('['),
                })
                .collect(),
            tried: 0,
            deadline: Instant::now() + TIMEOUT,
        }
    }

    #[test]
    fn replies_match_server_id_and_question() {
        let mut fl = Flights::default();
        let f = flight(&["127.0.0.53:53", "192.0.2.1:53"]);
        assert_eq!(f.via(), Some(Via::Host4));
        let mut q = f.query.clone();
        fl.insert(Via::Host4, 9, f);
        wire::set_id(&mut q, 9);
        let mut reply = q.clone();
        reply[2] |= 0x80;
        let server: SocketAddr = "127.0.0.53:53".parse().unwrap();
        let other: SocketAddr = "127.0.0.54:53".parse().unwrap();
        assert!(fl.take_reply(Via::Host4, other, &reply).is_none());
        assert!(fl.take_reply(Via::Ns(1), server, &reply).is_none());
        assert!(
            fl.take_reply(Via::Host4, server, &q).is_none(),
            "not a response"
        );
        let mut wrong = reply.clone();
        wire::set_id(&mut wrong, 10);
        assert!(fl.take_reply(Via::Host4, server, &wrong).is_none());
        let got = fl.take_reply(Via::Host4, server, &reply).unwrap();
        assert_eq!(got.client_id, 77);
        assert_eq!(fl.len(), 0);
    }

    #[test]
    fn deadlines_and_dropped_clients() {
        let mut fl = Flights::default();
        let mut f = flight(&["192.0.2.1:53"]);
        assert_eq!(f.via(), Some(Via::Ns(1)));
        let now = Instant::now();
        f.deadline = now;
        fl.insert(Via::Ns(1), 1, f.clone());
        f.deadline = now + TIMEOUT;
        fl.insert(Via::Ns(1), 2, f);
        assert_eq!(fl.next_deadline(), Some(now));
        assert_eq!(fl.expired(now).len(), 1);
        assert_eq!(fl.len(), 1);
        fl.drop_client(1);
        assert_eq!(fl.len(), 0);
    }
}
