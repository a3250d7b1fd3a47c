use super::*;
use crate::checks::fixtures::{col, money};

#[test]
fn decimals_round_half_away_from_zero() {
    assert_eq!(decimal_text("20000.0000", 38, 2), Ok("20000.00".into()));
    assert_eq!(decimal_text("-1.005", 38, 2), Ok("-1.01".into()));
    assert_eq!(decimal_text("0.004", 38, 2), Ok("0.00".into()));
    assert_eq!(decimal_text("-0.004", 38, 2), Ok("0.00".into()));
    assert_eq!(decimal_text("99.995", 38, 2), Ok("100.00".into()));
    assert_eq!(decimal_text("1.5E-3", 38, 4), Ok("0.0015".into()));
    assert_eq!(decimal_text("12e3", 38, 0), Ok("12000".into()));
    assert_eq!(decimal_text("+007", 38, 1), Ok("7.0".into()));
    assert_eq!(decimal_text("0e999999999", 38, 2), Ok("0.00".into()));
    assert_eq!(decimal_text("5e-999999999", 38, 2), Ok("0.00".into()));
}

#[test]
fn decimals_beyond_precision_overflow() {
    let max = "9".repeat(36);
    assert_eq!(decimal_text(&max, 38, 2), Ok(format!("{max}.00")));
    assert_eq!(
        decimal_text(&format!("{max}.995"), 38, 2),
        Err(DecimalError::Overflow)
    );
    assert_eq!(
        decimal_text(&format!("1{max}"), 38, 2),
        Err(DecimalError::Overflow)
    );
    assert_eq!(decimal_text("1e40", 38, 2), Err(DecimalError::Overflow));
    assert_eq!(decimal_text("0.5", 2, 2), Ok("0.50".into()));
    assert_eq!(decimal_text("0.996", 2, 2), Err(DecimalError::Overflow));
}

#[test]
fn malformed_decimals_are_refused() {
    for bad in ["", "-", "1.2.3", "abc", "1e", "1,5", "NaN"] {
        assert_eq!(
            decimal_text(bad, 38, 2),
            Err(DecimalError::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn long_strings_fail_in_des_words() {
    let name = col("name", SqlType::Text { max_len: Some(3) });
    assert_eq!(
        encode(&Value::Text("abc".into()), &name),
        Ok(Cell::Text("abc".into()))
    );
    let err = encode(&Value::Text("abcd".into()), &name).expect_err("too long");
    assert_eq!(
        err,
        "String length in source longer than destination schema for [name, 3]"
    );
    // Three characters, three UTF-16 units, nine bytes: fits.
    assert!(encode(&Value::Text("äöü".into()), &name).is_ok());
    // One astral character is two UTF-16 units, as nvarchar counted.
    let two = col("two", SqlType::Text { max_len: Some(1) });
    assert!(encode(&Value::Text("😀".into()), &two).is_err());
}

#[test]
fn overflows_and_mismatches_fail_per_record() {
    let amount = col("revenue", money());
    let err = encode(&Value::Decimal("1e40".into()), &amount).expect_err("overflow");
    assert_eq!(
        err,
        "Arithmetic overflow error converting numeric to data type numeric for [revenue, 38, 2]"
    );
    let count = col("numberofemployees", SqlType::Int);
    let err = encode(&Value::Int(i64::from(i32::MAX) + 1), &count).expect_err("int overflow");
    assert!(err.starts_with("Arithmetic overflow error converting expression to data type int"));
    let err = encode(&Value::Text("x".into()), &count).expect_err("mismatch");
    assert_eq!(
        err,
        "Source type does not match destination schema for [numberofemployees, int]"
    );
    let text = col("description", SqlType::Text { max_len: None });
    assert!(encode(&Value::Text("a\0b".into()), &text).is_err());
}

#[test]
fn values_map_to_their_cells() {
    let id = Uuid::from_u128(7);
    let guid = col("parentid", SqlType::Guid);
    let lookup = Value::Lookup {
        id,
        target: Some("account".into()),
    };
    assert_eq!(encode(&lookup, &guid), Ok(Cell::Uuid(id)));
    let target = col("parentid_entitytype", SqlType::Text { max_len: Some(128) });
    assert_eq!(
        lookup_target(&lookup, &target),
        Ok(Cell::Text("account".into()))
    );
    assert_eq!(lookup_target(&Value::Null, &target), Ok(Cell::Null));
    let flag = col("donotemail", SqlType::Bit);
    assert_eq!(encode(&Value::Bool(true), &flag), Ok(Cell::Bool(true)));
    assert_eq!(encode(&Value::Null, &flag), Ok(Cell::Null));
    let amount = col("revenue", money());
    assert_eq!(
        encode(&Value::Float(1.5), &amount),
        Ok(Cell::Text("1.50".into()))
    );
}
