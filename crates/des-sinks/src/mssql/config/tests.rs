use async_trait::async_trait;

use super::*;

const AZURE: &str = "Server=tcp:des.database.windows.net,1433;Initial Catalog=target;\
    Persist Security Info=False;User ID=des;Password=s3cret;MultipleActiveResultSets=False;\
    Encrypt=True;TrustServerCertificate=False;Connection Timeout=30;";

struct Fixed;

#[async_trait]
impl AccessTokenSource for Fixed {
    async fn token(&self, _scope: &str) -> Result<Secret, TokenError> {
        Ok(Secret::new("token"))
    }
}

#[test]
fn reads_the_string_des_kept_in_key_vault() {
    let config = MssqlConfig::parse(AZURE).expect("parses");
    assert_eq!(config.database(), Some("target"));
    assert_eq!(config.connect_timeout(), Duration::from_secs(30));
    assert_eq!(config.command_timeout(), Some(DEFAULT_COMMAND_TIMEOUT));
    assert_eq!(config.pool_size(), DEFAULT_POOL_SIZE);
    assert!(matches!(config.auth(), Some(Auth::SqlPassword { user, .. }) if user == "des"));
    let driver = config.tiberius(AuthMethod::None);
    assert_eq!(driver.get_addr(), "des.database.windows.net:1433");
    assert_eq!(driver.get_command_timeout(), Some(DEFAULT_COMMAND_TIMEOUT));
}

#[test]
fn debug_hides_the_password() {
    let shown = format!("{:?}", MssqlConfig::parse(AZURE).expect("parses"));
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("des.database.windows.net"), "{shown}");
}

#[test]
fn entra_id_waits_for_a_token_source() {
    let text = "Server=tcp:des.database.windows.net;Database=t;\
                Authentication=Active Directory Managed Identity";
    let config = MssqlConfig::parse(text).expect("parses");
    assert!(config.auth().is_none());
    let config = config.with_token_source(Arc::new(Fixed));
    assert!(matches!(config.auth(), Some(Auth::EntraToken(_))));
    assert!(MssqlConfig::parse("Server=x;Authentication=Active Directory Password").is_ok());
    assert!(MssqlConfig::parse("Server=x;Authentication=Kerberos").is_err());
}

#[test]
fn timeouts_and_pool_are_configurable() {
    let text = "Server=localhost,14330;User ID=sa;Password=x;Command Timeout=0;Max Pool Size=0";
    let config = MssqlConfig::parse(text).expect("parses");
    assert_eq!(
        config.command_timeout(),
        None,
        "0 waits forever, as in ADO.NET"
    );
    assert_eq!(config.pool_size(), 1);
    let config = config.with_command_timeout(Some(Duration::from_secs(900)));
    assert_eq!(
        config.tiberius(AuthMethod::None).get_command_timeout(),
        Some(Duration::from_secs(900))
    );
    assert!(MssqlConfig::parse("Server=localhost,notaport").is_err());
    assert!(MssqlConfig::parse("Database=x").is_err());
    assert!(MssqlConfig::parse("Server=host\\SQLEXPRESS").is_err());
    assert!(MssqlConfig::parse("Server=host\\SQLEXPRESS,49172").is_ok());
}

#[test]
fn encrypt_is_honoured() {
    let level = |value: &str| encryption(&Pairs::parse(&format!("Encrypt={value}")).expect("p"));
    assert!(matches!(level("True"), Ok(EncryptionLevel::Required)));
    assert!(matches!(level("Mandatory"), Ok(EncryptionLevel::Required)));
    assert!(matches!(level("false"), Ok(EncryptionLevel::Off)));
    assert!(matches!(level("Strict"), Ok(EncryptionLevel::Strict)));
    assert!(level("maybe").is_err());
    let absent = encryption(&Pairs::parse("Server=x").expect("p"));
    assert!(matches!(absent, Ok(EncryptionLevel::Required)));
}
