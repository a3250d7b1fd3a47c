//! The Azure names the handlers, these adapters and the IaC share (one source of truth:
//! `docs/azure-names.md`; a test in `infra/` checks the Bicep and Terraform files use them).

/// The work queue the poller fills and the applier drains.
pub const WORK_QUEUE: &str = "des-apply";
/// Where the Functions host moves a message after its last failed try.
pub const POISON_QUEUE: &str = "des-apply-poison";

/// Organizations, profiles, cursors and stats (one JSON blob each).
pub const CONTROL_CONTAINER: &str = "des-control";
/// Batches too big for a queue message, plans and poison copies.
pub const PAYLOAD_CONTAINER: &str = "des-payloads";
/// Failure logs in DES's hourly layout.
pub const FAILURE_CONTAINER: &str = "des-failures";

/// Function app suffixes (`<prefix>-api`, ...) and function names.
pub const API_APP_SUFFIX: &str = "-api";
pub const POLLER_APP_SUFFIX: &str = "-poller";
pub const APPLIER_APP_SUFFIX: &str = "-applier";
pub const API_FUNCTION: &str = "api";
pub const POLL_FUNCTION: &str = "poll";
pub const APPLY_FUNCTION: &str = "apply";

/// The storage connection: a connection string locally, or the identity-based
/// `AzureWebJobsStorage__blobServiceUri` / `__queueServiceUri` / `__credential` settings.
pub const STORAGE_SETTING: &str = "AzureWebJobsStorage";
pub const BLOB_SERVICE_URI_SUFFIX: &str = "__blobServiceUri";
pub const QUEUE_SERVICE_URI_SUFFIX: &str = "__queueServiceUri";
/// `__accountName`: both service URIs of a public-cloud account, by its name.
pub const ACCOUNT_NAME_SUFFIX: &str = "__accountName";
pub const CREDENTIAL_SUFFIX: &str = "__credential";
/// `__clientId`: a user-assigned identity for the storage connection.
pub const CLIENT_ID_SUFFIX: &str = "__clientId";
/// The `__credential` value that selects the managed identity.
pub const MANAGED_IDENTITY: &str = "managedidentity";

/// Timer schedule of the poller (NCRONTAB) and its default: every minute, which keeps
/// changes within about a minute of the source at a small cost (infra/README.md, "Cost").
pub const POLL_SCHEDULE_SETTING: &str = "DES_POLL_SCHEDULE";
pub const DEFAULT_POLL_SCHEDULE: &str = "0 * * * * *";
/// Seconds one poll may run and the default.
pub const POLL_BUDGET_SETTING: &str = "DES_POLL_BUDGET_SECONDS";
pub const DEFAULT_POLL_BUDGET_SECONDS: u64 = 50;
pub const API_AUTHORITY_SETTING: &str = "DES_API_AUTHORITY";
pub const API_AUDIENCE_SETTING: &str = "DES_API_AUDIENCE";
/// Optional: the delegated permission user tokens must carry (default `user_impersonation`).
pub const API_SCOPE_SETTING: &str = "DES_API_SCOPE";
/// Optional: app roles that admit app-only tokens (comma-separated); unset refuses them.
pub const API_APP_ROLES_SETTING: &str = "DES_API_APP_ROLES";
pub const PUBLIC_BASE_URL_SETTING: &str = "DES_PUBLIC_BASE_URL";
pub const KEYVAULT_URL_SETTING: &str = "DES_KEYVAULT_URL";
/// Tries before a message is poison, and the default (the Functions host's own).
pub const MAX_DEQUEUE_COUNT_SETTING: &str = "DES_MAX_DEQUEUE_COUNT";
pub const DEFAULT_MAX_DEQUEUE_COUNT: u32 = 5;
