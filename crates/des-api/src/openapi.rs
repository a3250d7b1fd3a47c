//! The OpenAPI 3.0 document, generated from the route table plus the JSON schemas below.

use serde_json::{Map, Value, json};

use crate::routes::{In, Operation, Param};
use des_core::profile::DestinationType;

/// The document for `operations`, served from `server`.
pub fn document(operations: &[Operation], server: &str) -> Value {
    let mut paths = Map::new();
    for op in operations {
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method.as_str().to_ascii_lowercase()] = operation(op);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Data Export Service (open implementation)",
            "version": "2016-01-01",
            "description": "DES's metadata and profile operations. Every secured call needs an Entra ID bearer token of a System Administrator of the organization it is about. Operations tagged Extensions (paths with x-) are not part of DES. Every answer names its correlation id in the x-ms-correlation-request-id header; an error body repeats it as CorrelationId, and the server's log lines about the request carry it."
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": "Metadata"}, {"name": "Profiles"},
            {"name": "Extensions", "description": "Not part of DES: extensions of this implementation."},
            {"name": "Authentication"}, {"name": "Documentation"}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(),
        }
    })
}

fn operation(op: &Operation) -> Value {
    let mut out = json!({
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": op.params.iter().map(parameter).collect::<Vec<_>>(),
        "responses": responses(op),
    });
    if let Some(body) = op.body {
        out["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(body)}}
        });
    }
    if op.secured {
        out["security"] = json!([{"bearer": []}]);
    }
    if op.extension {
        out["x-extension"] = json!(true);
    }
    out
}

fn parameter(p: &Param) -> Value {
    let schema = match p.kind {
        "uuid" => json!({"type": "string", "format": "uuid"}),
        kind => json!({"type": kind}),
    };
    json!({
        "name": p.name,
        "in": if p.location == In::Path { "path" } else { "query" },
        "required": p.required,
        "description": p.description,
        "schema": schema,
    })
}

fn responses(op: &Operation) -> Value {
    let mut out = Map::new();
    let success = match op.response {
        None => json!({"description": "Done."}),
        Some("text") => {
            json!({"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}})
        }
        Some(schema) => {
            json!({"description": "OK", "content": {"application/json": {"schema": schema_ref(schema)}}})
        }
    };
    out.insert(op.status.as_u16().to_string(), success);
    let error = |why: &str| json!({"description": why, "content": {"application/json": {"schema": schema_ref("Error")}}});
    let mut refusal = |code: &str, why: &str| {
        out.insert(code.into(), error(why));
    };
    refusal(
        "400",
        "A bad parameter or body field, a broken rule, or a request that is not valid HTTP.",
    );
    refusal("414", "The URL is longer than 8 KiB.");
    refusal("431", "The request headers are larger than 32 KiB.");
    refusal(
        "500",
        "Internal server error (the cause is logged under the correlation id).",
    );
    if op.secured {
        refusal("401", "No valid bearer token.");
        refusal(
            "403",
            "The token lacks the delegated permission, or the caller is not an enabled System Administrator of the organization (configured or not: both read alike).",
        );
        refusal(
            "404",
            "No such profile in an organization the caller administers.",
        );
        refusal(
            "503",
            "The organization's Dataverse or the token issuer could not be reached.",
        );
    }
    if op.conflict {
        refusal(
            "409",
            "A profile with that name exists, the profile changed meanwhile, or the privacy terms are not accepted.",
        );
    }
    if op.operation_id == "FailureLog_Download" {
        refusal("403", "The link was tampered with or has expired.");
        refusal("404", "No such profile.");
    }
    Value::Object(out)
}

fn schema_ref(name: &str) -> Value {
    match name {
        "boolean" => json!({"type": "boolean"}),
        _ => match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            Some(item) => json!({"type": "array", "items": schema_ref(item)}),
            None => json!({"$ref": format!("#/components/schemas/{name}")}),
        },
    }
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let guid = json!({"type": "string", "format": "uuid"});
    let time = json!({"type": "string", "format": "date-time"});
    json!({
        "Error": object(json!({"CorrelationId": guid, "Details": string, "Message": string}), &["CorrelationId", "Details", "Message"]),
        "Organization": object(json!({
            "OrganizationName": string, "OrganizationUrl": string, "OrganizationId": guid,
            "ConnectorUrl": string, "ErrorCategory": {"type": "integer"}, "ErrorCode": {"type": "integer"}
        }), &["OrganizationId", "OrganizationUrl"]),
        "ConnectorDetails": object(json!({"ConnectorUrl": string}), &["ConnectorUrl"]),
        "ExportableEntity": object(json!({"LogicalName": string, "DisplayName": string}), &["LogicalName"]),
        "ExportableRelationship": object(json!({
            "SchemaName": string, "Entity1LogicalName": string, "Entity2LogicalName": string, "IntersectEntityName": string
        }), &["SchemaName"]),
        "RetryPolicy": object(json!({
            "MaxRetryCount": {"type": "integer", "minimum": 0, "maximum": 20, "default": 12},
            "IntervalInSeconds": {"type": "integer", "minimum": 0, "maximum": 3600, "default": 5},
            "Backoff": {"type": "string", "default": "Simple"}
        }), &["MaxRetryCount", "IntervalInSeconds"]),
        "EntityStatus": object(json!({
            "Type": string, "ProfileId": guid, "TotalNotifications": {"type": "integer"},
            "SuccessNotifications": {"type": "integer"}, "FailureNotifications": {"type": "integer"},
            "LastExportDate": {"type": "string", "format": "date-time", "nullable": true, "description": "null until a batch was exported."},
            "LastExportStatus": string, "EntityMetadataState": string,
            "InitialSyncState": {"type": "string", "enum": ["NotStarted", "InProgress", "Completed", "CompletedWithFailures"]},
            "Hint": hint()
        }), &["Type"]),
        "ProfileEntity": object(json!({
            "Type": {"type": "string", "description": "Entity logical name."},
            "Settings": {"type": "object"},
            "Status": {"$ref": "#/components/schemas/EntityStatus"}
        }), &["Type"]),
        "ProfileEntityDescription": closed(object(json!({
            "Type": {"type": "string", "description": "Entity logical name."},
            "Settings": {"type": "object"},
            "Status": {"description": "Echoed from a GET; ignored."}
        }), &["Type"])),
        "ProfileRelationship": object(json!({"SchemaName": string}), &["SchemaName"]),
        "ProfileDescription": profile_description(),
        "Profile": profile(),
        "Check": object(json!({"Name": string, "Passed": {"type": "boolean"}, "Message": string}), &["Name", "Passed", "Message"]),
        "TestReport": object(json!({
            "ProfileId": {"type": "string", "format": "uuid", "nullable": true, "description": "null for validate (nothing stored)."},
            "Succeeded": {"type": "boolean"},
            "Checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"},
                "description": "SecretResolved, TargetReachable, TargetPermissions, SourceReachable, EntitiesExportable, PrivacyTermsAccepted."}
        }), &["Succeeded", "Checks"]),
        "FailuresInfo": object(json!({"ProfileId": guid, "Url": string, "ExpiresOn": time}), &["Url", "ExpiresOn"]),
        "ResyncResult": object(json!({"ProfileId": guid, "Resynced": {"type": "array", "items": string}}), &["ProfileId", "Resynced"]),
        "MonitorReport": monitor_report(),
    })
}

/// The operator hint of a stream that waits (an extension in DES's status object too).
fn hint() -> Value {
    json!({"type": "string", "nullable": true,
           "description": "Not in DES: what the operator should do while the stream waits for them (a target or configuration fault such as a missing table or a wrong connection string); null otherwise."})
}

/// Declares that properties not listed are refused (400).
fn closed(mut schema: Value) -> Value {
    schema["additionalProperties"] = json!(false);
    schema
}

fn description_properties(entity: &str) -> Map<String, Value> {
    let props = json!({
        "Name": {"type": "string", "maxLength": 100},
        "OrganizationId": {"type": "string", "format": "uuid"},
        "OrganizationUrl": {"type": "string"},
        "Entities": {"type": "array", "items": {"$ref": format!("#/components/schemas/{entity}")}},
        "Relationships": {"type": "array", "items": {"$ref": "#/components/schemas/ProfileRelationship"}},
        "DestinationType": {"type": "string", "enum": DestinationType::ALL, "default": DestinationType::DES_DEFAULT},
        "DestinationKeyVaultUri": {"type": "string", "description": "A Key Vault secret URL, or local:<name> for the local secret store."},
        "DestinationPrefix": {"type": "string", "pattern": "^[A-Za-z0-9]{0,14}$", "default": ""},
        "DestinationSchemaName": {"type": "string", "pattern": "^[A-Za-z0-9]{1,64}$", "default": "dbo"},
        "RetryPolicy": {"$ref": "#/components/schemas/RetryPolicy"},
        "WriteDeleteLog": {"type": "boolean", "default": false}
    });
    match props {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What a client sends: unknown properties are refused; the server-owned ones a GET answers
/// may be echoed back and are ignored.
fn profile_description() -> Value {
    let mut props = description_properties("ProfileEntityDescription");
    // Optional here: null reads as absent (then the query names the organization).
    props.insert(
        "OrganizationId".into(),
        json!({"type": "string", "format": "uuid", "nullable": true}),
    );
    props.insert(
        "OrganizationUrl".into(),
        json!({"type": "string", "nullable": true}),
    );
    for echoed in ["Id", "Version", "State", "CreatedOn", "ModifiedOn"] {
        props.insert(
            echoed.into(),
            json!({"description": "Echoed from a GET; ignored."}),
        );
    }
    closed(object(
        Value::Object(props),
        &["Name", "Entities", "DestinationKeyVaultUri"],
    ))
}

fn profile() -> Value {
    let mut props = description_properties("ProfileEntity");
    props.insert("Id".into(), json!({"type": "string", "format": "uuid"}));
    props.insert("Version".into(), json!({"type": "string"}));
    props.insert(
        "State".into(),
        json!({"type": "string", "enum": ["Inactive", "Active", "MetadataOnly", "DataOnly"]}),
    );
    props.insert(
        "CreatedOn".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    props.insert(
        "ModifiedOn".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    object(
        Value::Object(props),
        &["Id", "Name", "State", "OrganizationId"],
    )
}

/// `x-monitor`: figures now, plus columns of the last hour's samples.
fn monitor_report() -> Value {
    let count = json!({"type": "integer"});
    let seconds = json!({"type": ["number", "null"], "description": "Age of the oldest change read but not yet in the target; 0 when caught up; null while the profile does not replicate data."});
    let column = |items: Value| json!({"type": "array", "items": items});
    let history = object(
        json!({"At": column(json!({"type": "integer", "description": "Unix seconds"})),
               "RowsApplied": column(count.clone()), "LagSeconds": column(seconds.clone())}),
        &["At", "RowsApplied", "LagSeconds"],
    );
    let entity = object(
        json!({"Type": {"type": "string"}, "RowsRead": count, "RowsApplied": count, "Failures": count,
               "PendingBatches": count, "LagSeconds": seconds,
               "LastSync": {"type": "string", "format": "date-time", "nullable": true, "description": "null until the stream first synced."},
               "Hint": hint(), "History": history}),
        &[
            "Type",
            "RowsApplied",
            "Failures",
            "PendingBatches",
            "History",
        ],
    );
    object(
        json!({"ProfileId": {"type": "string", "format": "uuid"},
               "SampledOn": {"type": "string", "format": "date-time"},
               "IntervalSeconds": {"type": "integer"}, "Entities": column(entity)}),
        &["ProfileId", "SampledOn", "Entities"],
    )
}
