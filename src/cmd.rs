//! A command as a value. Adapters build them ([`crate::zfs`], [`crate::devmapper`], ...), one
//! executor runs and logs them ([`crate::exec`]), and `zevac plan` prints them: what is shown is
//! what runs.

use std::fmt;

use serde::Serialize;

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
}

impl Cmd {
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_string(),
            args: Vec::new(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// The command line as a POSIX shell would need it typed, so a printed plan can be pasted.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        for arg in &self.args {
            write!(f, " {}", quoted(arg))?;
        }
        Ok(())
    }
}

/// `arg` as a shell word. `shell_words` quotes anything beyond a narrow set, `=` and `,`
/// included, which no shell treats specially after the command's name: those stay bare, so
/// `zpool add -o ashift=12` reads as a person types it.
fn quoted(arg: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.into()
    } else {
        shell_words::quote(arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_a_shell_line_that_splits_back_into_the_same_words() {
        let cmd = Cmd::new("dmsetup")
            .args(["create", "zevac-origin", "--table"])
            .arg("0 2048 snapshot /dev/a /dev/b P 8");
        let line = cmd.to_string();
        assert_eq!(
            line,
            "dmsetup create zevac-origin --table '0 2048 snapshot /dev/a /dev/b P 8'"
        );
        let words = shell_words::split(&line).unwrap();
        assert_eq!(words[0], cmd.program);
        assert_eq!(words[1..], cmd.args[..]);
        assert_eq!(
            Cmd::new("zpool").arg("version").to_string(),
            "zpool version"
        );
    }
}
