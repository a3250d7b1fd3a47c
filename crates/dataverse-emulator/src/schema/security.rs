//! Users, teams, roles and their intersect tables, as the System Administrator check reads them.

use super::EntityDef;
use super::Kind;
use super::catalog::{Table, attr, entity, intersect};
use crate::generate::Gen;

/// The System Administrator role template id, the same in every environment.
pub const SYSTEM_ADMIN_TEMPLATE: &str = "627090ff-40a3-4053-8790-584edc5be201";
const ROLE_TEMPLATES: &[&str] = &[
    SYSTEM_ADMIN_TEMPLATE,
    "d6cd0bc4-4c9e-4b1c-8f0a-4a5b3b1b8a01",
    "0c9f3e6a-8b2d-4f43-9d8e-2f6a7b1c5d02",
];
/// Row index of the Salesperson role, which generated users hold.
pub const SALESPERSON_ROLE: usize = 2;

pub fn entities() -> Vec<EntityDef> {
    vec![
        business_unit(),
        system_user(),
        team(),
        role(),
        intersect(
            "systemuserroles",
            "systemuserrolescollection",
            "systemuser",
            "role",
            Gen::NthOf(SALESPERSON_ROLE),
            false,
        ),
        intersect(
            "teammembership",
            "teammemberships",
            "systemuser",
            "team",
            Gen::Intersect2,
            false,
        ),
        intersect(
            "teamroles",
            "teamrolescollection",
            "team",
            "role",
            Gen::Intersect2,
            false,
        ),
    ]
}

fn org_table<'a>(
    logical: &'a str,
    set: &'a str,
    display: &'a str,
    plural: &'a str,
    name: &'a str,
    otc: i32,
) -> Table<'a> {
    Table {
        logical,
        set,
        display,
        plural,
        name_attr: Some(name),
        otc,
        tracked: true,
        ownership: "BusinessOwned",
    }
}

fn business_unit() -> EntityDef {
    let cols = vec![attr("name", "Name", Kind::String, Gen::Seq(&["emulator"])).max(160)];
    entity(
        org_table(
            "businessunit",
            "businessunits",
            "Business Unit",
            "Business Units",
            "name",
            10,
        ),
        cols,
    )
}

fn system_user() -> EntityDef {
    let cols = vec![
        attr("fullname", "Full Name", Kind::String, Gen::FullName).max(200),
        attr("firstname", "First Name", Kind::String, Gen::FirstName).max(64),
        attr("lastname", "Last Name", Kind::String, Gen::LastName).max(64),
        attr("domainname", "User Name", Kind::String, Gen::Email).max(1024),
        attr(
            "internalemailaddress",
            "Primary Email",
            Kind::String,
            Gen::Email,
        )
        .max(100),
        attr(
            "azureactivedirectoryobjectid",
            "Azure AD Object ID",
            Kind::Uniqueidentifier,
            Gen::RandomGuid,
        ),
        attr(
            "applicationid",
            "Application ID",
            Kind::Uniqueidentifier,
            Gen::Null,
        ),
        attr("isdisabled", "Status", Kind::Boolean, Gen::Fixed("false")),
        attr("accessmode", "Access Mode", Kind::Picklist, Gen::Option).local(
            "systemuser",
            &[
                (0, "Read-Write"),
                (4, "Non-interactive"),
                (5, "Application"),
            ],
        ),
        attr("businessunitid", "Business Unit", Kind::Lookup, Gen::Ref).targets(&["businessunit"]),
        attr("createdon", "Created On", Kind::DateTime, Gen::Date),
        attr(
            "modifiedon",
            "Modified On",
            Kind::DateTime,
            Gen::After("createdon"),
        ),
    ];
    entity(
        org_table("systemuser", "systemusers", "User", "Users", "fullname", 8),
        cols,
    )
}

fn team() -> EntityDef {
    let cols = vec![
        attr(
            "name",
            "Team Name",
            Kind::String,
            Gen::Seq(&["Sales Team", "Support Team"]),
        )
        .max(160),
        attr("teamtype", "Team Type", Kind::Picklist, Gen::Zero).local(
            "team",
            &[
                (0, "Owner"),
                (1, "Access"),
                (2, "Microsoft Entra ID Security Group"),
            ],
        ),
        attr("businessunitid", "Business Unit", Kind::Lookup, Gen::Ref).targets(&["businessunit"]),
    ];
    entity(org_table("team", "teams", "Team", "Teams", "name", 9), cols)
}

fn role() -> EntityDef {
    let cols = vec![
        attr(
            "name",
            "Name",
            Kind::String,
            Gen::Seq(&["System Administrator", "Basic User", "Salesperson"]),
        )
        .max(100),
        attr(
            "roletemplateid",
            "Role Template",
            Kind::Lookup,
            Gen::SeqGuid(ROLE_TEMPLATES),
        )
        .targets(&["roletemplate"]),
        attr("businessunitid", "Business Unit", Kind::Lookup, Gen::Ref).targets(&["businessunit"]),
    ];
    entity(
        org_table(
            "role",
            "roles",
            "Security Role",
            "Security Roles",
            "name",
            1036,
        ),
        cols,
    )
}
