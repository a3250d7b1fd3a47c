//! The small `$filter` subset the emulator understands on data: `a eq literal [and ...]`.

use crate::error::EmulatorError;
use crate::schema::EntityDef;
use crate::store::{Cell, Row};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Text(String),
    Guid(Uuid),
    Number(f64),
    Bool(bool),
}

/// A conjunction of equality tests.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    terms: Vec<(usize, Literal)>,
}

fn unsupported(text: &str) -> EmulatorError {
    EmulatorError::bad_request(
        "0x80060888",
        format!(
            "The $filter expression '{text}' is not supported by the emulator (only 'property eq literal' joined by 'and')."
        ),
    )
}

impl Filter {
    pub fn parse(def: &EntityDef, text: &str) -> Result<Filter, EmulatorError> {
        let mut terms = Vec::new();
        for term in text.split(" and ") {
            let mut parts = term.trim().splitn(3, ' ');
            let (Some(name), Some("eq"), Some(lit)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(unsupported(text));
            };
            let i = def
                .wire_index(name)
                .ok_or_else(|| EmulatorError::unknown_property(name, &def.logical_name))?;
            terms.push((i, literal(lit.trim()).ok_or_else(|| unsupported(text))?));
        }
        Ok(Filter { terms })
    }

    pub fn matches(&self, row: &Row) -> bool {
        self.terms.iter().all(|(i, lit)| equal(row.cell(*i), lit))
    }
}

fn literal(s: &str) -> Option<Literal> {
    Some(match s {
        "null" => Literal::Null,
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        _ if s.starts_with('\'') && s.ends_with('\'') && s.len() >= 2 => {
            Literal::Text(s[1..s.len() - 1].replace("''", "'"))
        }
        _ => match s.parse::<Uuid>() {
            Ok(g) => Literal::Guid(g),
            Err(_) => Literal::Number(s.parse().ok()?),
        },
    })
}

fn equal(cell: &Cell, lit: &Literal) -> bool {
    match (cell, lit) {
        (Cell::Null, Literal::Null) => true,
        (Cell::Text(a), Literal::Text(b)) => a == b,
        (Cell::Guid(a) | Cell::Ref(a, _), Literal::Guid(b)) => a == b,
        (Cell::Int(a), Literal::Number(b)) => (*a as f64) == *b,
        (Cell::Float(a), Literal::Number(b)) => a == b,
        (Cell::Bool(a), Literal::Bool(b)) => a == b,
        _ => false,
    }
}
