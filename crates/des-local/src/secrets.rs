//! [`LocalSecrets`]: secret references resolved from environment variables or a local file.
//!
//! References:
//! - `local:<name>`: the env var `DES_SECRET_<NAME>` (upper-cased, every non-alphanumeric
//!   character as `_`), else the key `<name>` of the secrets file (a JSON object of strings).
//! - `env:<VAR>`: the env var `VAR` as is.
//!
//! The secrets file is refused (`SecretError::Unavailable`) when other users may read it, as
//! ssh does with private keys; a missing file holds no secrets. Errors name references, files
//! and names, never values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use des_core::Secret;
use des_core::ports::{SecretError, Secrets};

/// Where environment variables come from.
#[derive(Debug, Clone)]
enum Environment {
    Process,
    /// A fixed set, for tests and for callers that snapshot the environment.
    Fixed(HashMap<String, String>),
}

/// The local [`Secrets`].
#[derive(Debug, Clone)]
pub struct LocalSecrets {
    env: Environment,
    file: Option<PathBuf>,
}

impl Default for LocalSecrets {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed reference.
enum Reference<'a> {
    Local(&'a str),
    Env(&'a str),
}

impl<'a> Reference<'a> {
    fn parse(reference: &'a str) -> Option<Self> {
        if let Some(name) = reference.strip_prefix("local:") {
            return (!name.trim().is_empty()).then_some(Self::Local(name));
        }
        let var = reference.strip_prefix("env:")?;
        let valid = !var.is_empty() && !var.contains(['=', '\0']);
        valid.then_some(Self::Env(var))
    }
}

impl LocalSecrets {
    /// Resolves from the process environment, with no secrets file.
    pub fn new() -> Self {
        Self {
            env: Environment::Process,
            file: None,
        }
    }

    /// Also looks `local:` names up in the JSON file at `path`.
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Reads env vars from `vars` instead of the process environment.
    pub fn with_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.env = Environment::Fixed(vars);
        self
    }

    /// The env var that holds `local:<name>`: `DES_SECRET_<NAME>`.
    pub fn env_var_name(name: &str) -> String {
        let suffix: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("DES_SECRET_{suffix}")
    }

    fn var(&self, name: &str) -> Option<String> {
        match &self.env {
            Environment::Process => std::env::var(name).ok(),
            Environment::Fixed(vars) => vars.get(name).cloned(),
        }
    }

    async fn file_value(&self, name: &str) -> Result<Option<String>, SecretError> {
        let Some(path) = self.file.clone() else {
            return Ok(None);
        };
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || read_file_secret(&path, &name))
            .await
            .map_err(|e| SecretError::Unavailable(e.to_string()))?
    }
}

fn unavailable(path: &Path, problem: impl std::fmt::Display) -> SecretError {
    SecretError::Unavailable(format!("secrets file {}: {problem}", path.display()))
}

fn read_file_secret(path: &Path, name: &str) -> Result<Option<String>, SecretError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unavailable(path, e)),
    };
    check_private(path)?;
    // Report only the position of a syntax error: serde's message could quote a value.
    let secrets: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| {
            let at = format!(
                "not a JSON object (line {}, column {})",
                e.line(),
                e.column()
            );
            unavailable(path, at)
        })?;
    match secrets.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(unavailable(
            path,
            format!("the value of {name} is not a string"),
        )),
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| unavailable(path, e))?
        .permissions()
        .mode();
    if mode & 0o007 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777),
            "Refusing a secrets file that other users can access.");
        let problem = format!(
            "other users can access it (mode {:o}); chmod 600 it",
            mode & 0o777
        );
        return Err(unavailable(path, problem));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), SecretError> {
    Ok(())
}

#[async_trait]
impl Secrets for LocalSecrets {
    async fn get(&self, reference: &str) -> Result<Secret, SecretError> {
        let not_found = || SecretError::NotFound(reference.to_owned());
        match Reference::parse(reference) {
            None => Err(SecretError::BadReference(reference.to_owned())),
            Some(Reference::Env(var)) => self.var(var).map(Secret::new).ok_or_else(not_found),
            Some(Reference::Local(name)) => {
                if let Some(value) = self.var(&Self::env_var_name(name)) {
                    return Ok(Secret::new(value));
                }
                self.file_value(name)
                    .await?
                    .map(Secret::new)
                    .ok_or_else(not_found)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_are_upper_cased_with_underscores() {
        assert_eq!(
            LocalSecrets::env_var_name("sql-main.conn"),
            "DES_SECRET_SQL_MAIN_CONN"
        );
        assert_eq!(LocalSecrets::env_var_name("Pg2"), "DES_SECRET_PG2");
    }

    #[test]
    fn references_need_a_known_scheme_and_a_name() {
        assert!(matches!(
            Reference::parse("local:a"),
            Some(Reference::Local("a"))
        ));
        assert!(matches!(
            Reference::parse("env:HOME"),
            Some(Reference::Env("HOME"))
        ));
        for bad in [
            "local:",
            "local:  ",
            "env:",
            "env:A=B",
            "a",
            "https://kv/secrets/x",
        ] {
            assert!(Reference::parse(bad).is_none(), "{bad}");
        }
    }
}
