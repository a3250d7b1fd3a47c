//! `WhoAmI` and collection-valued navigation over N:N relationships
//! (`systemusers(<id>)/systemuserroles_association` and the like).

use super::{Reply, json_reply};
use crate::error::EmulatorError;
use crate::odata::{Prefer, QueryOptions};
use crate::render::{Annotations, RowWriter, columns, string};
use crate::server::ServerState;
use crate::store::Cell;
use serde_json::json;
use uuid::Uuid;

pub fn who_am_i(sh: &ServerState) -> Result<Reply, EmulatorError> {
    let body = json!({
        "@odata.context": format!("{}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", sh.api_url),
        "BusinessUnitId": sh.business_unit(),
        "UserId": sh.app_user,
        "OrganizationId": sh.organization_id,
    });
    Ok(json_reply(200, body.to_string(), ""))
}

/// Rows of the other side of N:N relationship `nav` linked to row `id` of table `e`.
pub fn navigate(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    nav: &str,
    q: &QueryOptions,
    prefer: &Prefer,
) -> Result<Reply, EmulatorError> {
    let store = sh.read();
    let def = &store.catalog.entities[e];
    let rel = store
        .catalog
        .relationship_by_nav(&def.logical_name, nav)
        .ok_or_else(|| EmulatorError::no_resource(nav))?;
    if store.get(e, &id).is_none() {
        return Err(EmulatorError::not_found(&def.logical_name, &id));
    }
    let (this_attr, other_attr, other) = if rel.entity1 == def.logical_name {
        (&rel.entity1_attr, &rel.entity2_attr, &rel.entity2)
    } else {
        (&rel.entity2_attr, &rel.entity1_attr, &rel.entity1)
    };
    let ie = store
        .entity_index(&rel.intersect)
        .ok_or_else(|| EmulatorError::no_resource(nav))?;
    let idef = &store.catalog.entities[ie];
    let (a, b) = (idef.attr_index(this_attr), idef.attr_index(other_attr));
    let (Some(a), Some(b)) = (a, b) else {
        return Err(EmulatorError::no_resource(nav));
    };
    let linked: Vec<Uuid> = store
        .scan(ie, None)
        .filter(|(_, r)| *r.cell(a) == Cell::Guid(id))
        .filter_map(|(_, r)| match r.cell(b) {
            Cell::Guid(g) => Some(*g),
            _ => None,
        })
        .collect();
    let oe = store
        .entity_index(other)
        .ok_or_else(|| EmulatorError::no_resource(other))?;
    let odef = &store.catalog.entities[oe];
    let cols = columns(odef, q.select.as_deref())?;
    let w = RowWriter {
        store: &store,
        def: odef,
        cols: &cols,
        ann: Annotations::from_prefer(prefer),
    };
    let context = match &q.select {
        Some(s) => format!(
            "{}/$metadata#{}({})",
            sh.api_url,
            odef.entity_set,
            s.join(",")
        ),
        None => format!("{}/$metadata#{}", sh.api_url, odef.entity_set),
    };
    let mut buf = String::from("{\"@odata.context\":");
    string(&mut buf, &context);
    buf.push_str(",\"value\":[");
    let mut rows = 0;
    for other_id in linked {
        if let Some(row) = store.get(oe, &other_id) {
            if rows > 0 {
                buf.push(',');
            }
            rows += 1;
            w.write(&mut buf, &row, None);
        }
    }
    buf.push_str("]}");
    Ok(json_reply(200, buf, "").with_rows(rows))
}
