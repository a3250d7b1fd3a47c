//! WhoAmI and the System Administrator check (direct role or through a team).

use des_core::ports::SourceError;
use uuid::Uuid;

use crate::support::env;

#[tokio::test]
async fn application_user_is_found_and_is_system_admin() {
    let env = env(5, 50).await;
    let me = env.client.who_am_i().await.expect("WhoAmI");
    assert!(
        env.client
            .is_user_system_admin(me.user_id)
            .await
            .expect("role check")
    );
    assert_eq!(
        dataverse::SYSTEM_ADMIN_ROLE_TEMPLATE.to_string(),
        dataverse_emulator::SYSTEM_ADMIN_ROLE_TEMPLATE.to_ascii_lowercase()
    );
}

#[tokio::test]
async fn admin_is_found_directly_or_through_a_team_and_others_are_not() {
    let env = env(5, 50).await;
    let control = env.emulator.control();
    let (direct, plain, via_team) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    control.add_user(direct, "Direct Admin", true);
    control.add_user(plain, "Plain User", false);
    control.add_team_admin(via_team);
    assert!(env.client.is_system_admin(direct).await.expect("direct"));
    assert!(!env.client.is_system_admin(plain).await.expect("plain"));
    assert!(env.client.is_system_admin(via_team).await.expect("team"));
    let stranger = env
        .client
        .is_system_admin(Uuid::new_v4())
        .await
        .expect("unknown user");
    assert!(!stranger, "no user in the environment, no admin");
}

#[tokio::test]
async fn role_check_of_a_missing_user_is_a_service_error() {
    let env = env(5, 50).await;
    match env.client.is_user_system_admin(Uuid::new_v4()).await {
        Err(SourceError::Service { status, .. }) => assert_eq!(status, 404),
        other => panic!("expected a 404, got {other:?}"),
    }
}
