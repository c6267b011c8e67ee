//! Dockerfiles (`yurta_build::parse`, `yurta_build::plan`), the word
//! expander (`yurta_build::lex`) and `.dockerignore` (`yurta_build::ignore`)
//! on the same text.
//!
//! Invariants: no panic and no hang; a parsed file has instructions with
//! 1-based lines in order, within the file and each ending where or after
//! it starts; an error is one line starting with the file name; a plan's
//! target is among its levels, every needed stage appears once, and a stage
//! depends only on stages of earlier levels; a stage built on another stage
//! comes after it.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use yurta_build::lex::{Lexer, Vars};
use yurta_build::plan::{plan, NoImages, PlanOptions};
use yurta_build::{ignore::Ignore, parse, Platform};

fn options() -> PlanOptions {
    let mut build_args = BTreeMap::new();
    build_args.insert("VERSION".to_string(), "1.2 3".to_string());
    PlanOptions {
        build_args,
        target: None,
        target_platform: Platform::parse("linux/e2k/v6").unwrap(),
        build_platform: Platform::parse("linux/amd64").unwrap(),
    }
}

fn check_plan(text: &str) {
    let Ok(df) = parse("Dockerfile", text) else {
        return;
    };
    let lines = text.split('\n').count();
    let mut previous = 0;
    for i in &df.instructions {
        assert!(
            i.line >= 1 && i.line > previous,
            "line {} after {previous}",
            i.line
        );
        assert!(
            i.end_line >= i.line && i.end_line <= lines,
            "{}..{} of {lines}",
            i.line,
            i.end_line
        );
        previous = i.end_line;
    }
    let p = match plan(&df, &options(), &NoImages) {
        Ok(p) => p,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("Dockerfile"), "{shown}");
            assert!(!shown.contains('\n'), "{shown}");
            return;
        }
    };
    let order = p.order();
    assert!(order.contains(&p.target));
    let mut level_of = BTreeMap::new();
    for (n, level) in p.levels.iter().enumerate() {
        for &s in level {
            assert!(level_of.insert(s, n).is_none(), "stage {s} twice");
        }
    }
    for &s in &order {
        for dep in &p.stages[s].depends_on {
            assert!(
                level_of[dep] < level_of[&s],
                "stage {s} before its dependency {dep}"
            );
        }
        if let yurta_build::plan::Base::Stage(b) = p.stages[s].base {
            assert!(b < s, "stage {s} built on later stage {b}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    parse_errors_are_one_line(text);
    check_plan(text);
    let mut vars = Vars::new();
    vars.insert("A".into(), "a b".into());
    vars.insert("EMPTY".into(), String::new());
    for escape in ['\\', '`'] {
        let _ = Lexer::new(escape).process(text, &vars);
    }
    if let Ok(ignore) = Ignore::parse(".dockerignore", text) {
        for path in [
            "a",
            "a/b",
            "src/main.rs",
            ".git/config",
            "node_modules/x/y.js",
        ] {
            let _ = ignore.excludes(path);
        }
    }
});

fn parse_errors_are_one_line(text: &str) {
    if let Err(e) = parse("Dockerfile", text) {
        let shown = e.to_string();
        assert!(shown.starts_with("Dockerfile"), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
}
