//! Container and volume identifiers: 64-hex random IDs, Docker's name rule
//! and its generated `adjective_surname` names.

use std::fs::File;
use std::io::Read;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum IdError {
    #[error("reading /dev/urandom: {0}")]
    Random(std::io::Error),
    #[error("invalid container name ({0:?}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    BadName(String),
}

/// A new 64-hex-digit ID from /dev/urandom (Docker's shape; never all
/// digits, so that it cannot be read as a number, as Docker ensures).
pub fn new_id() -> Result<String, IdError> {
    loop {
        let bytes = random_bytes::<32>()?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// `N` random bytes from /dev/urandom.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], IdError> {
    let mut buf = [0u8; N];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(IdError::Random)?;
    Ok(buf)
}

/// Whether `s` is a full 64-hex-digit ID.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks a container name against Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`
/// (a leading `/` as in inspect's `Name` is accepted and dropped).
pub fn validate_name(name: &str) -> Result<String, IdError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut bytes = bare.bytes();
    let ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && bare.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(bare.to_string())
    } else {
        Err(IdError::BadName(name.to_string()))
    }
}

/// Checks a volume name: the same rule as container names (Docker's).
pub fn validate_volume_name(name: &str) -> bool {
    validate_name(name).is_ok() && !name.starts_with('/')
}

const ADJECTIVES: &[&str] = &[
    "admiring",
    "adoring",
    "affectionate",
    "agitated",
    "amazing",
    "angry",
    "awesome",
    "beautiful",
    "blissful",
    "bold",
    "brave",
    "busy",
    "charming",
    "clever",
    "compassionate",
    "competent",
    "condescending",
    "confident",
    "cool",
    "cranky",
    "crazy",
    "dazzling",
    "determined",
    "distracted",
    "dreamy",
    "eager",
    "ecstatic",
    "elastic",
    "elated",
    "elegant",
    "eloquent",
    "epic",
    "exciting",
    "fervent",
    "festive",
    "flamboyant",
    "focused",
    "friendly",
    "frosty",
    "funny",
    "gallant",
    "gifted",
    "goofy",
    "gracious",
    "great",
    "happy",
    "hardcore",
    "heuristic",
    "hopeful",
    "hungry",
    "infallible",
    "inspiring",
    "intelligent",
    "interesting",
    "jolly",
    "jovial",
    "keen",
    "kind",
    "laughing",
    "loving",
    "lucid",
    "magical",
    "modest",
    "musing",
    "mystifying",
    "naughty",
    "nervous",
    "nice",
    "nifty",
    "nostalgic",
    "objective",
    "optimistic",
    "peaceful",
    "pedantic",
    "pensive",
    "practical",
    "priceless",
    "quirky",
    "quizzical",
    "recursing",
    "relaxed",
    "reverent",
    "romantic",
    "sad",
    "serene",
    "sharp",
    "silly",
    "sleepy",
    "stoic",
    "strange",
    "stupefied",
    "suspicious",
    "sweet",
    "tender",
    "thirsty",
    "trusting",
    "unruffled",
    "upbeat",
    "vibrant",
    "vigilant",
    "vigorous",
    "wizardly",
    "wonderful",
    "xenodochial",
    "youthful",
    "zealous",
    "zen",
];

/// Scientists and engineers, as in Docker's generator (a subset), with
/// people of computing in the USSR and Russia added.
const SURNAMES: &[&str] = &[
    "agnesi",
    "albattani",
    "allen",
    "almeida",
    "archimedes",
    "babbage",
    "banach",
    "bardeen",
    "bartik",
    "bassi",
    "bell",
    "bhabha",
    "blackwell",
    "bohr",
    "booth",
    "borg",
    "bose",
    "brahmagupta",
    "brattain",
    "brown",
    "burnell",
    "cannon",
    "carson",
    "cerf",
    "chandrasekhar",
    "chaplygin",
    "chebyshev",
    "clarke",
    "colden",
    "cori",
    "curie",
    "darwin",
    "diffie",
    "dijkstra",
    "dirac",
    "driscoll",
    "einstein",
    "elgamal",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "germain",
    "glushkov",
    "goldberg",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hertz",
    "hodgkin",
    "hopper",
    "hypatia",
    "jackson",
    "jang",
    "jennings",
    "johnson",
    "kalashnikov",
    "kapitsa",
    "keldysh",
    "kepler",
    "khorana",
    "knuth",
    "kolmogorov",
    "korolev",
    "kovalevskaya",
    "lalande",
    "lamarr",
    "lebedev",
    "lovelace",
    "lumiere",
    "lyapunov",
    "markov",
    "maxwell",
    "mcclintock",
    "meitner",
    "mendeleev",
    "merkle",
    "mirzakhani",
    "morse",
    "napier",
    "newton",
    "nobel",
    "noether",
    "pascal",
    "pasteur",
    "pavlov",
    "perlman",
    "pike",
    "poincare",
    "ramanujan",
    "ritchie",
    "rubin",
    "sammet",
    "shannon",
    "sobolev",
    "swartz",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "varahamihira",
    "wiles",
    "williams",
    "wozniak",
    "wright",
    "yalow",
    "yonath",
];

/// A random `adjective_surname` (Docker never makes `boring_wozniak`;
/// neither word is in our lists). The caller retries on collision.
pub fn generate_name() -> Result<String, IdError> {
    let r = random_bytes::<4>()?;
    let a = u16::from_le_bytes([r[0], r[1]]) as usize % ADJECTIVES.len();
    let s = u16::from_le_bytes([r[2], r[3]]) as usize % SURNAMES.len();
    Ok(format!("{}_{}", ADJECTIVES[a], SURNAMES[s]))
}

/// A generated name with a random digit appended (Docker's retry form).
pub fn generate_name_retry() -> Result<String, IdError> {
    let d = random_bytes::<1>()?[0] % 10;
    Ok(format!("{}{d}", generate_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_differ() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert!(is_full_id(&a) && is_full_id(&b));
        assert_ne!(a, b);
        assert!(!is_full_id(&a[..63]));
        assert!(!is_full_id(&a.to_uppercase()) || a.bytes().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn names_follow_dockers_rule() {
        for ok in ["ab", "web1", "a.b-c_d", "/web", "0x", "A_"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        assert_eq!(validate_name("/web").unwrap(), "web");
        for bad in ["", "a", "_a", "-a", ".a", "a b", "a/b", "ä1", "a:b", "//ab"] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn generated_names_are_valid() {
        for _ in 0..200 {
            let n = generate_name().unwrap();
            assert!(validate_name(&n).is_ok(), "{n}");
            assert_eq!(n.matches('_').count(), 1, "{n}");
            assert!(validate_name(&generate_name_retry().unwrap()).is_ok());
        }
        assert!(ADJECTIVES.len() > 100 && SURNAMES.len() > 100);
    }
}
