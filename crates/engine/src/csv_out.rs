//! The one CSV writer of the project (`ddesk --format csv`, `ddesk export`, the app's CSV
//! exports): the `csv` crate, every cell quoted, and every cell a spreadsheet would run as a
//! formula defused. Device strings are attacker-controlled: `=HYPERLINK(...)` or
//! `=cmd|' /C calc'!A0` in a custom string metric must open as text.

use std::borrow::Cow;
use std::io::Write;

/// Characters that make a spreadsheet read a cell as a formula (or, for tab and CR, that
/// some of them strip before doing so).
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: a `'` before the cell, and before each `;`-separated part of it, that
/// starts with `= + - @`, tab or CR (a semicolon-locale spreadsheet splits `x;=...` into a
/// second, live cell). Numbers such as `-5` or `+1e3` are left as they are.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    let risky = |part: &str| {
        part.trim_start_matches(' ').starts_with(TRIGGERS) && part.trim().parse::<f64>().is_err()
    };
    if !cell.split(';').any(risky) {
        return Cow::Borrowed(cell);
    }
    let mut out = String::with_capacity(cell.len() + 4);
    for (i, part) in cell.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        if risky(part) {
            out.push('\'');
        }
        out.push_str(part);
    }
    Cow::Owned(out)
}

/// A CSV writer whose every cell is quoted and defused.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self {
            inner: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Always)
                .from_writer(out),
        }
    }

    /// Writes one row.
    pub fn row<I, S>(&mut self, cells: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner
            .write_record(cells.into_iter().map(|c| defuse(c.as_ref()).into_owned()))
            .map_err(std::io::Error::other)
    }

    /// Flushes and returns the destination.
    pub fn finish(self) -> std::io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Rows to CSV bytes in memory.
pub fn to_bytes<R, I, S>(header: &[&str], rows: R) -> Vec<u8>
where
    R: IntoIterator<Item = I>,
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut w = CsvWriter::new(Vec::new());
    // Writes to memory cannot fail.
    let _ = w.row(header.iter().copied());
    for r in rows {
        let _ = w.row(r);
    }
    w.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_also_after_semicolons() {
        assert_eq!(
            defuse("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(defuse("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("\t=1"), "'\t=1");
        assert_eq!(defuse("\r=1"), "'\r=1");
        assert_eq!(defuse("  =1"), "'  =1");
        // Regression: a semicolon-locale spreadsheet splits here and ran the second part.
        assert_eq!(defuse("x;=1+1"), "x;'=1+1");
        assert_eq!(defuse("a;b; +cmd"), "a;b;' +cmd");
        // Numbers and plain text stay.
        assert_eq!(defuse("-5"), "-5");
        assert_eq!(defuse("+1e3"), "+1e3");
        assert_eq!(defuse("-5;-6"), "-5;-6");
        assert_eq!(defuse("cam-1"), "cam-1");
        assert!(matches!(defuse("cam-1"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_cell_is_quoted() {
        let out = to_bytes(&["a", "b"], [["x,y", "=1"], ["q\"r", "-2"]]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\",\"b\"\n\"x,y\",\"'=1\"\n\"q\"\"r\",\"-2\"\n"
        );
    }
}
