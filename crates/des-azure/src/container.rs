//! [`Container`]: one blob container used as a key-value store with ETag preconditions, the
//! ground the control store and the payload store stand on.

use azure_core::http::{Etag, RequestContent};
use azure_storage_blob::models::{
    BlobClientDeleteOptions, BlobContainerClientListBlobsOptions, BlockBlobClientUploadOptions,
};
use des_core::ports::{self, Precondition};
use futures::TryStreamExt;

use crate::storage::{StorageAccount, answer, describe, status};

/// A storage call failed for a reason other than a precondition; the text holds the status
/// and error code only.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unavailable(pub(crate) String);

impl From<azure_core::Error> for Unavailable {
    fn from(error: azure_core::Error) -> Self {
        Self(describe(&error))
    }
}

impl From<crate::storage::ConfigError> for Unavailable {
    fn from(error: crate::storage::ConfigError) -> Self {
        Self(error.to_string())
    }
}

/// A blob's bytes and the ETag they were read at.
pub(crate) struct Stored {
    pub(crate) bytes: Vec<u8>,
    pub(crate) etag: ports::Etag,
}

#[derive(Debug, Clone)]
pub(crate) struct Container {
    account: StorageAccount,
    name: String,
}

impl Container {
    /// The container `name` of `account`, created if missing and allowed.
    pub(crate) async fn open(account: &StorageAccount, name: &str) -> Result<Self, Unavailable> {
        match account.container(name)?.create(None).await {
            Ok(_) => {}
            // 409 ContainerAlreadyExists. 403: an identity with data-plane roles only (the
            // least-privilege deployment in infra/ creates the containers itself) may not create
            // one; a container that is really missing then fails the first read or write.
            Err(e) if matches!(status(&e), Some(409 | 403)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Self {
            account: account.clone(),
            name: name.to_owned(),
        })
    }

    pub(crate) fn account(&self) -> &StorageAccount {
        &self.account
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The blob's bytes and ETag, or `None` if there is no such blob.
    pub(crate) async fn read(&self, key: &str) -> Result<Option<Stored>, Unavailable> {
        let download = match self.account.blob(&self.name, key)?.download(None).await {
            Ok(download) => download,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let etag = download.properties.etag.clone();
        let bytes = download.body.collect().await?;
        let etag = etag.ok_or_else(|| Unavailable(format!("{key} was read without an ETag")))?;
        Ok(Some(Stored {
            bytes: bytes.to_vec(),
            etag: ports::Etag(etag.to_string()),
        }))
    }

    /// Writes the blob if `when` holds: the new ETag, or `None` when the precondition failed.
    pub(crate) async fn write(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        when: &Precondition,
    ) -> Result<Option<ports::Etag>, Unavailable> {
        let mut options = BlockBlobClientUploadOptions {
            blob_content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        match when {
            Precondition::None => {}
            Precondition::MustNotExist => options.if_none_match = Some(Etag::from("*")),
            Precondition::Match(etag) => options.if_match = Some(Etag::from(etag.0.as_str())),
        }
        let blob = self.account.blob(&self.name, key)?;
        match blob
            .upload(RequestContent::from(bytes), Some(options))
            .await
        {
            Ok(done) => {
                let etag = done
                    .etag
                    .ok_or_else(|| Unavailable(format!("{key} was written without an ETag")))?;
                Ok(Some(ports::Etag(etag.to_string())))
            }
            Err(e) if refused(&e, when) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the blob; a missing one is fine (deliveries repeat).
    pub(crate) async fn delete(&self, key: &str) -> Result<(), Unavailable> {
        let options = BlobClientDeleteOptions::default();
        match self
            .account
            .blob(&self.name, key)?
            .delete(Some(options))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of the blobs starting with `prefix`, in name order.
    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<String>, Unavailable> {
        let options = BlobContainerClientListBlobsOptions {
            prefix: Some(prefix.to_owned()),
            ..Default::default()
        };
        let mut pages = self
            .account
            .container(&self.name)?
            .list_blobs(Some(options))?;
        let mut names = Vec::new();
        while let Some(item) = pages.try_next().await? {
            names.extend(item.name);
        }
        Ok(names)
    }
}

/// Whether the service refused a conditional write because its precondition failed:
/// 409 `BlobAlreadyExists` or 412 `ConditionNotMet`, and for `Match` a 404 `BlobNotFound`
/// (the blob is gone; a missing container stays an error).
fn refused(error: &azure_core::Error, when: &Precondition) -> bool {
    match (answer(error), when) {
        (_, Precondition::None) => false,
        (Some((409 | 412, _)), _) => true,
        (Some((404, Some("BlobNotFound"))), Precondition::Match(_)) => true,
        _ => false,
    }
}
