use des_core::EntityMetadata;
use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef, TableKind};
use serde_json::json;

use super::*;
use crate::compare::{SourceRows, compare_rows};

const ID: &str = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
const CUSTOMER: &str = "0A1B2C3D-0000-4000-8000-00000000ABCD";

fn column(name: &str, ty: SqlType, source: ColumnSource) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        nullable: true,
        source,
    }
}

fn attribute(name: &str, ty: SqlType) -> ColumnDef {
    column(name, ty, ColumnSource::Attribute(name.into()))
}

/// A contact table with a column of every type DES gives SQL Server.
fn contact() -> TableDef {
    TableDef {
        schema: "dbo".into(),
        name: "crm_contact".into(),
        kind: TableKind::Entity("contact".into()),
        columns: vec![
            column("Id", SqlType::Guid, ColumnSource::Id),
            column(
                "SinkCreatedOn",
                SqlType::DateTime,
                ColumnSource::SinkCreatedOn,
            ),
            attribute("fullname", SqlType::Text { max_len: Some(160) }),
            attribute("description", SqlType::Text { max_len: None }),
            attribute("creditonhold", SqlType::Bit),
            attribute("gendercode", SqlType::Int),
            attribute("versionnumber", SqlType::BigInt),
            attribute(
                "annualincome",
                SqlType::Decimal {
                    precision: 38,
                    scale: 4,
                },
            ),
            attribute("createdon", SqlType::DateTime),
            attribute("birthdate", SqlType::DateTime),
            attribute("parentcustomerid", SqlType::Guid),
            column(
                "parentcustomerid_entitytype",
                SqlType::Text { max_len: Some(128) },
                ColumnSource::LookupEntityType("parentcustomerid".into()),
            ),
        ],
        primary_key: vec!["Id".into()],
    }
}

fn metadata() -> EntityMetadata {
    EntityMetadata {
        logical_name: "contact".into(),
        schema_name: "Contact".into(),
        entity_set_name: "contacts".into(),
        primary_id_attribute: "contactid".into(),
        primary_name_attribute: Some("fullname".into()),
        display_name: None,
        object_type_code: Some(2),
        metadata_id: String::new(),
        change_tracking_enabled: true,
        is_intersect: false,
        attributes: vec![],
    }
}

/// The source row as the Web API returns it.
fn source() -> SourceRows {
    let row = json!({
        "contactid": ID.to_lowercase(),
        "fullname": "Ada ]Lovelace[",
        "description": null,
        "creditonhold": true,
        "gendercode": 2,
        "versionnumber": 9_000_000_001_i64,
        "annualincome": 1234.5,
        "createdon": "2023-04-07T21:59:01Z",
        "birthdate": "1815-12-10",
        "parentcustomerid": CUSTOMER.to_lowercase(),
    });
    let serde_json::Value::Object(row) = row else {
        unreachable!("an object literal")
    };
    [(ID.to_lowercase(), row)].into()
}

/// The same row as `select_rows` makes SQL Server write it.
fn server_text(annual_income: &str) -> Vec<TextRow> {
    let text = |s: &str| Some(s.to_owned());
    vec![vec![
        text(ID),
        text("2026-11-27T18:00:00.123Z"),
        text("Ada ]Lovelace["),
        None,
        text("1"),
        text("2"),
        text("9000000001"),
        text(annual_income),
        text("2023-04-07T21:59:01Z"),
        text("1815-12-10T00:00:00Z"),
        text(CUSTOMER),
        text("contact"),
    ]]
}

#[test]
fn a_row_of_every_column_type_read_back_equals_its_source_row() {
    let table = contact();
    let target = target_rows(&table, server_text("1234.5000")).expect("an Id");
    assert_eq!(target.keys().collect::<Vec<_>>(), [&ID.to_lowercase()]);
    assert_eq!(
        compare_rows(&target, &table, &metadata(), &source()),
        Ok(())
    );
}

#[test]
fn a_value_that_differs_after_normalising_is_reported_by_column() {
    let table = contact();
    let target = target_rows(&table, server_text("1234.5100")).expect("an Id");
    let diff = compare_rows(&target, &table, &metadata(), &source()).expect_err("differs");
    assert!(diff.contains("column annualincome"), "{diff}");
}

#[test]
fn a_row_without_an_id_is_an_error() {
    let mut rows = server_text("1");
    rows[0][0] = None;
    assert_eq!(target_rows(&contact(), rows), Err("Id is null".to_owned()));
}

#[test]
fn cells_normalise_like_the_other_targets() {
    assert_eq!(cell(SqlType::Guid, Some(ID)), Some(ID.to_lowercase()));
    // Style 126 leaves out a zero millisecond part.
    assert_eq!(
        cell(SqlType::DateTime, Some("2023-04-07T21:59:01Z")),
        cell(SqlType::DateTime, Some("2023-04-07T21:59:01.000Z"))
    );
    assert_eq!(
        cell(SqlType::DateTime, Some("2023-04-07T21:59:01.997Z")),
        Some("1680904741997".into())
    );
    assert_eq!(cell(SqlType::Bit, Some("0")), Some("0".into()));
    assert_eq!(cell(SqlType::BigInt, Some("-7")), Some("-7".into()));
    let decimal = SqlType::Decimal {
        precision: 38,
        scale: 2,
    };
    assert_eq!(cell(decimal, Some("-0.50")), Some("-0.50".into()));
    assert_eq!(cell(SqlType::Int, None), None);
}

#[test]
fn rows_are_read_as_text_with_datetimes_in_iso_form() {
    let table = TableDef {
        schema: "d]bo".into(),
        name: "acc]ount".into(),
        columns: vec![
            column("Id", SqlType::Guid, ColumnSource::Id),
            attribute("created]on", SqlType::DateTime),
            attribute(
                "revenue",
                SqlType::Decimal {
                    precision: 38,
                    scale: 4,
                },
            ),
        ],
        kind: TableKind::Entity("account".into()),
        primary_key: vec!["Id".into()],
    };
    assert_eq!(
        select_rows(&table),
        "SELECT CONVERT(nvarchar(max), [Id]), \
         CONVERT(nvarchar(30), [created]]on], 126) + N'Z', \
         CONVERT(nvarchar(max), [revenue]) \
         FROM [d]]bo].[acc]]ount]"
    );
}
