//! Exact decimal literals (`"20000.0000"`, `"-1.5E-3"`) rounded to DES's
//! `decimal(precision, scale)` columns.

use std::borrow::Cow;

use des_core::Value;
use des_core::schema::ColumnDef;

#[derive(Debug, PartialEq, Eq)]
pub enum DecimalError {
    Malformed,
    Overflow,
}

/// A literal rounded to `scale` fraction digits: its decimal digits times `10^scale`, at
/// least `scale + 1` of them, leading zeros only where needed to reach that length.
#[derive(Debug)]
pub struct Scaled {
    negative: bool,
    digits: Vec<u8>,
    scale: usize,
}

/// The literal a value is written as in a decimal column; `None` for values that have none.
pub fn as_literal(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Decimal(s) | Value::Text(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Float(f) if f.is_finite() => Some(Cow::Owned(f.to_string())),
        _ => None,
    }
}

/// The reason for a decimal too large for its column.
pub fn overflow(col: &ColumnDef, precision: u8, scale: u8) -> String {
    format!(
        "Arithmetic overflow error converting numeric to data type numeric for [{}, {precision}, {scale}]",
        col.name
    )
}

/// The per-record reason for a failed [`round`].
pub fn reason(error: DecimalError, col: &ColumnDef, precision: u8, scale: u8) -> String {
    match error {
        DecimalError::Malformed => super::mismatch(col),
        DecimalError::Overflow => overflow(col, precision, scale),
    }
}

/// Rounds half away from zero to `scale` fraction digits, as both SQL Server and PostgreSQL
/// convert; fails when the integer part then needs more than `precision - scale` digits.
pub fn round(text: &str, precision: u8, scale: u8) -> Result<Scaled, DecimalError> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().map_err(|_| DecimalError::Malformed)?),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::Malformed);
    }
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    let digits = &digits[zeros..];
    let scale = usize::from(scale);
    if digits.is_empty() {
        let digits = vec![b'0'; scale + 1];
        return Ok(Scaled {
            negative: false,
            digits,
            scale,
        });
    }
    // Integer digits of the value: where the point sits after the leading zeros.
    let point = (int_part.len() as i64)
        .saturating_add(exponent)
        .saturating_sub(zeros as i64);
    let int_room = i64::from(precision).saturating_sub(scale as i64).max(0);
    if point > int_room {
        return Err(DecimalError::Overflow);
    }
    let digits = round_to_scale(digits, point, scale);
    let int_len = digits.len() - scale;
    // Only a lone integer digit can be a zero (a value below one).
    let int_digits = int_len - usize::from(digits[0] == b'0');
    if int_digits as i64 > int_room {
        return Err(DecimalError::Overflow);
    }
    Ok(Scaled {
        negative,
        digits,
        scale,
    })
}

impl Scaled {
    /// The exact `decimal(precision, scale)` text: no leading zeros, exactly `scale`
    /// fraction digits, no sign on zero.
    pub fn text(&self) -> String {
        let int_len = self.digits.len() - self.scale;
        let (int, frac) = self.digits.split_at(int_len);
        let int = std::str::from_utf8(int).unwrap_or("0");
        let frac = std::str::from_utf8(frac).unwrap_or_default();
        let sign = if self.negative && !self.is_zero() {
            "-"
        } else {
            ""
        };
        if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }

    /// The value in units of `10^-scale`, as SQL Server's `decimal` carries it.
    pub fn units(&self) -> i128 {
        let units = self.digits.iter().fold(0_i128, |units, d| {
            units
                .saturating_mul(10)
                .saturating_add(i128::from(d - b'0'))
        });
        if self.negative { -units } else { units }
    }

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|d| *d == b'0')
    }
}

/// `digits × 10^(point - len)` times `10^scale`, rounded half up, as at least `scale + 1`
/// digits with leading zeros only where needed to reach that length.
fn round_to_scale(digits: &[u8], point: i64, scale: usize) -> Vec<u8> {
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|k| digits.get(k))
            .copied()
            .unwrap_or(b'0')
    };
    let cut = point.saturating_add(scale as i64);
    let mut kept: Vec<u8> = (0..cut.max(0)).map(digit).collect();
    if cut >= 0 && digit(cut) >= b'5' {
        round_up(&mut kept);
    }
    if kept.len() <= scale {
        let mut padded = vec![b'0'; scale + 1 - kept.len()];
        padded.append(&mut kept);
        kept = padded;
    }
    kept
}

fn round_up(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str, precision: u8, scale: u8) -> Result<(String, i128), DecimalError> {
        round(text, precision, scale).map(|d| (d.text(), d.units()))
    }

    #[test]
    fn text_and_units_are_the_same_value() {
        assert_eq!(both("-1.005", 38, 2), Ok(("-1.01".into(), -101)));
        assert_eq!(both("-0.004", 38, 2), Ok(("0.00".into(), 0)));
        assert_eq!(both("9.995", 38, 2), Ok(("10.00".into(), 1_000)));
        assert_eq!(both("7", 38, 0), Ok(("7".into(), 7)));
    }

    #[test]
    fn exponents_beyond_i32_are_still_numbers() {
        assert_eq!(both("0e9999999999", 38, 2), Ok(("0.00".into(), 0)));
        assert_eq!(both("1e-9999999999", 38, 2), Ok(("0.00".into(), 0)));
        assert_eq!(both("1e9999999999", 38, 2), Err(DecimalError::Overflow));
    }

    #[test]
    fn values_that_have_no_literal_are_refused() {
        assert_eq!(as_literal(&Value::Float(f64::NAN)), None);
        assert_eq!(as_literal(&Value::Bool(true)), None);
        assert_eq!(as_literal(&Value::Int(-3)).as_deref(), Some("-3"));
    }
}
