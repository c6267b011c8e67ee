//! The Docker CLI's `--format` conventions over the engine:
//!
//! - lists (`ps`, `images`, `network ls`, ...): `table` (the command's
//!   default columns), `table TEMPLATE` (a header row, then the rows,
//!   aligned by a tabwriter with minimum width 10 and padding 3), `json`
//!   (`{{json .}}`: one object per line), or a template printed once per
//!   item; `\t` and `\n` in the format are a tab and a newline;
//! - the header row is the template executed over the column names
//!   (`.ID` is `CONTAINER ID` for `ps`) with the string functions
//!   returning their argument as it is; its errors are ignored;
//! - `inspect`: the items as an indented JSON array, `json` (compact), or a
//!   template per item.

use serde_json::{Map, Value};

use crate::{tabwriter, Error, Methods, Options, Template};

/// The name templates get in error messages: the flag they come from.
pub const NAME: &str = "--format";

/// A `--format` value as the Docker CLI reads it.
#[derive(Clone, Debug)]
pub struct Format(String);

impl Format {
    /// The flag's value; none, empty or `table` is the command's default
    /// table format `default_table`.
    pub fn new(source: Option<&str>, default_table: &str) -> Format {
        match source {
            None | Some("" | "table") => Format(default_table.to_string()),
            Some(s) => Format(s.to_string()),
        }
    }

    pub fn is_table(&self) -> bool {
        self.0.starts_with("table")
    }

    pub fn is_json(&self) -> bool {
        self.0 == "json"
    }

    /// Whether the format mentions `s` (Docker asks for sizes only when
    /// the format shows them).
    pub fn contains(&self, s: &str) -> bool {
        self.0.contains(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends to the format (`--digests` adds a column to a custom table).
    pub fn push(&mut self, s: &str) {
        self.0.push_str(s);
    }

    /// The template text: without `table`, `json` expanded, trimmed of
    /// spaces, `\t` and `\n` as a tab and a newline.
    fn template_text(&self) -> String {
        let t = if self.is_table() {
            &self.0["table".len()..]
        } else if self.is_json() {
            "{{json .}}"
        } else {
            &self.0
        };
        t.trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n")
    }
}

/// One item of a list: its fields and its methods (`.Label "key"`).
pub struct Row<'a> {
    pub data: Value,
    pub methods: Methods<'a>,
}

impl<'a> Row<'a> {
    pub fn new(data: Value) -> Row<'a> {
        Row {
            data,
            methods: Methods::new(),
        }
    }

    /// A row with Docker's `.Label "key"` over `labels`.
    pub fn with_labels(
        data: Value,
        labels: &'a std::collections::BTreeMap<String, String>,
    ) -> Row<'a> {
        Row {
            data,
            methods: Methods::new().add("Label", 1, move |a| {
                Value::String(labels.get(&a[0]).cloned().unwrap_or_default())
            }),
        }
    }
}

/// Docker's header for `.Label "com.example.key"`: the last dotted part,
/// `-` and `_` as spaces.
fn header_label(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or_default()
        .replace(['-', '_'], " ")
}

/// Renders a list: each row's line(s), and for a table the header first,
/// all aligned. `headers` maps field names to column names.
pub fn render_list(
    format: &Format,
    rows: &[Row<'_>],
    headers: &[(&str, &str)],
) -> Result<String, Error> {
    let tmpl = Template::parse(NAME, &format.template_text())?;
    let mut body = String::new();
    for row in rows {
        let opts = Options {
            strict: true,
            header: false,
            methods: Some(&row.methods),
        };
        tmpl.execute_into(&row.data, &opts, &mut body)?;
        body.push('\n');
    }
    if !format.is_table() {
        return Ok(body);
    }
    let names: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let label = Methods::new().add("Label", 1, |a| Value::String(header_label(&a[0])));
    let opts = Options {
        strict: false,
        header: true,
        methods: Some(&label),
    };
    let mut head = String::new();
    let _ = tmpl.execute_into(&Value::Object(names), &opts, &mut head);
    Ok(tabwriter::align(&format!("{head}\n{body}"), 10, 3))
}

/// `inspect`'s output for `items`: no format, the JSON array indented
/// by 4 spaces; `json`, the array compact; otherwise the template's
/// output for each item on its own line.
pub fn render_inspect(format: Option<&str>, items: &[Value]) -> Result<String, Error> {
    let array = || Value::Array(items.to_vec());
    match format {
        None | Some("") => Ok(crate::json::to_string_indent(&array(), "    ", true) + "\n"),
        Some("json") => Ok(crate::json::to_string(&array(), true) + "\n"),
        Some(text) => {
            let tmpl = Template::parse(NAME, text)?;
            let mut out = String::new();
            for item in items {
                out.push_str(&tmpl.execute(item)?);
                out.push('\n');
            }
            if out.is_empty() {
                out.push('\n');
            }
            Ok(out)
        }
    }
}

/// go-units' `HumanSizeWithPrecision`: decimal units, `precision`
/// significant digits (`%.*g`): `4.26MB`, `812kB`, `0B`. Docker's lists
/// use 3 digits, its progress bars and `system df` 4.
pub fn human_size(bytes: f64, precision: i32) -> String {
    scaled(
        bytes,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"],
        precision,
    )
}

/// go-units' `BytesSize`: binary units, `1.5MiB`, `7.672GiB`.
pub fn bytes_iec(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    scaled(bytes as f64, 1024.0, &units, 4)
}

fn scaled(mut v: f64, base: f64, units: &[&str], precision: i32) -> String {
    let mut unit = 0;
    while v >= base && unit < units.len() - 1 {
        v /= base;
        unit += 1;
    }
    format!("{}{}", crate::format_float(v, 'g', precision), units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn tables_with_headers() {
        let labels = BTreeMap::from([("com.x.tier".to_string(), "db".to_string())]);
        let rows = [
            Row::with_labels(json!({"ID": "abc", "Names": "web"}), &labels),
            Row::new(json!({"ID": "defghijklmno", "Names": "x"})),
        ];
        let headers = [("ID", "CONTAINER ID"), ("Names", "NAMES")];
        let f = Format::new(
            Some(r"table {{.ID}}\t{{upper .Names}}\t{{.Label `com.x.tier`}}"),
            "",
        );
        let out = render_list(&f, &rows[..1], &headers).unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   NAMES     tier\nabc            WEB       db\n"
        );
        let f = Format::new(Some("json"), "");
        assert_eq!(
            render_list(&f, &rows[1..], &headers).unwrap(),
            "{\"ID\":\"defghijklmno\",\"Names\":\"x\"}\n"
        );
        let f = Format::new(None, r"table {{.ID}}");
        assert_eq!(render_list(&f, &[], &headers).unwrap(), "CONTAINER ID\n");
        let f = Format::new(Some("{{.Nope}}"), "");
        let err = render_list(&f, &rows[1..], &headers)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            r#"template: --format:1:2: executing "--format" at <.Nope>: map has no entry for key "Nope""#
        );
    }

    #[test]
    fn inspect_like_docker() {
        let items = [json!({"Id": "a<b", "State": {"Running": true}})];
        assert_eq!(
            render_inspect(None, &items).unwrap(),
            "[\n    {\n        \"Id\": \"a\\u003cb\",\n        \"State\": {\n            \"Running\": true\n        }\n    }\n]\n"
        );
        assert_eq!(render_inspect(None, &[]).unwrap(), "[]\n");
        assert_eq!(
            render_inspect(Some("{{.Id}} {{json .State}}"), &items).unwrap(),
            "a<b {\"Running\":true}\n"
        );
        assert_eq!(render_inspect(Some("{{.Id}}"), &[]).unwrap(), "\n");
    }
}
