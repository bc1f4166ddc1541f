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

/// Control characters from devices must not reach a terminal raw (escape-sequence injection).
fn terminal_safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
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
