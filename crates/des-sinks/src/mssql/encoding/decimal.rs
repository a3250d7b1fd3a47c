//! Exact decimal literals (`"20000.0000"`, `"-1.5E-3"`) as `decimal(38, s)` units.

#[derive(Debug, PartialEq, Eq)]
pub enum DecimalError {
    Malformed,
    Overflow,
}

/// The literal times `10^scale`, rounded half away from zero as SQL Server converts; fails
/// when the integer part needs more than `precision - scale` digits.
pub fn scaled(text: &str, precision: u8, scale: u8) -> Result<i128, DecimalError> {
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
    // Where the point sits among the significant digits.
    let point = (int_part.len() as i64)
        .saturating_add(exponent)
        .saturating_sub(zeros as i64);
    if digits.is_empty() {
        return Ok(0);
    }
    let int_room = i64::from(precision.saturating_sub(scale));
    if point > int_room {
        return Err(DecimalError::Overflow);
    }
    // Digits kept: everything left of the point plus `scale` fraction digits.
    let cut = point.saturating_add(i64::from(scale));
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|k| digits.get(k))
            .map_or(0, |d| i128::from(d - b'0'))
    };
    let mut units: i128 = 0;
    for i in 0..cut.max(0) {
        units = units * 10 + digit(i);
    }
    if cut >= 0 && digit(cut) >= 5 {
        units += 1;
    }
    if units >= 10_i128.pow(u32::from(precision)) {
        return Err(DecimalError::Overflow);
    }
    Ok(if negative { -units } else { units })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(scaled("20000.0000", 38, 2), Ok(2_000_000));
        assert_eq!(scaled("-1.005", 38, 2), Ok(-101));
        assert_eq!(scaled("0.004", 38, 2), Ok(0));
        assert_eq!(scaled("99.995", 38, 2), Ok(10_000));
        assert_eq!(scaled("1.5E-3", 38, 4), Ok(15));
        assert_eq!(scaled("12e3", 38, 0), Ok(12_000));
        assert_eq!(scaled("+007", 38, 1), Ok(70));
        assert_eq!(scaled("0e999999999", 38, 2), Ok(0));
        assert_eq!(scaled("5e-999999999", 38, 2), Ok(0));
    }

    #[test]
    fn overflows_beyond_precision() {
        let max = "9".repeat(36);
        assert!(scaled(&max, 38, 2).is_ok());
        assert_eq!(
            scaled(&format!("{max}.995"), 38, 2),
            Err(DecimalError::Overflow)
        );
        assert_eq!(scaled("1e40", 38, 2), Err(DecimalError::Overflow));
        assert_eq!(scaled("1e999999999999", 38, 2), Err(DecimalError::Overflow));
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for bad in ["", "-", "1.2.3", "abc", "1e", "0x10", "1,5"] {
            assert_eq!(scaled(bad, 38, 2), Err(DecimalError::Malformed), "{bad}");
        }
    }
}
