use time::macros::datetime;

use super::*;
use crate::checks::fixtures::{col, money};

#[test]
fn long_strings_fail_in_des_words() {
    let name = col("name", SqlType::Text { max_len: Some(3) });
    assert!(encode(&Value::Text("abc".into()), &name).is_ok());
    assert!(
        encode(&Value::Text("äöü".into()), &name).is_ok(),
        "counts characters"
    );
    assert_eq!(
        encode(&Value::Text("abcd".into()), &name),
        Err("String length in source longer than destination schema for [name, 3]".into())
    );
    assert_eq!(
        encode(&Value::Text("😀😀".into()), &name).map(drop),
        Err("String length in source longer than destination schema for [name, 3]".into()),
        "a character outside the BMP takes two UTF-16 units"
    );
}

#[test]
fn decimals_become_numerics_of_the_column_scale() {
    let revenue = col("revenue", money());
    assert_eq!(
        encode(&Value::Decimal("1234.5".into()), &revenue),
        Ok(ColumnData::Numeric(Some(Numeric::new_with_scale(
            123_450, 2
        ))))
    );
    let overflow = encode(&Value::Decimal("1e40".into()), &revenue).expect_err("too large");
    assert!(overflow.contains("[revenue, 38, 2]"), "{overflow}");
    assert!(!overflow.contains("1e40"));
    assert_eq!(
        encode(&Value::Text("n/a".into()), &revenue),
        Err("Source type does not match destination schema for [revenue, decimal(38, 2)]".into())
    );
}

#[test]
fn datetimes_round_to_ticks_and_start_in_1753() {
    let created = col("createdon", SqlType::DateTime);
    let cell = encode(
        &Value::DateTime(datetime!(1900-01-02 00:00:01.005 UTC)),
        &created,
    );
    let Ok(ColumnData::DateTime(Some(t))) = cell else {
        panic!("{cell:?}")
    };
    assert_eq!(
        (t.days(), t.seconds_fragments()),
        (1, 302),
        "1.005 s is 301.5 → 302 ticks"
    );
    let midnight = encode(
        &Value::DateTime(datetime!(2024-03-01 23:59:59.999 UTC)),
        &created,
    );
    let Ok(ColumnData::DateTime(Some(t))) = midnight else {
        panic!("{midnight:?}")
    };
    assert_eq!(t.seconds_fragments(), 0, "rounds up into the next day");
    let old = encode(&Value::DateTime(datetime!(1700-01-01 0:00 UTC)), &created);
    assert_eq!(
        old,
        Err("Source value out of range of destination schema for [createdon, datetime]".into())
    );
}

#[test]
fn nulls_keep_their_column_type() {
    assert_eq!(
        encode(&Value::Null, &col("x", money())),
        Ok(ColumnData::Numeric(None))
    );
    assert_eq!(
        encode(&Value::Null, &col("y", SqlType::Guid)),
        Ok(ColumnData::Guid(None))
    );
    assert_eq!(
        encode(&Value::Int(2_i64.pow(40)), &col("n", SqlType::Int)),
        Err("Arithmetic overflow error converting expression to data type int for [n]".into())
    );
}

#[test]
fn rows_wider_than_a_page_fail_in_des_words() {
    let text = SqlType::Text {
        max_len: Some(4000),
    };
    let columns: Vec<ColumnDef> = (0..400).map(|i| col(&format!("t{i}"), text)).collect();
    let size = RowSize::new(&columns);
    let short = ColumnData::String(Some("ab".into()));
    assert!(size.check(std::iter::repeat_n(&short, 400)).is_ok());
    let long = ColumnData::String(Some("x".repeat(100).into()));
    let reason = size
        .check(std::iter::repeat_n(&long, 400))
        .expect_err("400 pointers of 24 bytes do not fit");
    assert_eq!(
        reason,
        "Cannot create a row of size 10458 which is greater than the allowable maximum row size of 8060."
    );
}
