//! One target's tables belong to one profile.

use des_engine::{EngineError, Mode};

use des_tests::harness::{Harness, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_writing_the_same_tables_of_the_same_target_is_refused() {
    let options = Options {
        records: 3,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let mut second = harness.profile.clone();
    second.id = uuid::Uuid::nil();
    second.name = "Second".into();
    let second = des_engine::admin::create_profile(&harness.ports, second)
        .await
        .expect("created: only activation is refused");
    let refused = des_engine::admin::activate(&harness.ports, second.id, Mode::All).await;
    let Err(EngineError::Invalid(problem)) = refused else {
        panic!("activated: {refused:?}");
    };
    let text = problem.to_string();
    for named in [
        harness.profile.name.as_str(),
        &harness.profile.id.to_string(),
        "Second",
        &second.id.to_string(),
        "account",
    ] {
        assert!(text.contains(named), "{named} not in: {text}");
    }

    // Another prefix is another set of tables.
    let mut third = harness.profile.clone();
    third.id = uuid::Uuid::nil();
    third.name = "Third".into();
    third.destination_prefix = "other".into();
    let third = des_engine::admin::create_profile(&harness.ports, third)
        .await
        .expect("created");
    des_engine::admin::activate(&harness.ports, third.id, Mode::All)
        .await
        .expect("another prefix activates");
    // And the first one may be activated again (des run does on every start).
    harness.activate(Mode::All).await;
}
