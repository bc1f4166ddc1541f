//! Splunk search results in the output modes that are not JSON lines: XML (what the REST API
//! returns when no `output_mode` is given), CSV (`output_mode=csv`, and Splunk Web's *Export →
//! CSV*, the file an analyst most often saves), and the JSON documents `json_rows` and
//! `json_cols`. The events are in `_raw`, dated by `_time` as the JSON export's are (Splunk Web
//! writes `_time` in the exporting user's zone, with its offset: `2026-12-05T07:00:07.000-05:00`).
//! Each row is read on its own: a bad row is named (file, row) and the rest kept.
//!
//! Also the shapes that cannot be read back at all — the AWS CLI's `--output text`, `table`
//! and `yaml` — recognised up front and refused by name.

use super::*;

/// What a stream's first bytes say it is, before JSON framing.
pub(super) enum Sniffed {
    /// JSON (or anything else the framing will judge).
    Json,
    /// Splunk results in XML.
    Xml,
    /// CSV with a `_raw` column.
    Csv,
    /// Refused by name (AWS CLI text/table/YAML output, a CSV without events), or unreadable.
    Refused(String),
}

/// Reads the first line of a stream (at most 64 KiB of it) to tell what it is; returns the
/// verdict and the stream with that line put back in front.
pub(super) fn sniff(mut reader: Box<dyn BufRead>) -> (Sniffed, Box<dyn BufRead>) {
    let mut head = Vec::new();
    let verdict = match (&mut reader).take(64 << 10).read_until(b'\n', &mut head) {
        Ok(_) => judge(&head),
        Err(e) => Sniffed::Refused(format!("read error at byte {}: {e}", head.len())),
    };
    (verdict, Box::new(Cursor::new(head).chain(reader)))
}

/// What a stream's first line says it is.
fn judge(buf: &[u8]) -> Sniffed {
    let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let start = buf.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Sniffed::Json;
    };
    let rest = &buf[start..];
    match rest[0] {
        b'{' | b'[' => return Sniffed::Json,
        b'<' => return Sniffed::Xml,
        _ => {}
    }
    let line_end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let line = String::from_utf8_lossy(&rest[..line_end.min(4096)]);
    let line = line.trim_end_matches('\r');
    if line.starts_with('-') && line.trim_end().bytes().all(|b| b == b'-') || line.starts_with('|')
    {
        return Sniffed::Refused(
            "AWS CLI table output (--output table) is for reading on screen and cannot be read back: re-run the command with --output json".into(),
        );
    }
    if line.contains(',') {
        let has_raw = line
            .split(',')
            .any(|h| h.trim().trim_matches('"') == "_raw");
        return if has_raw {
            Sniffed::Csv
        } else {
            Sniffed::Refused(format!(
                "a CSV file without a _raw column (header {:?}): Defender Desk reads the events themselves; export them from Splunk with _raw (search without `| table`, or `| table _time _raw`)",
                line.chars().take(200).collect::<String>()
            ))
        };
    }
    if line.contains('\t') {
        return Sniffed::Refused(
            "AWS CLI text output (--output text): its columns carry no field names and cannot be read back; re-run the command with --output json".into(),
        );
    }
    let yaml_key = line.split_once(':').is_some_and(|(k, v)| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && (v.is_empty() || v.starts_with(' '))
    });
    if yaml_key {
        return Sniffed::Refused(
            "AWS CLI YAML output (--output yaml or yaml-stream): re-run the command with --output json".into(),
        );
    }
    Sniffed::Json
}

/// One row of results: its `_raw` event and `_time`, as strings.
#[derive(Default)]
struct Row {
    raw: Option<String>,
    time: Option<String>,
}

/// Reads one row into `batch` (its event dated by `_time`, else the context's time); a row
/// that cannot be read is refused by its number and the rest kept.
fn read_row(row: Row, n: u64, what: &str, ctx: &Context, batch: &mut Batch, read: &mut usize) {
    let Some(raw) = row.raw else {
        batch.refuse(ParseError::new(format!(
            "{what} row {n}: no _raw event (export the events themselves, with _raw)"
        )));
        return;
    };
    let observed = row
        .time
        .as_deref()
        .and_then(super::super::wrappers::splunk_time_str)
        .or(ctx.observed);
    let inner = Context {
        observed,
        ..ctx.clone()
    };
    match parse_record(raw.trim().as_bytes(), &inner, batch, 1) {
        Ok(()) => *read += 1,
        Err(e) => batch.refuse(ParseError::new(format!("{what} row {n}: {}", e.message))),
    }
}

/// Splunk results as CSV: the REST API's `output_mode=csv` or Splunk Web's export. Columns are
/// found by name (`_raw`, `_time`); the others (`host`, `source`, `sourcetype`, …) are ignored.
pub(super) fn parse_csv(reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| ParseError::new(format!("Splunk CSV header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let (raw_at, time_at) = (col("_raw"), col("_time"));
    let mut batch = Batch::default();
    let mut read = 0;
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                n += 1;
                let row = Row {
                    raw: raw_at.and_then(|i| record.get(i)).map(str::to_string),
                    time: time_at.and_then(|i| record.get(i)).map(str::to_string),
                };
                read_row(row, n, "Splunk CSV", ctx, &mut batch, &mut read);
            }
            Err(e) => {
                // A CSV cannot be followed past a broken row: keep what came before.
                batch.refuse(ParseError::new(format!("Splunk CSV after row {n}: {e}")));
                break;
            }
        }
        if batch.points.len() > ctx.limits.max_points {
            return Err(ParseError::whole(format!(
                "more than {} datapoints in one file or object, the cap (--max-points): refused whole",
                ctx.limits.max_points
            )));
        }
    }
    count(&mut batch, DocKind::SplunkExport);
    batch.or_first_error(read)
}

/// Splunk results as XML (`<results><result><field k="_raw"><v>…</v></field>…`): `_raw` in a
/// `<v>` (whose highlighting `<sg>` elements are text), other fields in `<value><text>`.
pub(super) fn parse_xml(reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut batch = Batch::default();
    let mut read = 0;
    let mut n = 0u64;
    let mut row: Option<Row> = None;
    let mut field: Option<String> = None;
    let mut text: Option<String> = None;
    // Inside a field's first `<v>` or `<text>` (text outside it is the document's indentation).
    let mut capturing = false;
    let mut saw_results = false;
    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                batch.refuse(ParseError::new(format!(
                    "Splunk XML results at byte {}: {e}",
                    xml.buffer_position()
                )));
                break;
            }
        };
        match event {
            Event::Eof => break,
            Event::Start(e) => match e.local_name().as_ref() {
                "results" => saw_results = true,
                "result" => row = Some(Row::default()),
                "field" if row.is_some() => {
                    field = e.try_get_attribute("k").ok().flatten().and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    });
                }
                "v" | "text" if field.is_some() && text.is_none() => {
                    // The first value of a multi-valued field.
                    text = Some(String::new());
                    capturing = true;
                }
                _ => {}
            },
            Event::Text(t) if capturing => {
                if let Some(s) = text.as_mut() {
                    s.push_str(&t.xml10_content());
                    if s.len() > framing::MAX_RECORD_BYTES {
                        return Err(ParseError::whole(format!(
                            "Splunk XML: a field longer than {} bytes",
                            framing::MAX_RECORD_BYTES
                        )));
                    }
                }
            }
            Event::GeneralRef(r) if capturing => {
                if let Some(s) = text.as_mut() {
                    let entity = format!("&{};", r.xml10_content());
                    match quick_xml::escape::unescape(&entity) {
                        Ok(v) => s.push_str(&v),
                        Err(_) => s.push_str(&entity),
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "v" | "text" => capturing = false,
                "field" => {
                    if let (Some(r), Some(k)) = (row.as_mut(), field.take()) {
                        let value = text.take();
                        match k.as_str() {
                            "_raw" => r.raw = value,
                            "_time" => r.time = value,
                            _ => {}
                        }
                    }
                    text = None;
                    capturing = false;
                }
                "result" => {
                    if let Some(r) = row.take() {
                        n += 1;
                        read_row(r, n, "Splunk XML result", ctx, &mut batch, &mut read);
                        if batch.points.len() > ctx.limits.max_points {
                            return Err(ParseError::whole(format!(
                                "more than {} datapoints in one file or object, the cap (--max-points): refused whole",
                                ctx.limits.max_points
                            )));
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    if !saw_results {
        return Err(ParseError::new(
            "an XML document that is no Splunk results (<results><result>…): expected Splunk search results or JSON",
        ));
    }
    count(&mut batch, DocKind::SplunkExport);
    batch.or_first_error(read).or_else(|e| {
        if n == 0 {
            // Splunk's answer to a search that found nothing: `<results preview='0'>` alone.
            Ok(Batch::default())
        } else {
            Err(e)
        }
    })
}

/// Splunk results as one JSON document in `json_rows` (`fields` + `rows`) or `json_cols`
/// (`fields` + `columns`) mode: `fields` names each position (strings, or `{name}` objects).
pub(super) fn columnar(
    fields: &RawValue,
    rows: Option<&RawValue>,
    columns: Option<&RawValue>,
    ctx: &Context,
    batch: &mut Batch,
) -> Res<()> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Field {
        Name(String),
        Named { name: String },
    }
    let fields: Vec<Field> = json(fields.get(), "Splunk results fields")?;
    let names: Vec<String> = fields
        .into_iter()
        .map(|f| match f {
            Field::Name(n) | Field::Named { name: n } => n,
        })
        .collect();
    let at = |name: &str| names.iter().position(|n| n == name);
    let (raw_at, time_at) = (at("_raw"), at("_time"));
    let cell = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => a.first().and_then(|x| x.as_str()).map(str::to_string),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let table: Vec<Vec<Value>> = match (rows, columns) {
        (Some(r), _) => json(r.get(), "Splunk json_rows rows")?,
        (None, Some(c)) => {
            // Transposed: one array per field.
            let cols: Vec<Vec<Value>> = json(c.get(), "Splunk json_cols columns")?;
            let len = cols.iter().map(Vec::len).max().unwrap_or(0);
            (0..len)
                .map(|i| {
                    cols.iter()
                        .map(|c| c.get(i).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect()
        }
        (None, None) => Vec::new(),
    };
    let mut read = 0;
    for (i, r) in table.into_iter().enumerate() {
        let row = Row {
            raw: raw_at.and_then(|k| cell(r.get(k))),
            time: time_at.and_then(|k| cell(r.get(k))),
        };
        let mode = if rows.is_some() {
            "json_rows"
        } else {
            "json_cols"
        };
        read_row(
            row,
            i as u64 + 1,
            &format!("Splunk {mode}"),
            ctx,
            batch,
            &mut read,
        );
    }
    Ok(())
}
