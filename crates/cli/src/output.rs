//! Rendering rows as JSON, CSV or a terminal table.

use std::io::Write;

use serde_json::Value;

/// Output format of query commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A JSON array of objects (times in RFC 3339 UTC).
    Json,
    /// CSV with a header row; nested values as JSON.
    Csv,
    /// An aligned table for people.
    Table,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Control characters from devices must not reach a terminal raw (escape-sequence injection,
/// a retitled terminal), nor bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E,
/// U+200F, U+061C) that reverse what follows them on screen: both are shown escaped (`\u{1b}`).
pub(crate) fn terminal_safe(s: &str) -> String {
    text_safe(s, false)
}

/// Whether `c` reorders text on screen (a bidirectional control).
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// [`terminal_safe`], keeping newlines when `lines` (multi-line messages).
pub(crate) fn text_safe(s: &str, lines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c.is_control() && !(lines && c == '\n')) || is_bidi_control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `records` (structs or JSON objects sharing fields, printed in field order) to `out`
/// in `format`.
pub fn write_rows<T: serde::Serialize>(
    out: &mut dyn Write,
    format: Format,
    records: &[T],
) -> anyhow::Result<()> {
    let rows = records
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<Value>, _>>()?;
    let columns: Vec<String> = rows
        .first()
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // The project's one CSV writer: every cell quoted, formulas defused.
            let mut w = desk_engine::csv_out::CsvWriter::new(out);
            if !columns.is_empty() {
                w.row(&columns)?;
            }
            for r in &rows {
                w.row(columns.iter().map(|c| cell(&r[c.as_str()])))?;
            }
            w.finish()?;
        }
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
            t.set_header(columns.iter().map(|c| terminal_safe(c)));
            for r in &rows {
                t.add_row(columns.iter().map(|c| terminal_safe(&cell(&r[c.as_str()]))));
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_is_escaped_controls_and_bidi_included() {
        assert_eq!(
            terminal_safe("cam\u{1b}]0;owned\u{7}-1"),
            "cam\\u{1b}]0;owned\\u{7}-1"
        );
        assert_eq!(
            terminal_safe("a\u{202e}b\u{2066}c"),
            "a\\u{202e}b\\u{2066}c"
        );
        assert_eq!(text_safe("one\ntwo\r", true), "one\ntwo\\u{d}");
        assert_eq!(terminal_safe("one\ntwo"), "one\\u{a}two");
        assert_eq!(terminal_safe("café-1 ✓"), "café-1 ✓");
    }
}
