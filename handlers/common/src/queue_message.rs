//! The text of a queue message, as the host hands it to a custom handler.
//!
//! The encoding, settled from the host's source and its documentation:
//!
//! 1. On the queue, DES messages are base64 (`des-azure`'s `StorageQueue` writes base64);
//!    `messageEncoding: base64` in the applier's `host.json` makes the queue extension decode
//!    it, so the host holds the message *text* (a JSON object for every DES message).
//! 2. A queue trigger without `dataType` binds that text as a string, and the host puts a
//!    string into `Data.<binding>` as JSON text of its own
//!    (`ScriptInvocationContextExtensions.GetHttpScriptInvocationContextValue`: a string is
//!    not a JSON object, so it is passed through `JsonConvert.SerializeObject`). The request
//!    body therefore carries `Data.msg` as a JSON string whose value is the message text
//!    quoted once more: `"msg": "\"{\\\"Batch\\\":...}\""`. The custom-handler documentation
//!    shows the text quoted once (`"myQueueItem": "{ message: ... }"`).
//!
//! Both are taken: the string is unwrapped, and once more when its value is itself a JSON
//! string. Anything else is refused with a reason, never guessed at: an object, a number,
//! or a text that is not a JSON object (base64 text means `messageEncoding` is not `base64`).
//! A refused message fails its invocation, so the host retries it and then parks it in the
//! poison queue, from where it can be replayed once the setting is fixed.

use serde_json::value::RawValue;

/// The message text of a queue binding value, or why it is not one.
pub fn message_text(raw: &RawValue) -> Result<Vec<u8>, String> {
    let value = raw.get().trim();
    if !value.starts_with('"') {
        return Err(format!(
            "expected a JSON string holding the message text, got {}",
            kind(value)
        ));
    }
    let once: String = serde_json::from_str(value).map_err(|e| e.to_string())?;
    let text = match serde_json::from_str::<String>(once.trim()) {
        Ok(twice) if once.trim_start().starts_with('"') => twice,
        _ => once,
    };
    let text = text.trim();
    if !text.starts_with('{') {
        return Err(format!(
            "the message text is not a JSON object (it starts with {:?}); base64 text means \
             host.json does not set extensions.queues.messageEncoding to base64",
            text.chars().take(8).collect::<String>()
        ));
    }
    Ok(text.as_bytes().to_vec())
}

fn kind(value: &str) -> &'static str {
    match value.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        None => "nothing",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;

    const MSG: &str = r#"{"Batch":{"seq":1,"note":"a \"quoted\" word"}}"#;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).expect("raw JSON")
    }

    fn quoted(text: &str) -> String {
        serde_json::to_string(text).unwrap()
    }

    #[test]
    fn the_host_source_shape_and_the_documented_shape_give_the_text() {
        let source = quoted(&quoted(MSG));
        let documented = quoted(MSG);
        for value in [source, documented] {
            let text = message_text(&raw(&value)).expect("text");
            assert_eq!(String::from_utf8(text).unwrap(), MSG, "from {value}");
        }
    }

    #[test]
    fn other_shapes_are_refused_with_a_reason() {
        let cases = [
            (MSG.to_owned(), "got an object"),
            ("null".to_owned(), "got null"),
            ("17".to_owned(), "got a number"),
            (quoted(&quoted(&BASE64.encode(MSG))), "messageEncoding"),
            (quoted("plain words"), "not a JSON object"),
        ];
        for (value, reason) in cases {
            let error = message_text(&raw(&value)).unwrap_err();
            assert!(error.contains(reason), "{value}: {error}");
        }
    }
}
