//! A page parsed as its body arrives. The OData collection object's punctuation is followed
//! here; each row of `value` that lies whole in a piece is parsed where it lies, and anything
//! else (a member, a row that straddles two pieces) is cut out ([`Scan`]) and parsed alone.
//! So a page body is never held whole: only a row that straddles two pieces is copied.

use std::borrow::Cow;

use des_core::Change;
use des_core::ports::{NextLink, Page, SourceError};
use serde::de::IgnoredAny;

use super::row::{RowError, RowReader};
use super::scan::Scan;
use super::{not_json, protocol};
use crate::plan::ColumnPlan;
use crate::transport::Answer;

/// Where the reading of the collection object stands, between values.
#[derive(Clone, Copy, Debug)]
enum At {
    /// Before the object.
    Start,
    /// After `{`: a property name or `}`.
    FirstName,
    /// After `,`: a property name.
    Name,
    Colon,
    /// A property's value.
    Value,
    AfterMember,
    /// After `value`'s `[`: a row or `]`.
    FirstRow,
    /// After `,` between rows.
    Row,
    AfterRow,
    End,
}

/// The value being cut out.
#[derive(Clone, Copy)]
enum Cut {
    Name,
    Member,
    Row,
}

/// Reads one page of `plan`'s entity set from pieces of its body, in order.
pub(crate) struct PageParser<'p> {
    rows: RowReader<'p>,
    /// The link that was requested: the delta link when an empty body says "no changes".
    followed: Option<&'p str>,
    at: At,
    cutting: Option<Cut>,
    scan: Scan,
    /// The start of the value being cut out, when it began in an earlier piece.
    carry: Vec<u8>,
    /// Bytes read so far.
    read: u64,
    /// The length of the last row read.
    row_length: usize,
    /// The name of the property whose value comes next.
    name: String,
    changes: Option<Vec<Change>>,
    next_link: Option<Option<String>>,
    delta_link: Option<Option<String>>,
}

impl<'p> PageParser<'p> {
    pub(crate) fn new(plan: &'p ColumnPlan, followed: Option<&'p str>) -> Self {
        Self {
            rows: RowReader::new(plan),
            followed,
            at: At::Start,
            cutting: None,
            scan: Scan::default(),
            carry: Vec::new(),
            read: 0,
            row_length: 0,
            name: String::new(),
            changes: None,
            next_link: None,
            delta_link: None,
        }
    }

    /// Reads the next piece of the body. A row that does not convert is refused as itself.
    pub(crate) fn feed(&mut self, piece: &[u8]) -> Result<(), SourceError> {
        let text = utf8_prefix(piece);
        let mut at = 0;
        while at < piece.len() {
            let Some(cut) = self.cutting else {
                at += match self.row_in_place(text, at) {
                    Some(length) => length,
                    None => self.punctuation(piece[at], at)?,
                };
                continue;
            };
            let start = at;
            let Some(end) = self.scan.advance(&piece[start..]) else {
                self.carry.extend_from_slice(&piece[start..]);
                break;
            };
            at += end;
            self.cut(cut, &piece[start..at])?;
        }
        self.read += piece.len() as u64;
        Ok(())
    }

    /// The page, once the whole body has been fed.
    pub(crate) fn finish(self) -> Result<Page, SourceError> {
        match self.at {
            At::Start => return self.empty(),
            At::End => {}
            _ => return Err(not_json("the body ended inside the page object")),
        }
        let next = match (self.next_link.flatten(), self.delta_link.flatten()) {
            (Some(next), _) => NextLink::More(next),
            (None, Some(delta)) => NextLink::Done(delta),
            (None, None) => match self.followed {
                Some(link) => NextLink::Done(link.to_owned()),
                None => return Err(protocol("page has neither nextLink nor deltaLink")),
            },
        };
        Ok(Page {
            changes: self.changes.unwrap_or_default(),
            next,
        })
    }

    /// A body of nothing but whitespace: no changes since the followed delta link.
    fn empty(self) -> Result<Page, SourceError> {
        let link = self
            .followed
            .ok_or_else(|| protocol("empty body for a first page"))?;
        Ok(Page {
            changes: Vec::new(),
            next: NextLink::Done(link.to_owned()),
        })
    }

    /// One byte between values: how many bytes it took (none when a value starts at it).
    fn punctuation(&mut self, byte: u8, offset: usize) -> Result<usize, SourceError> {
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(1);
        }
        let rows = self.name == "value";
        self.at = match (self.at, byte) {
            (At::Start, b'{') => At::FirstName,
            (At::FirstName | At::AfterMember, b'}') => At::End,
            (At::FirstName | At::Name, b'"') => return Ok(self.begin(Cut::Name)),
            (At::Colon, b':') => At::Value,
            (At::Value, b'[') if rows => self.open_rows()?,
            (At::Value, _) if rows => return Err(not_json("`value` is not an array")),
            (At::Value, _) => return Ok(self.begin(Cut::Member)),
            (At::AfterMember, b',') => At::Name,
            (At::FirstRow | At::AfterRow, b']') => At::AfterMember,
            (At::FirstRow | At::Row, _) => return Ok(self.begin(Cut::Row)),
            (At::AfterRow, b',') => At::Row,
            (at, _) => {
                let offset = self.read + offset as u64;
                let byte = [byte].escape_ascii().to_string();
                return Err(not_json(&format!(
                    "unexpected `{byte}` at byte {offset} ({at:?})"
                )));
            }
        };
        Ok(1)
    }

    /// A row that starts at `at` and lies whole in the piece's valid `text`, read where it
    /// lies (most rows are). Not tried when the rest is short for a row of the size the last
    /// one was, since a row that runs past the piece is read again once cut out.
    fn row_in_place(&mut self, text: &str, at: usize) -> Option<usize> {
        if !matches!(self.at, At::FirstRow | At::Row) {
            return None;
        }
        let rest = text.get(at..).filter(|r| r.starts_with('{'))?;
        if rest.len() < 2 * self.row_length {
            return None;
        }
        let (change, length) = self.rows.read_in_place(rest)?;
        self.row_length = length;
        self.changes.get_or_insert_with(Vec::new).push(change);
        self.at = At::AfterRow;
        Some(length)
    }

    fn begin(&mut self, cut: Cut) -> usize {
        self.cutting = Some(cut);
        0
    }

    fn open_rows(&mut self) -> Result<At, SourceError> {
        if self.changes.is_some() {
            return Err(not_json("duplicate field `value`"));
        }
        self.changes = Some(Vec::new());
        Ok(At::FirstRow)
    }

    /// A value cut out whole: `tail` is what follows the carried start, if any.
    fn cut(&mut self, cut: Cut, tail: &[u8]) -> Result<(), SourceError> {
        let mut carry = std::mem::take(&mut self.carry);
        let whole = if carry.is_empty() {
            tail
        } else {
            carry.extend_from_slice(tail);
            &carry
        };
        let taken = self.take(cut, whole);
        carry.clear();
        self.carry = carry;
        self.scan = Scan::default();
        self.cutting = None;
        taken
    }

    fn take(&mut self, cut: Cut, bytes: &[u8]) -> Result<(), SourceError> {
        let text = std::str::from_utf8(bytes).map_err(|e| not_json(&e.to_string()))?;
        let json = |e: serde_json::Error| not_json(&e.to_string());
        self.at = match cut {
            Cut::Name => {
                self.name = serde_json::from_str::<Cow<'_, str>>(text)
                    .map_err(json)?
                    .into_owned();
                At::Colon
            }
            Cut::Member => {
                self.member(text).map_err(json)?;
                At::AfterMember
            }
            Cut::Row => {
                self.row_length = bytes.len();
                let change = self.rows.read(text).map_err(|e| match e {
                    RowError::Json(e) => json(e),
                    RowError::Rejected(e) => e,
                })?;
                self.changes.get_or_insert_with(Vec::new).push(change);
                At::AfterRow
            }
        };
        Ok(())
    }

    /// A property besides `value`: the links are kept, anything else is checked and skipped.
    fn member(&mut self, text: &str) -> Result<(), serde_json::Error> {
        let link = match self.name.as_str() {
            "@odata.nextLink" => &mut self.next_link,
            "@odata.deltaLink" => &mut self.delta_link,
            _ => return serde_json::from_str::<IgnoredAny>(text).map(drop),
        };
        if link.is_some() {
            let message = format!("duplicate field `{}`", self.name);
            return Err(serde::de::Error::custom(message));
        }
        *link = Some(serde_json::from_str(text)?);
        Ok(())
    }
}

/// A page body goes to the parser as it arrives; the answer is the page and its size.
impl Answer for PageParser<'_> {
    type Output = (Page, u64);

    fn piece(&mut self, bytes: &[u8]) -> Result<(), SourceError> {
        self.feed(bytes)
    }

    fn finish(self) -> Result<(Page, u64), SourceError> {
        let bytes = self.read;
        Ok((PageParser::finish(self)?, bytes))
    }
}

/// The longest start of `piece` that is valid UTF-8: checked once per piece, so the rows
/// read where they lie need no check of their own. A character split at the piece's end, or
/// a bad byte, ends it; what lies beyond is cut out and checked as it is read.
fn utf8_prefix(piece: &[u8]) -> &str {
    match std::str::from_utf8(piece) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&piece[..e.valid_up_to()]).unwrap_or_default(),
    }
}
