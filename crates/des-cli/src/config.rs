//! Settings shared by `run` and `schema`: flags, an optional JSON config file (`--config`),
//! and the client secret from `DES_CLIENT_SECRET`. Flags win over the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use dataverse::token::{DEFAULT_AUTHORITY, parse_authority};
use des_core::Secret;
use des_core::profile::Profile;
use serde::Deserialize;
use url::Url;

use crate::app_users::{AppUser, AppUserEntry};
use crate::target::{TARGET_ENV, Target};

/// The environment variable holding the Dataverse client secret; never a flag, so it does not
/// show up in shell history or `ps`.
pub const CLIENT_SECRET_ENV: &str = "DES_CLIENT_SECRET";

/// Where the data comes from: flags shared by every command that reads Dataverse.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// A JSON file with the same keys as the long flags (`"dataverse-url"`, `"target"`, ...).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A real Dataverse environment, e.g. https://org.crm.dynamics.com. Without it the
    /// built-in emulator serves sample data.
    #[arg(long)]
    pub dataverse_url: Option<String>,
    /// The Entra tenant id of the real environment.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The app (client) id to sign in with; the secret comes from DES_CLIENT_SECRET.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Where to sign in: a cloud (`public`, the default; `usgov`; `china`) or an authority
    /// URL (https; http only on loopback, e.g. a standalone emulator).
    #[arg(long)]
    pub authority: Option<String>,
    /// Sample records per entity in the built-in emulator (default 1000; a saved emulator
    /// state keeps its own rows).
    #[arg(long)]
    pub records: Option<usize>,
}

/// The config file: the long flags' names as keys; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    pub dataverse_url: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    /// App users besides `client-id`, each with its own secret (see `app_users`).
    #[serde(default)]
    pub more_app_users: Vec<AppUserEntry>,
    pub authority: Option<String>,
    pub records: Option<usize>,
    pub target: Option<String>,
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub entity: Vec<String>,
    pub prefix: Option<String>,
    pub schema: Option<String>,
    pub delete_log: Option<bool>,
    pub changes_per_sec: Option<f64>,
    pub port: Option<u16>,
}

impl ConfigFile {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("config file {} is not valid", path.display()))
    }
}

/// A resolved source.
#[derive(Debug, Clone)]
pub enum SourceSettings {
    /// The built-in emulator with sample data.
    Emulator { records: usize, port: u16 },
    /// A real environment signed in with client credentials.
    Dataverse {
        url: String,
        tenant: String,
        client_id: String,
        secret: Secret,
        /// App users besides `client_id`; reads are spread over all their budgets.
        more_users: Vec<AppUser>,
        /// The Entra authority (cloud) that issues its tokens.
        authority: Url,
    },
}

impl SourceSettings {
    /// Flags over file; a real environment needs the URL, tenant, client id and secret.
    pub fn resolve(
        args: &SourceArgs,
        file: &ConfigFile,
        default_records: usize,
    ) -> anyhow::Result<Self> {
        let url = args
            .dataverse_url
            .clone()
            .or_else(|| file.dataverse_url.clone());
        let authority = args.authority.clone().or_else(|| file.authority.clone());
        let Some(url) = url else {
            if authority.is_some() {
                bail!(
                    "--authority needs --dataverse-url: the built-in emulator signs in at itself"
                );
            }
            let records = args.records.or(file.records).unwrap_or(default_records);
            return Ok(Self::Emulator {
                records,
                port: file.port.unwrap_or(0),
            });
        };
        let tenant = args.tenant.clone().or_else(|| file.tenant.clone());
        let client_id = args.client_id.clone().or_else(|| file.client_id.clone());
        let (Some(tenant), Some(client_id)) = (tenant, client_id) else {
            bail!("--dataverse-url needs --tenant and --client-id (flags or config file)");
        };
        let authority = match authority {
            Some(value) => parse_authority(&value).context("bad --authority")?,
            None => Url::parse(DEFAULT_AUTHORITY)?,
        };
        let secret = std::env::var(CLIENT_SECRET_ENV).with_context(|| {
            format!("--dataverse-url needs the client secret in {CLIENT_SECRET_ENV}")
        })?;
        let more_users = crate::app_users::resolve(&client_id, &file.more_app_users, |name| {
            std::env::var(name).ok()
        })
        .context("config file")?;
        Ok(Self::Dataverse {
            url,
            tenant,
            client_id,
            secret: Secret::new(secret),
            more_users,
            authority,
        })
    }
}

/// Which tables the export writes and how they are named: options shared by `run` and
/// `schema`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportTablesArgs {
    /// Export only these entities (repeatable); default: every change-tracked entity.
    #[arg(long = "entity")]
    pub entities: Vec<String>,
    /// Table name prefix (`<prefix>_<entity>`); alphanumeric, up to 14 characters.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Target schema name.
    #[arg(long)]
    pub schema: Option<String>,
    /// Write a DeleteLog table.
    #[arg(long)]
    pub delete_log: bool,
}

/// Which tables the export writes and how they are named, resolved from flags, the config
/// file and defaults (a profile's entities, prefix, schema and DeleteLog).
#[derive(Debug, Clone)]
pub struct ExportTables {
    pub entities: Vec<String>,
    pub prefix: String,
    pub schema: String,
    pub delete_log: bool,
}

impl ExportTables {
    /// True when `profile` was not made with these tables (entities only when some are named).
    pub fn differs_from(&self, profile: &Profile) -> bool {
        let entities: Vec<&str> = profile.entity_names().collect();
        (!self.entities.is_empty() && self.entities != entities)
            || self.prefix != profile.destination_prefix
            || self.schema != profile.destination_schema_name
            || self.delete_log != profile.write_delete_log
    }

    pub fn resolve(args: &ExportTablesArgs, file: &ConfigFile) -> Self {
        let entities = if args.entities.is_empty() {
            file.entity.clone()
        } else {
            args.entities.clone()
        };
        Self {
            entities,
            prefix: args
                .prefix
                .clone()
                .or_else(|| file.prefix.clone())
                .unwrap_or_default(),
            schema: args
                .schema
                .clone()
                .or_else(|| file.schema.clone())
                .unwrap_or_else(|| "dbo".into()),
            delete_log: args.delete_log || file.delete_log.unwrap_or(false),
        }
    }
}

/// Resolves the target: flag, then `DES_TARGET`, then file, then
/// `sqlite:<data_dir>/export.db`.
pub fn resolve_target(
    flag: Option<&str>,
    file: &ConfigFile,
    data_dir: &Path,
) -> anyhow::Result<Target> {
    match target_spec(flag).or_else(|| file.target.clone()) {
        Some(spec) => spec.parse(),
        None => Ok(Target::Sqlite(data_dir.join("export.db"))),
    }
}

/// The target named by the flag or, without one, by `DES_TARGET`.
pub fn target_spec(flag: Option<&str>) -> Option<String> {
    let from_env = || std::env::var(TARGET_ENV).ok().filter(|v| !v.is_empty());
    flag.map(str::to_owned).or_else(from_env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_match_flag_names_and_unknown_keys_fail() {
        let file: ConfigFile = serde_json::from_str(
            r#"{"dataverse-url":"https://x.crm.dynamics.com","target":"sqlite:a.db","entity":["account"]}"#,
        )
        .unwrap();
        assert_eq!(
            file.dataverse_url.as_deref(),
            Some("https://x.crm.dynamics.com")
        );
        assert_eq!(file.entity, vec!["account".to_owned()]);
        assert!(serde_json::from_str::<ConfigFile>(r#"{"client-secret":"x"}"#).is_err());
    }

    #[test]
    fn no_url_means_the_emulator() {
        let args = SourceArgs {
            config: None,
            dataverse_url: None,
            tenant: None,
            client_id: None,
            authority: None,
            records: None,
        };
        let file = ConfigFile {
            records: Some(7),
            ..Default::default()
        };
        match SourceSettings::resolve(&args, &file, 1000).unwrap() {
            SourceSettings::Emulator { records, .. } => assert_eq!(records, 7),
            other => panic!("expected the emulator, got {other:?}"),
        }
    }

    #[test]
    fn a_real_environment_needs_tenant_and_client_id() {
        let args = SourceArgs {
            config: None,
            dataverse_url: Some("https://x.crm.dynamics.com".into()),
            tenant: None,
            client_id: None,
            authority: None,
            records: None,
        };
        let err = SourceSettings::resolve(&args, &ConfigFile::default(), 1).unwrap_err();
        assert!(err.to_string().contains("--tenant"), "{err}");
    }

    #[test]
    fn a_bad_authority_is_named_and_the_emulator_takes_none() {
        let args = |authority: &str| SourceArgs {
            config: None,
            dataverse_url: Some("https://x.crm.microsoftdynamics.us".into()),
            tenant: Some("t".into()),
            client_id: Some("c".into()),
            authority: Some(authority.into()),
            records: None,
        };
        // Checked before the secret is looked for, so a bad value is named first.
        let err = SourceSettings::resolve(&args("http://login.example"), &ConfigFile::default(), 1)
            .unwrap_err();
        assert!(format!("{err:#}").contains("must use https"), "{err:#}");
        let emulator = SourceArgs {
            dataverse_url: None,
            ..args("china")
        };
        let err = SourceSettings::resolve(&emulator, &ConfigFile::default(), 1).unwrap_err();
        assert!(err.to_string().contains("--dataverse-url"), "{err}");
    }

    #[test]
    fn export_tables_differ_from_a_profile_only_where_they_say_something_else() {
        let file: ConfigFile =
            serde_json::from_str(r#"{"entity":["account"],"prefix":"crm"}"#).unwrap();
        let args = ExportTablesArgs {
            entities: vec![],
            prefix: None,
            schema: None,
            delete_log: false,
        };
        let tables = ExportTables::resolve(&args, &file);
        let mut profile: Profile = serde_json::from_value(serde_json::json!({
            "Id": "00000000-0000-0000-0000-000000000000", "Name": "des run", "Version": "1.0",
            "State": "Active", "OrganizationId": "00000000-0000-0000-0000-000000000000",
            "OrganizationUrl": "http://x", "Entities": [{"Type": "account"}],
            "DestinationType": "sqlite", "DestinationKeyVaultUri": "local:target",
            "DestinationPrefix": "crm", "DestinationSchemaName": "dbo",
            "RetryPolicy": {"MaxRetryCount": 1, "IntervalInSeconds": 1}, "WriteDeleteLog": false,
            "CreatedOn": "2026-01-01T00:00:00Z", "ModifiedOn": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert!(!tables.differs_from(&profile));
        profile.destination_prefix = "other".into();
        assert!(tables.differs_from(&profile));
    }
}
