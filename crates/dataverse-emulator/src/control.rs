//! In-process control of a running emulator: writes, schema changes, token expiry, users.

use crate::auth::Claims;
use crate::cost::Cost;
use crate::error::EmulatorError;
use crate::faults::Faults;
use crate::limits::Limiter;
use crate::render::{Annotations, RowWriter, columns};
use crate::schema::security::{SALESPERSON_ROLE, SYSTEM_ADMIN_TEMPLATE};
use crate::server::ServerState;
use crate::signin::Account;
use crate::store::{Cell, SchemaOp};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use uuid::Uuid;

/// Sample tables `random_change` picks from.
const CHANGING: &[&str] = &["account", "contact", "lead", "opportunity", "new_project"];
const SYSTEM_ADMIN_ROLE: usize = 0;

/// A cheap, cloneable handle to a running emulator.
#[derive(Clone)]
pub struct Control {
    state: Arc<ServerState>,
}

fn entity(store: &crate::store::Store, name: &str) -> Result<usize, EmulatorError> {
    store
        .entity_index(name)
        .ok_or_else(|| EmulatorError::no_resource(name))
}

impl Control {
    pub(crate) fn new(state: Arc<ServerState>) -> Control {
        Control { state }
    }

    pub fn create(
        &self,
        entity_name: &str,
        fields: Map<String, Value>,
    ) -> Result<Uuid, EmulatorError> {
        let mut store = self.state.write();
        let e = entity(&store, entity_name)?;
        store.create(e, &fields)
    }

    pub fn update(
        &self,
        entity_name: &str,
        id: Uuid,
        fields: Map<String, Value>,
    ) -> Result<(), EmulatorError> {
        let mut store = self.state.write();
        let e = entity(&store, entity_name)?;
        if store.update(e, id, &fields)? {
            Ok(())
        } else {
            Err(EmulatorError::not_found(entity_name, &id))
        }
    }

    pub fn delete(&self, entity_name: &str, id: Uuid) -> Result<(), EmulatorError> {
        let mut store = self.state.write();
        let e = entity(&store, entity_name)?;
        store.delete(e, id)
    }

    pub fn associate(
        &self,
        relationship_schema_name: &str,
        id1: Uuid,
        id2: Uuid,
    ) -> Result<(), EmulatorError> {
        self.state
            .write()
            .associate(relationship_schema_name, id1, id2)
    }

    pub fn disassociate(
        &self,
        relationship_schema_name: &str,
        id1: Uuid,
        id2: Uuid,
    ) -> Result<(), EmulatorError> {
        self.state
            .write()
            .disassociate(relationship_schema_name, id1, id2)
    }

    /// One create, update or delete on a random row of a random sample table.
    pub fn random_change(&self, rng: &mut fastrand::Rng) -> Result<(), EmulatorError> {
        let mut store = self.state.write();
        let e = entity(&store, CHANGING[rng.usize(..CHANGING.len())])?;
        let def = &store.catalog.entities[e];
        let name_attr = def.primary_name.clone().unwrap_or_default();
        let existing = {
            let n = store.tables[e].generated.max(1);
            let start = store.generated_id(e, rng.usize(..n));
            store.scan(e, Some(start)).next().map(|(id, _)| id)
        };
        let mut fields = Map::new();
        fields.insert(name_attr, json!(format!("Changed {}", rng.u32(..))));
        match (rng.u8(..10), existing) {
            (0..=5, Some(id)) => store.update(e, id, &fields).map(|_| ()),
            (6..=7, Some(id)) => store.delete(e, id),
            _ => store.create(e, &fields).map(|_| ()),
        }
    }

    /// Current rows as a full-`$select` GET returns them, without annotations.
    pub fn rows(&self, entity_name: &str) -> Vec<Map<String, Value>> {
        self.rows_with(entity_name, Annotations::default())
    }

    /// Current rows as a full-`$select` GET asking for every annotation returns them: with
    /// formatted values (a lookup's primary name), lookup targets and navigation properties.
    pub fn annotated_rows(&self, entity_name: &str) -> Vec<Map<String, Value>> {
        let all = Annotations {
            formatted: true,
            navigation: true,
            logical: true,
        };
        self.rows_with(entity_name, all)
    }

    fn rows_with(&self, entity_name: &str, ann: Annotations) -> Vec<Map<String, Value>> {
        let store = self.state.read();
        let Some(e) = store.entity_index(entity_name) else {
            return Vec::new();
        };
        let def = &store.catalog.entities[e];
        let Ok(cols) = columns(def, None) else {
            return Vec::new();
        };
        let w = RowWriter {
            store: &store,
            def,
            cols: &cols,
            ann,
        };
        let mut buf = String::new();
        store
            .scan(e, None)
            .filter_map(|(_, row)| {
                buf.clear();
                w.write(&mut buf, &row, None);
                let mut m: Map<String, Value> = serde_json::from_str(&buf).ok()?;
                m.shift_remove("@odata.etag");
                Some(m)
            })
            .collect()
    }

    pub fn entity_names(&self) -> Vec<String> {
        self.state
            .read()
            .catalog
            .entities
            .iter()
            .map(|e| e.logical_name.clone())
            .collect()
    }

    pub fn faults(&self) -> Faults {
        self.state.faults.clone()
    }

    /// The service-protection model: limit values and usage per user.
    pub fn limits(&self) -> Limiter {
        self.state.limits.clone()
    }

    /// The cost model in force (how long a request takes at least).
    pub fn cost(&self) -> Cost {
        self.state.cost.clone()
    }

    pub fn add_attribute(
        &self,
        entity_name: &str,
        logical_name: &str,
        kind: &str,
        max_length: Option<i32>,
    ) -> Result<(), EmulatorError> {
        let op = SchemaOp::AddAttribute {
            entity: entity_name.to_owned(),
            name: logical_name.to_owned(),
            kind: kind.to_owned(),
            max_length,
        };
        self.state.write().apply_schema(op)
    }

    pub fn set_max_length(
        &self,
        entity_name: &str,
        attribute: &str,
        max_length: i32,
    ) -> Result<(), EmulatorError> {
        let op = SchemaOp::SetMaxLength {
            entity: entity_name.to_owned(),
            attribute: attribute.to_owned(),
            max_length,
        };
        self.state.write().apply_schema(op)
    }

    pub fn expire_change_tokens(&self) {
        self.state.write().expire_tokens();
    }

    /// A user token as Entra would issue it for a delegated call.
    pub fn mint_user_token(&self, user_object_id: Uuid, audience: &str) -> String {
        let a = &self.state.authority;
        let mut claims: Claims = a.claims(audience, user_object_id);
        claims.upn = Some(format!(
            "user-{}@emulator.example",
            &user_object_id.to_string()[..8]
        ));
        claims.scp = Some("user_impersonation".to_owned());
        a.sign(&claims)
    }

    /// Adds a user with an Entra object id; `system_admin` gives the System Administrator role.
    /// The user can then sign in on the emulator's sign-in page.
    pub fn add_user(&self, object_id: Uuid, name: &str, system_admin: bool) -> Uuid {
        self.state.sign_in.remember(Account {
            object_id,
            name: name.to_owned(),
            username: username(name),
        });
        let mut store = self.state.write();
        let id = user_by_oid(&store, object_id).unwrap_or_else(|| {
            let Some(e) = store.entity_index("systemuser") else { return Uuid::nil() };
            let fields = json!({"fullname": name, "azureactivedirectoryobjectid": object_id.to_string(),
                "domainname": username(name)});
            let Value::Object(fields) = fields else { return Uuid::nil() };
            store.create(e, &fields).unwrap_or_default()
        });
        let role = role_id(
            &store,
            if system_admin {
                SYSTEM_ADMIN_ROLE
            } else {
                SALESPERSON_ROLE
            },
        );
        let _ = store.associate("systemuserroles_association", id, role);
        id
    }

    /// The user (created if needed, without a direct admin role) joins a team holding
    /// System Administrator, so admin comes only through the team.
    pub fn add_team_admin(&self, user_object_id: Uuid) {
        let user = self.add_user(
            user_object_id,
            &format!("Team Admin {}", &user_object_id.to_string()[..8]),
            false,
        );
        let mut store = self.state.write();
        let Some(team_e) = store.entity_index("team") else {
            return;
        };
        let team = store.generated_id(team_e, 1);
        let role = role_id(&store, SYSTEM_ADMIN_ROLE);
        let _ = store.associate("teamroles_association", team, role);
        let _ = store.associate("teammembership_association", user, team);
    }

    pub fn jwks(&self) -> Value {
        self.state.authority.jwks()
    }

    /// Publishes a second signing key and signs new tokens with it; returns its `kid`.
    pub fn roll_signing_key(&self) -> Result<&'static str, EmulatorError> {
        self.state.authority.rollover.roll()
    }

    /// How many times the JWKS was downloaded.
    pub fn jwks_fetches(&self) -> usize {
        self.state.authority.rollover.fetches()
    }

    /// Registers one more app with client credentials; each app is its own application user
    /// with its own service-protection budget (Microsoft's advice for high throughput).
    pub fn register_confidential_app(&self, client_id: &str, secret: &str) {
        self.state
            .sign_in
            .register_confidential_app(client_id, secret);
    }

    /// Registers a single-page app (a public client) and its redirect URIs, as an Entra app
    /// registration's "Single-page application" platform does.
    pub fn register_app(&self, client_id: &str, redirect_uris: &[String]) {
        self.state.sign_in.register_app(client_id, redirect_uris);
    }

    /// Lifetime of the tokens sign-in issues (`None`: the default hour).
    pub fn set_sign_in_token_lifetime(&self, lifetime: Option<std::time::Duration>) {
        let seconds = lifetime.map(|l| i64::try_from(l.as_secs().max(1)).unwrap_or(i64::MAX));
        self.state.sign_in.set_token_lifetime(seconds);
    }
}

fn username(name: &str) -> String {
    format!("{}@emulator.example", name.to_lowercase().replace(' ', "."))
}

fn role_id(store: &crate::store::Store, index: usize) -> Uuid {
    store
        .entity_index("role")
        .map(|e| store.generated_id(e, index))
        .unwrap_or_default()
}

fn user_by_oid(store: &crate::store::Store, oid: Uuid) -> Option<Uuid> {
    let e = store.entity_index("systemuser")?;
    let col = store.catalog.entities[e].attr_index("azureactivedirectoryobjectid")?;
    store
        .scan(e, None)
        .find(|(_, r)| *r.cell(col) == Cell::Guid(oid))
        .map(|(id, _)| id)
}

/// Creates the application user of the configured client id, a System Administrator.
pub fn ensure_application_user(sh: &ServerState) -> Result<(), EmulatorError> {
    let mut store = sh.write();
    let e = entity(&store, "systemuser")?;
    if store.get(e, &sh.app_user).is_some() {
        return Ok(());
    }
    let fields = json!({
        "systemuserid": sh.app_user.to_string(),
        "fullname": "# DES emulator application",
        "domainname": format!("{}@emulator.example", sh.client_id),
        "applicationid": sh.client_id.parse::<Uuid>().ok().map(|u| u.to_string()),
        "azureactivedirectoryobjectid": sh.app_user_object_id().to_string(),
        "accessmode": 4,
        "isdisabled": false,
        "_businessunitid_value": store.entity_index("businessunit").map(|b| store.generated_id(b, 0).to_string()),
    });
    let Value::Object(fields) = fields else {
        return Ok(());
    };
    store.create(e, &fields)?;
    let role = role_id(&store, SYSTEM_ADMIN_ROLE);
    store.associate("systemuserroles_association", sh.app_user, role)?;
    let _ = SYSTEM_ADMIN_TEMPLATE;
    Ok(())
}
