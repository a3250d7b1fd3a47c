//! ADO.NET connection strings (`Server=tcp:x.database.windows.net,1433;Initial Catalog=...`),
//! as DES kept them in Key Vault: `key=value` pairs split on `;`, keys case-insensitive and
//! trimmed, values optionally quoted with `'` or `"` (the quote doubled inside).

use std::collections::HashMap;

/// The pairs of a connection string, keys lower-cased with inner spaces kept.
#[derive(Debug, Default)]
pub(super) struct Pairs(HashMap<String, String>);

impl Pairs {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let mut pairs = HashMap::new();
        let mut rest = text;
        while !rest.trim().is_empty() {
            let (key, after) = rest
                .split_once('=')
                .ok_or_else(|| "a part has no '='".to_owned())?;
            let (value, after) = value(after)?;
            let key = key
                .trim()
                .trim_start_matches(';')
                .trim()
                .to_ascii_lowercase();
            pairs.insert(key, value);
            rest = after;
        }
        Ok(Self(pairs))
    }

    /// The value of the first of `keys` present.
    pub(super) fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.0.get(*k)).map(String::as_str)
    }

    pub(super) fn bool(&self, keys: &[&str]) -> Result<Option<bool>, String> {
        self.get(keys)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "yes" => Ok(true),
                "false" | "no" => Ok(false),
                _ => Err(format!("{} must be true or false", keys[0])),
            })
            .transpose()
    }

    /// Whole seconds (ADO.NET's unit for timeouts).
    pub(super) fn seconds(&self, keys: &[&str]) -> Result<Option<u64>, String> {
        self.get(keys)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{} must be a number of seconds", keys[0]))
            })
            .transpose()
    }
}

/// One value and what follows its `;`.
fn value(text: &str) -> Result<(String, &str), String> {
    let trimmed = text.trim_start();
    let Some(quote) = trimmed.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        let (value, rest) = text.split_once(';').unwrap_or((text, ""));
        return Ok((value.trim().to_owned(), rest));
    };
    let mut value = String::new();
    let mut chars = trimmed[1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != quote {
            value.push(c);
        } else if chars.peek().is_some_and(|(_, n)| *n == quote) {
            value.push(quote);
            chars.next();
        } else {
            let after = trimmed[1 + i + 1..].trim_start();
            let rest = after.strip_prefix(';').unwrap_or(after);
            if !after.is_empty() && !after.starts_with(';') {
                return Err("text after a quoted value".into());
            }
            return Ok((value, rest));
        }
    }
    Err("a quoted value is not closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_quoted_values() {
        let pairs = Pairs::parse(
            "Server=tcp:a.database.windows.net,1433; Initial Catalog = des ;Password='p;w''d';\
             User ID=\"x\"\"y\";Encrypt=True;",
        )
        .expect("parses");
        assert_eq!(
            pairs.get(&["server"]),
            Some("tcp:a.database.windows.net,1433")
        );
        assert_eq!(pairs.get(&["database", "initial catalog"]), Some("des"));
        assert_eq!(pairs.get(&["password"]), Some("p;w'd"));
        assert_eq!(pairs.get(&["user id"]), Some("x\"y"));
        assert_eq!(pairs.bool(&["encrypt"]), Ok(Some(true)));
    }

    #[test]
    fn rejects_broken_strings() {
        assert!(Pairs::parse("Server").is_err());
        assert!(Pairs::parse("Password='open").is_err());
        assert!(Pairs::parse("Password='a'b").is_err());
    }
}
