//! `$filter` on data: comparisons (`eq ne gt ge lt le`) of a property with a literal, `and`,
//! `or`, `not`, parentheses, and `contains`/`startswith`/`endswith`. Text compares without
//! regard to case, as Dataverse's database collation does; `null` matches empty cells.

use crate::error::EmulatorError;
use crate::schema::{EntityDef, Kind};
use crate::store::{Cell, Row};
use std::cmp::Ordering;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Text(String),
    Guid(Uuid),
    Number(f64),
    Bool(bool),
    /// Unix seconds of a date or date-time literal.
    Time(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone)]
enum Expr {
    Test(usize, Op, Literal),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed `$filter`, evaluated against stored rows.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
}

/// The service's answer to a malformed expression.
fn syntax(text: &str, at: usize) -> EmulatorError {
    EmulatorError::bad_request(
        "0x80060888",
        format!("Syntax error at position {at} in '{text}'."),
    )
}

/// Splits an expression into tokens, with each token's position.
fn tokens(text: &str) -> Result<Vec<(usize, String)>, EmulatorError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            b'(' | b')' | b',' => {
                out.push((i, (b[i] as char).to_string()));
                i += 1;
            }
            b'\'' => {
                let start = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(syntax(text, start)),
                        Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(b'\'') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                out.push((start, text[start..i].to_owned()));
            }
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b' ' | b'(' | b')' | b',') {
                    i += 1;
                }
                out.push((start, text[start..i].to_owned()));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    def: &'a EntityDef,
    text: &'a str,
    toks: Vec<(usize, String)>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).map(|(_, t)| t.as_str())
    }

    fn next(&mut self) -> Result<String, EmulatorError> {
        let t = self.toks.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t.ok_or_else(|| syntax(self.text, self.text.len()))
    }

    fn expect(&mut self, want: &str) -> Result<(), EmulatorError> {
        let pos = self.position();
        if self.next()? == want {
            Ok(())
        } else {
            Err(syntax(self.text, pos))
        }
    }

    fn position(&self) -> usize {
        self.toks.get(self.at).map_or(self.text.len(), |(p, _)| *p)
    }

    fn or(&mut self) -> Result<Expr, EmulatorError> {
        let mut left = self.and()?;
        while self.peek() == Some("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, EmulatorError> {
        let mut left = self.unary()?;
        while self.peek() == Some("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, EmulatorError> {
        match self.peek() {
            Some("not") => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.at += 1;
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            _ => self.test(),
        }
    }

    fn property(&self, name: &str) -> Result<usize, EmulatorError> {
        self.def
            .wire_index(name)
            .filter(|&i| self.def.attributes[i].is_property())
            .ok_or_else(|| EmulatorError::unknown_property(name, &self.def.logical_name))
    }

    fn literal(&mut self) -> Result<Literal, EmulatorError> {
        let pos = self.position();
        let t = self.next()?;
        literal(&t).ok_or_else(|| syntax(self.text, pos))
    }

    fn test(&mut self) -> Result<Expr, EmulatorError> {
        let pos = self.position();
        let first = self.next()?;
        let func = match first.as_str() {
            "contains" => Some(Op::Contains),
            "startswith" => Some(Op::StartsWith),
            "endswith" => Some(Op::EndsWith),
            _ => None,
        };
        if let Some(op) = func {
            self.expect("(")?;
            let name = self.next()?;
            let column = self.property(&name)?;
            self.expect(",")?;
            let lit = self.literal()?;
            self.expect(")")?;
            return match lit {
                Literal::Text(_) => Ok(Expr::Test(column, op, lit)),
                _ => Err(syntax(self.text, pos)),
            };
        }
        let column = self.property(&first)?;
        let op_pos = self.position();
        let op = match self.next()?.as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return Err(syntax(self.text, op_pos)),
        };
        let lit = self.literal()?;
        Ok(Expr::Test(column, op, self.scaled(column, lit)))
    }

    /// Decimal and money cells are stored scaled by their precision; so is their literal.
    fn scaled(&self, column: usize, lit: Literal) -> Literal {
        let a = &self.def.attributes[column];
        match (a.kind, lit) {
            (Kind::Decimal | Kind::Money, Literal::Number(n)) => {
                Literal::Number(n * 10f64.powi(a.precision.unwrap_or(2)))
            }
            (_, lit) => lit,
        }
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
            Err(_) => match time_literal(s) {
                Some(t) => Literal::Time(t),
                None => Literal::Number(s.parse().ok()?),
            },
        },
    })
}

/// `2024-01-31` or `2024-01-31T08:00:00Z` (offsets allowed).
fn time_literal(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, fmt).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

impl Filter {
    pub fn parse(def: &EntityDef, text: &str) -> Result<Filter, EmulatorError> {
        let mut p = Parser {
            def,
            text,
            toks: tokens(text)?,
            at: 0,
        };
        let expr = p.or()?;
        if p.at < p.toks.len() {
            return Err(syntax(text, p.position()));
        }
        Ok(Filter { expr })
    }

    pub fn matches(&self, row: &Row) -> bool {
        eval(&self.expr, row)
    }
}

fn eval(e: &Expr, row: &Row) -> bool {
    match e {
        Expr::Test(i, op, lit) => test(row.cell(*i), *op, lit),
        Expr::Not(e) => !eval(e, row),
        Expr::And(a, b) => eval(a, row) && eval(b, row),
        Expr::Or(a, b) => eval(a, row) || eval(b, row),
    }
}

fn test(cell: &Cell, op: Op, lit: &Literal) -> bool {
    if *lit == Literal::Null || *cell == Cell::Null {
        let both = *lit == Literal::Null && *cell == Cell::Null;
        return match op {
            Op::Eq => both,
            Op::Ne => !both,
            _ => false,
        };
    }
    if let (Cell::Text(a), Literal::Text(b)) = (cell, lit) {
        let (a, b) = (a.to_lowercase(), b.to_lowercase());
        match op {
            Op::Contains => return a.contains(&b),
            Op::StartsWith => return a.starts_with(&b),
            Op::EndsWith => return a.ends_with(&b),
            _ => {}
        }
        return ordered(Some(a.cmp(&b)), op);
    }
    ordered(compare(cell, lit), op)
}

fn compare(cell: &Cell, lit: &Literal) -> Option<Ordering> {
    match (cell, lit) {
        (Cell::Guid(a) | Cell::Ref(a, _), Literal::Guid(b)) => Some(a.cmp(b)),
        (Cell::Int(a), Literal::Number(b)) => (*a as f64).partial_cmp(b),
        (Cell::Float(a), Literal::Number(b)) => a.partial_cmp(b),
        (Cell::Dec(a), Literal::Number(b)) => (*a as f64).partial_cmp(b),
        (Cell::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Cell::Time(a), Literal::Time(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn ordered(o: Option<Ordering>, op: Op) -> bool {
    let Some(o) = o else { return false };
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Contains | Op::StartsWith | Op::EndsWith => false,
    }
}
