//! The service document and `$metadata`, checked with the OASIS OData TC's own CSDL tools
//! (`tests/odata/check-csdl.js`: the reference converter in strict mode plus the TC's JSON
//! Schema for CSDL), then held against what the emulator actually serves.

use crate::support::{Env, env};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const ENV: &str = "DES_TEST_ODATA_CSDL";
const NS: &str = "Microsoft.Dynamics.CRM";

/// Where the CSDL tools are. Unset is an error, so CI never skips silently; `skip` skips.
fn tools() -> Option<String> {
    match std::env::var(ENV) {
        Ok(v) if v == "skip" => None,
        Ok(v) => Some(v),
        Err(_) => panic!(
            "{ENV} is not set: the $metadata test checks the document with the OASIS OData TC's \
             CSDL tools. Install them with `export $(scripts/odata-csdl install /tmp/des-csdl)`, \
             or set {ENV}=skip to skip this test explicitly"
        ),
    }
}

/// Converts and validates CSDL XML with the TC's tools; panics with their complaint.
fn csdl_json(node_path: &str, xml: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/odata/check-csdl.js");
    let mut child = Command::new("node")
        .arg(script)
        .env("NODE_PATH", node_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (Node.js 18 or later is needed)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("writes the document");
    let out = child.wait_with_output().expect("node finishes");
    assert!(
        out.status.success(),
        "the OASIS CSDL tools refuse $metadata:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("CSDL JSON")
}

async fn metadata(env: &Env) -> String {
    let r = env
        .http
        .get(env.url("$metadata"))
        .bearer_auth(&env.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/xml");
    r.text().await.expect("body")
}

/// The schema's elements by name (aliases resolved by the caller).
struct Model<'a> {
    schema: &'a Map<String, Value>,
}

impl<'a> Model<'a> {
    fn new(doc: &'a Value) -> Self {
        assert_eq!(doc[NS]["$Alias"], "mscrm");
        Model {
            schema: doc[NS].as_object().expect("the Dynamics schema"),
        }
    }

    fn element(&self, qualified: &str) -> &'a Value {
        let name = qualified
            .strip_prefix("mscrm.")
            .or_else(|| qualified.strip_prefix("Microsoft.Dynamics.CRM."))
            .unwrap_or_else(|| panic!("{qualified} is not in the schema's namespace"));
        self.schema
            .get(name)
            .unwrap_or_else(|| panic!("{qualified} is not declared"))
    }

    fn container(&self) -> &'a Map<String, Value> {
        self.schema["System"].as_object().expect("container")
    }

    /// The members of an entity type and its base types.
    fn members(&self, qualified: &str) -> Map<String, Value> {
        let ty = self.element(qualified);
        assert_eq!(ty["$Kind"], "EntityType", "{qualified}");
        let mut all = match ty["$BaseType"].as_str() {
            Some(base) => self.members(base),
            None => Map::new(),
        };
        for (k, v) in ty.as_object().expect("type") {
            all.insert(k.clone(), v.clone());
        }
        all
    }
}

/// A qualified name with the alias (the converter may write either form).
fn short(name: &str) -> String {
    name.replace(&format!("{NS}."), "mscrm.")
}

/// The JSON shape a value of `edm` has on the wire.
fn fits(edm: &str, v: &Value) -> bool {
    let text = v.as_str();
    match edm {
        "Edm.String" | "Edm.Binary" => text.is_some(),
        "Edm.Guid" => text.is_some_and(|s| s.parse::<uuid::Uuid>().is_ok()),
        "Edm.Int32" | "Edm.Int64" => v.is_i64(),
        "Edm.Decimal" | "Edm.Double" => v.is_number(),
        "Edm.Boolean" => v.is_boolean(),
        "Edm.Date" => text.is_some_and(|s| s.len() == 10 && s.as_bytes()[4] == b'-'),
        "Edm.DateTimeOffset" => text.is_some_and(|s| s.contains('T') && s.ends_with('Z')),
        _ => false,
    }
}

#[tokio::test]
async fn metadata_passes_the_oasis_csdl_tools_and_matches_what_is_served() {
    let Some(node_path) = tools() else {
        eprintln!("{ENV}=skip: $metadata not checked");
        return;
    };
    let env = env().await;
    let doc = csdl_json(&node_path, &metadata(&env).await);
    let m = Model::new(&doc);
    assert_eq!(doc["$EntityContainer"], format!("{NS}.System"));
    let container = m.container();
    for (set, decl) in container.iter().filter(|(k, _)| !k.starts_with('$')) {
        let Some(ty) = decl["$Type"].as_str() else {
            continue; // a function import
        };
        let members = m.members(ty);
        let key = members["$Key"].as_array().expect("a key");
        assert!(
            members.contains_key(key[0].as_str().expect("name")),
            "{set}"
        );
        check_navigation(&m, container, &members, decl);
        if members.get("$OpenType").is_none() {
            check_rows_fit(&env, set, &members).await;
        }
    }
    let mut declared: Vec<&str> = container
        .keys()
        .filter(|k| !k.starts_with('$'))
        .map(String::as_str)
        .collect();
    let listed = env.get("").await.body;
    let mut listed: Vec<&str> = listed["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    declared.sort_unstable();
    listed.sort_unstable();
    assert_eq!(declared, listed, "the service document lists the container");
    let who = &m.element("mscrm.WhoAmI")[0];
    assert_eq!(who["$Kind"], "Function");
    let import = container["WhoAmI"]["$Function"].as_str().expect("import");
    assert_eq!(short(import), "mscrm.WhoAmI");
    let response = m.element(who["$ReturnType"]["$Type"].as_str().expect("type"));
    let body = env.get("WhoAmI").await.body;
    for p in ["BusinessUnitId", "UserId", "OrganizationId"] {
        assert_eq!(response[p]["$Type"], "Edm.Guid");
        assert!(fits("Edm.Guid", &body[p]), "{p}");
    }
}

/// Every navigation property leads to a declared type, its constraint names real properties,
/// and its binding names a real entity set.
fn check_navigation(
    m: &Model<'_>,
    container: &Map<String, Value>,
    members: &Map<String, Value>,
    set: &Value,
) {
    for (name, nav) in members
        .iter()
        .filter(|(_, v)| v["$Kind"] == "NavigationProperty")
    {
        let target_type = nav["$Type"].as_str().expect("type");
        let target = m.members(target_type);
        for (local, referenced) in nav["$ReferentialConstraint"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert!(members.contains_key(local), "{name}: {local}");
            let referenced = referenced.as_str().expect("name");
            assert!(target.contains_key(referenced), "{name}: {referenced}");
        }
        if let Some(bound) = set["$NavigationPropertyBinding"][name].as_str() {
            let bound_type = container[bound]["$Type"].as_str().expect("type");
            assert_eq!(short(bound_type), short(target_type), "{name}");
        }
    }
}

/// A served row has only declared properties, each with a value of its declared type.
async fn check_rows_fit(env: &Env, set: &str, members: &Map<String, Value>) {
    let r = env.get(&format!("{set}?$top=3")).await;
    assert_eq!(r.status, 200, "{set}: {}", r.text);
    for row in r.body["value"].as_array().expect("rows") {
        for (name, v) in row.as_object().expect("row") {
            if name.starts_with('@') {
                continue;
            }
            let decl = members
                .get(name)
                .unwrap_or_else(|| panic!("{set}: {name} is served but not declared"));
            let edm = decl["$Type"].as_str().unwrap_or("Edm.String");
            let nullable = decl["$Nullable"].as_bool().unwrap_or(false);
            assert!(
                (v.is_null() && nullable) || fits(edm, v),
                "{set}.{name}: {v} is not a {edm}"
            );
        }
    }
}

#[tokio::test]
async fn the_service_document_lists_every_set_and_each_answers() {
    let env = env().await;
    let r = env.get("").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["@odata.context"],
        format!("{}/$metadata", env.emu.api_url())
    );
    let items = r.body["value"].as_array().expect("value");
    let sets: Vec<&str> = items
        .iter()
        .filter(|i| i["kind"] == "EntitySet")
        .map(|i| i["url"].as_str().expect("url"))
        .collect();
    assert!(sets.contains(&"accounts") && sets.contains(&"EntityDefinitions"));
    for set in sets {
        let path = if set.ends_with("Definitions") {
            format!("{set}?$select=MetadataId")
        } else {
            format!("{set}?$top=1")
        };
        assert_eq!(env.get(&path).await.status, 200, "{set}");
    }
    assert!(items.contains(&json!({"name": "WhoAmI", "kind": "FunctionImport", "url": "WhoAmI"})));
    let bare = env.send(env.http.get(env.emu.api_url())).await;
    assert_eq!(bare.body, r.body, "with or without the trailing slash");
}

#[tokio::test]
async fn a_column_added_at_run_time_shows_in_metadata() {
    let Some(node_path) = tools() else {
        eprintln!("{ENV}=skip: $metadata not checked");
        return;
    };
    let env = env().await;
    env.emu
        .control()
        .add_attribute("account", "new_tier", "Integer", None)
        .expect("adds");
    let doc = csdl_json(&node_path, &metadata(&env).await);
    assert_eq!(doc[NS]["account"]["new_tier"]["$Type"], "Edm.Int32");
}
