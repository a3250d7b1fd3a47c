//! Who the client is, and whether a user holds System Administrator.

use des_core::ports::SourceError;
use serde::Deserialize;
use uuid::Uuid;

use crate::transport::Transport;

/// The System Administrator role template: the same id in every environment, while the
/// role's name is localised.
pub const SYSTEM_ADMIN_ROLE_TEMPLATE: Uuid = uuid::uuid!("627090ff-40a3-4053-8790-584edc5be201");

/// `WhoAmI` response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WhoAmI {
    pub user_id: Uuid,
    pub business_unit_id: Uuid,
    pub organization_id: Uuid,
}

impl WhoAmI {
    pub fn parse(body: &[u8]) -> Result<Self, SourceError> {
        serde_json::from_slice(body).map_err(|e| SourceError::Protocol(format!("WhoAmI: {e}")))
    }
}

#[derive(Deserialize)]
struct Rows<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
struct UserRow {
    systemuserid: Uuid,
    /// Disabled in Dataverse (or in Entra, which Dataverse follows).
    #[serde(default)]
    isdisabled: Option<bool>,
}

#[derive(Deserialize)]
struct TeamRow {
    teamid: Uuid,
}

#[derive(Deserialize)]
struct RoleRow {
    #[serde(rename = "_roletemplateid_value")]
    role_template: Option<Uuid>,
}

async fn rows<T: serde::de::DeserializeOwned>(
    transport: &Transport,
    relative: &str,
) -> Result<Vec<T>, SourceError> {
    let body = transport.get(&transport.url(relative)?).await?;
    let rows: Rows<T> = serde_json::from_slice(&body)
        .map_err(|e| SourceError::Protocol(format!("identity query: {e}")))?;
    Ok(rows.value)
}

pub(crate) async fn who_am_i(transport: &Transport) -> Result<WhoAmI, SourceError> {
    WhoAmI::parse(&transport.get(&transport.url("WhoAmI")?).await?)
}

/// The `systemuserid` of the enabled user with this Entra object id, if the environment has
/// one: a disabled user holds no role that counts.
pub(crate) async fn user_by_object_id(
    transport: &Transport,
    object_id: Uuid,
) -> Result<Option<Uuid>, SourceError> {
    let path = format!(
        "systemusers?$select=systemuserid,isdisabled&$filter=azureactivedirectoryobjectid eq {object_id}"
    );
    let users: Vec<UserRow> = rows(transport, &path).await?;
    if users.iter().any(|u| u.isdisabled == Some(true)) {
        tracing::info!(%object_id, "The user is disabled in the environment.");
        return Ok(None);
    }
    Ok(users.first().map(|u| u.systemuserid))
}

/// True when `user` has System Administrator directly or through one of its teams.
pub(crate) async fn holds_system_admin(
    transport: &Transport,
    user: Uuid,
) -> Result<bool, SourceError> {
    let direct =
        format!("systemusers({user})/systemuserroles_association?$select=_roletemplateid_value");
    if is_admin_role(&rows(transport, &direct).await?) {
        return Ok(true);
    }
    let teams = format!("systemusers({user})/teammembership_association?$select=teamid");
    for team in rows::<TeamRow>(transport, &teams).await? {
        let path = format!(
            "teams({})/teamroles_association?$select=_roletemplateid_value",
            team.teamid
        );
        if is_admin_role(&rows(transport, &path).await?) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn is_admin_role(roles: &[RoleRow]) -> bool {
    roles
        .iter()
        .any(|r| r.role_template == Some(SYSTEM_ADMIN_ROLE_TEMPLATE))
}
