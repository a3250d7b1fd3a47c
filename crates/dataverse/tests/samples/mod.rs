//! Every body in `testdata/dataverse-samples` (at the repository root) goes through the parser it stands for.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dataverse::PlannedColumn;
use des_core::{AttributeKind, Change, Value};
use uuid::Uuid;

mod bodies;
mod definitions;
mod lookup_names;
mod pages;

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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dataverse-samples")
}

pub(crate) fn sample(name: &str) -> Vec<u8> {
    assert!(COVERED.contains(&name), "{name} missing from COVERED");
    std::fs::read(samples_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) fn guid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("guid")
}

pub(crate) fn column(name: &str, kind: AttributeKind, targets: &[&str]) -> PlannedColumn {
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
            [only] => Some((*only).into()),
            _ => None,
        },
        source: dataverse::WireSource::Property,
    }
}

pub(crate) fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

pub(crate) fn upsert(change: &Change) -> &des_core::Row {
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
