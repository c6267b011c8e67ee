//! Errors of the language: one line naming the file, the line and the
//! instruction, as in `Dockerfile:7: COPY: --chmod needs an octal mode, got "rwx"`.

use std::fmt;

/// A Dockerfile that cannot be parsed or planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DockerfileError {
    /// The file as the user named it (`Dockerfile`, `build/Containerfile`).
    pub file: String,
    /// 1-based line where the instruction starts; 0 when the error is not
    /// about one line (an empty file, an unknown `--target`).
    pub line: usize,
    /// The instruction in upper case, when the error belongs to one.
    pub instruction: Option<String>,
    pub message: String,
}

impl fmt::Display for DockerfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(i) = &self.instruction {
            write!(f, ": {i}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Where an error happened, filled in as it travels up.
#[derive(Debug, Clone, Default)]
pub(crate) struct At {
    pub file: String,
    pub line: usize,
    pub instruction: Option<String>,
}

impl At {
    pub fn new(file: &str, line: usize, instruction: Option<&str>) -> At {
        At {
            file: file.to_string(),
            line,
            instruction: instruction.map(str::to_ascii_uppercase),
        }
    }

    pub fn error(&self, message: impl Into<String>) -> DockerfileError {
        DockerfileError {
            file: self.file.clone(),
            line: self.line,
            instruction: self.instruction.clone(),
            message: message.into(),
        }
    }
}
