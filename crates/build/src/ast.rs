//! The parsed Dockerfile: instructions with their flags and arguments as
//! written (not yet expanded; expansion needs the stage's variables and is
//! done by [`mod@crate::plan`]).

use std::time::Duration;

/// A whole parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub file: String,
    /// The escape character from `# escape=` (`\` unless set to `` ` ``).
    pub escape: char,
    /// The `# syntax=` directive, accepted and ignored.
    pub syntax: Option<String>,
    pub instructions: Vec<Instruction>,
    /// Things Docker warns about (empty continuation lines).
    pub warnings: Vec<String>,
}

/// One instruction with the lines it spans (1-based, inclusive; heredoc
/// bodies included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub line: usize,
    pub end_line: usize,
    /// The logical line as written after joining continuations.
    pub original: String,
    pub kind: Kind,
}

impl Instruction {
    /// The keyword in upper case (`COPY`).
    pub fn keyword(&self) -> &'static str {
        self.kind.keyword()
    }
}

/// A command as RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// JSON array form: run as is.
    Exec(Vec<String>),
    /// Shell form: run through the stage's SHELL.
    Shell(String),
}

/// `<<[-]NAME` and the lines up to `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter without quotes.
    pub name: String,
    /// The lines between the instruction and the delimiter, each with its
    /// newline, tabs not yet stripped.
    pub content: String,
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from each line and the delimiter.
    pub chomp: bool,
    /// `3<<EOF` gives 3; 0 when not written.
    pub fd: u32,
}

impl Heredoc {
    /// The content with leading tabs removed when chomped.
    pub fn body(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content
            .split_inclusive('\n')
            .map(|l| l.trim_start_matches('\t'))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    pub image: String,
    /// `AS name`, lower-cased as Docker does.
    pub name: Option<String>,
    pub platform: Option<String>,
}

/// `--network=` of RUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Default,
    None,
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub command: Command,
    pub heredocs: Vec<Heredoc>,
    pub mounts: Vec<crate::mount::Mount>,
    pub network: Option<Network>,
}

impl Run {
    /// The text to hand the shell: the command line followed by each
    /// heredoc body and its delimiter, so that the shell reads the heredocs
    /// itself (tab stripping of `<<-` included). `None` for exec form.
    pub fn shell_script(&self) -> Option<String> {
        let Command::Shell(line) = &self.command else {
            return None;
        };
        let mut script = line.clone();
        for doc in &self.heredocs {
            script.push('\n');
            script.push_str(&doc.content);
            if !doc.content.is_empty() && !doc.content.ends_with('\n') {
                script.push('\n');
            }
            script.push_str(&doc.name);
        }
        Some(script)
    }
}

/// A COPY or ADD source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path (or glob) in the context or the `--from` stage, or for ADD a URL.
    Path(String),
    /// An inline file from a heredoc.
    Heredoc(Heredoc),
}

/// COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    pub sources: Vec<Source>,
    pub dest: String,
    pub from: Option<String>,
    pub chown: Option<String>,
    /// As written; checked to be octal here when it has no variables and
    /// again after expansion.
    pub chmod: Option<String>,
    pub link: bool,
    /// ADD only: `sha256:<hex>` the download must have.
    pub checksum: Option<String>,
}

/// `name=value` of ENV and LABEL, unexpanded (quotes still in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthOptions {
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    Check {
        command: Command,
        options: HealthOptions,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    From(From),
    Run(Run),
    Copy(CopySpec),
    Add(CopySpec),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Workdir(String),
    User(String),
    Expose(Vec<String>),
    Label(Vec<KeyValue>),
    Entrypoint(Command),
    Cmd(Command),
    Volume(Vec<String>),
    Shell(Vec<String>),
    StopSignal(String),
    Healthcheck(Healthcheck),
    /// The trigger as written (stored in the image, run by the builds that
    /// use it as a base) and its parsed form, checked now.
    Onbuild {
        trigger: String,
        parsed: Box<Instruction>,
    },
    Maintainer(String),
}

impl Kind {
    pub fn keyword(&self) -> &'static str {
        match self {
            Kind::From(_) => "FROM",
            Kind::Run(_) => "RUN",
            Kind::Copy(_) => "COPY",
            Kind::Add(_) => "ADD",
            Kind::Env(_) => "ENV",
            Kind::Arg(_) => "ARG",
            Kind::Workdir(_) => "WORKDIR",
            Kind::User(_) => "USER",
            Kind::Expose(_) => "EXPOSE",
            Kind::Label(_) => "LABEL",
            Kind::Entrypoint(_) => "ENTRYPOINT",
            Kind::Cmd(_) => "CMD",
            Kind::Volume(_) => "VOLUME",
            Kind::Shell(_) => "SHELL",
            Kind::StopSignal(_) => "STOPSIGNAL",
            Kind::Healthcheck(_) => "HEALTHCHECK",
            Kind::Onbuild { .. } => "ONBUILD",
            Kind::Maintainer(_) => "MAINTAINER",
        }
    }
}
