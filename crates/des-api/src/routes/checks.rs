//! `profiles/{id}/test` and `profiles/validate`: the real checks, each reported with its
//! name, whether it passed and why. Messages name secrets by reference only.

use axum::Json;
use axum::extract::{Path, State};
use des_core::ports::{Organization, Sink};
use des_core::profile::Profile;
use des_core::schema::{Naming, plan};
use des_engine::EngineError;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::body::DesJson;
use crate::error::ApiResult;
use crate::profile_body::{ProfileBody, source_problems};
use crate::query::Query;
use crate::routes::profiles::{authorized, body_org};
use crate::state::ApiState;

/// One check.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Check {
    name: &'static str,
    passed: bool,
    message: String,
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    let (passed, message) = match result {
        Ok(message) => (true, message),
        Err(message) => (false, message),
    };
    Check {
        name,
        passed,
        message,
    }
}

/// The answer of `test` and `validate`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestReport {
    profile_id: Option<Uuid>,
    succeeded: bool,
    checks: Vec<Check>,
}

pub async fn test(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TestReport>> {
    let (stored, org) = authorized(&state, &caller, &id).await?;
    let checks = run(&state, &stored.value, &org).await;
    Ok(Json(report(Some(stored.value.id), checks)))
}

pub async fn validate(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
    DesJson(body): DesJson<ProfileBody>,
) -> ApiResult<Json<TestReport>> {
    let org = body_org(&state, &caller, &body, &query).await?;
    let profile = body.into_profile(Uuid::nil(), &org, state.engine().clock.now())?;
    let checks = run(&state, &profile, &org).await;
    Ok(Json(report(None, checks)))
}

fn report(profile_id: Option<Uuid>, checks: Vec<Check>) -> TestReport {
    TestReport {
        profile_id,
        succeeded: checks.iter().all(|c| c.passed),
        checks,
    }
}

async fn run(state: &ApiState, profile: &Profile, org: &Organization) -> Vec<Check> {
    let mut checks = vec![secret_check(state, profile).await];
    // A sink is built lazily: only a real connection and a query say it can be reached.
    let sink = match state.engine().sinks.sink(profile).await {
        Ok(sink) => sink.ping().await.map(|()| sink).map_err(EngineError::from),
        Err(e) => Err(e),
    };
    checks.push(check(
        "TargetReachable",
        match &sink {
            Ok(_) => Ok("The target database answered a query.".to_owned()),
            Err(e) => Err(format!(
                "The target database could not be used ({} error): {e}",
                e.class()
            )),
        },
    ));
    checks.push(permission_check(sink.ok(), profile).await);
    checks.push(source_check(state, org).await);
    checks.push(entities_check(state, profile).await);
    checks.push(check(
        "PrivacyTermsAccepted",
        match org.privacy_terms_accepted {
            true => Ok("The organization accepted the privacy terms.".to_owned()),
            false => Err("The organization has not accepted the privacy terms.".to_owned()),
        },
    ));
    checks
}

async fn secret_check(state: &ApiState, profile: &Profile) -> Check {
    let reference = &profile.destination_key_vault_uri;
    let result = match state.secrets().get(reference).await {
        Ok(_) => Ok(format!("The secret {reference} was resolved.")),
        Err(e) => Err(format!("DestinationKeyVaultUri: {e}")),
    };
    check("SecretResolved", result)
}

/// DES's permission set on the target, tried on an empty plan with the profile's naming.
async fn permission_check(sink: Option<std::sync::Arc<dyn Sink>>, profile: &Profile) -> Check {
    let Some(sink) = sink else {
        return check(
            "TargetPermissions",
            Err("Skipped: the target is not reachable.".into()),
        );
    };
    let naming = Naming::from_profile(profile);
    let result = match sink.check_permissions(&plan(&naming, &[], &[], &[])).await {
        Err(e) => Err(format!("The permissions could not be checked: {e}")),
        Ok(found) => {
            let missing: Vec<&str> = found
                .iter()
                .filter(|p| !p.granted)
                .map(|p| p.permission.as_str())
                .collect();
            let all: Vec<&str> = found.iter().map(|p| p.permission.as_str()).collect();
            match missing.is_empty() {
                true => Ok(format!("Granted: {}.", all.join(", "))),
                false => Err(format!("Missing: {}.", missing.join(", "))),
            }
        }
    };
    check("TargetPermissions", result)
}

async fn source_check(state: &ApiState, org: &Organization) -> Check {
    let result = match state.admins().who_am_i(org).await {
        Ok(user) => Ok(format!(
            "Signed in to {} as user {user}.",
            org.organization_url
        )),
        Err(e) => Err(format!(
            "{} could not be reached: {e}",
            org.organization_url
        )),
    };
    check("SourceReachable", result)
}

async fn entities_check(state: &ApiState, profile: &Profile) -> Check {
    let result = match state.engine().sources.source(profile.organization_id).await {
        Err(e) => Err(format!("The source could not be opened: {e}")),
        Ok(source) => match source_problems(profile, source.as_ref()).await {
            Err(e) => Err(format!(
                "The source metadata could not be read: {}",
                e.message
            )),
            Ok(problems) if problems.is_empty() => {
                Ok("Every entity exists and is change-tracked.".to_owned())
            }
            Ok(problems) => Err(problems.join("; ")),
        },
    };
    check("EntitiesExportable", result)
}
