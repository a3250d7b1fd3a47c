//! `des schema`: the DDL the planner would run for a profile, printed, no database touched.

use des_sinks::Dialect;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::config::{ConfigFile, ExportTables, ExportTablesArgs, SourceArgs, SourceSettings};
use crate::environment::{EmulatorOptions, Environment};
use crate::target::Target;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    tables: ExportTablesArgs,
    /// SQL dialect of the printed DDL.
    #[arg(long, default_value = "sqlite")]
    dialect: DialectArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DialectArg {
    Sqlite,
    Postgres,
    /// SQL Server and Azure SQL, DES's own target.
    Tsql,
}

impl DialectArg {
    fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite => Dialect::Sqlite,
            Self::Postgres => Dialect::PostgreSql,
            Self::Tsql => Dialect::TSql,
        }
    }
}

pub async fn schema(args: SchemaArgs) -> anyhow::Result<()> {
    let file = ConfigFile::load(args.source.config.as_deref())?;
    // Metadata does not depend on how many rows there are.
    let settings = SourceSettings::resolve(&args.source, &file, 1)?;
    let tables = ExportTables::resolve(&args.tables, &file);
    let env = Environment::connect(&settings, EmulatorOptions::default()).await?;
    let result = print_ddl(&env, &tables, args.dialect.dialect()).await;
    env.shutdown().await;
    result
}

async fn print_ddl(
    env: &Environment,
    tables: &ExportTables,
    dialect: Dialect,
) -> anyhow::Result<()> {
    let catalog = Catalog::load(env.client.as_ref(), &tables.entities).await?;
    let target = Target::Sqlite("unused.db".into());
    let profile = crate::profile::build(
        "des schema",
        Uuid::nil(),
        &env.org_url,
        tables,
        &catalog,
        &target,
    )?;
    let plan = catalog.plan(&profile);
    for statement in des_sinks::render_ddl(&plan, dialect) {
        println!("{};\n", statement.trim_end().trim_end_matches(';'));
    }
    Ok(())
}
