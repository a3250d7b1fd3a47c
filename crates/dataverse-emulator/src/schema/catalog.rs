//! The sample organisation: builders plus the list of tables and relationships.

use super::{
    AttrDef, EntityDef, Kind, ManyToMany, OptionDef, OptionSetDef, crm, metadata_id, security,
};
use crate::generate::Gen;

/// Every table, global option set and N:N relationship of the emulated organisation.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub entities: Vec<EntityDef>,
    pub global_option_sets: Vec<OptionSetDef>,
    pub many_to_many: Vec<ManyToMany>,
}

impl Catalog {
    pub fn sample() -> Catalog {
        let globals = vec![crm::region_option_set()];
        let mut entities = crm::entities(&globals[0]);
        entities.extend(security::entities());
        let many_to_many = vec![
            m2m(
                "new_project_contact",
                "new_project",
                "contact",
                "new_project_contact",
                true,
            ),
            m2m(
                "systemuserroles_association",
                "systemuser",
                "role",
                "systemuserroles",
                false,
            ),
            m2m(
                "teammembership_association",
                "systemuser",
                "team",
                "teammembership",
                false,
            ),
            m2m("teamroles_association", "team", "role", "teamroles", false),
        ];
        Catalog {
            entities,
            global_option_sets: globals,
            many_to_many,
        }
    }

    pub fn index(&self, logical_name: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|e| e.logical_name == logical_name)
    }

    pub fn by_set(&self, entity_set: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|e| e.entity_set == entity_set)
    }

    pub fn relationship(&self, schema_name: &str) -> Option<&ManyToMany> {
        self.many_to_many
            .iter()
            .find(|r| r.schema_name == schema_name)
    }

    /// The N:N relationship reachable from `entity` through navigation property `nav`.
    pub fn relationship_by_nav(&self, entity: &str, nav: &str) -> Option<&ManyToMany> {
        self.many_to_many.iter().find(|r| {
            (r.entity1 == entity && r.entity1_nav == nav)
                || (r.entity2 == entity && r.entity2_nav == nav)
        })
    }
}

fn m2m(schema: &str, e1: &str, e2: &str, intersect: &str, custom: bool) -> ManyToMany {
    ManyToMany {
        schema_name: schema.to_owned(),
        entity1: e1.to_owned(),
        entity2: e2.to_owned(),
        intersect: intersect.to_owned(),
        entity1_attr: format!("{e1}id"),
        entity2_attr: format!("{e2}id"),
        entity1_nav: schema.to_owned(),
        entity2_nav: schema.to_owned(),
        is_custom: custom,
        metadata_id: metadata_id(&["relationship", schema]),
    }
}

/// Dataverse-style schema names: `new_Budget`, `AccountNumber`-like capitalisation.
fn schema_name(logical: &str) -> String {
    match logical.strip_prefix("new_") {
        Some(rest) => format!("new_{}", capitalise(rest)),
        None => capitalise(logical),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Starts a column definition; the builder methods below refine it.
pub fn attr(logical: &str, display: &str, kind: Kind, sample: Gen) -> AttrDef {
    AttrDef {
        logical_name: logical.to_owned(),
        schema_name: schema_name(logical),
        display: display.to_owned(),
        kind,
        metadata_id: uuid::Uuid::nil(),
        column_number: 0,
        max_length: match kind {
            Kind::String => Some(100),
            Kind::Memo => Some(2000),
            _ => None,
        },
        precision: match kind {
            Kind::Money => Some(4),
            Kind::Decimal | Kind::Double => Some(2),
            _ => None,
        },
        targets: Vec::new(),
        date_only: false,
        options: None,
        attribute_of: None,
        is_primary_id: false,
        is_primary_name: false,
        is_custom: logical.starts_with("new_"),
        valid_odata: true,
        sample,
    }
}

impl AttrDef {
    pub fn max(mut self, n: i32) -> Self {
        self.max_length = Some(n);
        self
    }
    pub fn precision(mut self, p: i32) -> Self {
        self.precision = Some(p);
        self
    }
    pub fn targets(mut self, t: &[&str]) -> Self {
        self.targets = t.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    pub fn date_only(mut self) -> Self {
        self.date_only = true;
        self
    }
    pub fn of(mut self, parent: &str) -> Self {
        self.attribute_of = Some(parent.to_owned());
        self
    }
    pub fn hidden(mut self) -> Self {
        self.valid_odata = false;
        self
    }
    pub fn options(mut self, set: OptionSetDef) -> Self {
        self.options = Some(set);
        self
    }
    pub fn local(self, entity: &str, options: &[(i32, &str)]) -> Self {
        let name = format!("{entity}_{}", self.logical_name);
        let opts = options.iter().map(|&(v, l)| opt(v, l, None)).collect();
        self.options(option_set(&name, false, opts))
    }
}

pub fn opt(value: i32, label: &str, state: Option<i32>) -> OptionDef {
    OptionDef {
        value,
        label: label.to_owned(),
        state,
    }
}

pub fn option_set(name: &str, is_global: bool, options: Vec<OptionDef>) -> OptionSetDef {
    OptionSetDef {
        name: name.to_owned(),
        metadata_id: metadata_id(&["optionset", name]),
        is_global,
        options,
    }
}

/// Table-level facts for [`entity`].
pub struct Table<'a> {
    pub logical: &'a str,
    pub set: &'a str,
    pub display: &'a str,
    pub plural: &'a str,
    pub name_attr: Option<&'a str>,
    pub otc: i32,
    pub tracked: bool,
    pub ownership: &'static str,
}

/// Assembles a table: the primary key first, the given columns, then the system columns.
pub fn entity(t: Table<'_>, columns: Vec<AttrDef>) -> EntityDef {
    let pk = format!("{}id", t.logical);
    let mut attributes = vec![{
        let mut a = attr(&pk, t.display, Kind::Uniqueidentifier, Gen::PrimaryId);
        a.is_primary_id = true;
        a
    }];
    attributes.extend(columns);
    attributes.push(attr(
        "versionnumber",
        "Version Number",
        Kind::BigInt,
        Gen::Version,
    ));
    system_columns(&mut attributes, t.ownership);
    lookup_parts(&mut attributes);
    for (i, a) in attributes.iter_mut().enumerate() {
        a.column_number = i as i32 + 1;
        a.metadata_id = metadata_id(&["attribute", t.logical, &a.logical_name]);
        a.is_primary_name = Some(a.logical_name.as_str()) == t.name_attr;
    }
    EntityDef {
        logical_name: t.logical.to_owned(),
        schema_name: schema_name(t.logical),
        entity_set: t.set.to_owned(),
        display: t.display.to_owned(),
        display_plural: t.plural.to_owned(),
        primary_id: pk,
        primary_name: t.name_attr.map(str::to_owned),
        object_type_code: t.otc,
        metadata_id: metadata_id(&["entity", t.logical]),
        change_tracking: t.tracked,
        is_intersect: false,
        is_custom: t.logical.starts_with("new_"),
        ownership: t.ownership,
        attributes,
    }
}

/// The owner, state, status and audit columns of a user-owned table.
pub fn standard(
    entity: &str,
    states: &[(i32, &str)],
    statuses: &[(i32, &str, i32)],
) -> Vec<AttrDef> {
    let state_set = option_set(
        &format!("{entity}_statecode"),
        false,
        states
            .iter()
            .map(|&(v, l)| opt(v, l, statuses.iter().find(|s| s.2 == v).map(|s| s.0)))
            .collect(),
    );
    let status_set = option_set(
        &format!("{entity}_statuscode"),
        false,
        statuses
            .iter()
            .map(|&(v, l, s)| opt(v, l, Some(s)))
            .collect(),
    );
    vec![
        attr("statecode", "Status", Kind::State, Gen::Zero).options(state_set),
        attr("statuscode", "Status Reason", Kind::Status, Gen::One).options(status_set),
        attr("ownerid", "Owner", Kind::Owner, Gen::Ref).targets(&["systemuser", "team"]),
        attr("owneridname", "Owner Name", Kind::String, Gen::Null)
            .of("ownerid")
            .hidden(),
        attr("owneridtype", "Owner Type", Kind::EntityName, Gen::Null)
            .of("ownerid")
            .hidden(),
        attr(
            "owningbusinessunit",
            "Owning Business Unit",
            Kind::Lookup,
            Gen::Ref,
        )
        .targets(&["businessunit"]),
        attr("createdby", "Created By", Kind::Lookup, Gen::Ref).targets(&["systemuser"]),
        attr("createdon", "Created On", Kind::DateTime, Gen::Date),
        attr(
            "modifiedon",
            "Modified On",
            Kind::DateTime,
            Gen::After("createdon"),
        ),
    ]
}

/// The columns every Dataverse table has (who created and last modified a row, and when), and
/// on user-owned tables the owner's user or team, where the definition does not name them.
/// Appended, so the columns a table had keep their places. Intersect tables have none.
fn system_columns(attributes: &mut Vec<AttrDef>, ownership: &str) {
    if ownership == "None" {
        return;
    }
    let mut columns = vec![
        attr("createdon", "Created On", Kind::DateTime, Gen::Date),
        attr("createdby", "Created By", Kind::Lookup, Gen::Ref).targets(&["systemuser"]),
        attr(
            "modifiedon",
            "Modified On",
            Kind::DateTime,
            Gen::After("createdon"),
        ),
        attr("modifiedby", "Modified By", Kind::Lookup, Gen::Ref).targets(&["systemuser"]),
    ];
    if ownership == "UserOwned" {
        columns.push(
            attr("owninguser", "Owning User", Kind::Lookup, Gen::OwnedBy(0))
                .targets(&["systemuser"]),
        );
        columns.push(
            attr("owningteam", "Owning Team", Kind::Lookup, Gen::OwnedBy(1)).targets(&["team"]),
        );
    }
    for a in columns {
        if !attributes.iter().any(|x| x.logical_name == a.logical_name) {
            attributes.push(a);
        }
    }
}

/// The columns Dataverse keeps beside each lookup, where the definition does not name them:
/// its name (`createdbyname`), for lookups to users, accounts and contacts its yomi name, and
/// for owner and customer lookups the referenced table (`owneridtype`). None is a Web API
/// property (`AttributeOf` names the lookup); the service returns their values as the lookup's
/// annotations. Lengths as Dataverse's: 100, or 160 (name) and 450 (yomi name) for lookups
/// to accounts or contacts.
fn lookup_parts(attributes: &mut Vec<AttrDef>) {
    let lookups: Vec<AttrDef> = attributes
        .iter()
        .filter(|a| a.kind.is_lookup())
        .cloned()
        .collect();
    for lookup in lookups {
        let has = |t: &[&str]| lookup.targets.iter().any(|x| t.contains(&x.as_str()));
        let customer = has(&["account", "contact"]);
        let (name, yomi) = if customer { (160, 450) } else { (100, 100) };
        let part = |suffix: &str, display: &str, kind: Kind| {
            let logical = format!("{}{suffix}", lookup.logical_name);
            let display = format!("{} {display}", lookup.display);
            attr(&logical, &display, kind, Gen::Null)
        };
        let mut parts = vec![part("name", "Name", Kind::String).max(name)];
        if customer || has(&["systemuser"]) {
            parts.push(part("yominame", "Yomi Name", Kind::String).max(yomi));
        }
        if matches!(lookup.kind, Kind::Owner | Kind::Customer) {
            parts.push(part("type", "Type", Kind::EntityName));
        }
        for p in parts {
            if !attributes.iter().any(|x| x.logical_name == p.logical_name) {
                attributes.push(p.of(&lookup.logical_name).hidden());
            }
        }
    }
}

/// Money columns need the currency lookup and exchange rate beside them.
pub fn currency() -> Vec<AttrDef> {
    vec![
        attr("transactioncurrencyid", "Currency", Kind::Lookup, Gen::Ref)
            .targets(&["transactioncurrency"]),
        attr(
            "exchangerate",
            "Exchange Rate",
            Kind::Decimal,
            Gen::Fixed("10000000000"),
        )
        .precision(10),
    ]
}

/// An intersect table for an N:N relationship.
pub fn intersect(
    logical: &str,
    set: &str,
    e1: &str,
    e2: &str,
    g2: Gen,
    tracked: bool,
) -> EntityDef {
    let cols = vec![
        attr(
            &format!("{e1}id"),
            e1,
            Kind::Uniqueidentifier,
            Gen::Intersect1,
        )
        .targets(&[e1]),
        attr(&format!("{e2}id"), e2, Kind::Uniqueidentifier, g2).targets(&[e2]),
    ];
    let t = Table {
        logical,
        set,
        display: logical,
        plural: logical,
        name_attr: None,
        otc: 0,
        tracked,
        ownership: "None",
    };
    let mut def = entity(t, cols);
    def.is_intersect = true;
    def
}
