//! Deterministic sample rows. Generated rows are never stored: row `i` of a table is a pure
//! function of (seed, table, i), so a million-row table costs no memory until it is written.

use crate::schema::{AttrDef, Catalog, EntityDef, Kind};
use crate::store::{Cell, Row};
use uuid::Uuid;

/// How a column's sample values are made.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    Null,
    PrimaryId,
    Version,
    Company,
    FirstName,
    LastName,
    FullName,
    Email,
    Phone,
    City,
    Street,
    Code(&'static str),
    Sentence,
    Title,
    Int(i64, i64),
    Money(i64, i64),
    Double(f64, f64),
    Bool,
    Date,
    Option,
    MultiOption,
    Zero,
    One,
    /// A reference to a generated row of one of the column's targets.
    Ref,
    /// Like `Ref`, but null for every third row.
    RefSparse,
    /// `list[i % len]`, for small fixed tables.
    Seq(&'static [&'static str]),
    SeqGuid(&'static [&'static str]),
    RandomGuid,
    Fixed(&'static str),
    /// Present on every 25th row: image and file columns and their companions.
    Sparse(Box<Gen>),
    ImageData,
    ImageUrl,
    FileName,
    /// An intersect row's first / second id.
    Intersect1,
    Intersect2,
    /// The `n`th generated row of the column's first target.
    NthOf(usize),
    /// A copy of another column (the `_base` twin of a money column at exchange rate 1).
    BaseOf(&'static str),
    /// A time up to 90 days after another column's (`modifiedon` after `createdon`).
    After(&'static str),
    /// `ownerid` when it names its target number `n` (0: a user, 1: a team), else empty.
    OwnedBy(u8),
}

const FIRST: &[&str] = &[
    "Yvonne", "Susanna", "Nancy", "Maria", "Rene", "Paul", "Scott", "Sidney", "Patrick", "Jim",
    "Thomas", "Rachel", "Anna", "Omar", "Li", "Priya", "Jonas", "Ingrid", "Mateo", "Aisha",
    "Kenji", "Fatima", "Lucas", "Olga",
];
const LAST: &[&str] = &[
    "McKay",
    "Stubberod",
    "Anderson",
    "Campbell",
    "Valdes",
    "Cannon",
    "Konersmann",
    "Higa",
    "Sands",
    "Glynn",
    "Andersen",
    "Kowalski",
    "Nakamura",
    "Haddad",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Rossi",
    "Schmidt",
    "Novak",
];
const COMPANY_A: &[&str] = &[
    "Fourth",
    "Litware",
    "Adventure",
    "Fabrikam",
    "Contoso",
    "Alpine",
    "Blue Yonder",
    "City Power",
    "Coho",
    "Humongous",
    "Northwind",
    "Proseware",
    "Tailspin",
    "Wide World",
    "Woodgrove",
    "Lucerne",
];
const COMPANY_B: &[&str] = &[
    "Coffee",
    "Works",
    "Trading",
    "Pharmaceuticals",
    "Airlines",
    "Insurance",
    "Importers",
    "Bank",
    "Winery",
    "Publishing",
    "Toys",
    "Electric",
    "Logistics",
    "Foods",
];
const CITIES: &[&str] = &[
    "Redmond", "Seattle", "London", "Paris", "Berlin", "Madrid", "Oslo", "Tokyo", "Lagos",
    "Toronto", "Sydney", "Lisbon", "Prague", "Austin", "Zürich",
];
const WORDS: &[&str] = &[
    "customer",
    "renewal",
    "meeting",
    "pricing",
    "proposal",
    "delivery",
    "contract",
    "follow-up",
    "quarterly",
    "review",
    "support",
    "upgrade",
    "migration",
    "training",
    "invoice",
    "regional",
    "partner",
    "budget",
];

/// Per-row generation context: a row hash and a small rng seeded from it.
pub struct RowCtx<'a> {
    pub catalog: &'a Catalog,
    pub counts: &'a [usize],
    pub seed: u64,
    pub entity: usize,
    pub index: usize,
    pub hash: u64,
    pub rng: fastrand::Rng,
}

pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The id of generated row `i`. Ids grow with `i` (first four bytes), so id order is row order.
pub fn gen_id(seed: u64, entity: usize, i: usize) -> Uuid {
    let salt = mix(seed ^ (entity as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let base = 0x1000_0000u32 + (salt as u32 % 0x6000_0000);
    let mut bytes = [0u8; 16];
    bytes[0..4].copy_from_slice(&(base + i as u32).to_be_bytes());
    bytes[4..6].copy_from_slice(&((salt >> 40) as u16).to_be_bytes());
    bytes[6..14].copy_from_slice(&mix(salt ^ i as u64).to_be_bytes());
    bytes[14..16].copy_from_slice(&((salt >> 8) as u16).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Inverse of [`gen_id`]: the row index when `id` is a generated id below `count`.
pub fn gen_index(seed: u64, entity: usize, count: usize, id: &Uuid) -> Option<usize> {
    let salt = mix(seed ^ (entity as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let base = 0x1000_0000u32 + (salt as u32 % 0x6000_0000);
    let b = id.as_bytes();
    let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]).checked_sub(base)? as usize;
    (n < count && gen_id(seed, entity, n) == *id).then_some(n)
}

/// Generates row `index` of table `entity` with the given row version.
pub fn generate(ctx: &mut RowCtx<'_>, version: u64) -> Row {
    let def = &ctx.catalog.entities[ctx.entity];
    let mut cells: Vec<Cell> = def.attributes.iter().map(|a| cell(ctx, def, a)).collect();
    for (i, a) in def.attributes.iter().enumerate() {
        cells[i] = match &a.sample {
            Gen::BaseOf(of) => def.attr_index(of).map(|j| cells[j].clone()),
            Gen::After(of) => def.attr_index(of).map(|j| match cells[j] {
                Cell::Time(t) => Cell::Time(t + (mix(ctx.hash ^ 0xa5) % 7_776_000) as i64),
                _ => Cell::Null,
            }),
            Gen::OwnedBy(slot) => def
                .attr_index("ownerid")
                .map(|j| owned_by(&cells[j], *slot)),
            _ => continue,
        }
        .unwrap_or(Cell::Null);
    }
    Row { version, cells }
}

/// The part of an owner that is a user (`slot` 0) or a team (`slot` 1).
pub fn owned_by(owner: &Cell, slot: u8) -> Cell {
    match owner {
        Cell::Ref(id, t) if *t == slot => Cell::Ref(*id, 0),
        _ => Cell::Null,
    }
}

pub fn row_ctx<'a>(
    catalog: &'a Catalog,
    counts: &'a [usize],
    seed: u64,
    entity: usize,
    index: usize,
) -> RowCtx<'a> {
    let hash =
        mix(seed ^ mix(entity as u64 + 1) ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    RowCtx {
        catalog,
        counts,
        seed,
        entity,
        index,
        hash,
        rng: fastrand::Rng::with_seed(hash),
    }
}

fn pick<'s>(list: &[&'s str], h: u64) -> &'s str {
    list[(h % list.len() as u64) as usize]
}

fn first_last(ctx: &RowCtx<'_>) -> (&'static str, &'static str) {
    (pick(FIRST, ctx.hash), pick(LAST, ctx.hash >> 20))
}

fn text(s: String) -> Cell {
    Cell::Text(s)
}

fn cell(ctx: &mut RowCtx<'_>, def: &EntityDef, attr: &AttrDef) -> Cell {
    match &attr.sample {
        Gen::Sparse(inner) if ctx.index % 25 == 3 => gen_value(ctx, def, attr, inner),
        Gen::Sparse(_) => Cell::Null,
        g => gen_value(ctx, def, attr, g),
    }
}

fn gen_value(ctx: &mut RowCtx<'_>, def: &EntityDef, attr: &AttrDef, g: &Gen) -> Cell {
    match g {
        Gen::Null
        | Gen::Version
        | Gen::Sparse(_)
        | Gen::BaseOf(_)
        | Gen::After(_)
        | Gen::OwnedBy(_) => Cell::Null,
        Gen::NthOf(n) => match attr.targets.first().and_then(|t| ctx.catalog.index(t)) {
            Some(target) => Cell::Guid(gen_id(ctx.seed, target, *n)),
            None => Cell::Null,
        },
        Gen::PrimaryId => Cell::Guid(gen_id(ctx.seed, ctx.entity, ctx.index)),
        Gen::FirstName => text(first_last(ctx).0.to_owned()),
        Gen::LastName => text(first_last(ctx).1.to_owned()),
        Gen::FullName => {
            let (f, l) = first_last(ctx);
            text(format!("{f} {l}"))
        }
        Gen::Email => {
            let (f, l) = first_last(ctx);
            let mut s = format!("{f}.{l}{}@example.com", ctx.index);
            s.make_ascii_lowercase();
            text(s)
        }
        Gen::Company => text(format!(
            "{} {} {}",
            pick(COMPANY_A, ctx.hash),
            pick(COMPANY_B, ctx.hash >> 16),
            ctx.index + 1
        )),
        Gen::Phone => text(format!("+1-555-{:04}", ctx.rng.u32(0..10_000))),
        Gen::City => text(pick(CITIES, ctx.rng.u64(..)).to_owned()),
        Gen::Street => text(format!("{} {} Street", ctx.rng.u32(1..999), pick(LAST, ctx.rng.u64(..)))),
        Gen::Code(prefix) => text(format!("{prefix}-{:06}", ctx.index + 1)),
        Gen::Sentence => sentence(ctx),
        Gen::Title => text(format!(
            "{} {} for {}",
            capitalise(pick(WORDS, ctx.rng.u64(..))),
            pick(WORDS, ctx.rng.u64(..)),
            pick(COMPANY_A, ctx.hash)
        )),
        Gen::Int(lo, hi) => Cell::Int(ctx.rng.i64(*lo..=*hi)),
        Gen::Money(lo, hi) => {
            let cents = ctx.rng.i64(lo * 100..=hi * 100);
            Cell::Dec(cents * 10i64.pow(attr.precision.unwrap_or(2).max(2) as u32 - 2))
        }
        Gen::Double(lo, hi) => Cell::Float((ctx.rng.f64() * (hi - lo) + lo).mul_add(1e5, 0.0).round() / 1e5),
        Gen::Bool => Cell::Bool(ctx.rng.bool()),
        Gen::Date => date(ctx, attr),
        Gen::Option => option(ctx, attr),
        Gen::MultiOption => multi(ctx, attr),
        Gen::Zero => Cell::Int(0),
        Gen::One => Cell::Int(1),
        Gen::Ref => reference(ctx, attr),
        Gen::RefSparse if ctx.hash.is_multiple_of(3) => Cell::Null,
        Gen::RefSparse => reference(ctx, attr),
        Gen::Seq(list) => text(list[ctx.index % list.len()].to_owned()),
        Gen::SeqGuid(list) => Cell::Guid(list[ctx.index % list.len()].parse().unwrap_or_default()),
        Gen::RandomGuid => Cell::Guid(uuid::Builder::from_random_bytes(ctx.rng.u128(..).to_be_bytes()).into_uuid()),
        Gen::Fixed(s) => fixed(attr, s),
        Gen::ImageData => text("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".to_owned()),
        Gen::ImageUrl => text(format!(
            "/Image/download.aspx?Entity={}&Attribute=entityimage&Id={}&Timestamp={}",
            def.logical_name,
            gen_id(ctx.seed, ctx.entity, ctx.index),
            638_000_000_000_000_000u64 + ctx.index as u64
        )),
        Gen::FileName => text(format!("project-brief-{}.pdf", ctx.index + 1)),
        Gen::Intersect1 => intersect(ctx, attr, 0),
        Gen::Intersect2 => intersect(ctx, attr, 1),
    }
}

/// Upper-cases the first letter (the word lists are ASCII).
fn capitalise(w: &str) -> String {
    let mut s = w.to_owned();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    s
}

fn sentence(ctx: &mut RowCtx<'_>) -> Cell {
    let n = ctx.rng.usize(6..16);
    let mut s = String::with_capacity(n * 10);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(pick(WORDS, ctx.rng.u64(..)));
    }
    s.push('.');
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text(s)
}

fn date(ctx: &mut RowCtx<'_>, attr: &AttrDef) -> Cell {
    // 2018-01-01 .. 2026-01-01, whole seconds; DateOnly columns keep midnight.
    let secs = ctx.rng.i64(1_514_764_800..1_767_225_600);
    Cell::Time(if attr.date_only {
        secs - secs.rem_euclid(86_400)
    } else {
        secs
    })
}

fn option(ctx: &mut RowCtx<'_>, attr: &AttrDef) -> Cell {
    match &attr.options {
        Some(set) if !set.options.is_empty() => Cell::Int(i64::from(
            set.options[ctx.rng.usize(..set.options.len())].value,
        )),
        _ => Cell::Null,
    }
}

fn multi(ctx: &mut RowCtx<'_>, attr: &AttrDef) -> Cell {
    let Some(set) = &attr.options else {
        return Cell::Null;
    };
    let chosen: Vec<String> = set
        .options
        .iter()
        .filter(|_| ctx.rng.u8(..) < 90)
        .map(|o| o.value.to_string())
        .collect();
    if chosen.is_empty() {
        Cell::Null
    } else {
        text(chosen.join(","))
    }
}

fn reference(ctx: &mut RowCtx<'_>, attr: &AttrDef) -> Cell {
    let t = ctx.rng.usize(..attr.targets.len().max(1));
    let Some(target) = attr.targets.get(t).and_then(|n| ctx.catalog.index(n)) else {
        return Cell::Null;
    };
    let count = ctx.counts.get(target).copied().unwrap_or(0);
    if count == 0 {
        return Cell::Null;
    }
    Cell::Ref(gen_id(ctx.seed, target, ctx.rng.usize(..count)), t as u8)
}

fn intersect(ctx: &RowCtx<'_>, attr: &AttrDef, side: usize) -> Cell {
    let Some(target) = attr.targets.first().and_then(|n| ctx.catalog.index(n)) else {
        return Cell::Null;
    };
    let count = ctx.counts.get(target).copied().unwrap_or(0).max(1);
    // Side 1 walks targets in order, side 2 strides, so pairs stay distinct for small tables.
    let j = if side == 0 {
        ctx.index % count
    } else {
        (ctx.index / count + ctx.index * 7) % count
    };
    Cell::Guid(gen_id(ctx.seed, target, j))
}

fn fixed(attr: &AttrDef, s: &str) -> Cell {
    match attr.kind {
        Kind::Uniqueidentifier => Cell::Guid(s.parse().unwrap_or_default()),
        Kind::Lookup | Kind::Customer | Kind::Owner => Cell::Ref(s.parse().unwrap_or_default(), 0),
        Kind::Money | Kind::Decimal => Cell::Dec(s.parse().unwrap_or(0)),
        Kind::Integer | Kind::BigInt => Cell::Int(s.parse().unwrap_or(0)),
        Kind::Boolean => Cell::Bool(s == "true"),
        _ => text(s.to_owned()),
    }
}
