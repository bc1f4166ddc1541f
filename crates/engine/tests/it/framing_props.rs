//! Record framing as Firehose delivers it: every split point of the stream, every delimiter,
//! gzip with any number of members — the parse result never changes.

use std::io::{Cursor, Read, Write};

use desk_engine::model::parse::{parse_reader, Context};
use desk_engine::model::{Datapoint, MetricValue};
use proptest::prelude::*;

/// A reader that hands out the stream in pieces of the given sizes (then the rest).
struct Pieces {
    data: Cursor<Vec<u8>>,
    sizes: Vec<usize>,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.sizes.is_empty() {
            buf.len()
        } else {
            self.sizes.remove(0).max(1).min(buf.len())
        };
        self.data.read(&mut buf[..n])
    }
}

fn gzip_members(data: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    for w in points.windows(2) {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&data[w[0]..w[1]]).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn entry_json(thing: &str, metric: &str, ts: i64, v: &MetricValue) -> String {
    serde_json::json!({"name": metric, "thing": thing, "value": v.to_json(), "version": 1, "timestamp": ts}).to_string()
}

fn value() -> impl Strategy<Value = MetricValue> {
    prop_oneof![
        (0i64..1 << 40).prop_map(MetricValue::Count),
        proptest::collection::vec(0i64..65536, 0..5).prop_map(MetricValue::Ports),
        proptest::collection::vec("[ -~{}\"\\\\]{0,12}", 0..4).prop_map(MetricValue::Strings),
    ]
}

fn parse_all(stream: Box<dyn Read>) -> Vec<Datapoint> {
    parse_reader(stream, &Context::default())
        .expect("parses")
        .points
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn framing_is_invariant(
        entries in proptest::collection::vec(("[a-z{}\"\\\\ ]{1,10}", 1_500_000_000_000i64..1_800_000_000_000, value()), 1..6),
        delims in proptest::collection::vec(prop_oneof![Just(""), Just("\n"), Just("\r\n"), Just(","), Just("\t")], 6),
        batched in any::<bool>(),
        gz in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        sizes in proptest::collection::vec(1usize..64, 0..40),
    ) {
        let mut text = String::new();
        let mut expected = Vec::new();
        for (i, (thing, ts, v)) in entries.iter().enumerate() {
            let e = entry_json(thing, "m", *ts, v);
            if batched {
                text.push_str(&format!("{{\"version\":\"1.0\",\"metrics\":[{e}]}}"));
            } else {
                text.push_str(&e);
            }
            text.push_str(delims[i % delims.len()]);
            expected.push((thing.clone(), *ts, v.clone()));
        }
        let bytes = if gz { gzip_members(text.as_bytes(), &cuts) } else { text.into_bytes() };
        let got = parse_all(Box::new(Pieces { data: Cursor::new(bytes), sizes }));
        let got: Vec<_> = got.into_iter().map(|p| (p.thing, p.ts, p.value)).collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn every_split_point_of_a_stream() {
    let text = concat!(
        r#"{"version":"1.0","metrics":[{"name":"aws:listening-tcp-ports","thing":"a}{\"b","value":{"ports":[21,22]},"version":1,"timestamp":1717430700000}]}"#,
        "\r\n",
        r#"{"name":"x","thing":"t","value":{"strings":["}\\\"{"]},"version":2,"timestamp":1717430700}"#,
        ",",
        r#"{"name":"x","thing":"t","value":{"count":1},"version":2,"timestamp":1717431000}"#
    )
    .as_bytes()
    .to_vec();
    let whole = parse_all(Box::new(Cursor::new(text.clone())));
    assert_eq!(whole.len(), 3);
    assert_eq!(whole[0].thing, "a}{\"b");
    for split in 0..=text.len() {
        let got = parse_all(Box::new(Pieces {
            data: Cursor::new(text.clone()),
            sizes: vec![split.max(1), 1, 3],
        }));
        assert_eq!(got, whole, "split at {split}");
        let gz = gzip_members(&text, &[split]);
        assert_eq!(
            parse_all(Box::new(Cursor::new(gz))),
            whole,
            "gzip members split at {split}"
        );
    }
}
