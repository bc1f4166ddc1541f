//! Charts as pure functions: a [`MetricView`] in, SVG (for the UI) or PNG (for export and
//! reports) out, with the plot-area geometry and scales so the UI can draw a crosshair and
//! brush-zoom without guessing. Text uses the embedded DejaVu Sans (`assets/fonts`), so PNGs
//! are identical on every OS; SVG names the same family, which the UI bundles.
//!
//! Over 900 lines because the chart lays out every kind of metric chart (numbers, set drift rows,
//! event bars, threshold lines, violation bands, gap and restart markers) against one drawing
//! budget that bounds the work an attacker's values can cause; the audit chart is in [`audit`].

pub mod audit;
mod geometry;

pub use geometry::{Geometry, GeometryKind};

use std::sync::Once;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use serde::{Deserialize, Serialize};

use crate::analysis::categories::{is_attack_surface, metric_label};
use crate::analysis::view::{Marker, MetricView};
use crate::time::Millis;

static FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "DejaVu Sans";

fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known good; a failure would show as missing text.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Dark (the default) or light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Dark background.
    #[default]
    Dark,
    /// Light background.
    Light,
}

/// The time zone of the time axis, stated on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// UTC.
    #[default]
    Utc,
    /// A named IANA zone.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `UTC` or an IANA name such as `Europe/Paris`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Self::Utc);
        }
        s.parse::<chrono_tz::Tz>().map(Self::Named).map_err(|_| {
            format!("unknown time zone {s:?}: use UTC or an IANA name such as Europe/Paris")
        })
    }

    /// The name stated on charts and reports.
    pub fn name(&self) -> String {
        match self {
            Self::Utc => "UTC".into(),
            Self::Named(tz) => tz.name().into(),
        }
    }

    /// Formats an instant in this zone (chrono format string).
    pub fn format(&self, ms: Millis, fmt: &str) -> String {
        let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
            return String::new();
        };
        match self {
            Self::Utc => t.format(fmt).to_string(),
            Self::Named(tz) => t.with_timezone(tz).format(fmt).to_string(),
        }
    }
}

/// Size, zone and theme.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Time zone of the axis.
    pub zone: Zone,
    /// Theme.
    pub theme: Theme,
    /// Device pixels per pixel of `width` × `height` for bitmaps (a display's device pixel
    /// ratio: 2 on most laptops' built-in screens), from 1 to 4. A bitmap is drawn at
    /// `width × scale` by `height × scale` with text and lines scaled alike, so it shows sharp
    /// at its logical size; geometry stays in logical pixels. Vector output ignores it.
    pub scale: f32,
}

impl Default for ChartOptions {
    fn default() -> Self {
        Self {
            width: 900,
            height: 300,
            zone: Zone::Utc,
            theme: Theme::Dark,
            scale: 1.0,
        }
    }
}

/// Narrowest and widest chart, in logical pixels.
pub const WIDTH_RANGE: std::ops::RangeInclusive<u32> = 120..=4000;
/// Lowest and tallest chart, in logical pixels.
pub const HEIGHT_RANGE: std::ops::RangeInclusive<u32> = 80..=4000;
/// Most device pixels one bitmap may have (`width × height × scale²`): 4000 × 4000.
pub const MAX_DEVICE_PIXELS: u64 = 16_000_000;

/// Checks a requested chart size: width and height within [`WIDTH_RANGE`] and [`HEIGHT_RANGE`],
/// a scale from 1 to 4, and at most [`MAX_DEVICE_PIXELS`] once scaled (a 4000² chart at scale 4
/// would be a 770 MB bitmap).
pub fn check_size(width: u32, height: u32, scale: f32) -> Result<(), String> {
    if !WIDTH_RANGE.contains(&width) {
        return Err(format!(
            "chart width {width} is not within {} to {} pixels",
            WIDTH_RANGE.start(),
            WIDTH_RANGE.end()
        ));
    }
    if !HEIGHT_RANGE.contains(&height) {
        return Err(format!(
            "chart height {height} is not within {} to {} pixels",
            HEIGHT_RANGE.start(),
            HEIGHT_RANGE.end()
        ));
    }
    if !(1.0..=4.0).contains(&scale) {
        return Err(format!("chart scale {scale} is not within 1 to 4"));
    }
    let device = (f64::from(width) * f64::from(scale)) * (f64::from(height) * f64::from(scale));
    if device > MAX_DEVICE_PIXELS as f64 {
        return Err(format!(
            "a {width}×{height} chart at scale {scale} is {:.0} device pixels, more than {MAX_DEVICE_PIXELS}",
            device
        ));
    }
    Ok(())
}

impl ChartOptions {
    /// The device-pixel scale actually used: `scale` within 1 to 4 (1 when not a number).
    /// Also at most what keeps the bitmap within [`MAX_DEVICE_PIXELS`].
    fn device_scale(&self) -> f32 {
        let asked = if self.scale.is_finite() {
            self.scale.clamp(1.0, 4.0)
        } else {
            1.0
        };
        let logical = f64::from(self.width.max(16)) * f64::from(self.height.max(16));
        let most = (MAX_DEVICE_PIXELS as f64 / logical).sqrt().max(1.0) as f32;
        asked.min(most)
    }
}

/// A length in logical pixels as drawn (device pixels on a scaled bitmap).
fn px(opts: &ChartOptions, v: i32) -> i32 {
    (v as f32 * opts.scale).round() as i32
}

/// A font size in logical pixels as drawn.
fn sz(opts: &ChartOptions, v: i32) -> f64 {
    f64::from(v) * f64::from(opts.scale)
}

/// A stroke width in logical pixels as drawn (at least one device pixel).
fn stroke(opts: &ChartOptions, v: u32) -> u32 {
    ((v as f32 * opts.scale).round() as u32).max(1)
}

/// An SVG chart and its geometry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Svg {
    /// The SVG document.
    pub svg: String,
    /// Plot-area geometry and scales.
    pub geometry: Geometry,
}

/// Drawing failed (a backend error; not expected with in-memory backends).
#[derive(Debug, thiserror::Error)]
#[error("chart rendering failed: {0}")]
pub struct ChartError(String);

struct Palette {
    bg: RGBColor,
    fg: RGBColor,
    grid: RGBColor,
    line: RGBColor,
    threshold: RGBColor,
    band: RGBColor,
    alert: RGBColor,
    warn: RGBColor,
    muted: RGBColor,
}

fn palette(t: Theme) -> Palette {
    match t {
        Theme::Dark => Palette {
            bg: RGBColor(0x12, 0x16, 0x1c),
            fg: RGBColor(0xd8, 0xde, 0xe9),
            grid: RGBColor(0x2a, 0x31, 0x3c),
            line: RGBColor(0x4f, 0xc3, 0xf7),
            threshold: RGBColor(0xff, 0xb7, 0x4d),
            band: RGBColor(0xef, 0x53, 0x50),
            alert: RGBColor(0xff, 0x52, 0x52),
            warn: RGBColor(0xff, 0xa7, 0x26),
            muted: RGBColor(0x90, 0xa4, 0xae),
        },
        Theme::Light => Palette {
            bg: RGBColor(0xff, 0xff, 0xff),
            fg: RGBColor(0x26, 0x32, 0x38),
            grid: RGBColor(0xe0, 0xe4, 0xe8),
            line: RGBColor(0x15, 0x65, 0xc0),
            threshold: RGBColor(0xe6, 0x51, 0x00),
            band: RGBColor(0xd3, 0x2f, 0x2f),
            alert: RGBColor(0xc6, 0x28, 0x28),
            warn: RGBColor(0xef, 0x6c, 0x00),
            muted: RGBColor(0x60, 0x7d, 0x8b),
        },
    }
}

fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

/// 1.2k, 3.4M, 5.6G: axis labels that fit.
fn si(v: f64) -> String {
    let a = v.abs();
    let (d, s) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    if x.fract() == 0.0 {
        format!("{x:.0}{s}")
    } else {
        format!("{x:.1}{s}")
    }
}

/// The chart's frame: a margin, then the title centred above the rest, both scaled with the
/// chart (plotters' own caption pads by a fixed 5 px, which would move the plot area of a
/// high-density bitmap off the geometry of its logical size).
fn framed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    style: &TextStyle,
    opts: &ChartOptions,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let m = px(opts, 12);
    let area = root.margin(m, m, m, m);
    let (_, text_h) = area.estimate_text_size(title, style).map_err(err)?;
    let text_h = text_h as i32;
    let pad = (text_h / 2).min(px(opts, 5));
    let (w, _) = area.dim_in_pixel();
    let centred = style.pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(title, &centred, (w as i32 / 2, pad))
        .map_err(err)?;
    let (_, body) = area.split_vertically(pad * 2 + text_h);
    Ok(body)
}

/// A polyline `width` device pixels wide through backend points, drawn as `width`² one-pixel
/// polylines offset by whole pixels. Plotters widens a path by polygonizing it, which breaks on
/// segments shorter than a pixel (a high-density chart of an M4 column has them) and then draws
/// stray lines to the edge of the image.
fn polyline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: &[(i32, i32)],
    color: RGBColor,
    width: u32,
) -> Result<(), ChartError> {
    let mut at = at.to_vec();
    at.dedup();
    let w = width.max(1) as i32;
    let first = -(w - 1) / 2;
    for dx in first..first + w {
        for dy in first..first + w {
            let shifted: Vec<(i32, i32)> = at.iter().map(|&(x, y)| (x + dx, y + dy)).collect();
            root.draw(&PathElement::new(shifted, color.stroke_width(1)))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The largest magnitude a numeric chart draws to scale. A device chooses its values: beyond
/// this a value is drawn at the plot's edge and marked "out of range" (an infinite span makes
/// plotters' axis maths loop forever, and so does a span below the values' float precision).
pub const PLOT_LIMIT: f64 = 1e18;

/// How long drawing one chart may take before it is abandoned with an error.
pub const DRAW_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// A deadline for one chart's drawing, checked between series.
struct Budget(std::time::Instant);

impl Budget {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    fn check(&self) -> Result<(), ChartError> {
        if self.0.elapsed() > DRAW_BUDGET {
            return Err(ChartError(format!(
                "drawing took longer than {} s and was abandoned",
                DRAW_BUDGET.as_secs()
            )));
        }
        Ok(())
    }
}

/// A value as drawn: within ±[`PLOT_LIMIT`] (a NaN, which the cache never holds, at 0).
fn to_scale(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-PLOT_LIMIT, PLOT_LIMIT)
    }
}

/// Whether a value is drawn at the edge instead of to scale.
fn off_scale(v: f64) -> bool {
    v.is_nan() || v.abs() > PLOT_LIMIT
}

/// The value axis of a numeric chart.
#[derive(Debug, Clone, Copy, PartialEq)]
struct YScale {
    lo: f64,
    hi: f64,
    /// Columns with a value beyond ±[`PLOT_LIMIT`].
    out_of_range: usize,
}

/// The value axis: every column and threshold in view, zero included when near, padded by 5 %;
/// finite and wider than the values' float precision whatever the values are.
fn y_scale(view: &MetricView) -> YScale {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut out_of_range = 0;
    for b in &view.buckets {
        if off_scale(b.min.1) || off_scale(b.max.1) {
            out_of_range += 1;
        }
        lo = lo.min(to_scale(b.min.1));
        hi = hi.max(to_scale(b.max.1));
    }
    for t in &view.thresholds {
        lo = lo.min(to_scale(t.value));
        hi = hi.max(to_scale(t.value));
    }
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (0.0, 1.0);
    }
    if view.per.is_some() {
        // Event counts: bars stand on zero.
        lo = lo.min(0.0);
    }
    if lo > 0.0 && lo < hi * 0.5 {
        lo = 0.0;
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi += 1.0;
        lo -= 1.0;
    }
    // Near ±1e18 one more unit is no change at all: keep the span well above the precision.
    let mag = lo.abs().max(hi.abs());
    if hi - lo < mag * 1e-9 {
        let mid = lo / 2.0 + hi / 2.0;
        (lo, hi) = (mid - mag * 1e-6, mid + mag * 1e-6);
    }
    let pad = (hi - lo) * 0.05;
    YScale {
        lo: lo - if lo == 0.0 { 0.0 } else { pad },
        hi: hi + pad,
        out_of_range,
    }
}

fn title(view: &MetricView) -> String {
    match view.per {
        Some(per) => format!(
            "{} — {} per {}",
            view.thing,
            metric_label(&view.metric),
            interval_label(per)
        ),
        None => format!("{} — {}", view.thing, metric_label(&view.metric)),
    }
}

/// "5 min", "hour", "6 h", "7 days": an event chart's interval.
pub fn interval_label(per: Millis) -> String {
    let min = per / 60_000;
    match min {
        m if m < 60 => format!("{m} min"),
        60 => "hour".into(),
        m if m < 24 * 60 => format!("{} h", m / 60),
        m if m == 24 * 60 => "day".into(),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// Draws a metric chart: the frame every kind shares, then the kind's own drawing (no data,
/// set drift rows, or numbers).
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    view: &MetricView,
    opts: &ChartOptions,
) -> Result<Geometry, ChartError> {
    ensure_font();
    let budget = Budget::start();
    let p = palette(opts.theme);
    root.fill(&p.bg).map_err(err)?;
    let span = view.to - view.from;
    let tick_fmt = if span > 3 * 86_400_000 {
        "%m-%d"
    } else if span > 86_400_000 {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let zone_note = format!("times in {}", opts.zone.name());
    let small = (FAMILY, sz(opts, 12)).into_font().color(&p.muted);
    root.draw(&Text::new(
        zone_note.clone(),
        (opts.width as i32 - px(opts, 150), px(opts, 8)),
        small.clone(),
    ))
    .map_err(err)?;
    let caption = (FAMILY, sz(opts, 16)).into_font().color(&p.fg);
    let label_style = (FAMILY, sz(opts, 11)).into_font().color(&p.fg);
    let geometry = Geometry {
        kind: GeometryKind::Empty,
        left: 0,
        top: 0,
        width: 0,
        height: 0,
        x_from: view.from,
        x_to: view.to,
        y_min: 0.0,
        y_max: 1.0,
        rows: Vec::new(),
        zone: opts.zone.name(),
    };

    let frame = Frame {
        opts,
        p,
        tick_fmt,
        caption,
        label_style,
        budget,
    };
    if view.buckets.is_empty() && view.drift.is_empty() {
        draw_empty(&root, view, &frame, geometry)
    } else if !view.drift.is_empty() {
        draw_drift(&root, view, &frame, geometry)
    } else {
        draw_numeric(&root, view, &frame, geometry)
    }
}

/// What every kind of metric chart draws with.
struct Frame<'o> {
    opts: &'o ChartOptions,
    p: Palette,
    tick_fmt: &'static str,
    caption: TextStyle<'static>,
    label_style: TextStyle<'static>,
    budget: Budget,
}

/// No data in the window: the axes and a sentence saying so.
fn draw_empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &MetricView,
    frame: &Frame<'_>,
    mut geometry: Geometry,
) -> Result<Geometry, ChartError> {
    let Frame {
        opts,
        p,
        tick_fmt,
        caption,
        label_style,
        ..
    } = frame;
    let (opts, tick_fmt) = (*opts, *tick_fmt);
    let body = framed(root, &title(view), caption, opts)?;
    let mut chart = ChartBuilder::on(&body)
        .x_label_area_size(px(opts, 28))
        .y_label_area_size(px(opts, 56))
        .build_cartesian_2d(view.from..view.to.max(view.from + 1), 0f64..1f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| opts.zone.format(*x, tick_fmt))
        .y_labels(0)
        .label_style(label_style.clone())
        .axis_style(p.grid)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let msg = format!(
        "No data for {} between {} and {} ({})",
        metric_label(&view.metric),
        opts.zone.format(view.from, "%Y-%m-%d %H:%M"),
        opts.zone.format(view.to, "%Y-%m-%d %H:%M"),
        opts.zone.name()
    );
    root.draw(&Text::new(
        msg,
        (xr.start + px(opts, 16), (yr.start + yr.end) / 2),
        (FAMILY, sz(opts, 14)).into_font().color(&p.muted),
    ))
    .map_err(err)?;
    geometry.set_area(&xr, &yr);
    root.present().map_err(err)?;
    Ok(geometry)
}

/// A set metric: one row per member, bottom to top — expected members first, then the
/// newcomers — with each interval it was listed as a bar.
fn draw_drift<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &MetricView,
    frame: &Frame<'_>,
    mut geometry: Geometry,
) -> Result<Geometry, ChartError> {
    let Frame {
        opts,
        p,
        tick_fmt,
        caption,
        label_style,
        budget,
    } = frame;
    let (opts, tick_fmt) = (*opts, *tick_fmt);
    // One row per member, bottom to top: expected members first, then the newcomers.
    let mut rows: Vec<String> = Vec::new();
    for d in &view.drift {
        let m = d
            .value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| d.value.to_string());
        if !rows.contains(&m) {
            rows.push(m);
        }
    }
    rows.sort_by_key(|m| {
        (
            !view.expected.contains(m),
            m.parse::<f64>().unwrap_or(f64::MAX) as i64,
            m.clone(),
        )
    });
    let n = rows.len() as f64;
    let body = framed(root, &title(view), caption, opts)?;
    let mut chart = ChartBuilder::on(&body)
        .x_label_area_size(px(opts, 28))
        .y_label_area_size(px(opts, 120))
        .build_cartesian_2d(view.from..view.to, 0f64..n)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| opts.zone.format(*x, tick_fmt))
        .y_labels(0)
        .disable_y_mesh()
        .label_style(label_style.clone())
        .axis_style(p.grid)
        .bold_line_style(p.grid)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;
    // Member names at the row centres, right-aligned against the axis.
    let right = label_style.pos(Pos::new(HPos::Right, VPos::Center));
    for (i, m) in rows.iter().enumerate().take(60) {
        let (x, y) = chart.backend_coord(&(view.from, i as f64 + 0.5));
        let shown: String = m.chars().take(18).collect();
        root.draw(&Text::new(shown, (x - px(opts, 6), y), right.clone()))
            .map_err(err)?;
    }
    for b in &view.bands {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(b.from, 0.0), (b.to, n)],
                p.band.mix(0.18).filled(),
            )))
            .map_err(err)?;
    }
    for d in &view.drift {
        budget.check()?;
        let m = d
            .value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| d.value.to_string());
        let row = rows.iter().position(|r| *r == m).unwrap_or(0) as f64;
        let port = d.value.as_i64();
        let unexpected = !view.expected.is_empty() && !view.expected.contains(&m);
        let color = if unexpected && port.is_some_and(is_attack_surface) {
            p.alert
        } else if unexpected {
            p.warn
        } else {
            p.line
        };
        let end = d.closed.unwrap_or(view.to);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (d.opened.max(view.from), row + 0.2),
                    (end.min(view.to).max(d.opened), row + 0.8),
                ],
                color.filled(),
            )))
            .map_err(err)?;
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    geometry = Geometry {
        kind: GeometryKind::Drift,
        y_min: 0.0,
        y_max: n,
        rows,
        ..geometry
    };
    geometry.set_area(&xr, &yr);
    root.present().map_err(err)?;
    Ok(geometry)
}

/// A numeric metric: M4 columns as one polyline per run without gaps (bars for event counts),
/// thresholds, violation bands, agent restarts and off-scale values at the edge.
fn draw_numeric<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &MetricView,
    frame: &Frame<'_>,
    mut geometry: Geometry,
) -> Result<Geometry, ChartError> {
    let Frame {
        opts,
        p,
        tick_fmt,
        caption,
        label_style,
        budget,
    } = frame;
    let (opts, tick_fmt) = (*opts, *tick_fmt);
    let YScale {
        lo: y0,
        hi: y1,
        out_of_range,
    } = y_scale(view);
    let y = to_scale;
    let body = framed(root, &title(view), caption, opts)?;
    let mut chart = ChartBuilder::on(&body)
        .x_label_area_size(px(opts, 28))
        .y_label_area_size(px(opts, 56))
        .build_cartesian_2d(view.from..view.to, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|x| opts.zone.format(*x, tick_fmt))
        .y_label_formatter(&|y| si(*y))
        .label_style(label_style.clone())
        .axis_style(p.grid)
        .bold_line_style(p.grid)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;
    for b in &view.bands {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(b.from, y0), (b.to, y1)],
                p.band.mix(0.18).filled(),
            )))
            .map_err(err)?;
    }
    let gaps: Vec<(Millis, Millis)> = view
        .markers
        .iter()
        .filter_map(|m| match m {
            Marker::Gap { from, to } => Some((*from, *to)),
            Marker::AgentRestart { .. } => None,
        })
        .collect();
    if let Some(per) = view.per {
        // Events per interval: one bar each, from zero.
        for b in view.buckets.iter().filter(|b| b.max.1 > 0.0) {
            budget.check()?;
            let left = b.first.0.max(view.from);
            let right = (b.first.0.div_euclid(per) * per + per).min(view.to);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(left, y(0.0).max(y0)), (right.max(left + 1), y(b.max.1))],
                    p.line.mix(0.85).filled(),
                )))
                .map_err(err)?;
        }
    }
    let runs = runs(view, &gaps, y);
    for r in runs.into_iter().filter(|r| !r.is_empty()) {
        budget.check()?;
        if r.len() == 1 {
            chart
                .draw_series(std::iter::once(Circle::new(
                    r[0],
                    px(opts, 2),
                    p.line.filled(),
                )))
                .map_err(err)?;
        } else {
            let at: Vec<(i32, i32)> = r.iter().map(|pt| chart.backend_coord(pt)).collect();
            polyline(root, &at, p.line, stroke(opts, 1))?;
        }
    }
    draw_marks(root, &mut chart, view, frame, out_of_range)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    geometry = Geometry {
        kind: GeometryKind::Numeric,
        y_min: y0,
        y_max: y1,
        ..geometry
    };
    geometry.set_area(&xr, &yr);
    root.present().map_err(err)?;
    Ok(geometry)
}

/// The numeric chart's line: each M4 column's points in time order (plotted on the chart's
/// scale `y`), cut into runs at every gap so a gap is never drawn across.
fn runs(
    view: &MetricView,
    gaps: &[(Millis, Millis)],
    y: impl Fn(f64) -> f64,
) -> Vec<Vec<(Millis, f64)>> {
    let mut run: Vec<(Millis, f64)> = Vec::new();
    let mut runs = Vec::new();
    for b in view.buckets.iter().filter(|_| view.per.is_none()) {
        let mut pts = vec![b.first, b.min, b.max, b.last];
        pts.sort_by_key(|x| x.0);
        pts.dedup();
        for (t, v) in pts {
            let pt = (t, y(v));
            if let Some(&(prev, _)) = run.last() {
                if gaps.iter().any(|(g0, g1)| prev <= *g0 && pt.0 >= *g1) {
                    runs.push(std::mem::take(&mut run));
                }
            }
            run.push(pt);
        }
    }
    runs.push(run);
    runs
}

/// The numeric chart's marks over the line: thresholds, agent restarts, and values beyond the
/// plot limit shown at the edge and said to be off scale.
fn draw_marks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordi64, plotters::coord::types::RangedCoordf64>,
    >,
    view: &MetricView,
    frame: &Frame<'_>,
    out_of_range: usize,
) -> Result<(), ChartError> {
    let (opts, p, y) = (frame.opts, &frame.p, to_scale);
    for t in &view.thresholds {
        chart
            .draw_series(LineSeries::new(
                [(view.from, y(t.value)), (view.to, y(t.value))],
                p.threshold.stroke_width(stroke(opts, 1)),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                t.label.clone(),
                (view.from, y(t.value)),
                (FAMILY, sz(opts, 11)).into_font().color(&p.threshold),
            )))
            .map_err(err)?;
    }
    for m in &view.markers {
        if let Marker::AgentRestart { at, value } = m {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (*at, y(*value)),
                    px(opts, 5),
                    p.warn.filled(),
                )))
                .map_err(err)?;
        }
    }
    if out_of_range > 0 {
        // The extreme values are shown where they are, at the edge, and said to be off scale.
        for b in &view.buckets {
            for (t, v) in [b.min, b.max] {
                if off_scale(v) {
                    chart
                        .draw_series(std::iter::once(TriangleMarker::new(
                            (t, y(v)),
                            px(opts, 6),
                            p.alert.filled(),
                        )))
                        .map_err(err)?;
                }
            }
        }
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        root.draw(&Text::new(
            format!(
                "values out of range: {out_of_range} beyond ±{PLOT_LIMIT:e}, marked at the edge"
            ),
            (xr.start + px(opts, 8), yr.start + px(opts, 4)),
            (FAMILY, sz(opts, 12)).into_font().color(&p.alert),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Renders a view as SVG.
pub fn render_svg(view: &MetricView, opts: &ChartOptions) -> Result<Svg, ChartError> {
    svg_with(opts, |root, o| draw(root, view, o))
}

/// Renders a view as PNG bytes (at `opts.scale` device pixels per pixel).
pub fn render_png(view: &MetricView, opts: &ChartOptions) -> Result<Vec<u8>, ChartError> {
    render_raster(view, opts).map(|r| r.png)
}

/// Renders a view as a PNG with its geometry (logical pixels): what the app shows.
pub fn render_raster(view: &MetricView, opts: &ChartOptions) -> Result<Raster, ChartError> {
    png_with(opts, |root, o| draw(root, view, o))
}

/// A PNG chart and its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// The PNG file, `width × scale` by `height × scale` device pixels.
    pub png: Vec<u8>,
    /// Plot-area geometry and scales, in logical pixels (as [`Svg::geometry`]).
    pub geometry: Geometry,
    /// Logical width.
    pub width: u32,
    /// Logical height.
    pub height: u32,
}

/// Runs a drawing function on an SVG backend of the chart's size.
fn svg_with(
    opts: &ChartOptions,
    draw: impl FnOnce(DrawingArea<SVGBackend, Shift>, &ChartOptions) -> Result<Geometry, ChartError>,
) -> Result<Svg, ChartError> {
    let mut svg = String::new();
    let geometry = {
        let root = SVGBackend::with_string(&mut svg, (opts.width, opts.height)).into_drawing_area();
        let unscaled = ChartOptions {
            scale: 1.0,
            ..*opts
        };
        draw(root, &unscaled)?
    };
    Ok(Svg { svg, geometry })
}

/// Runs a drawing function on an RGB bitmap of the chart's size (at least 16×16) times its
/// device scale, and encodes it.
fn png_with(
    opts: &ChartOptions,
    draw: impl FnOnce(DrawingArea<BitMapBackend, Shift>, &ChartOptions) -> Result<Geometry, ChartError>,
) -> Result<Raster, ChartError> {
    let scale = opts.device_scale();
    let (w, h) = (opts.width.max(16), opts.height.max(16));
    let (dw, dh) = (
        (w as f32 * scale).round() as u32,
        (h as f32 * scale).round() as u32,
    );
    let mut rgb = vec![0u8; dw as usize * dh as usize * 3];
    let geometry = {
        let root = BitMapBackend::with_buffer(&mut rgb, (dw, dh)).into_drawing_area();
        let sized = ChartOptions {
            width: dw,
            height: dh,
            scale,
            ..*opts
        };
        draw(root, &sized)?
    };
    Ok(Raster {
        png: encode_png(&rgb, dw, dh)?,
        geometry: geometry.unscale(scale),
        width: w,
        height: h,
    })
}

/// RGB pixels to PNG bytes. Each row filtered against the one above and deflated at zlib
/// level 3: charts are flat colour crossed by thin lines, which that packs to about half of
/// what the fastest (fdeflate) mode makes, at about the same cost — and at a third of the cost
/// of the default level with adaptive filters for 20 % more bytes (the app encodes a dozen
/// charts per click; BENCHMARKS.md, "Desktop app").
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_filter(png::Filter::Up);
        enc.set_deflate_compression(png::DeflateCompression::Level(3));
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
    }
    Ok(out)
}
