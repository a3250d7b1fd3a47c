//! Every body in `shared/research/dataverse-samples` goes through the parser it stands for.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dataverse::metadata::{
    parse_attribute, parse_attributes, parse_entities, parse_entity, parse_option_set,
    parse_relationship,
};
use dataverse::token::parse_token_response;
use dataverse::{ColumnPlan, PlannedColumn, ServiceErrorBody, TokenErrorBody, WhoAmI, parse_page};
use des_core::ports::{NextLink, SourceError};
use des_core::{AttributeKind, Change, Value};
use uuid::Uuid;

/// Each sample file and the test that reads it.
const COVERED: &[&str] = &[
    "attribute-boolean.json",
    "attributes.json",
    "delta-changes.json",
    "delta-initial.json",
    "entity-definition-full.json",
    "entitydefinitions-metadataid.json",
    "entitydefinitions.json",
    "error-404-not-found.json",
    "error-412-duplicate.json",
    "error-412-rowversion.json",
    "error-format.json",
    "error-plugin-annotations.json",
    "error-plugin-annotations.raw.txt",
    "formatted-values.json",
    "lookup-annotations.json",
    "lookup-customer-annotations.json",
    "nextlink-page-2.json",
    "nextlink-page-count.json",
    "nextlink-page.json",
    "optionset.json",
    "relationship-manytomany-create.json",
    "relationship-onetomany-create.json",
    "synthesized-error-429-request-count.json",
    "synthesized-error-expired-deltatoken.json",
    "token-error.json",
    "token-response.json",
    "whoami.json",
];

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/research/dataverse-samples")
}

fn sample(name: &str) -> Vec<u8> {
    assert!(COVERED.contains(&name), "{name} missing from COVERED");
    std::fs::read(samples_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn guid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("guid")
}

fn column(name: &str, kind: AttributeKind, targets: &[&str]) -> PlannedColumn {
    let wire_name = if kind.is_lookup() {
        format!("_{name}_value")
    } else {
        name.to_owned()
    };
    PlannedColumn {
        logical_name: name.to_owned(),
        wire_name,
        kind,
        date_only: false,
        sole_target: match targets {
            [only] => Some((*only).to_owned()),
            _ => None,
        },
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn upsert(change: &Change) -> &des_core::Row {
    match change {
        Change::Upsert(row) => row,
        Change::Delete(id) => panic!("expected an upsert, got a delete of {id}"),
    }
}

#[test]
fn every_sample_file_is_covered() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(samples_dir())
        .expect("samples dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(on_disk, covered);
}

fn accounts_plan(names: &[&str]) -> ColumnPlan {
    let columns = names
        .iter()
        .map(|n| column(n, AttributeKind::String, &[]))
        .collect();
    ColumnPlan::from_columns("accounts", "accountid", columns)
}

#[test]
fn initial_delta_page_ends_with_a_delta_link() {
    let plan = accounts_plan(&["name", "accountnumber", "telephone1", "fax"]);
    let page = parse_page(&sample("delta-initial.json"), &plan, None).expect("page");
    let row = upsert(&page.changes[0]);
    assert_eq!(row.id, guid("60c4e274-0d87-e711-80e5-00155db19e6d"));
    assert_eq!(
        row.version, 915244,
        "version from the ETag when versionnumber is absent"
    );
    assert_eq!(
        row.values,
        vec![
            text("Monte Orton"),
            Value::Null,
            text("555000"),
            text("10101")
        ]
    );
    let NextLink::Done(link) = page.next else {
        panic!("expected a delta link")
    };
    assert!(
        link.ends_with("$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44"),
        "{link}"
    );
}

#[test]
fn delta_page_has_upserts_then_deletes() {
    let plan = accounts_plan(&["name", "telephone1", "fax"]);
    let page = parse_page(&sample("delta-changes.json"), &plan, Some("old")).expect("page");
    assert_eq!(page.changes.len(), 2);
    assert_eq!(upsert(&page.changes[0]).values[0], text("Monte Orton"));
    assert_eq!(
        page.changes[1],
        Change::Delete(guid("2e451703-c686-e711-80e5-00155db19e6d"))
    );
    let NextLink::Done(link) = page.next else {
        panic!("expected a delta link")
    };
    assert!(
        link.contains("$deltatoken=919058"),
        "the new delta link replaces the old one"
    );
}

#[test]
fn next_links_are_kept_byte_for_byte() {
    let plan = ColumnPlan::from_columns(
        "contacts",
        "contactid",
        vec![column("fullname", AttributeKind::String, &[])],
    );
    for name in ["nextlink-page.json", "nextlink-page-2.json"] {
        let body = sample(name);
        let page = parse_page(&body, &plan, None).expect("page");
        assert_eq!(page.changes.len(), 2);
        let NextLink::More(link) = page.next else {
            panic!("{name}: expected a next link")
        };
        let raw: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(raw["@odata.nextLink"].as_str(), Some(link.as_str()));
        let absolute = link.replace("[Organization URI]", "https://org.crm.dynamics.com");
        let parsed = url::Url::parse(&absolute).expect("url");
        assert_eq!(
            parsed.as_str(),
            absolute,
            "{name}: the URL parser must not re-encode"
        );
    }
}

#[test]
fn counted_page_ignores_the_count_and_follows_next() {
    let plan = accounts_plan(&["name"]);
    let page = parse_page(&sample("nextlink-page-count.json"), &plan, None).expect("page");
    assert_eq!(page.changes.len(), 3);
    assert!(matches!(page.next, NextLink::More(ref l) if l.contains("$skiptoken=")));
}

#[test]
fn formatted_values_are_ignored_and_money_keeps_its_literal() {
    let plan = ColumnPlan::from_columns(
        "accounts",
        "accountid",
        vec![
            column("name", AttributeKind::String, &[]),
            column("revenue", AttributeKind::Money, &[]),
            column("primarycontactid", AttributeKind::Lookup, &["contact"]),
            column("customertypecode", AttributeKind::Picklist, &[]),
            column("modifiedon", AttributeKind::DateTime, &[]),
            column(
                "transactioncurrencyid",
                AttributeKind::Lookup,
                &["transactioncurrency"],
            ),
        ],
    );
    let page = parse_page(&sample("formatted-values.json"), &plan, Some("link")).expect("page");
    let row = upsert(&page.changes[0]);
    assert_eq!(row.values[1], Value::Decimal("20000.0000".to_owned()));
    let contact = guid("70bf4d48-34cb-ed11-b596-0022481d68cd");
    assert_eq!(
        row.values[2],
        Value::Lookup {
            id: contact,
            target: Some("contact".to_owned())
        }
    );
    assert_eq!(row.values[3], Value::Int(1));
    let modified = time::macros::datetime!(2023-04-07 21:59:01 UTC);
    assert_eq!(row.values[4], Value::DateTime(modified));
    assert_eq!(
        page.next,
        NextLink::Done("link".to_owned()),
        "no link: the followed one stays"
    );
}

#[test]
fn polymorphic_owner_takes_its_target_from_the_annotation() {
    let owner = column("ownerid", AttributeKind::Owner, &["systemuser", "team"]);
    let plan = ColumnPlan::from_columns("accounts", "accountid", vec![owner]);
    let page = parse_page(&sample("lookup-annotations.json"), &plan, Some("l")).expect("page");
    let targets: Vec<Value> = page
        .changes
        .iter()
        .map(|c| upsert(c).values[0].clone())
        .collect();
    let team = guid("39e0dbe4-131b-e111-ba7e-78e7d1620f5e");
    let user = guid("4026be43-6b69-e111-8f65-78e7d1620f5e");
    assert_eq!(
        targets[0],
        Value::Lookup {
            id: team,
            target: Some("team".to_owned())
        }
    );
    assert_eq!(
        targets[1],
        Value::Lookup {
            id: user,
            target: Some("systemuser".to_owned())
        }
    );
}

#[test]
fn customer_lookup_row_with_expansion_parses() {
    let entity = String::from_utf8(sample("lookup-customer-annotations.json")).expect("utf8");
    let body = format!(r#"{{"value":[{entity}],"@odata.deltaLink":"d"}}"#);
    let customer = column(
        "customerid",
        AttributeKind::Customer,
        &["account", "contact"],
    );
    let plan = ColumnPlan::from_columns("incidents", "incidentid", vec![customer]);
    let page = parse_page(body.as_bytes(), &plan, None).expect("page");
    let row = upsert(&page.changes[0]);
    assert_eq!(row.id, guid("39dd0b31-ed8b-e511-80d2-00155d2a68d4"));
    let id = guid("7ddd0b31-ed8b-e511-80d2-00155d2a68d4");
    assert_eq!(
        row.values,
        vec![Value::Lookup {
            id,
            target: Some("contact".to_owned())
        }]
    );
}

#[test]
fn entity_definition_maps_to_the_model() {
    let entity = parse_entity(&sample("entity-definition-full.json")).expect("entity");
    assert_eq!(entity.logical_name, "new_bankaccount");
    assert_eq!(entity.schema_name, "new_BankAccount");
    assert_eq!(entity.entity_set_name, "new_bankaccounts");
    assert_eq!(entity.primary_id_attribute, "new_bankaccountid");
    assert_eq!(
        entity.primary_name_attribute.as_deref(),
        Some("new_accountname")
    );
    assert_eq!(entity.display_name.as_deref(), Some("Bank Business Name"));
    assert_eq!(entity.object_type_code, Some(10009));
    assert_eq!(entity.metadata_id, "417129e1-207c-e511-80d2-00155d2a68d2");
    assert!(!entity.change_tracking_enabled && !entity.is_intersect);
    assert!(entity.attributes.is_empty());
}

#[test]
fn entity_definition_lists_parse_with_partial_selects() {
    let with_label = parse_entities(&sample("entitydefinitions.json")).expect("list");
    assert_eq!(with_label.len(), 1);
    assert_eq!(with_label[0].display_name.as_deref(), Some("Account"));
    assert_eq!(with_label[0].entity_set_name, "accounts");
    let ids_only = parse_entities(&sample("entitydefinitions-metadataid.json")).expect("list");
    assert_eq!(ids_only.len(), 1);
    assert_eq!(ids_only[0].display_name, None);
}

#[test]
fn attributes_map_kind_from_type_or_odata_type() {
    let boolean = parse_attribute(&sample("attribute-boolean.json")).expect("attribute");
    assert_eq!(boolean.kind, AttributeKind::Boolean);
    assert_eq!(
        (boolean.logical_name.as_str(), boolean.schema_name.as_str()),
        ("new_boolean", "new_Boolean")
    );
    assert_eq!(boolean.column_number, Some(35));
    assert!(boolean.is_valid_for_read && boolean.is_valid_odata && !boolean.is_primary_id);
    assert_eq!(boolean.attribute_of, None);
    let listed = parse_attributes(&sample("attributes.json")).expect("attributes");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].kind,
        AttributeKind::Picklist,
        "from @odata.type alone"
    );
    assert_eq!(
        listed[0].metadata_id,
        "118771ca-6fb9-4f60-8fd4-99b6124b63ad"
    );
}

#[test]
fn local_option_set_with_labels() {
    let set = parse_option_set(&sample("optionset.json"), "account")
        .expect("parsed")
        .expect("set");
    assert_eq!(set.name, "account_accountcategorycode");
    assert!(!set.is_global);
    let values: Vec<(i32, &str)> = set
        .options
        .iter()
        .map(|o| {
            (
                o.value,
                o.user_localized_label
                    .as_ref()
                    .expect("label")
                    .label
                    .as_str(),
            )
        })
        .collect();
    assert_eq!(values, vec![(1, "Preferred Customer"), (2, "Standard")]);
    assert_eq!(set.options[0].labels[0].language_code, 1033);
}

#[test]
fn relationship_bodies() {
    let many = parse_relationship(&sample("relationship-manytomany-create.json")).expect("m:n");
    assert_eq!(many.schema_name, "new_accounts_campaigns");
    assert_eq!(
        (
            many.entity1_logical_name.as_str(),
            many.entity2_logical_name.as_str()
        ),
        ("account", "campaign")
    );
    assert_eq!(many.intersect_entity_name, "new_accounts_campaigns");
    // The 1:N body is not an M:N relationship; its lookup column is an attribute definition.
    let one: serde_json::Value =
        serde_json::from_slice(&sample("relationship-onetomany-create.json")).expect("json");
    let lookup = parse_attribute(one["Lookup"].to_string().as_bytes()).expect("lookup");
    assert_eq!(
        (lookup.kind, lookup.schema_name.as_str()),
        (AttributeKind::Lookup, "new_AccountOwner")
    );
}

#[test]
fn dataverse_error_bodies() {
    let cases = [
        (
            "error-404-not-found.json",
            "",
            "account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist",
        ),
        (
            "error-412-duplicate.json",
            "",
            "A record with matching key values already exists.",
        ),
        (
            "error-412-rowversion.json",
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
        ),
        (
            "error-plugin-annotations.json",
            "0x80040265",
            "Example Error Message.",
        ),
        (
            "synthesized-error-429-request-count.json",
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        ),
    ];
    for (name, code, message) in cases {
        let error = ServiceErrorBody::parse(&sample(name)).expect(name);
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            (code, message),
            "{name}"
        );
        assert!(!error.is_expired_token(), "{name}");
    }
    let template = ServiceErrorBody::parse(&sample("error-format.json")).expect("template");
    assert!(template.code.starts_with("<This code"));
}

#[test]
fn expired_change_token_is_recognised() {
    let error = ServiceErrorBody::parse(&sample("synthesized-error-expired-deltatoken.json"))
        .expect("body");
    assert_eq!(error.code, dataverse::EXPIRED_VERSION_STAMP);
    assert!(error.is_expired_token());
}

#[test]
fn plugin_error_that_is_not_json_gives_a_clear_error_and_is_salvaged() {
    let body = sample("error-plugin-annotations.raw.txt");
    match ServiceErrorBody::parse(&body) {
        Err(SourceError::Protocol(message)) => {
            assert!(message.contains("not a Dataverse error"), "{message}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    let salvaged = ServiceErrorBody::salvage(&body).expect("code and message found");
    assert_eq!(salvaged.code, "0x80040265");
    assert_eq!(salvaged.message, "Example Error Message.");
}

#[test]
fn token_bodies() {
    let token = parse_token_response(&sample("token-response.json")).expect("token");
    assert!(token.secret().expose().starts_with("eyJ0eXAi"));
    assert!(token.expires_at().is_some());
    let error = TokenErrorBody::parse(&sample("token-error.json")).expect("error body");
    assert_eq!(error.error, "invalid_scope");
    assert_eq!(error.error_codes, vec![70011]);
    assert!(error.summary().starts_with("invalid_scope: AADSTS70011:"));
    assert!(!error.summary().contains("Trace ID"), "only the first line");
}

#[test]
fn who_am_i_body() {
    let me = WhoAmI::parse(&sample("whoami.json")).expect("whoami");
    assert_eq!(me.user_id, guid("d96e9f55-f06d-e511-80d0-00155db07cb1"));
    assert_eq!(
        me.business_unit_id,
        guid("ded5a64f-f06d-e511-80d0-00155db07cb1")
    );
    assert_eq!(
        me.organization_id,
        guid("4faf1f34-f06d-e511-80d0-00155db07cb1")
    );
}
