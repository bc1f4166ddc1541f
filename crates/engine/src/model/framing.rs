//! Record framing for Firehose-delivered objects.
//!
//! Firehose writes records exactly as received: run together with no delimiter (`}{`), or with
//! the IoT rule's separator (`\n`, `\r\n`, `,`, `\t`) between them, plain or gzip (possibly
//! several gzip members back to back). [`Records`] reads such a stream incrementally and yields
//! one top-level JSON object at a time, so memory is bounded by the largest record, never the
//! object. It only finds record boundaries (braces outside strings); the parser validates each
//! record fully.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

/// A record larger than this is refused: Detect publishes batches as MQTT messages (≤ 128 KiB).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Why a stream could not be cut into records.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Reading or decompressing failed.
    #[error("read error at byte {offset}: {source}")]
    Io {
        /// Offset in the (decompressed) stream.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// Something other than a JSON object where a record should start.
    #[error("expected a JSON object at byte {offset}, found {found:?}")]
    NotAnObject {
        /// Offset in the (decompressed) stream.
        offset: u64,
        /// The offending byte, shown as a character.
        found: char,
    },
    /// The stream ended inside a record.
    #[error("truncated: the record starting at byte {offset} never closes")]
    Truncated {
        /// Where the unfinished record started.
        offset: u64,
    },
    /// A record over [`MAX_RECORD_BYTES`].
    #[error("record at byte {offset} exceeds {MAX_RECORD_BYTES} bytes")]
    TooLarge {
        /// Where the record started.
        offset: u64,
    },
}

/// Opens a stream for framing, decompressing it when it starts with the gzip magic bytes.
/// The magic is read byte by byte if need be: network streams may deliver one byte first.
pub fn open<R: Read + 'static>(inner: R) -> io::Result<Box<dyn BufRead>> {
    open_capped(inner, u64::MAX)
}

/// Reading stopped at the cap on inflated bytes.
#[derive(Debug, thiserror::Error)]
#[error("it inflates to more than {cap} bytes, the cap (--max-inflated-bytes): refused whole")]
pub struct TooBig {
    /// The cap.
    pub cap: u64,
}

/// A reader that fails with [`TooBig`] past `cap` bytes (instead of ending quietly, as
/// `Read::take` would, which would pass a cut-off stream off as complete).
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    TooBig { cap: self.cap },
                )),
            };
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// [`open`], failing with [`TooBig`] once more than `cap` bytes (after decompression) are read.
pub fn open_capped<R: Read + 'static>(mut inner: R, cap: u64) -> io::Result<Box<dyn BufRead>> {
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < head.len() {
        match inner.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let gzip = n == 2 && head == [0x1f, 0x8b];
    let stream =
        BufReader::with_capacity(256 << 10, io::Cursor::new(head[..n].to_vec()).chain(inner));
    let capped = |r: Box<dyn Read>| Capped {
        inner: r,
        left: cap,
        cap,
    };
    if gzip {
        Ok(Box::new(BufReader::with_capacity(
            256 << 10,
            capped(Box::new(MultiGzDecoder::new(stream))),
        )))
    } else if cap == u64::MAX {
        Ok(Box::new(stream))
    } else {
        Ok(Box::new(BufReader::with_capacity(
            256 << 10,
            capped(Box::new(stream)),
        )))
    }
}

/// Iterator over the top-level JSON objects of a stream. See the module docs. A top-level
/// array of objects (`aws iot list-violation-events --query violationEvents`) yields its
/// elements, one at a time like any records: memory stays bounded by the largest element.
pub struct Records<R> {
    reader: R,
    offset: u64,
    failed: bool,
    in_array: bool,
    arrays: u64,
}

impl<R: BufRead> Records<R> {
    /// Frames `reader` (already decompressed; see [`open`]).
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            offset: 0,
            failed: false,
            in_array: false,
            arrays: 0,
        }
    }

    /// How many top-level arrays the stream has opened so far.
    pub fn arrays(&self) -> u64 {
        self.arrays
    }

    fn consume_one(&mut self) {
        self.reader.consume(1);
        self.offset += 1;
    }

    fn io(&self, source: io::Error) -> FrameError {
        FrameError::Io {
            offset: self.offset,
            source,
        }
    }

    /// Skips separators; returns the next byte without consuming it, or `None` at the end.
    fn skip_separators(&mut self) -> Result<Option<u8>, FrameError> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            let skip = buf
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','));
            match skip {
                Some(n) => {
                    let next = buf[n];
                    self.reader.consume(n);
                    self.offset += n as u64;
                    return Ok(Some(next));
                }
                None => {
                    let n = buf.len();
                    self.reader.consume(n);
                    self.offset += n as u64;
                }
            }
        }
    }

    fn read_record(&mut self) -> Result<Option<(u64, Vec<u8>)>, FrameError> {
        let start = self.offset;
        let mut next = self.skip_separators()?;
        loop {
            match next {
                Some(b'[') if !self.in_array => {
                    self.in_array = true;
                    self.arrays += 1;
                }
                Some(b']') if self.in_array => self.in_array = false,
                _ => break,
            }
            self.consume_one();
            next = self.skip_separators()?;
        }
        if next.is_none() && self.in_array {
            return Err(FrameError::Truncated { offset: start });
        }
        match next {
            None => return Ok(None),
            Some(b'{') => {}
            Some(other) => {
                return Err(FrameError::NotAnObject {
                    offset: start.max(self.offset),
                    found: other as char,
                })
            }
        }
        let start = self.offset;
        let mut out = Vec::new();
        let mut depth: u32 = 0;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            };
            if buf.is_empty() {
                return Err(FrameError::Truncated { offset: start });
            }
            let mut i = 0;
            let mut end = None;
            while i < buf.len() {
                if escaped {
                    escaped = false;
                    i += 1;
                    continue;
                }
                if in_string {
                    match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        None => i = buf.len(),
                        Some(j) => {
                            i += j;
                            if buf[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_string = false;
                            }
                            i += 1;
                        }
                    }
                } else {
                    match memchr::memchr3(b'{', b'}', b'"', &buf[i..]) {
                        None => i = buf.len(),
                        Some(j) => {
                            i += j;
                            match buf[i] {
                                b'{' => depth += 1,
                                b'}' => depth -= 1,
                                _ => in_string = true,
                            }
                            i += 1;
                            if depth == 0 {
                                end = Some(i);
                                break;
                            }
                        }
                    }
                }
            }
            let take = end.unwrap_or(buf.len());
            if out.len() + take > MAX_RECORD_BYTES {
                return Err(FrameError::TooLarge { offset: start });
            }
            out.extend_from_slice(&buf[..take]);
            self.reader.consume(take);
            self.offset += take as u64;
            if end.is_some() {
                return Ok(Some((start, out)));
            }
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    /// The record's byte offset in the decompressed stream, and its bytes.
    type Item = Result<(u64, Vec<u8>), FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.read_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Result<Vec<String>, String> {
        Records::new(bytes)
            .map(|r| {
                r.map(|(_, b)| String::from_utf8(b).unwrap())
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    #[test]
    fn every_firehose_delimiter() {
        for sep in ["", "\n", "\r\n", ",", "\t", " \n\n"] {
            let s = format!("{{\"a\":1}}{sep}{{\"b\":\"}}{{\\\"\"}}{sep}");
            assert_eq!(
                frame(s.as_bytes()).unwrap(),
                vec!["{\"a\":1}", "{\"b\":\"}{\\\"\"}"],
                "separator {sep:?}"
            );
        }
    }

    #[test]
    fn top_level_arrays_yield_their_elements() {
        assert_eq!(
            frame(b" [ {\"a\":[1]} ,\n{\"b\":\"]\"} ]\n[{\"c\":1}]").unwrap(),
            vec!["{\"a\":[1]}", "{\"b\":\"]\"}", "{\"c\":1}"]
        );
        assert_eq!(frame(b"[]").unwrap(), Vec::<String>::new());
        assert!(frame(b"[{\"a\":1}").unwrap_err().contains("truncated"));
        assert!(frame(b"[[{}]]")
            .unwrap_err()
            .contains("expected a JSON object"));
        assert!(frame(b"[1]")
            .unwrap_err()
            .contains("expected a JSON object"));
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        assert!(frame(b"{\"a\":1}{\"b\":")
            .unwrap_err()
            .contains("truncated"));
        assert!(frame(b"{\"a\":1}[1]")
            .unwrap_err()
            .contains("expected a JSON object"));
        assert_eq!(frame(b"  \n").unwrap(), Vec::<String>::new());
    }
}
