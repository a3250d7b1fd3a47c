//! The SQL of Microsoft's DES-era report templates, run against what the sinks write.
//!
//! The queries follow Microsoft's Power BI solution templates for DES databases
//! (Microsoft/BusinessPlatformApps, `Source/Apps/Microsoft/Released/Microsoft-D365CustomerService/
//! Database`: `csrv.caseview` joins `StateMetadata`/`OptionSetMetadata` on
//! `IsUserLocalizedLabel = 0 AND LocalizedLabelLanguageCode = 1033`) and the DES admin guide's
//! delete-log query (`DeleteLog` rows of an entity); scripts written against Synapse Link's
//! metadata files join on the flag being 1. Each query must find rows.

use des_contract::sink::attr;
use des_core::metadata::{AttributeKind as K, AttributeMetadata};
use des_core::metadata::{LocalizedLabel, OptionMetadata, OptionSetMetadata};
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::{Naming, SchemaPlan, plan};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

fn label(text: &str, language_code: i32) -> LocalizedLabel {
    LocalizedLabel {
        label: text.into(),
        language_code,
    }
}

/// Options labelled in English (the user's language, as Dataverse sends it) and German.
fn options(name: &str, labels: &[(i32, &str, &str)]) -> Option<OptionSetMetadata> {
    let option = |&(value, en, de): &(i32, &str, &str)| OptionMetadata {
        value,
        labels: vec![label(en, 1033), label(de, 1031)],
        user_localized_label: Some(label(en, 1033)),
        state: None,
    };
    Some(OptionSetMetadata {
        name: name.into(),
        is_global: false,
        options: labels.iter().map(option).collect(),
    })
}

/// A column Dataverse keeps beside the owner lookup (`AttributeOf`), no Web API property.
fn lookup_part(name: &str, kind: K, max_length: Option<i32>) -> AttributeMetadata {
    AttributeMetadata {
        attribute_of: Some("ownerid".into()),
        is_valid_odata: false,
        max_length,
        ..attr(name, kind)
    }
}

/// The account plan the reports read; `tier` adds a `new_tier` choice, as a later
/// customization would.
pub fn report_plan(tier: bool) -> SchemaPlan {
    let mut attributes = vec![
        attr("accountid", K::Uniqueidentifier),
        AttributeMetadata {
            max_length: Some(160),
            ..attr("name", K::String)
        },
        AttributeMetadata {
            option_set: options(
                "account_statecode",
                &[(0, "Active", "Aktiv"), (1, "Inactive", "Inaktiv")],
            ),
            ..attr("statecode", K::State)
        },
        AttributeMetadata {
            option_set: options(
                "account_industrycode",
                &[
                    (1, "Accounting", "Buchhaltung"),
                    (2, "Agriculture", "Landwirtschaft"),
                ],
            ),
            ..attr("industrycode", K::Picklist)
        },
        AttributeMetadata {
            option_set: options(
                "account_new_tags",
                &[(1, "Red", "Rot"), (2, "Green", "Grün"), (3, "Blue", "Blau")],
            ),
            ..attr("new_tags", K::MultiSelectPicklist)
        },
        AttributeMetadata {
            targets: vec!["systemuser".into(), "team".into()],
            ..attr("ownerid", K::Owner)
        },
        lookup_part("owneridname", K::String, Some(100)),
        lookup_part("owneridyominame", K::String, Some(100)),
        lookup_part("owneridtype", K::EntityName, None),
        attr("versionnumber", K::BigInt),
    ];
    if tier {
        attributes.push(AttributeMetadata {
            option_set: options(
                "account_new_tier",
                &[(1, "Gold", "Gold"), (2, "Silver", "Silber")],
            ),
            ..attr("new_tier", K::Picklist)
        });
    }
    let account = des_contract::sink::account_entity(attributes);
    let naming = Naming {
        schema: "dbo".into(),
        prefix: String::new(),
        write_delete_log: true,
    };
    plan(&naming, &[account], &[], &[])
}

/// The batch columns, as the engine derives them from the plan (its attribute columns).
const COLUMNS: [&str; 9] = [
    "name",
    "statecode",
    "industrycode",
    "new_tags",
    "ownerid",
    "owneridname",
    "owneridyominame",
    "owneridtype",
    "versionnumber",
];

/// The owners: a user and a team, with the names the source reads from the annotations.
const OWNERS: [(&str, &str); 2] = [("Nancy Davolio", "systemuser"), ("Sales Team", "team")];

fn account(n: u128, name: &str, state: i64, industry: i64, tags: &str) -> Change {
    let (owner, table) = OWNERS[n as usize % 2];
    Change::Upsert(Row {
        id: Uuid::from_u128(n),
        version: n as i64,
        values: vec![
            Value::Text(name.into()),
            Value::Int(state),
            Value::Int(industry),
            Value::Text(tags.into()),
            Value::Lookup {
                id: Uuid::from_u128(0x0E00 + n % 2),
                target: Some(table.into()),
            },
            Value::Text(owner.into()),
            Value::Null,
            Value::Text(table.into()),
            Value::Int(n as i64),
        ],
    })
}

fn batch(seq: u64, changes: Vec<Change>) -> Batch {
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Delta,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

/// Writes three accounts, deletes the third, and leaves the plan's tables and view behind.
pub async fn write_accounts<S: Sink>(sink: &S) {
    let plan = report_plan(false);
    sink.apply_schema(&plan).await.expect("schema applies");
    let table = plan.table_for("account").expect("planned");
    let changes = vec![
        account(1, "Contoso", 0, 1, "1,3"),
        account(2, "Fabrikam", 1, 2, "2"),
        account(3, "Northwind", 0, 1, ""),
    ];
    for (seq, b) in [
        (1, batch(1, changes)),
        (2, batch(2, vec![Change::Delete(Uuid::from_u128(3))])),
    ] {
        match sink.apply_batch(&plan, table, &b).await.expect("applies") {
            BatchOutcome::Applied { failures, .. } => assert!(failures.is_empty(), "batch {seq}"),
            other => panic!("batch {seq} not applied: {other:?}"),
        }
    }
}

/// The report queries, with `flag(n)` the dialect's literal for `IsUserLocalizedLabel = n`
/// (SQL Server and SQLite compare with 0 and 1; PostgreSQL's boolean with false and true).
/// Each is paired with the rows it must return (as text, ordered by name).
pub fn queries(flag: fn(u8) -> &'static str) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    let s = |v: &str| Some(v.to_owned());
    let template = |n: u8| {
        format!(
            "SELECT a.\"name\", osm.\"LocalizedLabel\", st.\"LocalizedLabel\" FROM \"account\" a \
             LEFT OUTER JOIN \"OptionSetMetadata\" osm ON a.\"industrycode\" = osm.\"Option\" \
             AND osm.\"IsUserLocalizedLabel\" = {f} AND osm.\"LocalizedLabelLanguageCode\" = 1033 \
             AND osm.\"OptionSetName\" = 'industrycode' AND osm.\"EntityName\" = 'account' \
             LEFT OUTER JOIN \"StateMetadata\" st ON a.\"statecode\" = st.\"State\" \
             AND st.\"IsUserLocalizedLabel\" = {f} AND st.\"LocalizedLabelLanguageCode\" = 1033 \
             AND st.\"EntityName\" = 'account' ORDER BY a.\"name\"",
            f = flag(n)
        )
    };
    let labels = vec![
        vec![s("Contoso"), s("Accounting"), s("Active")],
        vec![s("Fabrikam"), s("Agriculture"), s("Inactive")],
    ];
    vec![
        (template(0), labels.clone()),
        (template(1), labels),
        (
            "SELECT \"name\", \"statecodename\", \"industrycodename\", \"new_tagsname\", \
             \"owneridname\" FROM \"account_Labeled\" ORDER BY \"name\""
                .to_owned(),
            vec![
                vec![
                    s("Contoso"),
                    s("Active"),
                    s("Accounting"),
                    s("Red; Blue"),
                    s("Sales Team"),
                ],
                vec![
                    s("Fabrikam"),
                    s("Inactive"),
                    s("Agriculture"),
                    s("Green"),
                    s("Nancy Davolio"),
                ],
            ],
        ),
        // A DES report selecting the owner's name and type, unquoted as report writers do.
        (
            "SELECT name, owneridname, owneridtype, owneridyominame FROM account \
             WHERE owneridtype = 'team' ORDER BY owneridname, name"
                .to_owned(),
            vec![vec![s("Contoso"), s("Sales Team"), s("team"), None]],
        ),
        (
            "SELECT \"EntityName\", \"RecordId\" FROM \"DeleteLog\" WHERE \"EntityName\" = 'account'"
                .to_owned(),
            vec![vec![s("account"), s(&Uuid::from_u128(3).to_string())]],
        ),
    ]
}

/// Writes the accounts, then evolves the table with a new choice column; answers the columns
/// the labeled view must then have (the new column and its label), which each dialect reads
/// from its catalog.
pub async fn view_follows_the_table<S: Sink>(sink: &S) -> Vec<String> {
    write_accounts(sink).await;
    let evolved = report_plan(true);
    sink.apply_schema(&evolved)
        .await
        .expect("evolved schema applies");
    vec!["new_tier".to_owned(), "new_tiername".to_owned()]
}
