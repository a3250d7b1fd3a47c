//! Rows in PostgreSQL's binary COPY format, encoded once and sent in any contiguous run.
//!
//! Why not the driver's row-at-a-time COPY writer over cells kept per row: a batch's cells
//! (32 bytes each, one per column and row, plus decimal text) came to several times the
//! encoded rows, and a refused run, split in halves by the isolation, re-encoded its rows.
//! Encoded bytes of a run of rows are one slice, so any half is sent as it is.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use des_core::ports::SinkError;
use futures::SinkExt;
use tokio_postgres::Transaction;
use tokio_postgres::types::{IsNull, ToSql, Type};

use super::client::db_error;
use super::encoding::Cell;

/// The file header: signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The file trailer: a tuple field count of -1.
const TRAILER: &[u8] = &[0xff, 0xff];

/// The most sent as one message. The connection copies each message into its write buffer,
/// which keeps its largest size: a whole batch as one message left every pooled connection
/// holding a buffer the size of a batch.
const CHUNK: usize = 64 * 1024;

/// Encodes rows of one column list.
pub(super) struct CopyEncoder {
    types: Vec<Type>,
    data: BytesMut,
    ends: Vec<usize>,
}

impl CopyEncoder {
    pub(super) fn new(types: Vec<Type>) -> Self {
        Self {
            types,
            data: BytesMut::new(),
            ends: Vec::new(),
        }
    }

    /// Appends one row of cells, one per column; a refused row leaves nothing behind.
    pub(super) fn row<'c>(
        &mut self,
        cells: impl IntoIterator<Item = Result<Cell<'c>, String>>,
    ) -> Result<(), String> {
        let start = self.data.len();
        let written = self.write_row(cells);
        match written {
            Ok(()) => self.ends.push(self.data.len()),
            Err(_) => self.data.truncate(start),
        }
        written
    }

    /// Makes room for `rows` more rows the size of the first: a batch's rows are of one
    /// layout, and growing by doubling held twice a batch's bytes for a moment and left
    /// the allocator a trail of freed buffers.
    pub(super) fn expect(&mut self, rows: usize) {
        if let Some(&first) = self.ends.first() {
            self.data
                .reserve((first.saturating_mul(rows) / 8).saturating_mul(9));
        }
    }

    fn write_row<'c>(
        &mut self,
        cells: impl IntoIterator<Item = Result<Cell<'c>, String>>,
    ) -> Result<(), String> {
        let fields = i16::try_from(self.types.len()).map_err(|_| "Too many columns".to_owned())?;
        self.data.put_i16(fields);
        let mut count = 0;
        for (cell, ty) in cells.into_iter().zip(&self.types) {
            write_field(&mut self.data, &cell?, ty)?;
            count += 1;
        }
        // A short row would be refused by PostgreSQL for the whole COPY.
        match count == self.types.len() {
            true => Ok(()),
            false => Err(format!("{count} values for {fields} columns")),
        }
    }

    pub(super) fn finish(self) -> CopyData {
        CopyData {
            data: self.data.freeze(),
            ends: self.ends,
        }
    }
}

/// One field: its length (-1 for null), then its bytes.
fn write_field(out: &mut BytesMut, cell: &Cell<'_>, ty: &Type) -> Result<(), String> {
    let at = out.len();
    out.put_i32(0);
    let length = match cell.to_sql(ty, out) {
        Ok(IsNull::Yes) => -1,
        Ok(IsNull::No) => {
            let length = out.len() - at - 4;
            i32::try_from(length).map_err(|_| format!("A value of {length} bytes is too long"))?
        }
        Err(e) => return Err(format!("A value cannot be encoded as {ty}: {e}")),
    };
    out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    Ok(())
}

/// Encoded rows, in the order they were accepted.
#[derive(Debug, Default)]
pub(super) struct CopyData {
    data: Bytes,
    /// Where each row ends in `data`.
    ends: Vec<usize>,
}

impl CopyData {
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of the rows in `rows`, without copying them.
    fn run(&self, rows: Range<usize>) -> Bytes {
        let start = match rows.start {
            0 => 0,
            n => self.ends[n - 1],
        };
        let end = match rows.end {
            0 => 0,
            n => self.ends[n - 1],
        };
        self.data.slice(start..end)
    }

    /// Sends the rows in `rows` through `statement`, a `COPY ... FROM STDIN (FORMAT binary)`.
    pub(super) async fn send(
        &self,
        tx: &Transaction<'_>,
        statement: &str,
        rows: Range<usize>,
    ) -> Result<(), SinkError> {
        let sink = tx.copy_in::<_, Bytes>(statement).await.map_err(db_error)?;
        let mut sink = std::pin::pin!(sink);
        let mut run = self.run(rows);
        let chunks =
            std::iter::from_fn(|| (!run.is_empty()).then(|| run.split_to(run.len().min(CHUNK))));
        let header = std::iter::once(Bytes::from_static(HEADER));
        let trailer = std::iter::once(Bytes::from_static(TRAILER));
        for part in header.chain(chunks).chain(trailer) {
            sink.feed(part).await.map_err(db_error)?;
        }
        sink.finish().await.map_err(db_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder() -> CopyEncoder {
        CopyEncoder::new(vec![Type::INT4, Type::TEXT])
    }

    #[test]
    fn a_row_is_its_field_count_then_each_length_and_bytes() {
        let mut copy = encoder();
        copy.row([Ok(Cell::Int(7)), Ok(Cell::Text("ab".into()))])
            .unwrap();
        copy.row([Ok(Cell::Null), Ok(Cell::Null)]).unwrap();
        let data = copy.finish();
        let first = [0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 2, b'a', b'b'];
        let second = [0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(data.len(), 2);
        assert_eq!(&data.run(0..1)[..], &first);
        assert_eq!(&data.run(1..2)[..], &second);
        assert_eq!(data.run(0..2).len(), first.len() + second.len());
        assert!(data.run(1..1).is_empty() && data.run(0..0).is_empty());
    }

    #[test]
    fn a_refused_row_leaves_no_bytes_and_no_row() {
        let mut copy = encoder();
        copy.row([Ok(Cell::Int(1)), Ok(Cell::Null)]).unwrap();
        let refused = copy.row([Ok(Cell::Int(2)), Err("too long".to_owned())]);
        assert_eq!(refused, Err("too long".to_owned()));
        let short = copy.row([Ok(Cell::Int(3))]);
        assert_eq!(short, Err("1 values for 2 columns".to_owned()));
        copy.row([Ok(Cell::Int(4)), Ok(Cell::Null)]).unwrap();
        let data = copy.finish();
        assert_eq!(data.len(), 2);
        assert_eq!(&data.run(1..2)[6..10], &[0, 0, 0, 4]);
    }

    #[test]
    fn room_made_for_rows_like_the_first_changes_no_byte() {
        let mut copy = encoder();
        copy.expect(1_000);
        copy.row([Ok(Cell::Int(1)), Ok(Cell::Text("abc".into()))])
            .unwrap();
        copy.expect(1_000);
        let room = copy.data.capacity();
        assert!(room >= 17 * 1_000, "{room}");
        for n in 2..=1_000 {
            copy.row([Ok(Cell::Int(n)), Ok(Cell::Text("abc".into()))])
                .unwrap();
        }
        assert_eq!(copy.data.capacity(), room, "no growth for alike rows");
        let data = copy.finish();
        assert_eq!(data.len(), 1_000);
        assert_eq!(&data.run(999..1_000)[6..10], &1_000i32.to_be_bytes());
    }
}
