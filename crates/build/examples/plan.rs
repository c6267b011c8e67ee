//! Prints the plan of a Dockerfile: `cargo run -p yurta-build --example
//! plan -- FILE [--build-arg K=V]... [--target STAGE] [--platform P]`.
//! For looking at what the planner makes of a file, and for comparing it
//! with another builder by hand.

use std::process::ExitCode;

use yurta_build::plan::{plan, NoImages, PlanOptions};
use yurta_build::{parse, Platform};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: plan FILE [--build-arg K=V]... [--target S] [--platform P]")?;
    let mut options = PlanOptions::host();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--build-arg" => {
                let (k, v) = value.split_once('=').ok_or("--build-arg takes K=V")?;
                options.build_args.insert(k.into(), v.into());
            }
            "--target" => options.target = Some(value),
            "--platform" => options.target_platform = Platform::parse(&value)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
    let df = parse(&file, &text).map_err(|e| e.to_string())?;
    let p = plan(&df, &options, &NoImages).map_err(|e| e.to_string())?;
    println!("target {} levels {:?}", p.target, p.levels);
    for stage in &p.stages {
        println!(
            "stage {} {:?} on {:?} for {}",
            stage.index, stage.name, stage.base, stage.platform
        );
        for step in &stage.steps {
            println!("  {}: {:?}", step.line, step.op);
        }
    }
    Ok(())
}
