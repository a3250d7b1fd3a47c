//! Real answers against the OpenAPI document: every answer's status is documented for its
//! operation, and its body matches the documented schema strictly (every property it has is
//! declared, `null` only where declared nullable, required ones present). A field added to
//! a Rust type without the document fails here.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Answer, Env};

/// Checks `value` against `schema`; `path` names the place for messages.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, path);
    }
    if value.is_null() {
        let nullable =
            schema["nullable"].as_bool().unwrap_or(false) || schema.get("type").is_none();
        return nullable
            .then_some(())
            .ok_or(format!("{path}: null but not nullable"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{path}: {value} not in {options:?}"));
    }
    match schema["type"].as_str() {
        None => Ok(()),
        Some("object") => check_object(doc, schema, value, path),
        Some("array") => {
            let items = value.as_array().ok_or(format!("{path}: not an array"))?;
            items.iter().enumerate().try_for_each(|(i, item)| {
                check(doc, &schema["items"], item, &format!("{path}[{i}]"))
            })
        }
        Some("string") => value
            .is_string()
            .then_some(())
            .ok_or(format!("{path}: not a string")),
        Some("integer") => value
            .is_u64()
            .then_some(())
            .ok_or(format!("{path}: not an integer")),
        Some("boolean") => value
            .is_boolean()
            .then_some(())
            .ok_or(format!("{path}: not a boolean")),
        Some(other) => Err(format!("{path}: unknown type {other}")),
    }
}

fn check_object(doc: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let object = value.as_object().ok_or(format!("{path}: not an object"))?;
    let empty = serde_json::Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    for required in schema["required"].as_array().into_iter().flatten() {
        let name = required.as_str().unwrap_or_default();
        if !object.contains_key(name) {
            return Err(format!("{path}.{name}: required but absent"));
        }
    }
    for (name, item) in object {
        // `Settings` is free-form by design.
        if properties.is_empty() && schema.get("properties").is_none() {
            continue;
        }
        let declared = properties
            .get(name)
            .ok_or(format!("{path}.{name}: not declared"))?;
        check(doc, declared, item, &format!("{path}.{name}"))?;
    }
    Ok(())
}

/// Checks an answer of `method path` (the documented template) against the document.
fn conforms(doc: &Value, method: &str, template: &str, answer: &Answer) {
    let status = answer.status.as_u16().to_string();
    let operation = &doc["paths"][template][method];
    assert!(operation.is_object(), "{method} {template} not documented");
    let response = &operation["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {template} answered {status}, not documented: {}",
        answer.text()
    );
    let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
        return;
    };
    let body = answer.json();
    if let Err(problem) = check(doc, &Value::Object(schema.clone()), &body, "body") {
        panic!("{method} {template} {status}: {problem} in {body}");
    }
}

#[tokio::test]
async fn real_answers_match_the_document() {
    let env = Env::start().await;
    let doc = env
        .admin(Method::GET, "/swagger/docs/2016-01-01", None)
        .await
        .json();
    let org = env.org_query();
    let id = env.create_profile("Documented").await;
    env.accept_privacy_terms().await;
    let item = "/crm/exporter/profiles/{id}";
    let profile = format!("/crm/exporter/profiles/{id}");
    let body = env.profile_body("Documented");
    let mut echoed = env.admin(Method::GET, &profile, None).await.json();
    echoed["Name"] = json!("Documented again");
    let cases: Vec<(&str, &str, String, Option<Value>)> = vec![
        (
            "get",
            "/crm/exporter/metadata/organizations",
            "/crm/exporter/metadata/organizations".into(),
            None,
        ),
        (
            "get",
            "/crm/exporter/metadata/discover",
            format!("/crm/exporter/metadata/discover?{org}"),
            None,
        ),
        (
            "get",
            "/crm/exporter/metadata/entities",
            format!("/crm/exporter/metadata/entities?{org}"),
            None,
        ),
        (
            "get",
            "/crm/exporter/metadata/relationships",
            format!("/crm/exporter/metadata/relationships?{org}"),
            None,
        ),
        (
            "get",
            "/crm/exporter/profiles",
            format!("/crm/exporter/profiles?{org}&status=true"),
            None,
        ),
        ("get", item, format!("{profile}?status=true"), None),
        ("put", item, profile.clone(), Some(echoed)),
        (
            "post",
            "/crm/exporter/profiles",
            "/crm/exporter/profiles".into(),
            Some(body.clone()),
        ),
        (
            "post",
            "/crm/exporter/profiles/validate",
            format!("/crm/exporter/profiles/validate?{org}"),
            Some(body),
        ),
        (
            "get",
            "/crm/exporter/profiles/{id}/test",
            format!("{profile}/test"),
            None,
        ),
        (
            "post",
            "/crm/exporter/profiles/{id}/activate",
            format!("{profile}/activate"),
            None,
        ),
        ("get", item, format!("{profile}?status=true"), None),
        (
            "get",
            "/crm/exporter/profiles/{id}/failures",
            format!("{profile}/failures"),
            None,
        ),
        (
            "get",
            item,
            format!("/crm/exporter/profiles/{}", uuid::Uuid::new_v4()),
            None,
        ),
        (
            "get",
            item,
            "/crm/exporter/profiles/not-a-guid".into(),
            None,
        ),
    ];
    for (method, template, uri, body) in cases {
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let answer = env.admin(verb, &uri, body).await;
        conforms(&doc, method, template, &answer);
    }
    let anonymous = env.call(Method::GET, &profile, None, None).await;
    conforms(&doc, "get", item, &anonymous);
}
