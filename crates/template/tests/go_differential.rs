//! The engine against Go's own `text/template`, run by the Docker CLI
//! without a daemon: `docker context inspect CONTEXT --format T` executes
//! T over a context whose metadata holds our test data (decoded by Go as
//! `map[string]interface{}`, numbers as float64), and reports Go's parse
//! and execution errors. Skipped (with a note) where no `docker` CLI is
//! installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use yurta_template::Template;

/// The path from the context to the data, in Go's data and in ours (the
/// same length, so error columns agree).
const PREFIX: &str = "{{with .Metadata.Metadata.AdditionalFields.D}}";
const SUFFIX: &str = "{{end}}";

fn docker() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("/usr/local/bin/docker"),
        PathBuf::from("/usr/bin/docker"),
    ];
    candidates.into_iter().find(|p| p.exists())
}

struct Go {
    docker: PathBuf,
    config: tempfile::TempDir,
}

impl Go {
    fn new(docker: PathBuf, data: &Value) -> Go {
        let config = tempfile::tempdir().unwrap();
        let go = Go { docker, config };
        let out = go
            .cmd()
            .args([
                "context",
                "create",
                "yt",
                "--docker",
                "host=unix:///nonexistent",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta = find_meta(&go.config.path().join("contexts/meta"));
        let mut m: Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
        m["Metadata"]["D"] = data.clone();
        std::fs::write(&meta, serde_json::to_vec(&m).unwrap()).unwrap();
        go
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.docker);
        c.env("DOCKER_CONFIG", self.config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        c
    }

    /// Go's output (Ok) or error (Err) for `body` executed over the data.
    fn run(&self, body: &str) -> Result<String, String> {
        let t = format!("{PREFIX}{body}{SUFFIX}");
        let out = self
            .cmd()
            .args(["context", "inspect", "yt", "--format", &t])
            .output()
            .unwrap();
        if out.status.success() {
            let s = String::from_utf8_lossy(&out.stdout).into_owned();
            return Ok(s.strip_suffix('\n').unwrap_or(&s).to_string());
        }
        let e = String::from_utf8_lossy(&out.stderr).into_owned();
        let e = e.trim_end().trim_start_matches("template parsing error: ");
        Err(e.to_string())
    }
}

fn find_meta(dir: &Path) -> PathBuf {
    let sub = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    sub.join("meta.json")
}

/// Numbers as Go decodes JSON into `interface{}`: all float64.
fn floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), floats(x))).collect()),
        x => x.clone(),
    }
}

/// Ours, with Go's parse error position (Go gives the line only).
fn ours(data: &Value, body: &str) -> Result<String, String> {
    let t = format!("{PREFIX}{body}{SUFFIX}");
    let wrapped = json!({"Metadata": {"Metadata": {"AdditionalFields": {"D": floats(data)}}}});
    let tmpl = Template::parse("", &t).map_err(|e| {
        let e = e.to_string();
        // "template: :L:C: msg" -> "template: :L: msg"
        let rest = e.strip_prefix("template: :").unwrap();
        let (line, rest) = rest.split_once(':').unwrap();
        let (_col, msg) = rest.split_once(':').unwrap();
        format!("template: :{line}:{msg}")
    })?;
    tmpl.execute(&wrapped).map_err(|e| e.to_string())
}

fn data() -> Value {
    json!({
        "s": "hello world", "e": "", "i": 5, "z": 0, "f": 1.5, "big": 1000000, "neg": -3,
        "t": true, "no": false, "n": null,
        "a": ["p", "q", "r"], "ea": [], "na": [1, 2.5, "x", null, true],
        "m": {"k": "v", "k2": "v2"}, "em": {}, "nm": {"x": {"y": [1, {"z": "deep"}]}},
        "quote": "a\"b\\c\td\u{1}é\u{2028}", "html": "<a href='x'>&</a>",
        "cmd": ["httpd", "-f"], "csv": "a,b,,c",
    })
}

const CASES: &[&str] = &[
    // printing
    "{{.}}", "{{.s}}", "{{.i}} {{.f}} {{.big}} {{.neg}} {{.z}}", "{{.t}} {{.no}}", "{{.n}}",
    "{{.missing}}", "{{.a}}", "{{.ea}}", "{{.na}}", "{{.m}}", "{{.em}}", "{{.nm}}", "{{.nm.x.y}}",
    "{{.cmd}}", "{{.quote}}", "{{.missing.deeper}}",
    // fields, variables, pipelines
    "{{$x := .s}}{{$x}}", "{{$x := 1}}{{$x = 2}}{{$x}}",
    "{{.s | printf \"%q\"}}", "{{.i | printf \"%d-%s\" \"x\"}}", "{{(.nm.x.y)}}",
    "{{(index .nm.x.y 1).z}}", "{{with $v := .m}}{{$v.k}}{{end}}",
    // control
    "{{if .t}}yes{{else}}no{{end}}", "{{if .z}}a{{else if .e}}b{{else if .i}}c{{end}}",
    "{{if .ea}}x{{else}}empty{{end}}", "{{if .em}}x{{end}}|{{if .n}}x{{end}}|{{if .missing}}x{{end}}",
    "{{range .a}}[{{.}}]{{end}}", "{{range $i, $v := .a}}{{$i}}={{$v}};{{end}}",
    "{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}", "{{range .ea}}x{{else}}none{{end}}",
    "{{range .missing}}x{{else}}nothing{{end}}", "{{range .na}}<{{.}}>{{end}}",
    "{{range $i, $e := .a}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}",
    "{{range .a}}{{.}}{{break}}{{end}}", "{{range 3}}{{.}}{{end}}", "{{range $i := 2}}{{$i}}{{end}}",
    "{{with .m}}{{.k}}{{else}}none{{end}}", "{{with .missing}}x{{else with .m}}{{.k2}}{{end}}",
    "{{with .e}}x{{else}}empty{{end}}",
    // trim markers and comments
    "a  {{- .s -}}  b", "{{/* c */}}x{{- /* c */ -}}  y", "{{- 3 -}}", "{{-3}}",
    "a\n  {{- .i}}\n b",
    // literals
    "{{1.0}} {{1e6}} {{0x1F}} {{'a'}} {{1_000}} {{-0.5}} {{.5}}", "{{\"\\u00e9\\x41\\t\"}}",
    "{{`raw\\n`}}", "{{true}} {{false}}", "{{print nil}}",
    // comparisons and logic
    "{{eq .s \"hello world\"}} {{ne .i 5.0}} {{lt .i 6.0}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}",
    "{{eq .missing \"x\"}} {{eq .missing .n}} {{eq 1 2 3 1}}", "{{and 1 0 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}",
    "{{and .t .s}} {{not .e}} {{not .m}}", "{{if and .t (not .no)}}ok{{end}}",
    // len, index, slice
    "{{len .s}} {{len .a}} {{len .m}} {{len .ea}}", "{{index .a 1}} {{index .m \"k\"}} {{index .nm \"x\" \"y\" 1 \"z\"}}",
    "{{index .s 0}}", "{{slice .s 1 3}} {{slice .a 1}} {{slice .a 1 2}}",
    // print family
    "{{print 1 2 \"a\" \"b\" 3 true nil .n}}", "{{println .s .i}}", "{{print .a .m}}",
    "{{printf \"%v|%s|%d|%q|%t\" .s .s .i .s .t}}", "{{printf \"%5.1f|%-8s|%08.3f|%x|%X\" .f .s .f .s 255}}",
    "{{printf \"%+d|% d|%o|%#o|%#x|%b|%c|%U|%#U\" 5 5 8 8 255 5 65 65 233}}",
    "{{printf \"%e|%E|%g|%G|%.3g|%10.2e\" 1234.5678 0.000012 1e-7 1e21 3.14159 12345.678}}",
    "{{printf \"%d %s\" \"x\"}}", "{{printf \"%z\" 1}}", "{{printf \"%d\" 1 2}}", "{{printf \"%!\"}}",
    "{{printf \"%s|%v|%d\" nil nil .n}}", "{{printf \"%10.3s|%-5q|%x|% x\" \"abcdef\" \"a\" \"hi\" \"hi\"}}",
    "{{printf \"%*d|%-*d|%.*f\" 5 3 4 2 2 3.14159}}", "{{printf \"%v %d %s\" .a .na .na}}",
    "{{printf \"%T %T %T %T %T %T\" .s .i .f .t .a .m}}", "{{printf \"%05s|%-05d|%+.2e\" \"ab\" 3 -1.5}}",
    "{{printf \"%#v|%#v|%+v\" .s .i 5}}", "{{printf \"%q\" .quote}}", "{{printf \"%6.2f%%\" 12.345}}",
    // escapers
    "{{html .html}}", "{{js .quote}}", "{{urlquery .s \"&\" 1}}", "{{html .missing}}",
    // Docker's functions
    "{{json .}}", "{{json .m}}", "{{json .na}}", "{{json .quote}}", "{{json .html}}", "{{json .missing}}",
    "{{json .f}} {{json .big}}", "{{split .csv \",\"}}", "{{join (split .csv \",\") \"|\"}}",
    "{{len (split .csv \",\")}}", "{{lower \"ABC dEf\"}} {{upper .s}} {{title .s}}", "{{title \"hello-world foo_bar\"}}",
    "{{pad .s 2 3}}|{{pad .e 2 3}}", "{{truncate .s 5}}|{{truncate .s 50}}", "{{.s | upper | truncate 3}}",
    "{{range split \"a b\" \" \"}}<{{.}}>{{end}}",
    // definitions
    "{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" .s}}", "{{block \"b\" .i}}<{{.}}>{{end}}",
    // errors
    "{{.s.x}}", "{{.n.x}}", "{{.i.x}}", "{{.a.x}}", "{{len 1 2}}", "{{eq 1}}", "{{lower 1}}", "{{1 | lower}}",
    "{{lower .i}}", "{{lower .missing}}", "{{index .s 20}}", "{{index .a 3}}", "{{index .a 5}}", "{{index 1 1}}",
    "{{index .m 1}}", "{{range 1.5}}x{{end}}", "{{range .s}}x{{end}}", "{{range $i, $e := 3}}x{{end}}",
    "{{.s \"x\"}}", "{{json}}", "{{printf}}", "{{(1).X}}", "{{template \"nope\"}}", "{{lt 1 1.5}}",
    "{{lt true false}}", "{{eq .a .a}}", "{{eq .f 1}}", "{{truncate \"abc\" -1}}", "{{pad \"x\" -1 0}}",
    "{{len 3}}", "{{len nil}}", "{{len .n}}", "{{len .missing}}", "{{not}}", "{{and}}", "{{nil}}",
    "{{.s | 1}}", "{{join .na \",\"}}", "{{slice .s 3 1}}", "{{slice .i 1}}", "{{index .missing 1}}",
    "{{$x := 1}}{{$x.y}}", "{{\"a\" \"b\"}}", "{{.s | print | .x}}", "{{call .s}}",
    // more
    "{{range $i, $e := .m}}{{$i}}{{$e}}{{end}}", "{{$x := 0}}{{range .a}}{{$x = .}}{{end}}{{$x}}",
    "{{if .t}}{{$y := 1}}{{$y}}{{end}}", "{{with .nm.x}}{{range .y}}{{.}};{{end}}{{end}}",
    "{{.s\n|\nupper}}", "{{ .s -}}\n\n x", "x\n{{- /* multi\nline */ -}}\ny", "{{if not .e}}{{.i}}{{end}}",
    "{{if and .t .i}}{{.i}}{{end}}", "{{or .missing .s}}", "{{and .missing .s}}", "{{.m.k}} {{.m.nope}}",
    "{{index . \"s\"}}", "{{range .nm.x.y}}{{printf \"%T\" .}} {{end}}", "{{printf \"%v\" .nm}}",
    "{{printf \"%s\" .m}}", "{{printf \"%d\" .m}}", "{{printf \"%x\" .i}}", "{{printf \"%.0f %.1f %.2f\" 0.5 0.25 1.005}}",
    "{{printf \"%g %g %g\" 100000.0 1000000.0 0.0001}}", "{{printf \"%#g %#.3g %#e\" 1.0 2.0 3.0}}",
    "{{printf \"%+q %#q %q\" \"é\" \"a`b\" 9731}}", "{{printf \"%c%c\" 9731 0x1F600}}", "{{printf \"%5t|%-5t|\" true false}}",
    "{{printf \"%08d|%-08d|%+08d|% 08d\" -42 42 42 42}}", "{{printf \"%.3d|%.0d|%5.3x\" 7 0 255}}",
    "{{printf \"%6.2v|%v\" 3.14159 -0.0}}", "{{print \"a\" 1 2 \"b\" .na}}", "{{println}}", "{{print}}",
    "{{len (print .a)}}", "{{slice .a}}", "{{slice .s 2}}", "{{index .na 3}}", "{{index .na 3 | print}}",
    "{{printf \"%v\" (index .na 3)}}", "{{if eq .i 5.0 6.0}}in{{end}}", "{{eq \"a\" \"a\" \"b\"}}",
    "{{lt \"a\" \"b\"}} {{le 2.0 1.0}} {{gt 2 1}} {{ge \"a\" \"a\"}}", "{{eq .t true}} {{ne .no true}}",
    "{{json (split .csv \",\")}}", "{{join (split \"\" \",\") \"+\"}}", "{{split \"abc\" \"\"}}", "{{title \"élan vital\"}}",
    "{{upper \"straße\"}}", "{{truncate \"héllo\" 2}}", "{{pad \"x\" 0 0}}",
    "{{define \"r\"}}{{if .}}{{.}}{{end}}{{end}}{{template \"r\" 1}}{{template \"r\" 0}}{{template \"r\"}}",
    "{{template \"p\" .m}}{{define \"p\"}}{{.k}}{{end}}", "{{range .a}}{{template \"q\" .}}{{end}}{{define \"q\"}}({{.}}){{end}}",
    "{{with $k := \"k\"}}{{index $.Metadata.Metadata.AdditionalFields.D.m $k}}{{end}}", "{{$x := .a}}{{index $x 0}}{{len $x}}",
    "{{range $k, $v := .em}}x{{else}}empty map{{end}}", "{{range $i, $v := .na}}{{$i}}:{{$v}} {{end}}",
    "{{if 1.5}}f{{end}}{{if 0.0}}z{{end}}{{if -1}}n{{end}}",
    // more errors
    "{{range .a}}{{break 1}}{{end}}", "{{if .t}}{{else}}{{else}}{{end}}", "{{with $x := 1}}{{end}}{{$x}}",
    "{{`abc}}", "{{'a}}", "{{.s|}}", "{{|.s}}", "{{(1 2)}}", "{{\"a\" | printf}}", "{{printf \"%s\" | len}}",
    "line1\nline2 {{.s.q}}", "{{.s\n.q}}", "{{index .a \"x\"}}", "{{index .a -1}}", "{{index .a 1.5}}",
    "{{index .a nil}}", "{{slice .a 1 2 3}}", "{{slice .s 1 2 3}}", "{{eq .m .m}}",
    "{{lt .n 1}}", "{{lt .missing 1}}", "{{json 1 2}}", "{{pad .s \"a\" 1}}", "{{pad .s 1.5 1}}",
    "{{truncate .s .s}}", "{{truncate .s .missing}}", "{{printf .i}}", "{{html}}", "{{.m.k.x}}",
    "{{$x := 1}}{{$x.y.z}}", "{{nil.x}}", "{{range .a}}{{continue x}}{{end}}", "{{else if .t}}",
    "{{template}}", "{{template \"x\" 1 2}}", "{{define \"x\" 1}}{{end}}", "{{define \"x\"}}", "{{block \"b\"}}{{end}}",
    "{{range $x = .a}}{{end}}", "{{$x, $y := 1}}", "{{.i.j.k}}", "{{index .nm \"x\" \"nope\" 1}}",
    // parse errors
    "{{foo}}", "{{$x}}", "{{if}}{{end}}", "{{end}}", "{{else}}", "{{if .t}}", "{{.s", "{{3x}}", "{{\"\\q\"}}",
    "{{range .a}}{{else if .t}}{{end}}", "{{break}}", "{{(.s}}", "{{.s)}}", "{{.s %}}", "{{1.x}}",
    "{{.s | \"x\"}}", "{{$x := }}", "{{define \"a\"}}{{end}}{{define \"a\"}}x{{end}}", "{{/* x",
    "{{/* x */ y}}", "{{template .s}}", "{{with}}{{end}}", "{{range $a, $b, $c := .a}}{{end}}",
    "{{'ab'}}", "{{99999999999999999999}}", "a\nb\n{{.s\n|\nfoo}}", "{{. x}}", "{{.s:}}",
];

#[test]
fn matches_go_text_template() {
    let Some(docker) = docker() else {
        eprintln!("skipped: no docker CLI to run Go's text/template");
        return;
    };
    let data = data();
    let go = Go::new(docker, &floats(&data));
    let mut failures = Vec::new();
    for body in CASES {
        let want = go.run(body);
        let got = ours(&data, body);
        if want != got {
            failures.push(format!("{body}\n   go:   {want:?}\n   ours: {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
