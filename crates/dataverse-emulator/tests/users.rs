//! Users and roles: WhoAmI, systemusers by Entra object id, direct and team System Administrator.

use crate::support::{Env, env};
use dataverse_emulator::SYSTEM_ADMIN_ROLE_TEMPLATE;
use serde_json::Value;
use uuid::Uuid;

async fn templates(env: &Env, path: &str) -> Vec<String> {
    let r = env.get(path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|v| v["_roletemplateid_value"].as_str().map(str::to_owned))
        .collect()
}

/// The check a replicator makes: direct roles, then roles of the user's teams.
async fn is_admin(env: &Env, user: &str) -> bool {
    let direct = templates(env, &format!("systemusers({user})/systemuserroles_association?$select=name,roleid,_roletemplateid_value")).await;
    if direct.iter().any(|t| t == SYSTEM_ADMIN_ROLE_TEMPLATE) {
        return true;
    }
    let teams = env
        .get(&format!(
            "systemusers({user})/teammembership_association?$select=teamid"
        ))
        .await;
    for team in teams.body["value"].as_array().expect("value") {
        let id = team["teamid"].as_str().expect("teamid");
        if templates(
            env,
            &format!("teams({id})/teamroles_association?$select=_roletemplateid_value"),
        )
        .await
        .iter()
        .any(|t| t == SYSTEM_ADMIN_ROLE_TEMPLATE)
        {
            return true;
        }
    }
    false
}

async fn user_by_oid(env: &Env, oid: Uuid) -> Value {
    let r = env.get(&format!("systemusers?$select=fullname,azureactivedirectoryobjectid&$filter=azureactivedirectoryobjectid eq {oid}")).await;
    r.body["value"][0].clone()
}

#[tokio::test]
async fn application_user_is_system_administrator() {
    let env = env().await;
    let me = env.get("WhoAmI").await.body["UserId"]
        .as_str()
        .expect("user")
        .to_owned();
    let row = env
        .get(&format!("systemusers({me})?$select=applicationid,fullname"))
        .await;
    assert_eq!(row.body["applicationid"], env.emu.client_id());
    assert!(is_admin(&env, &me).await);
    let roles = env.get("roles?$select=name,_roletemplateid_value").await;
    assert!(roles.text.contains(SYSTEM_ADMIN_ROLE_TEMPLATE));
}

#[tokio::test]
async fn users_by_object_id_direct_and_team_admin() {
    let env = env().await;
    let c = env.emu.control();
    let (admin, plain, via_team) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let admin_id = c.add_user(admin, "Ada Admin", true);
    c.add_user(plain, "Pat Plain", false);
    c.add_team_admin(via_team);
    let row = user_by_oid(&env, admin).await;
    assert_eq!(row["systemuserid"], admin_id.to_string());
    assert_eq!(row["fullname"], "Ada Admin");
    assert!(is_admin(&env, &admin_id.to_string()).await);
    let plain_id = user_by_oid(&env, plain).await["systemuserid"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(!is_admin(&env, &plain_id).await);
    let team_id = user_by_oid(&env, via_team).await["systemuserid"]
        .as_str()
        .expect("id")
        .to_owned();
    let direct = templates(
        &env,
        &format!(
            "systemusers({team_id})/systemuserroles_association?$select=_roletemplateid_value"
        ),
    )
    .await;
    assert!(
        !direct.iter().any(|t| t == SYSTEM_ADMIN_ROLE_TEMPLATE),
        "no direct admin role"
    );
    assert!(is_admin(&env, &team_id).await, "admin through the team");
}

#[tokio::test]
async fn user_tokens_are_accepted() {
    let env = env().await;
    let oid = Uuid::new_v4();
    env.emu.control().add_user(oid, "Token User", false);
    let url = format!("{}/_emulator/users/{oid}/token", env.emu.base_url());
    let body: Value = env
        .http
        .post(url)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let token = body["access_token"].as_str().expect("token");
    let r = env
        .http
        .get(env.url("WhoAmI"))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let minted = env.emu.control().mint_user_token(oid, &env.emu.base_url());
    assert_eq!(
        env.http
            .get(env.url("WhoAmI"))
            .bearer_auth(minted)
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
}
