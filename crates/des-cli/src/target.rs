//! The SQL target, named as `<kind>:<where>`. Only SQLite exists today; PostgreSQL and SQL
//! Server targets add a variant here and an arm in [`Target::open`], nothing else changes.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use des_core::ports::Sink;
use des_core::profile::DestinationType;

/// Where replicated rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `sqlite:<path>`
    Sqlite(PathBuf),
}

impl FromStr for Target {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> anyhow::Result<Self> {
        let Some((kind, rest)) = spec.split_once(':') else {
            bail!("target '{spec}' must look like sqlite:<path>");
        };
        match kind {
            "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(PathBuf::from(rest))),
            "sqlite" => bail!("target '{spec}' needs a file path after 'sqlite:'"),
            other => bail!("target kind '{other}' is not supported yet (supported: sqlite)"),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
        }
    }
}

impl Target {
    pub fn destination_type(&self) -> DestinationType {
        match self {
            Self::Sqlite(_) => DestinationType::Sqlite,
        }
    }

    /// Opens the sink, creating the database file (and its folder) if needed.
    pub fn open(&self) -> anyhow::Result<Arc<dyn Sink>> {
        match self {
            Self::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let config = des_sinks::sqlite::SqliteConfig::new(path);
                let sink = des_sinks::sqlite::SqliteSink::open(&config)
                    .with_context(|| format!("cannot open target {self}"))?;
                Ok(Arc::new(sink))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_and_refuses_the_rest() {
        assert_eq!(
            "sqlite:./x/e.db".parse::<Target>().unwrap(),
            Target::Sqlite("./x/e.db".into())
        );
        assert!("sqlite:".parse::<Target>().is_err());
        assert!(
            "postgres://h/db"
                .parse::<Target>()
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
        assert!("e.db".parse::<Target>().is_err());
    }
}
