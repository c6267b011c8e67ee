use super::*;

fn vars() -> Vars {
    [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
        ("X", "abcabc"),
        ("SPACED", "a  b"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn word(input: &str) -> Result<String, String> {
    Lexer::new('\\').word(input, &vars())
}

/// (input, expected word or `Err` with a substring of the message)
const WORDS: &[(&str, Result<&str, &str>)] = &[
    ("hello", Ok("hello")),
    ("he'll'o", Ok("hello")),
    ("he'llo", Err("matching single-quote")),
    ("he\\'llo", Ok("he'llo")),
    ("he\\\\'llo", Err("matching single-quote")),
    ("abc\\\\def", Ok("abc\\def")),
    ("abc\\def", Ok("abcdef")),
    ("\"hello\"", Ok("hello")),
    ("\"hello\\\"", Err("matching double-quote")),
    ("\"hel'lo\"", Ok("hel'lo")),
    ("'hello\\'", Ok("hello\\")),
    ("\"''\"", Ok("''")),
    ("\"a\\nb\"", Ok("a\\nb")),
    ("\"a\\\\b\"", Ok("a\\b")),
    ("\"\\$PWD\"", Ok("$PWD")),
    ("\"\\\\$PWD\"", Ok("\\/home")),
    ("$.", Ok("$.")),
    ("$", Ok("$")),
    ("trailing\\", Ok("trailing")),
    ("he$1x", Ok("hex")),
    ("he$.x", Ok("he$.x")),
    ("he$pwd.", Ok("he.")),
    ("he$PWD", Ok("he/home")),
    ("he\\$PWD", Ok("he$PWD")),
    ("he\\\\$PWD", Ok("he\\/home")),
    ("he\\${}", Ok("he${}")),
    ("he\\${}xx", Ok("he${}xx")),
    ("he${}", Err("bad substitution")),
    ("he${:x}", Err("bad substitution")),
    ("he${PWD", Err("missing '}'")),
    ("he${", Err("missing '}'")),
    ("he${PWD}", Ok("he/home")),
    ("he${PWD:=000}xx", Err("unsupported modifier (:=)")),
    ("he${PWD=000}xx", Err("unsupported modifier (=)")),
    ("he${PWD:+${PWD}}xx", Ok("he/homexx")),
    ("he${XXX:-000}xx", Ok("he000xx")),
    ("he${PWD:-000}xx", Ok("he/homexx")),
    ("he${XXX:-$PWD}xx", Ok("he/homexx")),
    ("he${XXX:-${PWD:-yyy}}xx", Ok("he/homexx")),
    ("he${XXX:-${YYY:-yyy}}xx", Ok("heyyyxx")),
    ("he${XXX:YYY}", Err("unsupported modifier (:Y)")),
    ("he${XXX:-a b}", Ok("hea b")),
    ("${XXX:-'$PWD'}", Ok("$PWD")),
    ("${XXX:-\"$PWD\"}", Ok("/home")),
    ("${NULL:-x}", Ok("x")),
    ("${NULL-x}", Ok("")),
    ("${NULL:+x}", Ok("")),
    ("${NULL+x}", Ok("x")),
    ("${XXX+x}", Ok("")),
    ("${XXX-x}", Ok("x")),
    ("${PWD?}", Ok("/home")),
    ("${NULL?}", Ok("")),
    ("${XXX:?}", Err("XXX: is not allowed to be unset")),
    ("${NULL:?}", Err("NULL: is not allowed to be empty")),
    ("${XXX?oops}", Err("XXX: oops")),
    ("'$PWD'", Ok("$PWD")),
    ("\"$PWD\"", Ok("/home")),
    ("\"${PWD}x\"", Ok("/homex")),
    ("\"'$PWD'\"", Ok("'/home'")),
    ("$KOREAN", Ok("한국어")),
    ("안녕$KOREAN", Ok("안녕한국어")),
    ("$$", Ok("")),
    ("${PWD#/h}", Ok("ome")),
    ("${X#*b}", Ok("cabc")),
    ("${X##*b}", Ok("c")),
    ("${X%b*}", Ok("abca")),
    ("${X%%b*}", Ok("a")),
    ("${X#zz}", Ok("abcabc")),
    ("${X%?}", Ok("abcab")),
    ("${X#\\*}", Ok("abcabc")),
    ("${X#\\q}", Err("invalid escape")),
    ("${X/b/-}", Ok("a-cabc")),
    ("${X//b/-}", Ok("a-ca-c")),
    ("${X/?c/}", Ok("aabc")),
    ("${X//c/\\}}", Ok("ab\\}ab\\}")),
    ("${X/b}", Err("missing '/'")),
    ("${XXX/b/c}", Ok("")),
    ("${X/*/z}", Ok("z")),
    ("${X/a*/z}", Ok("z")),
    ("${X/c?/z}", Ok("abzbc")),
    ("${X///-}", Ok("-a-b-c-a-b-c-")),
    ("${X%*}", Ok("abcabc")),
    ("${X%%*}", Ok("")),
    ("${X#*}", Ok("abcabc")),
    ("${X##*}", Ok("")),
    ("${X%%?c}", Ok("abca")),
    ("${X%?c}", Ok("abca")),
    ("${X#a?c}", Ok("abc")),
];

#[test]
fn words_expand_like_dockers_lexer() {
    for (input, want) in WORDS {
        let got = word(input);
        match (want, &got) {
            (Ok(w), Ok(g)) => assert_eq!(g, w, "input {input:?}"),
            (Err(w), Err(g)) => assert!(g.contains(w), "input {input:?}: error {g:?}"),
            _ => panic!("input {input:?}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn splitting_happens_after_expansion() {
    let cases: &[(&str, &[&str])] = &[
        ("hello world", &["hello", "world"]),
        ("  hello   world  ", &["hello", "world"]),
        ("\"hello world\"", &["hello world"]),
        ("'a b' c", &["a b", "c"]),
        ("$SPACED", &["a", "b"]),
        ("\"$SPACED\"", &["a  b"]),
        ("''", &[]),
        ("a '' b", &["a", "b"]),
        ("a\\ b", &["a b"]),
        ("x$NULL y", &["x", "y"]),
    ];
    for (input, want) in cases {
        let got = Lexer::new('\\').words(input, &vars()).unwrap();
        assert_eq!(got, *want, "input {input:?}");
    }
}

#[test]
fn backtick_is_the_escape_when_chosen() {
    let lex = Lexer::new('`');
    assert_eq!(lex.word("he`$PWD", &vars()).unwrap(), "he$PWD");
    assert_eq!(
        lex.word("C:\\path\\$PWD", &vars()).unwrap(),
        "C:\\path\\/home"
    );
    assert_eq!(lex.word("\"a`\"b\"", &vars()).unwrap(), "a\"b");
}

#[test]
fn unset_variables_can_be_kept_as_written() {
    let lex = Lexer {
        skip_unset: true,
        ..Lexer::new('\\')
    };
    for input in [
        "$NOPE",
        "${NOPE}",
        "${NOPE:-x}",
        "${NOPE+y}",
        "${NOPE//a/b}",
    ] {
        assert_eq!(lex.word(input, &vars()).unwrap(), input);
    }
    assert_eq!(lex.word("$PWD", &vars()).unwrap(), "/home");
}

#[test]
fn raw_mode_keeps_quotes_and_escapes() {
    let lex = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset: true,
        ..Lexer::new('\\')
    };
    let words = lex.words("cat <<'EOF' \"x y\" a\\ b", &vars()).unwrap();
    assert_eq!(words, ["cat", "<<'EOF'", "\"x y\"", "a\\ b"]);
}

#[test]
fn quotes_can_be_plain_characters() {
    let lex = Lexer {
        skip_quotes: true,
        ..Lexer::new('\\')
    };
    assert_eq!(
        lex.word("echo '$PWD' \"$SHELL\"", &vars()).unwrap(),
        "echo '/home' \"bash\""
    );
}

#[test]
fn patterns_do_not_backtrack_exponentially() {
    let long = "a".repeat(3000);
    let mut v = vars();
    v.insert("LONG".into(), long.clone());
    let got = Lexer::new('\\')
        .word("${LONG//*a*a*a*a*a*b/x}${LONG%%*a*a*a*b}", &v)
        .unwrap();
    assert_eq!(got, format!("{long}{long}"));
}

#[test]
fn nesting_is_bounded() {
    let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
    let err = Lexer::new('\\').word(&deep, &vars()).unwrap_err();
    assert_eq!(err, "substitutions nested deeper than 64 levels");
    let fine = "${A:-".repeat(60) + "x" + &"}".repeat(60);
    assert_eq!(Lexer::new('\\').word(&fine, &Vars::new()).unwrap(), "x");
}

/// BuildKit's own expansion cases (shell/lex_test.go), each with its
/// variables: (input, variables, expected word or None for an error).
#[test]
fn buildkit_expansion_cases() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);
    let fb: &[(&str, &str)] = &[("FOO", "xxx"), ("BAR", "")];
    let cases: &[Case] = &[
        ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", fb, Some("xxx  ccc")),
        ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", fb, Some("xxx bbb ccc")),
        ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", fb, Some("aaa bbb ")),
        ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", fb, Some("aaa  ")),
        ("${FOO:-}", fb, Some("xxx")),
        ("${BAR?bbb}", fb, Some("")),
        ("${BAZ?ccc}", fb, None),
        ("${BAR:?bbb}", fb, None),
        ("${BAZ:?}", fb, None),
        ("${FOO=aaa}", fb, None),
        ("${FOO=:aaa}", fb, None),
        ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", &[("FOO", "()[]{}^$.*?|\\x")], Some("x")),
        ("${FOO%%\\**}", &[("FOO", "xx**")], Some("xx")),
        ("${FOO#*x*y}", &[("FOO", "xxyy")], Some("y")),
        ("${FOO#*}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], Some("xyy")),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "")], Some("xxyy")),
        ("${FOO#}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO##*x}", &[("FOO", "xxyy")], Some("yy")),
        ("${FOO#?\\?}", &[("FOO", "???y")], Some("?y")),
        ("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], Some(".xxyy.")),
        ("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], Some("a")),
        ("${FOO%}", &[("FOO", "xxyy")], Some("xxyy")),
        (
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            Some("/foo.*/*.txt - /foo..*.txt"),
        ),
        (
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            Some("/tmp/bar.txt - /bar.txt"),
        ),
        (
            "${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}",
            &[("FOO", "/a/foo/b/c.txt"), ("NEEDLE", "/?/"), ("R", "/")],
            Some("/foo/b/c.txt - /foo/c.txt"),
        ),
        ("${FOO//\\//\\/}", &[("FOO", "/tmp/foo.txt")], Some("\\/tmp\\/foo.txt")),
        ("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], Some("wwxxyy")),
        ("${FOO//ww}", &[("FOO", "xxyy")], None),
        ("${FOO//}", &[("FOO", "xxyy")], None),
        ("${FOO///}", &[("FOO", "xxyy")], Some("xxyy")),
        ("${FOO///}", &[], Some("")),
        ("${VAR:?message here$ARG}", &[("VAR", ""), ("ARG", "x")], None),
        (
            "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
            &[("VERSION", "v1.2.3"), ("TARGETOS", "linux"), ("TARGETARCH", "arm"), ("TARGETVARIANT", "v7")],
            Some("something-v1.2.3.linux-arm-v7.tar.gz"),
        ),
    ];
    for (input, vars, want) in cases {
        let vars: Vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = Lexer::new('\\').word(input, &vars);
        match want {
            Some(w) => assert_eq!(got.as_deref(), Ok(*w), "{input:?}"),
            None => assert!(got.is_err(), "{input:?} gave {got:?}"),
        }
    }
    let err = Lexer::new('\\')
        .word(
            "${VAR:?message here$ARG}",
            &[("ARG".to_string(), "x".to_string())].into(),
        )
        .unwrap_err();
    assert_eq!(err, "VAR: message herex");
}
