//! The engine's behaviour as the Docker CLI shows it over its data: the
//! cases the Go differential test cannot express (integers that stay
//! integers, Docker's typed fields, methods, headers, positions of parse
//! errors with their column), and the public API.

use serde_json::{json, Value};
use yurta_template::docker::{render_inspect, render_list, Format, Row};
use yurta_template::{render, Methods, Options, Template};

fn inspect_doc() -> Value {
    json!({
        "Id": "4f1c", "Name": "/web", "RestartCount": 0, "SizeRw": 1234567,
        "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0, "Health": null},
        "Config": {"Cmd": ["httpd", "-f"], "Env": ["A=1", "B=2"], "Labels": {"com.example.tier": "db"},
                   "Entrypoint": null, "StopTimeout": 2.5},
        "NetworkSettings": {"Networks": {"bar": {"IPAddress": "10.88.0.2"}, "bridge": {"IPAddress": "172.20.0.3"}},
                            "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": null}},
    })
}

fn run(t: &str, data: &Value) -> String {
    match Template::parse("t", t).and_then(|t| t.execute(data)) {
        Ok(s) => s,
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn docker_inspect_idioms() {
    let d = inspect_doc();
    let cases = [
        ("{{.Name}} {{.State.Status}}", "/web running"),
        ("{{.State.Pid}} {{.SizeRw}} {{.RestartCount}} {{.Config.StopTimeout}}", "4242 1234567 0 2.5"),
        ("{{json .State}}", r#"{"ExitCode":0,"Health":null,"Pid":4242,"Running":true,"Status":"running"}"#),
        ("{{.Config.Cmd}}", "[httpd -f]"),
        ("{{join .Config.Cmd \" \"}}", "httpd -f"),
        ("{{range .Config.Env}}{{.}};{{end}}", "A=1;B=2;"),
        ("{{(index .NetworkSettings.Networks \"bar\").IPAddress}}", "10.88.0.2"),
        ("{{with index .NetworkSettings.Networks \"bar\"}}{{.IPAddress}}{{end}}", "10.88.0.2"),
        ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "bar=10.88.0.2 bridge=172.20.0.3 "),
        ("{{range $p, $b := .NetworkSettings.Ports}}{{$p}}:{{if $b}}{{(index $b 0).HostPort}}{{else}}-{{end}} {{end}}", "443/tcp:- 80/tcp:8080 "),
        ("{{index .Config.Labels \"com.example.tier\"}}", "db"),
        // A missing label is "" (Docker's labels are map[string]string).
        ("[{{index .Config.Labels \"nope\"}}]", "[]"),
        ("{{.Config.Labels.nope}}", "<no value>"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{if eq .State.Status \"running\" \"paused\"}}live{{end}}", "live"),
        ("{{lower .State.Status | upper}} {{title \"web server\"}}", "RUNNING Web Server"),
        ("{{.Config.Entrypoint}} {{.State.Health}}", "<no value> <no value>"),
        ("{{printf \"%-6s|%5d\" .State.Status .State.Pid}}", "running| 4242"),
        ("{{len .Config.Env}} {{slice .Id 1 3}}", "2 f1"),
        // Missing fields of Docker's structs are errors, as `docker inspect` reports them.
        ("{{.State.Nope}}", r#"ERR template: t:1:8: executing "t" at <.State.Nope>: map has no entry for key "Nope""#),
        ("{{.Nope}}", r#"ERR template: t:1:2: executing "t" at <.Nope>: map has no entry for key "Nope""#),
        ("{{.State.Health.Status}}", r#"ERR template: t:1:8: executing "t" at <.State.Health.Status>: nil pointer evaluating interface {}.Status"#),
        ("x\n  {{index .Config.Cmd 5}}", r#"ERR template: t:2:4: executing "t" at <index .Config.Cmd 5>: error calling index: index out of range: 5"#),
    ];
    for (t, want) in cases {
        assert_eq!(run(t, &d), want, "{t}");
    }
}

#[test]
fn parse_errors_name_line_and_column() {
    let d = json!({});
    let cases = [
        ("{{.A", "template: t:1:4: unclosed action"),
        (
            "ab\ncd {{foo .A}}",
            r#"template: t:2:5: function "foo" not defined"#,
        ),
        ("{{if .A}}x", "template: t:1:10: unexpected EOF"),
        ("x{{end}}", "template: t:1:3: unexpected {{end}}"),
        (
            "{{.A | 3}}",
            "template: t:1:8: non executable command in pipeline stage 2",
        ),
        ("{{$x}}", r#"template: t:1:2: undefined variable "$x""#),
        (
            "{{ .A }}\n{{ \"unterminated }}",
            "template: t:2:3: unterminated quoted string",
        ),
        (
            "{{/* x */ y}}",
            "template: t:1:2: comment ends before closing delimiter",
        ),
        ("{{3x}}", r#"template: t:1:2: bad number syntax: "3x""#),
    ];
    for (t, want) in cases {
        assert_eq!(run(t, &d), format!("ERR {want}"), "{t}");
    }
}

#[test]
fn values_print_as_go_prints_them() {
    let d = json!({"i": 3, "u": 18446744073709551615u64, "f": 2.0, "g": 0.1, "e": 1e21, "b": false,
                   "n": null, "a": [1, "x", null, [true]], "m": {"z": 1, "a": {"k": "v"}}, "s": "é\"\\"});
    assert_eq!(
        run("{{.i}} {{.u}} {{.f}} {{.g}} {{.e}} {{.b}}", &d),
        "3 18446744073709551615 2 0.1 1e+21 false"
    );
    assert_eq!(
        run("{{.a}} {{.m}}", &d),
        "[1 x <nil> [true]] map[a:map[k:v] z:1]"
    );
    assert_eq!(
        run("{{.n}} {{print .n}} {{.missing}} {{print .missing}}", &d),
        "<no value> <nil> <no value> <nil>"
    );
    assert_eq!(
        run("{{printf \"%q %v %d\" .s .a .i}}", &d),
        r#""é\"\\" [1 x <nil> [true]] 3"#
    );
    assert_eq!(
        run("{{json .}}", &d),
        r#"{"a":[1,"x",null,[true]],"b":false,"e":1e+21,"f":2,"g":0.1,"i":3,"m":{"a":{"k":"v"},"z":1},"n":null,"s":"é\"\\","u":18446744073709551615}"#
    );
    assert_eq!(
        run("{{eq .i 3}} {{lt .i .u}} {{eq .u .u}}", &d),
        "true true true"
    );
}

#[test]
fn methods_and_headers() {
    let data = json!({"ID": "abc", "Labels": "a=1"});
    let methods = Methods::new().add("Label", 1, |a| Value::String(format!("<{}>", a[0])));
    let opts = Options {
        strict: true,
        header: false,
        methods: Some(&methods),
    };
    let t = Template::parse("t", r#"{{.ID}} {{.Label "x"}} {{"y" | .Label}}"#).unwrap();
    let mut out = String::new();
    t.execute_into(&data, &opts, &mut out).unwrap();
    assert_eq!(out, "abc <x> <y>");
    let t = Template::parse("t", r#"{{.Label}}"#).unwrap();
    let err = t
        .execute_into(&data, &opts, &mut String::new())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"template: t:1:2: executing "t" at <.Label>: wrong number of args for Label: want 1 got 0"#
    );
    // Without the method, arguments to a field are an error.
    let t = Template::parse("t", r#"{{.ID "x"}}"#).unwrap();
    assert!(t
        .execute(&data)
        .unwrap_err()
        .to_string()
        .ends_with("ID is not a method but has arguments"));
    // Headers: the string functions give their argument back; pad pads.
    let labels = std::collections::BTreeMap::new();
    let rows = [Row::with_labels(
        json!({"ID": "abcdef", "Size": "1kB"}),
        &labels,
    )];
    let headers = [("ID", "CONTAINER ID"), ("Size", "SIZE")];
    let f = Format::new(
        Some(r"table {{lower .ID}}\t{{json .Size}}\t{{pad .ID 1 1}}|{{.Label `com.a.my_key`}}"),
        "",
    );
    assert_eq!(
        render_list(&f, &rows, &headers).unwrap(),
        "CONTAINER ID   SIZE       CONTAINER ID |my key\nabcdef         \"1kB\"      abcdef |\n"
    );
    // An error in the header leaves the header as far as it got.
    let f = Format::new(Some(r"table {{.ID}}\t{{.ID.x}}"), "");
    assert_eq!(render_list(&f, &[], &headers).unwrap(), "CONTAINER ID   \n");
}

#[test]
fn formats_as_docker_reads_them() {
    let rows = [
        Row::new(json!({"Name": "a"})),
        Row::new(json!({"Name": "bb"})),
    ];
    let headers = [("Name", "NAME")];
    let list = |f: Option<&str>| {
        render_list(
            &Format::new(f, r"table {{.Name}}\t{{.Name}}"),
            &rows,
            &headers,
        )
        .unwrap()
    };
    assert_eq!(list(None), "NAME      NAME\na         a\nbb        bb\n");
    assert_eq!(list(Some("table")), list(None));
    assert_eq!(list(Some(r"{{.Name}}\t|\n")), "a\t|\n\nbb\t|\n\n");
    assert_eq!(list(Some("json")), "{\"Name\":\"a\"}\n{\"Name\":\"bb\"}\n");
    assert_eq!(list(Some("  {{.Name}}  ")), "a\nbb\n");
    let err = render_list(&Format::new(Some("{{.Name"), ""), &rows, &headers).unwrap_err();
    assert_eq!(err.to_string(), "template: --format:1:7: unclosed action");
    assert_eq!(render("json", &json!({"A": [1]})).unwrap(), r#"{"A":[1]}"#);
    assert_eq!(render("{{.A}}", &json!({"A": [1, 2]})).unwrap(), "[1 2]");
    assert_eq!(
        render("{{.B}}", &json!({"A": 1})).unwrap_err().to_string(),
        r#"template: --format:1:2: executing "--format" at <.B>: map has no entry for key "B""#
    );
    let items = [json!({"A": 1}), json!({"A": 2})];
    assert_eq!(render_inspect(Some("{{.A}}"), &items).unwrap(), "1\n2\n");
    assert_eq!(
        render_inspect(Some("json"), &items).unwrap(),
        "[{\"A\":1},{\"A\":2}]\n"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let d = json!({});
    let recursive = r#"{{define "r"}}x{{template "r" .}}{{end}}{{template "r"}}"#;
    assert!(run(recursive, &d).contains("exceeded maximum template depth (100)"));
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(5000), ")".repeat(5000));
    assert!(run(&parens, &d).contains("max expression depth exceeded"));
    let ifs = format!("{}x{}", "{{if 1}}".repeat(5000), "{{end}}".repeat(5000));
    assert!(run(&ifs, &d).contains("max expression depth exceeded"));
    let blocks = format!(
        "{}{}",
        r#"{{block "b" .}}"#.repeat(5000),
        "{{end}}".repeat(5000)
    );
    assert!(run(&blocks, &d).contains("max expression depth exceeded"));
    // A range over a huge count is lazy.
    assert_eq!(
        run(
            "{{range 1000000000000}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}",
            &d
        ),
        "012"
    );
    // As deep as real templates go is fine.
    let ok = format!("{}x{}", "{{with 1}}".repeat(50), "{{end}}".repeat(50));
    assert_eq!(run(&ok, &d), "x");
}
