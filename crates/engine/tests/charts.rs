//! Charts: pure, deterministic, escaped, with usable geometry.

use desk_engine::analysis::view::metric_view;
use desk_engine::charts::{render_png, render_svg, ChartOptions, Theme, Zone};
use desk_engine::demo::{self, DemoOptions};
use desk_engine::model::parse::parse_bytes;
use desk_engine::store::Store;

const END: i64 = 1_795_000_000_000;

fn demo_store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    demo::load(
        &mut s,
        &DemoOptions {
            things: 6,
            days: 3,
            seed: 5,
            end: END,
        },
    )
    .unwrap();
    s
}

#[test]
fn numeric_chart_with_threshold_band_and_geometry() {
    let s = demo_store();
    let from = END - 3 * 86_400_000;
    let view = metric_view(&s, demo::BOTNET_CAMERA, "aws:all-bytes-out", from, END, 600).unwrap();
    assert!(view.buckets.len() <= 600);
    assert_eq!(view.thresholds.len(), 1);
    assert_eq!(view.bands.len(), 1);
    let opts = ChartOptions {
        width: 640,
        height: 240,
        ..Default::default()
    };
    let svg = render_svg(&view, &opts).unwrap();
    assert!(svg.svg.contains("cam-lobby-017 — bytes out"));
    assert!(svg.svg.contains("times in UTC"));
    assert!(
        svg.svg.contains("BytesOutHigh &gt; 50000000")
            || svg.svg.contains("BytesOutHigh > 50000000")
    );
    let g = &svg.geometry;
    assert_eq!(g.kind, "numeric");
    assert!(
        g.left > 0 && g.top > 0 && g.width > 400 && g.height > 100,
        "{g:?}"
    );
    assert!(g.left + g.width <= 640 && g.top + g.height <= 240);
    assert_eq!((g.x_from, g.x_to), (from, END));
    assert!(g.y_max > 1e8, "the spike sets the scale: {g:?}");
    // Pure: the same input gives the same bytes.
    assert_eq!(render_svg(&view, &opts).unwrap(), svg);
    let png = render_png(&view, &opts).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(render_png(&view, &opts).unwrap(), png);
}

#[test]
fn drift_chart_rows_zone_and_theme() {
    let s = demo_store();
    let view = metric_view(
        &s,
        demo::FTP_GATEWAY,
        "aws:listening-tcp-ports",
        END - 3 * 86_400_000,
        END,
        600,
    )
    .unwrap();
    let opts = ChartOptions {
        zone: Zone::parse("Europe/Paris").unwrap(),
        theme: Theme::Light,
        ..Default::default()
    };
    let svg = render_svg(&view, &opts).unwrap();
    assert_eq!(svg.geometry.kind, "drift");
    assert!(svg.geometry.rows.contains(&"21".to_string()));
    assert_eq!(
        svg.geometry.rows.last().map(String::as_str),
        Some("21"),
        "the unexpected port on top"
    );
    assert!(svg.svg.contains("times in Europe/Paris"));
    assert!(svg.svg.contains("#FFFFFF"), "light background");
    assert!(Zone::parse("Mars/Olympus").is_err());
}

#[test]
fn empty_window_says_no_data() {
    let s = demo_store();
    let view = metric_view(
        &s,
        demo::BOTNET_CAMERA,
        "aws:all-bytes-out",
        0,
        86_400_000,
        300,
    )
    .unwrap();
    let svg = render_svg(&view, &ChartOptions::default()).unwrap();
    assert_eq!(svg.geometry.kind, "empty");
    assert!(svg.svg.contains("No data for bytes out"));
}

#[test]
fn hostile_names_are_escaped_in_svg() {
    let mut s = Store::open_in_memory().unwrap();
    let doc = br#"{"version":"1.0","metrics":[
      {"name":"appNames","thing":"<script>alert(1)</script>","value":{"strings":["<img src=x onerror=alert(1)>"]},"version":1,"timestamp":1717430700000},
      {"name":"appNames","thing":"<script>alert(1)</script>","value":{"strings":["a&b"]},"version":1,"timestamp":1717431000000}]}"#;
    s.write_batch(&parse_bytes(doc, &Default::default()).unwrap())
        .unwrap();
    let view = metric_view(
        &s,
        "<script>alert(1)</script>",
        "appNames",
        1_717_400_000_000,
        1_717_500_000_000,
        300,
    )
    .unwrap();
    let svg = render_svg(&view, &ChartOptions::default()).unwrap().svg;
    assert!(!svg.contains("<script"), "{svg}");
    assert!(!svg.contains("<img"), "{svg}");
    assert!(svg.contains("&lt;script&gt;"));
}
