//! Read-only links to a profile's failure log (DES's `failures` answer), and the des-core
//! [`FailureLinks`] port (the API's seam) on top of them.
//!
//! One URL must return every line (`GET` it for the text, as the local link does), but the
//! log is one blob per hour, and a container SAS would open every profile's log (a directory
//! SAS needs a hierarchical-namespace account). So a link is to a copy: the lines as of now
//! go to `<profile id>/links/<random>.log`, outside the log's own folder, and the link is a
//! read-only service SAS of that one blob. Old copies are the IaC's lifecycle rule's to
//! delete (after the link lifetime).
//!
//! Key-based accounts (Azurite, connection strings) sign a service SAS with the account key.
//! Entra-only accounts (Shared Key disabled, as the IaC deploys) sign a user-delegation SAS
//! with a cached user delegation key (`storage::DelegationKeys`); getting one needs the
//! Storage Blob Delegator role. That path is verified piecewise (string-to-sign against an
//! independent HMAC, the key request against a loopback stand-in, the cache with an
//! injected fetcher); that Azure accepts the resulting link is known only from the
//! documentation, since Azurite serves no delegation keys to tokens over http.

use std::time::Duration;

use async_trait::async_trait;
use des_core::ports::{FailureLinks, FailureLog, FailureLogError, LinkError, Precondition};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::failure_log::{AppendBlobFailureLog, TEXT};
use crate::storage::{AccountKey, UserDelegationKey, delegated_read_blob_url, read_blob_url};

/// DES's link lifetime.
pub const LINK_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

impl AppendBlobFailureLog {
    /// A URL anyone holding it can `GET` for the profile's failure lines (as of now, one per
    /// line) for `ttl`, normally [`LINK_LIFETIME`].
    pub async fn read_link(&self, profile_id: Uuid, ttl: Duration) -> Result<Url, FailureLogError> {
        self.read_link_until(profile_id, self.clock.now() + ttl)
            .await
    }

    /// [`read_link`](Self::read_link) with an absolute expiry.
    pub async fn read_link_until(
        &self,
        profile_id: Uuid,
        expires: OffsetDateTime,
    ) -> Result<Url, FailureLogError> {
        // The key first: without one, no copy is left behind.
        let signer = self.signer(expires).await?;
        let mut text = self.read_all(profile_id).await?.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        let name = format!("{profile_id}/links/{}.log", Uuid::new_v4());
        let container = &self.container;
        container
            .write(&name, text.into_bytes(), TEXT, &Precondition::MustNotExist)
            .await?
            .ok_or_else(|| FailureLogError::Unavailable(format!("{name} already exists")))?;
        let account = container.account();
        let url = account.blob_url(container.name(), &name);
        tracing::debug!(%profile_id, "Made a failure-log link.");
        Ok(match signer {
            Signer::Account(key) => read_blob_url(key, &url, container.name(), &name, expires),
            Signer::Delegation(key) => delegated_read_blob_url(
                &key,
                account.name(),
                &url,
                container.name(),
                &name,
                expires,
            ),
        })
    }

    /// The account key, else a user delegation key valid until `expires`.
    async fn signer(&self, expires: OffsetDateTime) -> Result<Signer<'_>, FailureLogError> {
        let account = self.container.account();
        if let Some(key) = account.account_key() {
            return Ok(Signer::Account(key));
        }
        let keys = account.delegation_keys().ok_or_else(|| {
            FailureLogError::Unavailable("no account key and no Entra credential".to_owned())
        })?;
        let key = keys
            .key_for(self.clock.now(), expires)
            .await
            .map_err(|e| FailureLogError::Unavailable(e.to_string()))?;
        Ok(Signer::Delegation(key))
    }
}

/// What signs a link.
enum Signer<'a> {
    Account(&'a AccountKey),
    Delegation(UserDelegationKey),
}

#[async_trait]
impl FailureLinks for AppendBlobFailureLog {
    async fn link(&self, profile_id: Uuid, expires: OffsetDateTime) -> Result<Url, LinkError> {
        self.read_link_until(profile_id, expires)
            .await
            .map_err(|e| LinkError::Unavailable(e.to_string()))
    }
}
