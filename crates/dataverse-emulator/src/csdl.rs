//! The OData service document (`GET /api/data/v9.2/`) and the CSDL metadata document
//! (`GET /api/data/v9.2/$metadata`), both derived from the catalog the rest of the emulator
//! serves, so a schema change at run time shows here too.
//!
//! Like Dataverse: one schema `Microsoft.Dynamics.CRM` (alias `mscrm`), every table an entity
//! type deriving from the abstract `crmbaseentity`, users and teams deriving from the abstract
//! `principal` (what an owner lookup leads to), lookups as `_<name>_value` Guid properties
//! plus a single-valued navigation property with a referential constraint. The metadata
//! tables (`EntityDefinitions`, ...) are open types declaring their key and main properties.

use crate::schema::navigation::{collection_valued, single_valued};
use crate::schema::{AttrDef, Catalog, EntityDef, Kind};
use serde_json::{Value, json};
use std::fmt::Write;

const NS: &str = "Microsoft.Dynamics.CRM";

/// The functions the emulator implements: (name, return type).
const FUNCTIONS: &[(&str, &str)] = &[("WhoAmI", "mscrm.WhoAmIResponse")];

/// The metadata entity sets the emulator serves: (set, entity type).
const METADATA_SETS: &[(&str, &str)] = &[
    ("EntityDefinitions", "EntityMetadata"),
    ("RelationshipDefinitions", "RelationshipMetadataBase"),
    ("GlobalOptionSetDefinitions", "OptionSetMetadataBase"),
];

/// The service document: every entity set and function import, as OData JSON.
pub fn service_document(cat: &Catalog, api_url: &str) -> String {
    let sets = cat
        .entities
        .iter()
        .map(|e| e.entity_set.as_str())
        .chain(METADATA_SETS.iter().map(|(s, _)| *s))
        .map(|s| json!({"name": s, "kind": "EntitySet", "url": s}));
    let functions = FUNCTIONS
        .iter()
        .map(|(f, _)| json!({"name": f, "kind": "FunctionImport", "url": f}));
    let value: Vec<Value> = sets.chain(functions).collect();
    json!({"@odata.context": format!("{api_url}/$metadata"), "value": value}).to_string()
}

/// The Edm type of a column's property.
pub fn edm_type(a: &AttrDef) -> &'static str {
    match a.kind {
        Kind::String | Kind::Memo | Kind::EntityName | Kind::MultiSelect => "Edm.String",
        Kind::Integer | Kind::Picklist | Kind::State | Kind::Status => "Edm.Int32",
        Kind::BigInt => "Edm.Int64",
        Kind::Decimal | Kind::Money => "Edm.Decimal",
        Kind::Double => "Edm.Double",
        Kind::Boolean => "Edm.Boolean",
        Kind::DateTime if a.date_only => "Edm.Date",
        Kind::DateTime => "Edm.DateTimeOffset",
        Kind::Image => "Edm.Binary",
        Kind::Uniqueidentifier | Kind::File | Kind::Lookup | Kind::Customer | Kind::Owner => {
            "Edm.Guid"
        }
    }
}

/// XML attribute text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The CSDL (XML) metadata document.
pub fn metadata_document(cat: &Catalog) -> String {
    let mut x = String::with_capacity(64 * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    x.push_str("<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>");
    let _ = write!(
        x,
        "<Schema Namespace=\"{NS}\" Alias=\"mscrm\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    x.push_str("<EntityType Name=\"crmbaseentity\" Abstract=\"true\"/>");
    x.push_str(
        "<EntityType Name=\"principal\" BaseType=\"mscrm.crmbaseentity\" Abstract=\"true\"/>",
    );
    for def in &cat.entities {
        entity_type(&mut x, cat, def);
    }
    metadata_types(&mut x, cat);
    operations(&mut x);
    container(&mut x, cat);
    x.push_str("</Schema></edmx:DataServices></edmx:Edmx>");
    x
}

fn entity_type(x: &mut String, cat: &Catalog, def: &EntityDef) {
    let base = match def.logical_name.as_str() {
        "systemuser" | "team" => "mscrm.principal",
        _ => "mscrm.crmbaseentity",
    };
    let _ = write!(
        x,
        "<EntityType Name=\"{}\" BaseType=\"{base}\"><Key><PropertyRef Name=\"{}\"/></Key>",
        esc(&def.logical_name),
        esc(&def.primary_id)
    );
    for a in def.attributes.iter().filter(|a| a.is_property()) {
        let _ = write!(
            x,
            "<Property Name=\"{}\" Type=\"{}\"",
            esc(&a.wire_name()),
            edm_type(a)
        );
        if a.is_primary_id {
            x.push_str(" Nullable=\"false\"");
        }
        if matches!(a.kind, Kind::Decimal | Kind::Money) {
            x.push_str(" Scale=\"variable\"");
        }
        x.push_str("/>");
    }
    for nav in single_valued(cat, def) {
        let target = nav.target.map_or("principal", |t| t.logical_name.as_str());
        let _ = write!(
            x,
            "<NavigationProperty Name=\"{}\" Type=\"mscrm.{}\"",
            esc(&nav.name),
            esc(target)
        );
        match nav.target {
            Some(t) => {
                let _ = write!(
                    x,
                    "><ReferentialConstraint Property=\"{}\" ReferencedProperty=\"{}\"/></NavigationProperty>",
                    esc(&nav.attr.wire_name()),
                    esc(&t.primary_id)
                );
            }
            None => x.push_str("/>"),
        }
    }
    for nav in collection_valued(cat, def) {
        let _ = write!(
            x,
            "<NavigationProperty Name=\"{}\" Type=\"Collection(mscrm.{})\"/>",
            esc(nav.name),
            esc(&nav.target.logical_name)
        );
    }
    x.push_str("</EntityType>");
}

/// Open entity types for the metadata routes: key and main properties declared, the rest
/// of each JSON body dynamic.
fn metadata_types(x: &mut String, cat: &Catalog) {
    let string = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("<Property Name=\"{n}\" Type=\"Edm.String\"/>"))
            .collect()
    };
    let key = "<Key><PropertyRef Name=\"MetadataId\"/></Key><Property Name=\"MetadataId\" Type=\"Edm.Guid\" Nullable=\"false\"/>";
    let _ = write!(
        x,
        "<EntityType Name=\"EntityMetadata\" OpenType=\"true\">{key}{}<Property Name=\"ObjectTypeCode\" Type=\"Edm.Int32\"/><Property Name=\"ChangeTrackingEnabled\" Type=\"Edm.Boolean\"/><Property Name=\"IsIntersect\" Type=\"Edm.Boolean\"/>\
         <NavigationProperty Name=\"Attributes\" Type=\"Collection(mscrm.AttributeMetadata)\"/>\
         <NavigationProperty Name=\"ManyToManyRelationships\" Type=\"Collection(mscrm.ManyToManyRelationshipMetadata)\"/>\
         <NavigationProperty Name=\"ManyToOneRelationships\" Type=\"Collection(mscrm.OneToManyRelationshipMetadata)\"/>\
         <NavigationProperty Name=\"OneToManyRelationships\" Type=\"Collection(mscrm.OneToManyRelationshipMetadata)\"/></EntityType>",
        string(&[
            "LogicalName",
            "SchemaName",
            "EntitySetName",
            "PrimaryIdAttribute",
            "PrimaryNameAttribute"
        ])
    );
    let _ = write!(
        x,
        "<EntityType Name=\"AttributeMetadata\" OpenType=\"true\">{key}{}</EntityType>",
        string(&[
            "LogicalName",
            "SchemaName",
            "EntityLogicalName",
            "AttributeOf"
        ])
    );
    let mut derived: Vec<&str> = cat
        .entities
        .iter()
        .flat_map(|e| e.attributes.iter().map(|a| a.kind.metadata_type()))
        .collect();
    derived.sort_unstable();
    derived.dedup();
    for d in derived {
        let _ = write!(
            x,
            "<EntityType Name=\"{d}\" BaseType=\"mscrm.AttributeMetadata\" OpenType=\"true\"/>"
        );
    }
    let _ = write!(
        x,
        "<EntityType Name=\"RelationshipMetadataBase\" OpenType=\"true\">{key}{}</EntityType>\
         <EntityType Name=\"OneToManyRelationshipMetadata\" BaseType=\"mscrm.RelationshipMetadataBase\" OpenType=\"true\"/>\
         <EntityType Name=\"ManyToManyRelationshipMetadata\" BaseType=\"mscrm.RelationshipMetadataBase\" OpenType=\"true\"/>\
         <EntityType Name=\"OptionSetMetadataBase\" OpenType=\"true\">{key}{}</EntityType>",
        string(&["SchemaName"]),
        string(&["Name"])
    );
}

fn operations(x: &mut String) {
    x.push_str("<ComplexType Name=\"WhoAmIResponse\">");
    for p in ["BusinessUnitId", "UserId", "OrganizationId"] {
        let _ = write!(
            x,
            "<Property Name=\"{p}\" Type=\"Edm.Guid\" Nullable=\"false\"/>"
        );
    }
    x.push_str("</ComplexType>");
    for (name, returns) in FUNCTIONS {
        let _ = write!(
            x,
            "<Function Name=\"{name}\"><ReturnType Type=\"{returns}\" Nullable=\"false\"/></Function>"
        );
    }
}

fn container(x: &mut String, cat: &Catalog) {
    x.push_str("<EntityContainer Name=\"System\">");
    for def in &cat.entities {
        let _ = write!(
            x,
            "<EntitySet Name=\"{}\" EntityType=\"{NS}.{}\">",
            esc(&def.entity_set),
            esc(&def.logical_name)
        );
        for nav in single_valued(cat, def) {
            if let Some(t) = nav.target {
                bind(x, &nav.name, &t.entity_set);
            }
        }
        for nav in collection_valued(cat, def) {
            bind(x, nav.name, &nav.target.entity_set);
        }
        x.push_str("</EntitySet>");
    }
    for (set, ty) in METADATA_SETS {
        let _ = write!(x, "<EntitySet Name=\"{set}\" EntityType=\"{NS}.{ty}\"/>");
    }
    for (name, _) in FUNCTIONS {
        let _ = write!(
            x,
            "<FunctionImport Name=\"{name}\" Function=\"{NS}.{name}\" IncludeInServiceDocument=\"true\"/>"
        );
    }
    x.push_str("</EntityContainer>");
}

fn bind(x: &mut String, path: &str, target: &str) {
    let _ = write!(
        x,
        "<NavigationPropertyBinding Path=\"{}\" Target=\"{}\"/>",
        esc(path),
        esc(target)
    );
}
