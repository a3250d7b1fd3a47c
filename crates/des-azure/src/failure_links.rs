//! Read-only links to a profile's failure log (DES's `failures` answer), and the des-api
//! [`FailureLinks`] seam on top of them.
//!
//! One URL must return every line (`GET` it for the text, as the local link does), but the
//! log is one blob per hour, and a container SAS would open every profile's log (a directory
//! SAS needs a hierarchical-namespace account). So a link is to a copy: the lines as of now
//! go to `<profile id>/links/<random>.log`, outside the log's own folder, and the link is a
//! read-only service SAS of that one blob. Old copies are the IaC's lifecycle rule's to
//! delete (after the link lifetime).
//!
//! Signing needs the account key (Azurite, key-based accounts). On Entra-only accounts the
//! seam is a user-delegation SAS (`BlobServiceClient::get_user_delegation_key`, signed with
//! `azure_storage_sas`); it cannot be tested against Azurite, so it is not implemented and
//! such accounts answer `Unavailable` naming it.

use std::time::Duration;

use async_trait::async_trait;
use des_api::{FailureLinks, LinkError};
use des_core::ports::{FailureLog, FailureLogError, Precondition};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::failure_log::{AppendBlobFailureLog, TEXT};
use crate::storage::read_blob_url;

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
        let account = self.container.account();
        let Some(key) = account.account_key() else {
            return Err(FailureLogError::Unavailable(
                "failure links on an Entra-only account need a user-delegation SAS, \
                 which is not implemented"
                    .to_owned(),
            ));
        };
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
        let url = account.blob_url(container.name(), &name);
        tracing::debug!(%profile_id, "Made a failure-log link.");
        Ok(read_blob_url(key, &url, container.name(), &name, expires))
    }
}

#[async_trait]
impl FailureLinks for AppendBlobFailureLog {
    async fn link(&self, profile_id: Uuid, expires: OffsetDateTime) -> Result<Url, LinkError> {
        self.read_link_until(profile_id, expires)
            .await
            .map_err(|e| LinkError::Unavailable(e.to_string()))
    }
}
