//! des-azure against Azurite: the same port contract suites the local adapters pass, then
//! what only Azure has (SAS links, base64 messages on the wire, Shared Key, ETags between
//! separate clients). Key Vault and the managed identity have no emulator: the secrets suite
//! runs over an injected fetcher, the managed identity against a loopback stand-in.

mod azurite;
mod contracts;

mod credential;
mod delegation;
mod failure_links;
mod secrets;
mod wire;
