//! Data pages: initial, delta, next links, annotations.

use dataverse::{ColumnPlan, parse_page};
use des_core::AttributeKind;
use des_core::ports::NextLink;
use des_core::{Change, Value};

use super::{column, guid, sample, text, upsert};

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
            target: Some("contact".into())
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
            target: Some("team".into())
        }
    );
    assert_eq!(
        targets[1],
        Value::Lookup {
            id: user,
            target: Some("systemuser".into())
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
            target: Some("contact".into())
        }]
    );
}
