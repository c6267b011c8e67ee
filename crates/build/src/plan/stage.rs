//! The planner's walk over the file: the global scope before the first
//! FROM, then one stage after another with its own scope.

use std::collections::BTreeSet;

use super::ops::{self, Scope};
use super::{Base, BaseImages, Plan, PlanOptions, Stage, Step};
use crate::ast::{ArgDecl, Instruction, Kind};
use crate::error::{At, DockerfileError};
use crate::lex::{Lexer, Vars};
use crate::platform::{Platform, PREDEFINED_ARGS};
use crate::Dockerfile;

pub(super) struct Planner<'a> {
    pub file: &'a str,
    pub lexer: Lexer,
    pub options: &'a PlanOptions,
    images: &'a dyn BaseImages,
    /// Predefined platform ARGs and global ARGs with a value.
    pub global: Vars,
    /// Names of every stage, by index (for `--from=` of later stages).
    pub names: Vec<Option<String>>,
    pub stages: Vec<Stage>,
    /// Each finished stage's scope, inherited by stages built on it.
    finished: Vec<Scope>,
    declared: BTreeSet<String>,
}

pub(super) fn plan(
    dockerfile: &Dockerfile,
    options: &PlanOptions,
    images: &dyn BaseImages,
) -> Result<Plan, DockerfileError> {
    let mut planner = Planner::new(dockerfile, options, images)?;
    let mut scope: Option<Scope> = None;
    for instruction in &dockerfile.instructions {
        let at = At::new(
            &dockerfile.file,
            instruction.line,
            Some(instruction.keyword()),
        );
        match (&instruction.kind, scope.as_mut()) {
            (Kind::From(_), _) => {
                if let Some(done) = scope.take() {
                    planner.finished.push(done);
                }
                scope = Some(planner.start_stage(instruction, &at)?);
            }
            (Kind::Arg(decls), None) => planner.global_args(decls).map_err(|m| at.error(m))?,
            (_, None) => return Err(at.error("no build stage in current context")),
            (_, Some(scope)) => planner.step(scope, instruction, &at)?,
        }
    }
    let Some(last) = scope else {
        return Err(
            At::new(&dockerfile.file, 0, None).error("dockerfile contains no stages to build")
        );
    };
    planner.finished.push(last);
    planner.finish()
}

impl<'a> Planner<'a> {
    fn new(
        dockerfile: &'a Dockerfile,
        options: &'a PlanOptions,
        images: &'a dyn BaseImages,
    ) -> Result<Planner<'a>, DockerfileError> {
        let mut global = Vars::new();
        options.target_platform.args("TARGET", &mut global);
        options.build_platform.args("BUILD", &mut global);
        let mut names = Vec::new();
        for instruction in &dockerfile.instructions {
            if let Kind::From(from) = &instruction.kind {
                if let Some(name) = &from.name {
                    if names.contains(&Some(name.clone())) {
                        let at = At::new(&dockerfile.file, instruction.line, Some("FROM"));
                        return Err(at.error(format!("duplicate stage name {name:?}")));
                    }
                }
                names.push(from.name.clone());
            }
        }
        Ok(Planner {
            file: &dockerfile.file,
            lexer: Lexer::new(dockerfile.escape),
            options,
            images,
            global,
            names,
            stages: Vec::new(),
            finished: Vec::new(),
            declared: BTreeSet::new(),
        })
    }

    fn global_args(&mut self, decls: &[ArgDecl]) -> Result<(), String> {
        for decl in decls {
            let name = self.lexer.word(&decl.name, &self.global)?;
            self.declared.insert(name.clone());
            let value = match self.options.build_args.get(&name) {
                Some(v) => Some(v.clone()),
                None => match &decl.default {
                    Some(d) => Some(self.lexer.word(d, &self.global)?),
                    None => None,
                },
            };
            match value {
                Some(v) => self.global.insert(name, v),
                None => self.global.remove(&name),
            };
        }
        Ok(())
    }

    /// An `ARG` inside a stage: the build arg, else the default, else the
    /// value of the global ARG (or predefined ARG) of that name.
    pub fn stage_arg(&mut self, scope: &mut Scope, decl: &ArgDecl) -> Result<(), String> {
        let vars = scope.vars();
        let name = self.lexer.word(&decl.name, &vars)?;
        self.declared.insert(name.clone());
        let value = match (self.options.build_args.get(&name), &decl.default) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(d)) => Some(self.lexer.word(d, &vars)?),
            (None, None) => self.global.get(&name).cloned(),
        };
        scope.args.retain(|(n, _)| *n != name);
        scope.args.push((name, value));
        Ok(())
    }

    fn start_stage(
        &mut self,
        instruction: &Instruction,
        at: &At,
    ) -> Result<Scope, DockerfileError> {
        let Kind::From(from) = &instruction.kind else {
            return Err(at.error("not a FROM"));
        };
        let index = self.stages.len();
        let image = self
            .lexer
            .word(&from.image, &self.global)
            .map_err(|m| at.error(m))?;
        if image.is_empty() {
            return Err(at.error(format!("base name ({}) should not be blank", from.image)));
        }
        let earlier = self.names[..index]
            .iter()
            .position(|n| n.as_deref() == Some(image.to_ascii_lowercase().as_str()));
        let base = match earlier {
            Some(i) => Base::Stage(i),
            None if image.eq_ignore_ascii_case("scratch") => Base::Scratch,
            None => Base::Image(image),
        };
        let platform = match &from.platform {
            Some(p) => {
                let text = self.lexer.word(p, &self.global).map_err(|m| at.error(m))?;
                Platform::parse(&text).map_err(|m| at.error(format!("--platform: {m}")))?
            }
            None => match base {
                Base::Stage(i) => self.stages[i].platform.clone(),
                _ => self.options.target_platform.clone(),
            },
        };
        let (scope, triggers) = self.base_scope(&base, &platform);
        let mut depends_on = BTreeSet::new();
        if let Base::Stage(i) = base {
            depends_on.insert(i);
        }
        self.stages.push(Stage {
            index,
            name: from.name.clone(),
            line: instruction.line,
            base,
            platform,
            steps: Vec::new(),
            depends_on,
            images: BTreeSet::new(),
        });
        let mut scope = scope;
        for trigger in triggers {
            let parsed = crate::parser::parse_trigger(self.file, instruction.line, &trigger)?;
            let at = At::new(
                self.file,
                instruction.line,
                Some(&format!("ONBUILD {}", parsed.keyword())),
            );
            self.step(&mut scope, &parsed, &at)?;
        }
        Ok(scope)
    }

    /// The scope a stage starts with, and the ONBUILD triggers to run.
    fn base_scope(&self, base: &Base, platform: &Platform) -> (Scope, Vec<String>) {
        match base {
            Base::Scratch => {
                let env = vec![("PATH".to_string(), super::DEFAULT_PATH.to_string())];
                (Scope::new(env, "/".into()), Vec::new())
            }
            Base::Stage(i) => {
                let parent = &self.finished[*i];
                let triggers = self.stages[*i]
                    .steps
                    .iter()
                    .filter_map(|s| match &s.op {
                        super::Op::Onbuild(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect();
                (
                    Scope::new(parent.env.clone(), parent.workdir.clone()),
                    triggers,
                )
            }
            Base::Image(reference) => {
                let config = self.images.config(reference, platform).unwrap_or_default();
                let workdir = if config.working_dir.is_empty() {
                    "/".to_string()
                } else {
                    config.working_dir
                };
                (Scope::new(config.env, workdir), config.onbuild)
            }
        }
    }

    fn step(
        &mut self,
        scope: &mut Scope,
        instruction: &Instruction,
        at: &At,
    ) -> Result<(), DockerfileError> {
        if let Kind::Arg(decls) = &instruction.kind {
            for decl in decls {
                self.stage_arg(scope, decl).map_err(|m| at.error(m))?;
            }
            return Ok(());
        }
        let index = self.stages.len() - 1;
        let op = ops::expand(self, index, scope, &instruction.kind).map_err(|m| at.error(m))?;
        self.stages[index].steps.push(Step {
            line: instruction.line,
            original: instruction.original.clone(),
            op,
        });
        Ok(())
    }

    fn finish(self) -> Result<Plan, DockerfileError> {
        let target = match &self.options.target {
            None => self.stages.len() - 1,
            Some(name) => self
                .names
                .iter()
                .position(|n| n.as_deref() == Some(name.to_ascii_lowercase().as_str()))
                .ok_or_else(|| {
                    At::new(self.file, 0, None)
                        .error(format!("target stage {name:?} could not be found"))
                })?,
        };
        let levels = crate::graph::levels(&self.stages, target).map_err(|(stage, line)| {
            At::new(self.file, line, None)
                .error(format!("circular dependency detected on stage: {stage}"))
        })?;
        let unused_build_args = self
            .options
            .build_args
            .keys()
            .filter(|k| !self.declared.contains(*k))
            .filter(|k| {
                !PREDEFINED_ARGS.contains(&k.as_str()) && !super::PROXY_ARGS.contains(&k.as_str())
            })
            .cloned()
            .collect();
        Ok(Plan {
            file: self.file.to_string(),
            stages: self.stages,
            target,
            levels,
            unused_build_args,
        })
    }
}
