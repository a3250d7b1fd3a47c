//! How to reach a SQL Server or Azure SQL target: an ADO.NET connection string (SQL
//! authentication, or Entra ID tokens from an injected source), timeouts and pool size.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use des_core::Secret;
use tiberius::{AuthMethod, EncryptionLevel};

use super::connection_string::Pairs;

// The sink's token port is des-core's, so the Azure credential bridge implements it without
// depending on this crate; re-exported under the names this module has always used.
pub use des_core::ports::{AZURE_SQL_SCOPE, AccessTokenSource, SqlTokenError as TokenError};

/// Connections kept per sink unless `Max Pool Size` says otherwise: one per table written
/// at once.
const DEFAULT_POOL_SIZE: usize = 4;
/// ADO.NET's `Connect Timeout` default.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the server may stay silent within one statement. ADO.NET's 30 s is too short for
/// the MERGE of a large initial-sync batch, so the default is longer; `Command Timeout=0`
/// waits forever.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// The connection string could not be read. The message names the problem, never the string.
#[derive(Debug, thiserror::Error)]
#[error("invalid SQL Server connection string: {0}")]
pub struct ConfigError(String);

/// How the sink signs in.
#[derive(Clone)]
pub enum Auth {
    /// `User ID` and `Password` (SQL authentication).
    SqlPassword { user: String, password: Secret },
    /// An Entra ID access token per connection (`Authentication=Active Directory ...`).
    EntraToken(Arc<dyn AccessTokenSource>),
}

/// Settings of a SQL Server target.
#[derive(Clone)]
pub struct MssqlConfig {
    base: tiberius::Config,
    host: String,
    database: Option<String>,
    auth: Option<Auth>,
    connect_timeout: Duration,
    command_timeout: Option<Duration>,
    pool_size: usize,
}

impl MssqlConfig {
    /// Reads an ADO.NET connection string. `Authentication=Active Directory Managed Identity`
    /// (or `... Default`, `... MSI`, `... Service Principal`) asks for a token source, to be
    /// given with [`with_token_source`](Self::with_token_source); otherwise `User ID` and
    /// `Password` sign in. `Encrypt` is honoured (`True`/`Mandatory`, `False`/`Optional`,
    /// `Strict` for TDS 8) and defaults to required; `TrustServerCertificate`,
    /// `HostNameInCertificate`, `Connect Timeout`, `Command Timeout`, `Max Pool Size` and
    /// `Application Name` are read too.
    pub fn parse(connection_string: &str) -> Result<Self, ConfigError> {
        let pairs = Pairs::parse(connection_string).map_err(ConfigError)?;
        let (host, port, instance) = server(&pairs)?;
        let mut base = tiberius::Config::new();
        base.host(&host);
        if let Some(port) = port {
            base.port(port);
        }
        if let Some(instance) = instance {
            base.instance_name(instance);
        }
        let database = pairs
            .get(&["database", "initial catalog"])
            .map(str::to_owned);
        if let Some(db) = &database {
            base.database(db);
        }
        base.application_name(pairs.get(&["application name", "app"]).unwrap_or("des"));
        base.encryption(encryption(&pairs)?);
        tls(&mut base, &pairs)?;
        let connect_timeout = pairs
            .seconds(&["connect timeout", "connection timeout", "timeout"])
            .map_err(ConfigError)?
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs);
        let command_timeout = match pairs.seconds(&["command timeout"]).map_err(ConfigError)? {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(DEFAULT_COMMAND_TIMEOUT),
        };
        let pool_size = match pairs.get(&["max pool size"]) {
            Some(n) => n
                .parse::<usize>()
                .map_err(|_| ConfigError("Max Pool Size must be a number".into()))?,
            None => DEFAULT_POOL_SIZE,
        };
        Ok(Self {
            base,
            host,
            database,
            auth: authentication(&pairs)?,
            connect_timeout,
            command_timeout,
            pool_size: pool_size.max(1),
        })
    }

    /// Signs in with tokens from `source` (managed identity on Azure).
    pub fn with_token_source(mut self, source: Arc<dyn AccessTokenSource>) -> Self {
        self.auth = Some(Auth::EntraToken(source));
        self
    }

    /// How long the server may stay silent within one statement; `None` waits forever.
    pub fn with_command_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// At most `size` connections at once (at least one).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// The same server and sign-in, another database.
    pub fn with_database(mut self, database: &str) -> Self {
        self.base.database(database);
        self.database = Some(database.to_owned());
        self
    }

    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    pub fn command_timeout(&self) -> Option<Duration> {
        self.command_timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// `None` when the string asked for Entra ID and no token source was given.
    pub fn auth(&self) -> Option<&Auth> {
        self.auth.as_ref()
    }

    /// The driver's settings with `auth` filled in.
    pub(super) fn tiberius(&self, auth: AuthMethod) -> tiberius::Config {
        let mut config = self.base.clone();
        config.authentication(auth);
        config.handshake_timeout(Some(self.connect_timeout));
        config.command_timeout(self.command_timeout);
        config
    }
}

/// `Server=tcp:host,port`, `host\instance` or `host`.
fn server(pairs: &Pairs) -> Result<(String, Option<u16>, Option<String>), ConfigError> {
    let keys = [
        "server",
        "data source",
        "address",
        "addr",
        "network address",
    ];
    let value = pairs
        .get(&keys)
        .ok_or_else(|| ConfigError("Server is missing".into()))?;
    let value = value.strip_prefix("tcp:").unwrap_or(value);
    let (host, port) = match value.split_once(',') {
        Some((h, p)) => {
            let port = p
                .trim()
                .parse()
                .map_err(|_| ConfigError("bad port".into()))?;
            (h.trim(), Some(port))
        }
        None => (value.trim(), None),
    };
    let (host, instance) = match host.split_once('\\') {
        // Finding a named instance's port needs the SQL Browser service, which this sink
        // does not query; Azure SQL never uses one.
        Some(_) if port.is_none() => {
            return Err(ConfigError(
                "a named instance needs its port (host\\instance,port)".into(),
            ));
        }
        Some((h, i)) => (h, Some(i.to_owned())),
        None => (host, None),
    };
    let host = if host == "(local)" || host == "." {
        "localhost"
    } else {
        host
    };
    Ok((host.to_owned(), port, instance))
}

fn encryption(pairs: &Pairs) -> Result<EncryptionLevel, ConfigError> {
    let Some(value) = pairs.get(&["encrypt"]) else {
        return Ok(EncryptionLevel::Required);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "mandatory" => Ok(EncryptionLevel::Required),
        "false" | "no" | "optional" => Ok(EncryptionLevel::Off),
        "strict" => Ok(EncryptionLevel::Strict),
        // No TLS at all, not even for the login (tiberius's spelling): loopback tests only.
        "danger_plaintext" => Ok(EncryptionLevel::NotSupported),
        _ => Err(ConfigError(
            "Encrypt must be True, False, Mandatory, Optional or Strict".into(),
        )),
    }
}

fn tls(base: &mut tiberius::Config, pairs: &Pairs) -> Result<(), ConfigError> {
    let trust = pairs
        .bool(&["trustservercertificate", "trust server certificate"])
        .map_err(ConfigError)?;
    if trust == Some(true) {
        base.trust_cert();
    }
    if let Some(name) = pairs.get(&["hostnameincertificate", "host name in certificate"]) {
        base.hostname_in_certificate(name);
    }
    Ok(())
}

/// SQL authentication, or `None` for an Entra ID method still waiting for its token source.
fn authentication(pairs: &Pairs) -> Result<Option<Auth>, ConfigError> {
    let method = pairs
        .get(&["authentication"])
        .unwrap_or("sql password")
        .to_ascii_lowercase();
    match method.as_str() {
        "sql password" | "sqlpassword" => {
            let user = pairs.get(&["user id", "uid", "user", "username"]);
            let password = pairs.get(&["password", "pwd"]).unwrap_or_default();
            Ok(user.map(|user| Auth::SqlPassword {
                user: user.to_owned(),
                password: Secret::new(password),
            }))
        }
        m if m.starts_with("active directory ") => Ok(None),
        _ => Err(ConfigError(format!(
            "Authentication={method} is not supported (use SQL Password or Active Directory)"
        ))),
    }
}

/// Names the server and database only: the password never reaches a log.
impl fmt::Debug for MssqlConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Some(Auth::SqlPassword { user, .. }) => format!("sql:{user}"),
            Some(Auth::EntraToken(_)) => "entra".to_owned(),
            None => "entra (no token source)".to_owned(),
        };
        f.debug_struct("MssqlConfig")
            .field("host", &self.host)
            .field("database", &self.database)
            .field("auth", &auth)
            .field("command_timeout", &self.command_timeout)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

#[cfg(test)]
mod tests;
