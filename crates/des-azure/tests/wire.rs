//! What the adapters put on the wire, checked with requests made outside them: base64
//! message text, the documented blob layout, Shared Key that Azurite verifies, and ETags that
//! hold between two separate clients.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use des_azure::storage::AccountKey;
use des_azure::{BlobControlStore, MAX_MESSAGE_BYTES, StorageAccount, StorageQueue};
use des_core::ports::{ControlStore, Precondition, StoreError, WorkQueue};
use des_core::profile::{DestinationType, Profile, ProfileState, RetryPolicy};
use reqwest::{Method, StatusCode};
use time::macros::datetime;
use uuid::Uuid;

use crate::azurite::{self, Raw};

/// The Functions queue trigger decodes base64: the message text on the queue is the body in
/// base64, binary bytes included.
#[tokio::test]
async fn queue_messages_are_base64_text() {
    let Some(text) = azurite::connection_string() else {
        return;
    };
    let raw = Raw::new(&text);
    let account = StorageAccount::from_connection_string(&text).expect("account");
    let name = azurite::unique("wire");
    let queue = StorageQueue::open(&account, &name).await.expect("queue");
    let body = b"{\"seq\":1}\x00\xff\xfe";
    queue.send(body, Duration::ZERO).await.expect("send");

    let mut peek = raw.queue.clone();
    peek.path_segments_mut()
        .expect("base")
        .extend([name.as_str(), "messages"]);
    peek.set_query(Some("peekonly=true"));
    let answer = raw.signed(Method::GET, &peek, &raw.key).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let xml = answer.text().await.expect("body");
    let expected = format!("<MessageText>{}</MessageText>", STANDARD.encode(body));
    assert!(xml.contains(&expected), "peeked {xml}");
}

/// The largest body the adapter accepts (48 KiB, 64 KiB once encoded) is one the service
/// takes, and comes back whole.
#[tokio::test]
async fn the_largest_body_fits_the_service_limit() {
    let Some(account) = azurite::account() else {
        return;
    };
    let queue = StorageQueue::open(&account, &azurite::unique("limit"))
        .await
        .expect("queue");
    let body: Vec<u8> = (0..MAX_MESSAGE_BYTES).map(|i| (i % 253) as u8).collect();
    queue
        .send(&body, Duration::ZERO)
        .await
        .expect("a 48 KiB body");
    let got = queue
        .receive(1, Duration::from_secs(30))
        .await
        .expect("receive");
    assert!(
        got.len() == 1 && got[0].body == body,
        "the body came back changed"
    );
}

/// Azurite checks the signature: des-azure's Shared Key with the right key reads, the same
/// request signed with another key is refused.
#[tokio::test]
async fn azurite_verifies_the_shared_key_signature() {
    let Some(text) = azurite::connection_string() else {
        return;
    };
    let raw = Raw::new(&text);
    let account = StorageAccount::from_connection_string(&text).expect("account");
    let container = azurite::unique("signed");
    let store = BlobControlStore::open(&account, &container)
        .await
        .expect("open");
    let profile = sample_profile();
    store
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");

    let url = account.blob_url(&container, &format!("profiles/{}.json", profile.id));
    let answer = raw.signed(Method::GET, &url, &raw.key).await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "signed read of the layout's blob"
    );
    let stored: Profile = answer.json().await.expect("a JSON profile");
    assert_eq!(stored, profile);

    let wrong = AccountKey::new(raw.key.account(), &STANDARD.encode([7u8; 64])).expect("key");
    let refused = raw.signed(Method::GET, &url, &wrong).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// Two processes' clients (separate accounts, pipelines and stores) on one container: the
/// ETag one read is refused once the other wrote, whichever client holds it.
#[tokio::test]
async fn etags_conflict_between_two_clients() {
    let Some(text) = azurite::connection_string() else {
        return;
    };
    let container = azurite::unique("etags");
    let open = || async {
        let account = StorageAccount::from_connection_string(&text).expect("account");
        BlobControlStore::open(&account, &container)
            .await
            .expect("open")
    };
    let (first, second) = (open().await, open().await);
    let mut profile = sample_profile();
    first
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    let seen = second
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists");

    profile.name = "first wins".to_owned();
    first
        .put_profile(&profile, Precondition::Match(seen.etag.clone()))
        .await
        .expect("first write");
    profile.name = "second loses".to_owned();
    let lost = second
        .put_profile(&profile, Precondition::Match(seen.etag))
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    let again = second
        .put_profile(&profile, Precondition::MustNotExist)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let stored = first
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.value.name, "first wins");
}

fn sample_profile() -> Profile {
    Profile {
        id: Uuid::new_v4(),
        name: "wire".to_owned(),
        version: "1".to_owned(),
        state: ProfileState::Active,
        organization_id: Uuid::new_v4(),
        organization_url: "https://contoso.crm.dynamics.com".to_owned(),
        entities: Vec::new(),
        relationships: Vec::new(),
        destination_type: DestinationType::Sqlite,
        destination_key_vault_uri: "local:target".to_owned(),
        destination_prefix: "crm".to_owned(),
        destination_schema_name: "dbo".to_owned(),
        retry_policy: RetryPolicy::default(),
        write_delete_log: true,
        created_on: datetime!(2026-01-02 03:04:05 UTC),
        modified_on: datetime!(2026-01-02 03:04:05 UTC),
    }
}
