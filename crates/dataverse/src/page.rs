//! One page of a change-tracked read, parsed as its body arrives: the collection object is
//! followed byte by byte, and each row is cut out, its properties captured as raw JSON slices
//! into fixed slots and converted through the plan.

use des_core::ports::{Page, SourceError};

use crate::plan::ColumnPlan;

pub(crate) use envelope::PageParser;

mod envelope;
mod keys;
mod row;
mod scan;

/// Parses a whole page body of `plan`'s entity set. `followed` is the link that was
/// requested, reused as the delta link when a "no changes" answer comes back empty.
pub fn parse_page(
    body: &[u8],
    plan: &ColumnPlan,
    followed: Option<&str>,
) -> Result<Page, SourceError> {
    let mut parser = PageParser::new(plan, followed);
    parser.feed(body)?;
    parser.finish()
}

fn protocol(message: &str) -> SourceError {
    SourceError::Protocol(message.to_owned())
}

fn not_json(detail: &str) -> SourceError {
    protocol(&format!("page is not OData JSON: {detail}"))
}

#[cfg(test)]
mod tests {
    use des_core::ports::NextLink;
    use des_core::{AttributeKind, Change, Value};
    use uuid::Uuid;

    use super::*;
    use crate::plan::PlannedColumn;

    fn plan() -> ColumnPlan {
        let column = PlannedColumn::property;
        let columns = vec![
            column("name", "name", AttributeKind::String),
            column("ownerid", "_ownerid_value", AttributeKind::Owner),
        ];
        ColumnPlan::from_columns("accounts", "accountid", columns)
    }

    const A: &str = "3e4259cc-0879-410d-8dae-81f2889b4259";
    const B: &str = "1f0a1dad-6295-49a9-a413-d1ef0e820a0b";

    fn values(change: &Change) -> &[Value] {
        match change {
            Change::Upsert(row) => &row.values,
            Change::Delete(_) => panic!("expected an upsert"),
        }
    }

    #[test]
    fn rows_may_reorder_drop_annotations_and_escape_keys() {
        let owner = "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";
        let body = format!(
            r#"{{"value":[
            {{"name":"x","{owner}":"team","_ownerid_value":"{B}","versionnumber":1,"accountid":"{A}"}},
            {{"versionnumber":2,"accountid":"{A}","extra":[1,{{"a":2}}],"_ownerid_value":null,"\u006eame":"y\"z"}},
            {{"name":null,"{owner}":"systemuser","_ownerid_value":"{B}","versionnumber":3,"accountid":"{A}"}},
            {{"@odata.context":"x/$metadata#accounts/$deletedEntity","id":"{B}","reason":"deleted"}}
            ],"@odata.deltaLink":"d"}}"#
        );
        let page = parse_page(body.as_bytes(), &plan(), None).expect("page");
        let owner = |target: &str| Value::Lookup {
            id: Uuid::parse_str(B).expect("uuid"),
            target: Some(target.into()),
        };
        assert_eq!(
            values(&page.changes[0]),
            [Value::Text("x".into()), owner("team")]
        );
        assert_eq!(
            values(&page.changes[1]),
            [Value::Text("y\"z".into()), Value::Null]
        );
        assert_eq!(values(&page.changes[2]), [Value::Null, owner("systemuser")]);
        let deleted = Uuid::parse_str(B).expect("uuid");
        assert_eq!(page.changes[3], Change::Delete(deleted));
        assert_eq!(page.next, NextLink::Done("d".into()));
    }

    #[test]
    fn a_bad_row_is_reported_as_itself() {
        let body = format!(r#"{{"value":[{{"accountid":"{A}","versionnumber":"v"}}]}}"#);
        let error = parse_page(body.as_bytes(), &plan(), None).expect_err("bad version");
        let rejected = "versionnumber is not an integer";
        assert!(
            matches!(error, SourceError::Protocol(ref m) if m == rejected),
            "{error}"
        );
        let error = parse_page(b"{\"value\":[1]}", &plan(), None).expect_err("not a row");
        assert!(matches!(error, SourceError::Protocol(m) if m.starts_with("page is not OData")));
    }
}

/// The page parser reads a body the same whatever pieces it arrives in.
#[cfg(test)]
mod pieces {
    use des_core::AttributeKind;
    use des_core::ports::NextLink;

    use super::*;
    use crate::plan::PlannedColumn;

    fn plan() -> ColumnPlan {
        let columns = vec![
            PlannedColumn::property("name", "name", AttributeKind::String),
            PlannedColumn::property("revenue", "revenue", AttributeKind::Money),
        ];
        ColumnPlan::from_columns("accounts", "accountid", columns)
    }

    /// Escapes, characters of two to four bytes, nested values, whitespace between tokens,
    /// a deleted row and members before and after `value`.
    const BODY: &str = concat!(
        "{\"@odata.context\":\"https://org/api/data/v9.2/$metadata#accounts\",\r\n",
        " \"@Microsoft.Dynamics.CRM.totalrecordcount\" : 3,\"value\" : [ \n",
        "{\"@odata.etag\":\"W/\\\"7\\\"\",\"name\":\"Caf\u{e9} \\\"\u{1f642}\\\\\",\"revenue\":12.5,",
        "\"accountid\":\"3e4259cc-0879-410d-8dae-81f2889b4259\",\"x\":[{\"y\":\"]}\"},null,true]},\n",
        "{\"versionnumber\":9,\"n\\u0061me\":\"\u{4e2d}\\n\",\"revenue\":null,",
        "\"accountid\":\"1f0a1dad-6295-49a9-a413-d1ef0e820a0b\"} ,",
        "{\"@odata.context\":\"https://org/api/data/v9.2/$metadata#accounts/$deletedEntity\",",
        "\"id\":\"1f0a1dad-6295-49a9-a413-d1ef0e820a0b\",\"reason\":\"deleted\"}\t],",
        "\"@odata.nextLink\":\"https://org/api/data/v9.2/accounts?$skiptoken=%3C\\/x%3E\"}\n"
    );

    /// The page, or the error's text, from `body` fed in pieces ending at `cuts`.
    fn parse_in(body: &[u8], cuts: &[usize]) -> Result<Page, String> {
        let plan = plan();
        let mut parser = PageParser::new(&plan, None);
        let mut from = 0;
        for &to in cuts.iter().chain([&body.len()]) {
            parser.feed(&body[from..to]).map_err(|e| e.to_string())?;
            from = to;
        }
        parser.finish().map_err(|e| e.to_string())
    }

    fn random_cuts(rng: &mut fastrand::Rng, len: usize) -> Vec<usize> {
        let mut cuts: Vec<usize> = (0..rng.usize(1..8)).map(|_| rng.usize(0..=len)).collect();
        cuts.sort_unstable();
        cuts
    }

    #[test]
    fn any_pieces_read_as_the_whole_body() {
        let body = BODY.as_bytes();
        let whole = parse_in(body, &[]).expect("the page");
        assert_eq!(whole.changes.len(), 3);
        assert!(matches!(whole.next, NextLink::More(ref l) if l.ends_with("%3C/x%3E")));
        for cut in 0..=body.len() {
            assert_eq!(parse_in(body, &[cut]).as_ref(), Ok(&whole), "cut at {cut}");
        }
        let bytes: Vec<usize> = (1..body.len()).collect();
        assert_eq!(
            parse_in(body, &bytes).as_ref(),
            Ok(&whole),
            "a byte at a time"
        );
        let mut rng = fastrand::Rng::with_seed(17);
        for _ in 0..2_000 {
            let cuts = random_cuts(&mut rng, body.len());
            assert_eq!(parse_in(body, &cuts).as_ref(), Ok(&whole), "cuts {cuts:?}");
        }
    }

    #[test]
    fn a_body_cut_short_is_refused() {
        let body = BODY.as_bytes();
        for end in 1..body.len() - 1 {
            let error = parse_in(&body[..end], &[end / 2]).expect_err("a page cut short");
            assert!(error.contains("page is not OData JSON"), "{end}: {error}");
        }
        let empty = parse_in(b" \n", &[1]).expect_err("no link to follow");
        assert!(empty.ends_with("empty body for a first page"), "{empty}");
    }

    #[test]
    fn malformed_envelopes_are_refused_as_not_json() {
        let bodies = [
            r#"{"value":[{"accountid":"3e4259cc-0879-410d-8dae-81f2889b4259","versionnumber":1},]}"#,
            r#"{"value":[] "a":1}"#,
            r#"{"value":[]}}"#,
            r#"{"value":[]} x"#,
            r#"{"value":{}}"#,
            r#"{"value":[],"value":[]}"#,
            r#"{"value":[],"@odata.deltaLink":"a","@odata.deltaLink":"b"}"#,
            r#"{"a":tru,"value":[]}"#,
            r#"{"a" 1,"value":[]}"#,
            r#"["value"]"#,
            "{\"value\":[],\"a\":\"\u{c}\"}",
        ];
        for body in bodies {
            for cut in 0..=body.len() {
                let error = parse_in(body.as_bytes(), &[cut]).expect_err(body);
                assert!(error.contains("page is not OData JSON"), "{body}: {error}");
            }
        }
        let bad_utf8 = b"{\"value\":[{\"name\":\"\xff\"}]}";
        let error = parse_in(bad_utf8, &[20]).expect_err("not UTF-8");
        assert!(error.contains("invalid utf-8"), "{error}");
    }

    /// A body with a byte or two changed is read the same in any pieces (rows read where
    /// they lie or cut out first), and is never taken for a page unless it is still JSON.
    #[test]
    fn a_changed_byte_never_makes_invalid_json_a_page() {
        let mut rng = fastrand::Rng::with_seed(23);
        for _ in 0..5_000 {
            let mut body = BODY.as_bytes().to_vec();
            let changed: Vec<usize> = (0..rng.usize(1..=2))
                .map(|_| rng.usize(0..body.len()))
                .collect();
            for &at in &changed {
                body[at] = *rng.choice(b"{}[]\",:\\ 0an\xc3\x80").expect("a byte");
            }
            let whole = parse_in(&body, &[]);
            let cuts = random_cuts(&mut rng, body.len());
            assert_eq!(parse_in(&body, &cuts), whole, "{changed:?} cut at {cuts:?}");
            if whole.is_ok() {
                let json = serde_json::from_slice::<serde_json::Value>(&body);
                assert!(json.is_ok(), "{changed:?} made invalid JSON a page");
            }
        }
    }
}
