//! Canonical JSON: the one byte sequence that every hiwar implementation writes
//! for a given JSON value, so that hashes and signatures over it agree.
//!
//! The rules (also in `docs/record-spec.md` §2):
//! - objects: keys sorted by their UTF-8 bytes, no duplicate keys, no whitespace;
//! - arrays: elements in order, no whitespace;
//! - numbers: integers only, in `-(2^53-1) ..= 2^53-1`, written in shortest decimal form;
//! - strings: UTF-8, with `"` and `\` escaped, the control characters U+0008, U+0009,
//!   U+000A, U+000C, U+000D as `\b \t \n \f \r`, every other character below U+0020 as
//!   `\u00xx` (lowercase hex), and nothing else escaped;
//! - `true`, `false`, `null` as themselves.
//!
//! This is RFC 8785 (JCS) restricted to integers and ASCII object keys, where the
//! UTF-16 key order of JCS and UTF-8 byte order coincide.

use serde_json::Value;

/// Largest integer magnitude allowed in the record (that JavaScript represents exactly).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("number {0} is not an integer within ±(2^53-1)")]
    Number(String),
    #[error("object key {0:?} is not ASCII")]
    Key(String),
}

/// Writes `value` in canonical form.
pub fn to_canonical_string(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let ok = n
                .as_i64()
                .map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER)
                .or_else(|| n.as_u64().map(|u| u <= MAX_SAFE_INTEGER))
                .unwrap_or(false);
            if !ok {
                return Err(CanonicalError::Number(n.to_string()));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if !key.is_ascii() {
                    return Err(CanonicalError::Key(key.clone()));
                }
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(&map[key], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": [1, 2, {"z": null, "a": true}], "a": "x"});
        assert_eq!(to_canonical_string(&v).unwrap(), r#"{"a":"x","b":[1,2,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn escapes_exactly_the_required_characters() {
        let v = json!("q\"b\\s/\u{1}\n\tعربي");
        assert_eq!(to_canonical_string(&v).unwrap(), "\"q\\\"b\\\\s/\\u0001\\n\\tعربي\"");
    }

    #[test]
    fn rejects_floats_and_huge_integers() {
        assert!(to_canonical_string(&json!(1.5)).is_err());
        assert!(to_canonical_string(&json!(1u64 << 60)).is_err());
        assert_eq!(to_canonical_string(&json!(-42)).unwrap(), "-42");
    }

    #[test]
    fn matches_serde_json_compact_output_for_our_subset() {
        // serde_json (without preserve_order) also sorts keys and escapes the same way;
        // this guards the claim in the module documentation.
        let v = json!({"k": "a\u{7f}\u{1f}é", "n": 9007199254740991u64, "e": []});
        assert_eq!(to_canonical_string(&v).unwrap(), serde_json::to_string(&v).unwrap());
    }
}
