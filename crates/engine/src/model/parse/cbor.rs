//! CBOR device reports (the Agent SDK's `--format cbor`, the reserved topic
//! `.../defender/metrics/cbor`): each item decoded to JSON and read as a record.

use super::*;

/// Whether a stream starts with a CBOR map (major type 5): a device report in CBOR, as the
/// Agent SDK's `--format cbor` and the reserved topic `.../defender/metrics/cbor` carry it. JSON
/// documents start with `{`, `[` or whitespace, never with a byte in 0xa0–0xbf.
pub(super) fn is_cbor(reader: &mut dyn BufRead) -> bool {
    reader
        .fill_buf()
        .is_ok_and(|b| b.first().is_some_and(|c| (0xa0..=0xbf).contains(c)))
}

/// CBOR items, one after another, each decoded to JSON and parsed as a record.
pub(super) fn parse_cbor(reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    let mut reader = std::io::BufReader::new(reader);
    let mut batch = Batch::default();
    let mut offset: u64 = 0;
    let mut read = 0;
    loop {
        if reader.fill_buf().map_or(true, |b| b.is_empty()) {
            return batch.or_first_error(read);
        }
        let mut counted = CountingReader {
            inner: &mut reader,
            n: 0,
        };
        let value: Value = match ciborium::from_reader(&mut counted) {
            Ok(v) => v,
            Err(e) => {
                // The stream cannot be followed past a broken item: keep what came before.
                batch.refuse(ParseError {
                    offset: Some(offset),
                    ..ParseError::new(format!("invalid CBOR device report: {e}"))
                });
                return batch.or_first_error(read);
            }
        };
        let json = serde_json::to_vec(&value).map_err(|e| ParseError::new(e.to_string()))?;
        read += usize::from(read_or_refuse(&json, ctx, &mut batch, offset)?);
        offset += counted.n;
        if batch.points.len() > ctx.limits.max_points {
            return Err(ParseError::new(format!(
                "more than {} datapoints in one file or object, the cap (--max-points): refused whole",
                ctx.limits.max_points
            )));
        }
    }
}

/// Counts the bytes a decoder takes, for error offsets.
struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}
