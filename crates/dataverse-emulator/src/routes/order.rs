//! `$orderby`: properties with `asc`/`desc`. Empty cells sort first ascending and text sorts
//! without regard to case, as in Dataverse's database; ties keep id order.

use crate::error::EmulatorError;
use crate::schema::EntityDef;
use crate::store::{Cell, Row};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct OrderBy {
    keys: Vec<(usize, bool)>,
}

impl OrderBy {
    pub fn parse(def: &EntityDef, text: &str) -> Result<OrderBy, EmulatorError> {
        let mut keys = Vec::new();
        for item in text.split(',').map(str::trim) {
            let mut parts = item.split_whitespace();
            let name = parts.next().unwrap_or("");
            let desc = match parts.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(EmulatorError::bad_request(
                        "0x80060888",
                        format!("Syntax error: '{other}' in $orderby '{text}'."),
                    ));
                }
            };
            let i = def
                .wire_index(name)
                .filter(|&i| def.attributes[i].is_property())
                .ok_or_else(|| EmulatorError::unknown_property(name, &def.logical_name))?;
            keys.push((i, desc));
        }
        Ok(OrderBy { keys })
    }

    /// The cells a row sorts by.
    pub fn key(&self, row: &Row) -> Vec<Cell> {
        self.keys
            .iter()
            .map(|(i, _)| row.cell(*i).clone())
            .collect()
    }

    pub fn compare(&self, a: &[Cell], b: &[Cell]) -> Ordering {
        for ((x, y), (_, desc)) in a.iter().zip(b).zip(&self.keys) {
            let o = cell_order(x, y);
            if o != Ordering::Equal {
                return if *desc { o.reverse() } else { o };
            }
        }
        Ordering::Equal
    }
}

fn cell_order(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Less,
        (_, Cell::Null) => Ordering::Greater,
        (Cell::Text(x), Cell::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Cell::Int(x), Cell::Int(y))
        | (Cell::Dec(x), Cell::Dec(y))
        | (Cell::Time(x), Cell::Time(y)) => x.cmp(y),
        (Cell::Float(x), Cell::Float(y)) => x.total_cmp(y),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Guid(x) | Cell::Ref(x, _), Cell::Guid(y) | Cell::Ref(y, _)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}
