//! Exact decimal literals (`"20000.0000"`, `"-1.5E-3"`) as `decimal(38, s)` units.

pub use crate::checks::decimal::DecimalError;

/// The literal times `10^scale`, rounded half away from zero as SQL Server converts; fails
/// when the integer part needs more than `precision - scale` digits.
pub fn scaled(text: &str, precision: u8, scale: u8) -> Result<i128, DecimalError> {
    crate::checks::decimal::round(text, precision, scale).map(|d| d.units())
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
