//! Charts: pure, deterministic, escaped, with usable geometry.

use desk_engine::analysis::view::metric_view;
use desk_engine::charts::{
    render_png, render_raster, render_svg, ChartOptions, GeometryKind, Theme, Zone,
};
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
            detect: true,
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
    assert_eq!(g.kind, GeometryKind::Numeric);
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
    assert_eq!(svg.geometry.kind, GeometryKind::Drift);
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
    assert_eq!(svg.geometry.kind, GeometryKind::Empty);
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

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn raster_at_device_scale_keeps_logical_geometry() {
    let s = demo_store();
    let from = END - 3 * 86_400_000;
    for metric in ["aws:all-bytes-out", "aws:listening-tcp-ports"] {
        let thing = if metric.contains("ports") {
            demo::FTP_GATEWAY
        } else {
            demo::BOTNET_CAMERA
        };
        let view = metric_view(&s, thing, metric, from, END, 620).unwrap();
        let at = |scale: f32| {
            let opts = ChartOptions {
                width: 620,
                height: 230,
                scale,
                ..Default::default()
            };
            render_raster(&view, &opts).unwrap()
        };
        let one = at(1.0);
        let two = at(2.0);
        assert_eq!(png_size(&one.png), (620, 230));
        assert_eq!(
            png_size(&two.png),
            (1240, 460),
            "drawn at twice the density"
        );
        assert_eq!((two.width, two.height), (620, 230), "logical size kept");
        // The geometry is in logical pixels at any density (within a pixel of rounding), and
        // the same as the SVG's, so the crosshair sits on the same spot.
        let svg = render_svg(
            &view,
            &ChartOptions {
                width: 620,
                height: 230,
                scale: 2.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(svg.geometry, one.geometry, "{metric}");
        let g = (&one.geometry, &two.geometry);
        assert_eq!(g.0.kind, g.1.kind);
        for (a, b) in [
            (g.0.left, g.1.left),
            (g.0.top, g.1.top),
            (g.0.width, g.1.width),
            (g.0.height, g.1.height),
        ] {
            assert!((a - b).abs() <= 1, "{metric}: {:?} vs {:?}", g.0, g.1);
        }
        assert_eq!(g.0.rows, g.1.rows);
        // Out-of-range scales are clamped, not trusted: no 100× bitmap from a hostile page.
        assert_eq!(png_size(&at(100.0).png), (2480, 920));
        assert_eq!(png_size(&at(f32::NAN).png), (620, 230));
        assert_eq!(png_size(&at(0.1).png), (620, 230));
    }
}

/// Every pixel of the line's colour, outside the plot area (widened by `margin` device pixels).
fn line_pixels_outside_plot(
    png_bytes: &[u8],
    g: &desk_engine::charts::Geometry,
    scale: i32,
    margin: i32,
) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as i32, info.height as i32);
    let (l, t) = (g.left * scale - margin, g.top * scale - margin);
    let (r, b) = (
        (g.left + g.width) * scale + margin,
        (g.top + g.height) * scale + margin,
    );
    let mut n = 0;
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let inside = x >= l && x <= r && y >= t && y <= b;
            if !inside && buf[i..i + 3] == [0x4f, 0xc3, 0xf7] {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn high_density_lines_stay_inside_the_plot() {
    // Plotters' wide polylines broke on sub-pixel segments and drew stray lines to the image's
    // edge (seen below the time axis at 2×, where the spike's M4 column is).
    let mut s = Store::open_in_memory().unwrap();
    demo::load(
        &mut s,
        &DemoOptions {
            things: 6,
            days: 8,
            seed: 5,
            end: END,
            detect: true,
        },
    )
    .unwrap();
    for metric in ["aws:all-bytes-out", "aws:all-packets-out"] {
        for shift in 0..6 {
            let to = END - shift * 300_000;
            let from = to - 7 * 86_400_000;
            let view = metric_view(&s, demo::BOTNET_CAMERA, metric, from, to, 620).unwrap();
            for scale in [1.0f32, 2.0, 3.0] {
                let r = render_raster(
                    &view,
                    &ChartOptions {
                        width: 620,
                        height: 230,
                        scale,
                        ..Default::default()
                    },
                )
                .unwrap();
                let stray =
                    line_pixels_outside_plot(&r.png, &r.geometry, scale as i32, 2 * scale as i32);
                assert_eq!(
                    stray, 0,
                    "{metric}, window to END - {shift} × 5 min at {scale}×: {stray} stray line pixels"
                );
            }
        }
    }
}

/// A view of two values, as a hostile device can report them (a custom `number` metric).
fn two_values(a: f64, b: f64) -> desk_engine::analysis::view::MetricView {
    use desk_engine::analysis::view::{Bucket, MetricView};
    let (t0, t1) = (END - 600_000, END - 300_000);
    let bucket = |t: i64, v: f64| Bucket {
        t0: t,
        t1: t + 1,
        first: (t, v),
        min: (t, v),
        max: (t, v),
        last: (t, v),
        n: 1,
    };
    MetricView {
        thing: "cam-1".into(),
        metric: "temperature".into(),
        from: END - 900_000,
        to: END,
        buckets: vec![bucket(t0, a), bucket(t1, b)],
        drift: Vec::new(),
        expected: Vec::new(),
        markers: Vec::new(),
        thresholds: Vec::new(),
        bands: Vec::new(),
        points: 2,
        per: None,
        compacted_until: None,
    }
}

/// Renders on another thread and fails (instead of hanging the suite) past `secs`.
fn render_within(
    view: desk_engine::analysis::view::MetricView,
    secs: u64,
) -> Result<(desk_engine::charts::Svg, Vec<u8>), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let opts = ChartOptions {
            width: 320,
            height: 160,
            ..Default::default()
        };
        let out = render_svg(&view, &opts)
            .and_then(|svg| render_png(&view, &opts).map(|png| (svg, png)))
            .map_err(|e| e.to_string());
        let _ = tx.send(out);
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .map_err(|_| format!("drawing took longer than {secs} s"))?
}

#[test]
fn extreme_values_draw_marked_out_of_range_instead_of_hanging() {
    // Regression: ±9e307 made the value span infinite and plotters' axis loop forever.
    for (a, b) in [
        (9e307, -9e307),
        (1.7e308, -1.7e308),
        (f64::MAX, f64::MIN),
        (1e20, 1e20 + 16384.0),
        (1e18, 1e18 + 256.0),
    ] {
        let (svg, png) = render_within(two_values(a, b), 60).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let g = &svg.geometry;
        assert!(
            g.y_min.is_finite() && g.y_max.is_finite() && g.y_min < g.y_max,
            "{g:?}"
        );
        if a.abs() > desk_engine::charts::PLOT_LIMIT {
            assert!(
                svg.svg.contains("values out of range"),
                "the chart says its extremes are off scale ({a}, {b})"
            );
        }
    }
    // Ordinary values say nothing of the kind.
    let (svg, _) = render_within(two_values(3.0, 40.0), 60).unwrap();
    assert!(!svg.svg.contains("values out of range"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any pair of finite values draws, within a bound.
    #[test]
    fn any_pair_of_finite_values_draws_in_bounded_time(
        a in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        b in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
    ) {
        let drawn = render_within(two_values(a, b), 30);
        proptest::prop_assert!(drawn.is_ok(), "{a} {b}: {drawn:?}");
    }
}

#[test]
fn chart_sizes_are_bounded() {
    use desk_engine::charts::check_size;
    assert!(check_size(900, 300, 1.0).is_ok());
    assert!(check_size(4000, 4000, 1.0).is_ok());
    // Regression: 8000 × 8000 at scale 2 drew a 16000² bitmap (768 MB).
    assert!(check_size(8000, 8000, 2.0).is_err());
    assert!(check_size(4000, 4000, 2.0).is_err());
    assert!(check_size(100, 300, 1.0).is_err());
    assert!(check_size(900, 300, 0.5).is_err());
    assert!(check_size(900, 300, f32::NAN).is_err());
}
