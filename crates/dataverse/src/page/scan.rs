//! Where one JSON value ends, found in a body that arrives in pieces, without parsing it:
//! strings and nesting are followed byte by byte, so a row can be cut out and parsed alone.
//!
//! What is cut out is always parsed strictly afterwards, so the scan need only be right for
//! valid JSON: on anything else it stops somewhere, and the parse of the cut-out refuses it.

use memchr::memchr2;

/// The scan of one value, carried from piece to piece.
#[derive(Default)]
pub(super) struct Scan {
    started: bool,
    /// Open objects and arrays.
    depth: u32,
    string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// A number, `true`, `false` or `null`: it ends where a delimiter begins.
    scalar: bool,
}

impl Scan {
    /// Reads on from the value's first byte, or from where the last piece stopped. Returns
    /// the index just past the value's end when it ends in `bytes`.
    pub(super) fn advance(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            if self.escaped {
                self.escaped = false;
                at += 1;
            } else if self.string {
                at += memchr2(b'"', b'\\', &bytes[at..])?;
                if bytes[at] == b'\\' {
                    self.escaped = true;
                } else {
                    self.string = false;
                }
                at += 1;
                if !self.string && self.depth == 0 {
                    return Some(at);
                }
            } else if self.scalar {
                if is_delimiter(bytes[at]) {
                    return Some(at);
                }
                at += 1;
            } else {
                let ended = self.structure(bytes[at]);
                at += 1;
                if ended {
                    return Some(at);
                }
            }
        }
        None
    }

    /// One byte outside any string; true when it closes the value.
    fn structure(&mut self, byte: u8) -> bool {
        let first = !self.started;
        self.started = true;
        match byte {
            b'"' => self.string = true,
            // Saturating: a body of nothing but openings must not wrap the count.
            b'{' | b'[' => self.depth = self.depth.saturating_add(1),
            b'}' | b']' if !first => {
                self.depth -= 1;
                return self.depth == 0;
            }
            _ if first => self.scalar = true,
            _ => {}
        }
        false
    }
}

/// A byte that cannot be part of a number or literal.
fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end found when `text` arrives in pieces of `size` bytes.
    fn end_in_pieces(text: &str, size: usize) -> Option<usize> {
        let mut scan = Scan::default();
        let mut offset = 0;
        for piece in text.as_bytes().chunks(size) {
            if let Some(end) = scan.advance(piece) {
                return Some(offset + end);
            }
            offset += piece.len();
        }
        None
    }

    #[test]
    fn every_kind_of_value_ends_where_it_ends_in_any_pieces() {
        let cases = [
            (r#"{"a":"x\"}","b":[1,{"c":"]"}],"d":null}, 2"#, 39),
            (r#""a\\"rest"#, 5),
            (r#""\\\"""#, 6),
            ("[[],[[]]],", 9),
            ("12.5e3}", 6),
            ("null ", 4),
            ("{}", 2),
        ];
        for (text, end) in cases {
            for size in 1..=text.len() {
                assert_eq!(end_in_pieces(text, size), Some(end), "{text} in {size}s");
            }
        }
    }

    #[test]
    fn an_unfinished_value_has_no_end() {
        for text in [r#"{"a":"}"#, r#""abc\""#, "[1,2", "123"] {
            assert_eq!(end_in_pieces(text, 1), None, "{text}");
            assert_eq!(end_in_pieces(text, text.len()), None, "{text}");
        }
    }
}
