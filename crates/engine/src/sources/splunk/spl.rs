//! What goes into SPL. Searches are built only from the template here ([`events_query`]). Index
//! and sourcetype are validated when the source is added; a thing name is validated against
//! AWS's own pattern and then placed only in a double-quoted literal (`\` and `"` escaped)
//! compared with `where`, so a hostile name matches nothing and changes nothing.

use super::SplunkSettings;
use crate::{Error, Result};

/// Checks an index name: lowercase letters, digits, `_`, `-`, not starting with `_` or `-`.
pub fn validate_index(index: &str) -> Result<()> {
    let ok = !index.is_empty()
        && index.len() <= 80
        && !index.starts_with(['_', '-'])
        && index
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
    if !ok {
        return Err(Error::InvalidInput(format!(
            "Splunk index {index:?} must be lowercase letters, digits, '_' and '-', not starting with '_' or '-'"
        )));
    }
    Ok(())
}

/// Checks a sourcetype, metric or check name: `[A-Za-z0-9:_.-]{1,128}`.
pub fn validate_token_like(what: &str, v: &str) -> Result<()> {
    if v.is_empty()
        || v.len() > 128
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_.-".contains(&b))
    {
        return Err(Error::InvalidInput(format!(
            "{what} {v:?} must be 1-128 letters, digits, ':', '_', '.' or '-'"
        )));
    }
    Ok(())
}

/// Checks a thing name against AWS's pattern `[a-zA-Z0-9:_-]{1,128}`: anything else cannot be
/// a real thing.
pub fn validate_thing(thing: &str) -> Result<()> {
    if thing.is_empty()
        || thing.len() > 128
        || !thing
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_-".contains(&b))
    {
        return Err(Error::InvalidInput(format!(
            "{thing:?} is not a valid AWS IoT thing name (1-128 letters, digits, ':', '_', '-')"
        )));
    }
    Ok(())
}

/// A double-quoted SPL string literal: backslash escaped first, then the quote.
pub fn spl_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The sync query: every Device Defender event of the index and sourcetype, optionally of one
/// thing, with the index time as epoch seconds and the raw event JSON.
pub fn events_query(settings: &SplunkSettings, thing: Option<&str>) -> Result<String> {
    validate_index(&settings.index)?;
    validate_token_like("sourcetype", &settings.sourcetype)?;
    let mut q = format!(
        "search index={} sourcetype={}",
        settings.index,
        spl_str(&settings.sourcetype)
    );
    if let Some(t) = thing {
        validate_thing(t)?;
        q.push_str(&format!(" | where thing={}", spl_str(t)));
    }
    q.push_str(" | eval epoch_time=_time | table epoch_time _raw");
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SplunkSettings {
        SplunkSettings {
            url: "http://127.0.0.1:8089".into(),
            index: "iot".into(),
            sourcetype: "aws-iot-device-defender".into(),
            ca_bundle: None,
            carries: None,
        }
    }

    #[test]
    fn literals_escape_backslash_before_quote() {
        assert_eq!(spl_str(r#"a"b"#), r#""a\"b""#);
        assert_eq!(spl_str(r"x\"), r#""x\\""#);
        assert_eq!(spl_str(r#"x\" | delete"#), r#""x\\\" | delete""#);
    }

    #[test]
    fn queries_come_only_from_the_template() {
        assert_eq!(
            events_query(&settings(), Some("cam-1")).unwrap(),
            r#"search index=iot sourcetype="aws-iot-device-defender" | where thing="cam-1" | eval epoch_time=_time | table epoch_time _raw"#
        );
        for hostile in [
            r#"x" | delete"#,
            "x OR index=*",
            "a*",
            "x]",
            "`m`",
            "x\ny",
            "",
        ] {
            assert!(
                events_query(&settings(), Some(hostile)).is_err(),
                "{hostile:?}"
            );
        }
        let mut s = settings();
        s.index = "iot OR index=_audit".into();
        assert!(events_query(&s, None).is_err());
        s.index = "_internal".into();
        assert!(events_query(&s, None).is_err());
    }
}
