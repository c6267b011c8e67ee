use base64::Engine as _;

use super::*;

fn users() -> Htpasswd {
    let hash = bcrypt::hash("secret", 4).unwrap();
    Htpasswd::parse(&format!("alice:{hash}\nbob:{hash}\n")).unwrap()
}

fn basic(user: &str, pass: &str) -> String {
    let raw = format!("{user}:{pass}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn rule(repos: &[&str], users: &[&str], actions: &[Action]) -> Rule {
    Rule {
        repositories: repos.iter().map(|s| s.to_string()).collect(),
        users: users.iter().map(|s| s.to_string()).collect(),
        actions: actions.to_vec(),
    }
}

#[test]
fn without_htpasswd_anyone_does_anything() {
    let a = Auth::open();
    let c = a.caller(None).unwrap();
    assert!(a.allows(&c, "x", Action::Delete));
}

#[test]
fn basic_credentials_are_checked() {
    let a = Auth::new(Some(users()), Vec::new(), Scheme::Basic, None, "s".into());
    let alice = a.caller(Some(&basic("alice", "secret"))).unwrap();
    assert_eq!(alice, Caller::User(Some("alice".into())));
    assert!(a.allows(&alice, "any/repo", Action::Push));
    // Twice: the second answer comes from the cache and must agree.
    assert!(a.caller(Some(&basic("alice", "secret"))).is_ok());
    assert!(a.caller(Some(&basic("alice", "wrong"))).is_err());
    assert!(a.caller(Some(&basic("carol", "secret"))).is_err());
    assert!(a.caller(Some("Basic !!!")).is_err());
    let anon = a.caller(None).unwrap();
    assert!(!a.allows(&anon, "any/repo", Action::Pull));
}

#[test]
fn rules_grant_per_repository() {
    let rules = vec![
        rule(&["e2k/*"], &["alice"], &[Action::Pull, Action::Push]),
        rule(&["*"], &["*"], &[Action::Pull]),
        rule(&["public"], &["anonymous"], &[Action::Pull]),
    ];
    let a = Auth::new(Some(users()), rules, Scheme::Token, None, "s".into());
    assert_eq!(
        a.granted(Some("alice"), "e2k/base"),
        [Action::Pull, Action::Push]
    );
    assert_eq!(a.granted(Some("bob"), "e2k/base"), [Action::Pull]);
    assert_eq!(a.granted(None, "e2k/base"), []);
    assert_eq!(a.granted(None, "public"), [Action::Pull]);
    assert_eq!(a.granted(Some("alice"), "e2kx"), [Action::Pull]);
}

#[test]
fn tokens_carry_only_what_was_granted() {
    let rules = vec![rule(&["mine"], &["alice"], &[Action::Pull, Action::Push])];
    let a = Auth::new(Some(users()), rules, Scheme::Token, None, "s".into());
    let asked = [
        Scope::parse("repository:mine:pull,push,delete").unwrap(),
        Scope::parse("repository:theirs:pull").unwrap(),
    ];
    let answer = a.issue_token(Some("alice"), &asked);
    let token = answer["token"].as_str().unwrap();
    let caller = a.caller(Some(&format!("Bearer {token}"))).unwrap();
    assert!(a.allows(&caller, "mine", Action::Push));
    assert!(!a.allows(&caller, "mine", Action::Delete));
    assert!(!a.allows(&caller, "theirs", Action::Pull));
    let forged = format!("Bearer {}x", token);
    assert!(a.caller(Some(&forged)).is_err());
    let other = Auth::new(Some(users()), Vec::new(), Scheme::Token, None, "s".into());
    assert!(other.caller(Some(&format!("Bearer {token}"))).is_err());
}

#[test]
fn non_bcrypt_lines_are_refused() {
    assert!(Htpasswd::parse("alice:$apr1$abc$def").is_err());
    assert!(Htpasswd::parse("no colon").is_err());
    assert!(Htpasswd::parse("# comment\n\n").is_ok());
}
