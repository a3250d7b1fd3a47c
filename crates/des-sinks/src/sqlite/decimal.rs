//! DES's `decimal(38, s)` columns, which SQLite stores as their exact text.

pub use crate::checks::decimal::DecimalError;

/// The canonical `decimal(precision, scale)` text of a numeric literal: no leading zeros,
/// exactly `scale` fraction digits, rounded half away from zero as SQL Server converts.
/// Fails when the integer part needs more than `precision - scale` digits.
pub fn decimal_literal(text: &str, precision: u8, scale: u8) -> Result<String, DecimalError> {
    match plain_literal(text, precision, scale) {
        Some(fast) => Ok(fast),
        None => crate::checks::decimal::round(text, precision, scale).map(|d| d.text()),
    }
}

/// The common case without rounding, exponent or overflow, in one allocation: `-?\d+(\.\d*)?`
/// with at most `scale` fraction digits. `None` sends everything else the long way.
fn plain_literal(text: &str, precision: u8, scale: u8) -> Option<String> {
    let (negative, unsigned) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let scale = usize::from(scale);
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > scale {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > usize::from(precision).saturating_sub(scale) {
        return None;
    }
    let zero = int.is_empty() && frac.bytes().all(|b| b == b'0');
    let mut out = String::with_capacity(int.len() + scale + 3);
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if scale > 0 {
        out.push('.');
        out.push_str(frac);
        out.extend(std::iter::repeat_n('0', scale - frac.len()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str, scale: u8) -> Result<String, DecimalError> {
        decimal_literal(text, 38, scale)
    }

    #[test]
    fn plain_literals_get_exactly_scale_digits() {
        assert_eq!(d("20000.0000", 4).unwrap(), "20000.0000");
        assert_eq!(d("1234.5", 2).unwrap(), "1234.50");
        assert_eq!(d("-0012", 2).unwrap(), "-12.00");
        assert_eq!(d("-0.00", 2).unwrap(), "0.00");
        assert_eq!(d("7", 0).unwrap(), "7");
    }

    #[test]
    fn extra_digits_round_half_away_from_zero() {
        assert_eq!(d("20000.0050", 2).unwrap(), "20000.01");
        assert_eq!(d("-1.005", 2).unwrap(), "-1.01");
        assert_eq!(d("9.999", 2).unwrap(), "10.00");
        assert_eq!(d("0.004", 2).unwrap(), "0.00");
        assert_eq!(d(".5", 0).unwrap(), "1");
    }

    #[test]
    fn exponents_are_expanded() {
        assert_eq!(d("1.5E3", 2).unwrap(), "1500.00");
        assert_eq!(d("+25e-4", 5).unwrap(), "0.00250");
        assert_eq!(d("1e-40", 2).unwrap(), "0.00");
    }

    #[test]
    fn too_many_integer_digits_overflow() {
        assert_eq!(d(&"9".repeat(36), 2).unwrap().len(), 39);
        assert_eq!(d(&"9".repeat(37), 2), Err(DecimalError::Overflow));
        assert_eq!(d("1e40", 2), Err(DecimalError::Overflow));
        assert_eq!(d("99.995", 2).unwrap(), "100.00");
        assert_eq!(decimal_literal("99.995", 4, 2), Err(DecimalError::Overflow));
    }

    #[test]
    fn malformed_literals_are_refused() {
        for bad in ["", "-", "1.2.3", "abc", "1e", "0x10", "NaN"] {
            assert_eq!(d(bad, 2), Err(DecimalError::Malformed), "{bad}");
        }
    }
}
