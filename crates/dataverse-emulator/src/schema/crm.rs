//! Sales tables: account, contact, lead, opportunity, a custom project table with an N:N to
//! contact, an untracked audit-note table and the currency table money columns point at.

use super::catalog::{Table, attr, currency, entity, intersect, opt, option_set, standard};
use super::{EntityDef, Kind, OptionSetDef};
use crate::generate::Gen;

const ACTIVE: &[(i32, &str)] = &[(0, "Active"), (1, "Inactive")];
const ACTIVE_STATUS: &[(i32, &str, i32)] = &[(1, "Active", 0), (2, "Inactive", 1)];

pub fn region_option_set() -> OptionSetDef {
    let options = [
        "North America",
        "South America",
        "Europe",
        "Africa",
        "Asia Pacific",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| opt(100_000_000 + i as i32, l, None))
    .collect();
    option_set("new_region", true, options)
}

pub fn entities(region: &OptionSetDef) -> Vec<EntityDef> {
    vec![
        account(region),
        contact(),
        lead(),
        opportunity(),
        project(region),
        intersect(
            "new_project_contact",
            "new_project_contactset",
            "new_project",
            "contact",
            Gen::Intersect2,
            true,
        ),
        audit_note(),
        transaction_currency(),
    ]
}

fn table<'a>(
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
        ownership: "UserOwned",
    }
}

fn account(region: &OptionSetDef) -> EntityDef {
    let mut cols = vec![
        attr("name", "Account Name", Kind::String, Gen::Company).max(160),
        attr(
            "accountnumber",
            "Account Number",
            Kind::String,
            Gen::Code("ACC"),
        )
        .max(20),
        attr("telephone1", "Main Phone", Kind::String, Gen::Phone).max(50),
        attr("fax", "Fax", Kind::String, Gen::Phone).max(50),
        attr("emailaddress1", "Email", Kind::String, Gen::Email).max(100),
        attr(
            "address1_line1",
            "Address 1: Street 1",
            Kind::String,
            Gen::Street,
        )
        .max(250),
        attr("address1_city", "Address 1: City", Kind::String, Gen::City).max(80),
        attr("description", "Description", Kind::Memo, Gen::Sentence),
        attr(
            "numberofemployees",
            "Number of Employees",
            Kind::Integer,
            Gen::Int(1, 250_000),
        ),
        attr(
            "revenue",
            "Annual Revenue",
            Kind::Money,
            Gen::Money(10_000, 90_000_000),
        ),
        attr(
            "revenue_base",
            "Annual Revenue (Base)",
            Kind::Money,
            Gen::BaseOf("revenue"),
        )
        .of("revenue"),
        attr(
            "creditlimit",
            "Credit Limit",
            Kind::Money,
            Gen::Money(0, 500_000),
        )
        .precision(2),
        attr(
            "creditlimit_base",
            "Credit Limit (Base)",
            Kind::Money,
            Gen::BaseOf("creditlimit"),
        )
        .of("creditlimit")
        .precision(2),
        attr("creditonhold", "Credit Hold", Kind::Boolean, Gen::Bool),
        attr(
            "donotemail",
            "Do not allow Emails",
            Kind::Boolean,
            Gen::Bool,
        ),
        attr(
            "accountcategorycode",
            "Category",
            Kind::Picklist,
            Gen::Option,
        )
        .local("account", &[(1, "Preferred Customer"), (2, "Standard")]),
        attr(
            "customertypecode",
            "Relationship Type",
            Kind::Picklist,
            Gen::Option,
        )
        .local(
            "account",
            &[
                (1, "Competitor"),
                (2, "Consultant"),
                (3, "Customer"),
                (4, "Investor"),
                (5, "Partner"),
            ],
        ),
        attr("new_region", "Region", Kind::Picklist, Gen::Option).options(region.clone()),
        attr("new_tags", "Tags", Kind::MultiSelect, Gen::MultiOption).local(
            "account",
            &[
                (1, "Strategic"),
                (2, "Reference"),
                (3, "At risk"),
                (4, "Public sector"),
            ],
        ),
        attr("new_rating", "Rating", Kind::Double, Gen::Double(0.0, 5.0)),
        attr("new_score", "Score", Kind::Decimal, Gen::Money(0, 100)),
        attr("new_foundedon", "Founded On", Kind::DateTime, Gen::Date).date_only(),
        attr(
            "primarycontactid",
            "Primary Contact",
            Kind::Lookup,
            Gen::RefSparse,
        )
        .targets(&["contact"]),
        attr(
            "primarycontactidname",
            "Primary Contact Name",
            Kind::String,
            Gen::Null,
        )
        .of("primarycontactid")
        .hidden(),
        attr(
            "parentaccountid",
            "Parent Account",
            Kind::Lookup,
            Gen::RefSparse,
        )
        .targets(&["account"]),
        attr(
            "entityimage",
            "Default Image",
            Kind::Image,
            Gen::Sparse(Box::new(Gen::ImageData)),
        ),
        attr(
            "entityimageid",
            "Entity Image Id",
            Kind::Uniqueidentifier,
            Gen::Sparse(Box::new(Gen::RandomGuid)),
        )
        .of("entityimage"),
        attr(
            "entityimage_url",
            "Entity Image Url",
            Kind::String,
            Gen::Sparse(Box::new(Gen::ImageUrl)),
        )
        .of("entityimage")
        .max(200),
        attr(
            "entityimage_timestamp",
            "Entity Image Timestamp",
            Kind::BigInt,
            Gen::Sparse(Box::new(Gen::Int(638_000_000_000, 639_000_000_000))),
        )
        .of("entityimage"),
    ];
    cols.extend(currency());
    cols.extend(standard("account", ACTIVE, ACTIVE_STATUS));
    entity(
        table("account", "accounts", "Account", "Accounts", "name", 1),
        cols,
    )
}

fn contact() -> EntityDef {
    let mut cols = vec![
        attr("firstname", "First Name", Kind::String, Gen::FirstName).max(50),
        attr("lastname", "Last Name", Kind::String, Gen::LastName).max(50),
        attr("fullname", "Full Name", Kind::String, Gen::FullName).max(160),
        attr("emailaddress1", "Email", Kind::String, Gen::Email).max(100),
        attr("telephone1", "Business Phone", Kind::String, Gen::Phone).max(50),
        attr(
            "jobtitle",
            "Job Title",
            Kind::String,
            Gen::Seq(&["Buyer", "CFO", "Engineer", "Manager", "Director"]),
        )
        .max(100),
        attr("birthdate", "Birthday", Kind::DateTime, Gen::Date).date_only(),
        attr(
            "parentcustomerid",
            "Company Name",
            Kind::Customer,
            Gen::RefSparse,
        )
        .targets(&["account", "contact"]),
        attr("gendercode", "Gender", Kind::Picklist, Gen::Option)
            .local("contact", &[(1, "Male"), (2, "Female")]),
        attr(
            "numberofchildren",
            "No. of Children",
            Kind::Integer,
            Gen::Int(0, 5),
        ),
        attr(
            "annualincome",
            "Annual Income",
            Kind::Money,
            Gen::Money(20_000, 400_000),
        ),
        attr(
            "annualincome_base",
            "Annual Income (Base)",
            Kind::Money,
            Gen::BaseOf("annualincome"),
        )
        .of("annualincome"),
        attr(
            "donotphone",
            "Do not allow Phone Calls",
            Kind::Boolean,
            Gen::Bool,
        ),
        attr("description", "Description", Kind::Memo, Gen::Sentence),
    ];
    cols.extend(currency());
    cols.extend(standard("contact", ACTIVE, ACTIVE_STATUS));
    entity(
        table("contact", "contacts", "Contact", "Contacts", "fullname", 2),
        cols,
    )
}

fn lead() -> EntityDef {
    let mut cols = vec![
        attr("subject", "Topic", Kind::String, Gen::Title).max(300),
        attr("firstname", "First Name", Kind::String, Gen::FirstName).max(50),
        attr("lastname", "Last Name", Kind::String, Gen::LastName).max(50),
        attr("companyname", "Company Name", Kind::String, Gen::Company).max(100),
        attr("emailaddress1", "Email", Kind::String, Gen::Email).max(100),
        attr("leadqualitycode", "Rating", Kind::Picklist, Gen::Option)
            .local("lead", &[(1, "Hot"), (2, "Warm"), (3, "Cold")]),
        attr(
            "estimatedamount",
            "Est. Value",
            Kind::Money,
            Gen::Money(1_000, 2_000_000),
        ),
        attr(
            "estimatedamount_base",
            "Est. Value (Base)",
            Kind::Money,
            Gen::BaseOf("estimatedamount"),
        )
        .of("estimatedamount"),
        attr(
            "estimatedclosedate",
            "Est. Close Date",
            Kind::DateTime,
            Gen::Date,
        )
        .date_only(),
        attr(
            "parentaccountid",
            "Parent Account",
            Kind::Lookup,
            Gen::RefSparse,
        )
        .targets(&["account"]),
        attr(
            "parentcontactid",
            "Parent Contact",
            Kind::Lookup,
            Gen::RefSparse,
        )
        .targets(&["contact"]),
    ];
    cols.extend(currency());
    let states = &[(0, "Open"), (1, "Qualified"), (2, "Disqualified")];
    let statuses = &[(1, "New", 0), (3, "Qualified", 1), (4, "Lost", 2)];
    cols.extend(standard("lead", states, statuses));
    entity(table("lead", "leads", "Lead", "Leads", "subject", 4), cols)
}

fn opportunity() -> EntityDef {
    let mut cols = vec![
        attr("name", "Topic", Kind::String, Gen::Title).max(300),
        attr("customerid", "Potential Customer", Kind::Customer, Gen::Ref)
            .targets(&["account", "contact"]),
        attr("parentaccountid", "Account", Kind::Lookup, Gen::RefSparse).targets(&["account"]),
        attr(
            "estimatedvalue",
            "Est. Revenue",
            Kind::Money,
            Gen::Money(1_000, 5_000_000),
        ),
        attr(
            "estimatedvalue_base",
            "Est. Revenue (Base)",
            Kind::Money,
            Gen::BaseOf("estimatedvalue"),
        )
        .of("estimatedvalue"),
        attr(
            "closeprobability",
            "Probability",
            Kind::Integer,
            Gen::Int(0, 100),
        ),
        attr(
            "estimatedclosedate",
            "Est. Close Date",
            Kind::DateTime,
            Gen::Date,
        )
        .date_only(),
        attr(
            "opportunityratingcode",
            "Rating",
            Kind::Picklist,
            Gen::Option,
        )
        .local("opportunity", &[(1, "Hot"), (2, "Warm"), (3, "Cold")]),
        attr("description", "Description", Kind::Memo, Gen::Sentence),
    ];
    cols.extend(currency());
    let states = &[(0, "Open"), (1, "Won"), (2, "Lost")];
    let statuses = &[(1, "In Progress", 0), (3, "Won", 1), (4, "Canceled", 2)];
    cols.extend(standard("opportunity", states, statuses));
    entity(
        table(
            "opportunity",
            "opportunities",
            "Opportunity",
            "Opportunities",
            "name",
            3,
        ),
        cols,
    )
}

fn project(region: &OptionSetDef) -> EntityDef {
    let mut cols = vec![
        attr("new_name", "Project Name", Kind::String, Gen::Title).max(200),
        attr("new_code", "Code", Kind::String, Gen::Code("PRJ")).max(20),
        attr(
            "new_budget",
            "Budget",
            Kind::Money,
            Gen::Money(5_000, 3_000_000),
        ),
        attr(
            "new_budget_base",
            "Budget (Base)",
            Kind::Money,
            Gen::BaseOf("new_budget"),
        )
        .of("new_budget"),
        attr(
            "new_hours",
            "Planned Hours",
            Kind::Double,
            Gen::Double(10.0, 20_000.0),
        ),
        attr(
            "new_completion",
            "Completion",
            Kind::Decimal,
            Gen::Money(0, 100),
        )
        .precision(2),
        attr("new_startdate", "Start Date", Kind::DateTime, Gen::Date).date_only(),
        attr("new_region", "Region", Kind::Picklist, Gen::Option).options(region.clone()),
        attr("new_priority", "Priority", Kind::Picklist, Gen::Option).local(
            "new_project",
            &[
                (100_000_000, "Low"),
                (100_000_001, "Normal"),
                (100_000_002, "High"),
            ],
        ),
        attr("new_isbillable", "Billable", Kind::Boolean, Gen::Bool),
        attr("new_accountid", "Account", Kind::Lookup, Gen::Ref).targets(&["account"]),
        attr(
            "new_document",
            "Project Brief",
            Kind::File,
            Gen::Sparse(Box::new(Gen::RandomGuid)),
        ),
        attr(
            "new_document_name",
            "Project Brief Name",
            Kind::String,
            Gen::Sparse(Box::new(Gen::FileName)),
        )
        .of("new_document")
        .max(200),
        attr("new_description", "Description", Kind::Memo, Gen::Sentence).max(4000),
    ];
    cols.extend(currency());
    cols.extend(standard("new_project", ACTIVE, ACTIVE_STATUS));
    entity(
        table(
            "new_project",
            "new_projects",
            "Project",
            "Projects",
            "new_name",
            10010,
        ),
        cols,
    )
}

fn audit_note() -> EntityDef {
    let cols = vec![
        attr("new_name", "Title", Kind::String, Gen::Title).max(200),
        attr("new_text", "Text", Kind::Memo, Gen::Sentence),
        attr("new_regardingid", "Regarding", Kind::Lookup, Gen::Ref).targets(&["account"]),
        attr("createdon", "Created On", Kind::DateTime, Gen::Date),
        attr(
            "modifiedon",
            "Modified On",
            Kind::DateTime,
            Gen::After("createdon"),
        ),
    ];
    let mut t = table(
        "new_auditnote",
        "new_auditnotes",
        "Audit Note",
        "Audit Notes",
        "new_name",
        10011,
    );
    t.tracked = false;
    t.ownership = "OrganizationOwned";
    entity(t, cols)
}

fn transaction_currency() -> EntityDef {
    let cols = vec![
        attr(
            "currencyname",
            "Currency Name",
            Kind::String,
            Gen::Seq(&["US Dollar"]),
        ),
        attr(
            "isocurrencycode",
            "Currency Code",
            Kind::String,
            Gen::Seq(&["USD"]),
        )
        .max(5),
        attr(
            "currencysymbol",
            "Currency Symbol",
            Kind::String,
            Gen::Seq(&["$"]),
        )
        .max(10),
        attr(
            "exchangerate",
            "Exchange Rate",
            Kind::Decimal,
            Gen::Fixed("10000000000"),
        )
        .precision(10),
    ];
    let mut t = table(
        "transactioncurrency",
        "transactioncurrencies",
        "Currency",
        "Currencies",
        "currencyname",
        9105,
    );
    t.ownership = "OrganizationOwned";
    entity(t, cols)
}
