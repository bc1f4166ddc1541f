//! The audit-check history chart: non-compliant resources per check across audit tasks (and,
//! for a single check, the resources evaluated), time axis in the stated zone.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ensure_font, err, palette, ChartError, ChartOptions, Geometry, Raster, Svg, FAMILY};
use crate::analysis::audit::CheckHistory;
use crate::time::Millis;

const SERIES: [RGBColor; 6] = [
    RGBColor(0x4f, 0xc3, 0xf7),
    RGBColor(0xff, 0xb7, 0x4d),
    RGBColor(0xef, 0x53, 0x50),
    RGBColor(0x81, 0xc7, 0x84),
    RGBColor(0xba, 0x68, 0xc8),
    RGBColor(0x90, 0xa4, 0xae),
];

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &[CheckHistory],
    from: Millis,
    to: Millis,
    opts: &ChartOptions,
) -> Result<Geometry, ChartError> {
    ensure_font();
    let p = palette(opts.theme);
    root.fill(&p.bg).map_err(err)?;
    let single = history.len() == 1;
    let title = match history {
        [one] => format!("Audit history — {}", one.check),
        _ => "Audit history — non-compliant resources per check".to_string(),
    };
    let y_max = history
        .iter()
        .flat_map(|h| {
            h.points
                .iter()
                .map(|&(_, n, t)| if single { t.max(n) } else { n })
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.1;
    root.draw(&Text::new(
        format!("times in {}", opts.zone.name()),
        (opts.width as i32 - super::px(opts, 150), super::px(opts, 8)),
        (FAMILY, super::sz(opts, 12)).into_font().color(&p.muted),
    ))
    .map_err(err)?;
    let caption = (FAMILY, super::sz(opts, 16)).into_font().color(&p.fg);
    let body = super::framed(&root, &title, &caption, opts)?;
    let mut chart = ChartBuilder::on(&body)
        .x_label_area_size(super::px(opts, 28))
        .y_label_area_size(super::px(opts, 56))
        .build_cartesian_2d(from..to.max(from + 1), 0f64..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| opts.zone.format(*x, "%m-%d"))
        .y_labels(5)
        .label_style((FAMILY, super::sz(opts, 11)).into_font().color(&p.fg))
        .axis_style(p.grid)
        .bold_line_style(p.grid)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let mut geometry = Geometry {
        kind: if history.iter().all(|h| h.points.is_empty()) {
            super::GeometryKind::Empty
        } else {
            super::GeometryKind::Audit
        },
        left: 0,
        top: 0,
        width: 0,
        height: 0,
        x_from: from,
        x_to: to,
        y_min: 0.0,
        y_max,
        rows: history.iter().map(|h| h.check.clone()).collect(),
        zone: opts.zone.name(),
    };
    geometry.set_area(&xr, &yr);
    if geometry.kind == super::GeometryKind::Empty {
        root.draw(&Text::new(
            format!(
                "No audit results between {} and {} ({})",
                opts.zone.format(from, "%Y-%m-%d"),
                opts.zone.format(to, "%Y-%m-%d"),
                opts.zone.name()
            ),
            (xr.start + super::px(opts, 16), (yr.start + yr.end) / 2),
            (FAMILY, super::sz(opts, 14)).into_font().color(&p.muted),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
        return Ok(geometry);
    }
    draw_lines(&root, &mut chart, history, opts, &p)?;
    chart
        .configure_series_labels()
        .background_style(p.bg.mix(0.8))
        .border_style(p.grid)
        .label_font((FAMILY, super::sz(opts, 11)).into_font().color(&p.fg))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(geometry)
}

/// Each check's non-compliant count as a line with dots and a legend entry; with one check,
/// its resources evaluated beside it, muted.
fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordi64, plotters::coord::types::RangedCoordf64>,
    >,
    history: &[CheckHistory],
    opts: &ChartOptions,
    p: &super::Palette,
) -> Result<(), ChartError> {
    let single = history.len() == 1;
    let legend = super::px(opts, 14);
    let (width1, width2) = (super::stroke(opts, 1), super::stroke(opts, 2));
    for (i, h) in history.iter().enumerate() {
        let color = if single {
            p.alert
        } else {
            SERIES[i % SERIES.len()]
        };
        let pts: Vec<(Millis, f64)> = h.points.iter().map(|&(t, n, _)| (t, n as f64)).collect();
        let at: Vec<(i32, i32)> = pts.iter().map(|pt| chart.backend_coord(pt)).collect();
        super::polyline(root, &at, color, super::stroke(opts, 2))?;
        chart
            .draw_series(std::iter::empty::<Circle<(Millis, f64), i32>>())
            .map_err(err)?
            .label(format!("{} non-compliant", h.check))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + legend, y)], color.stroke_width(width2))
            });
        chart
            .draw_series(
                pts.iter()
                    .map(|&(t, v)| Circle::new((t, v), super::px(opts, 3), color.filled())),
            )
            .map_err(err)?;
        if single {
            let totals: Vec<(Millis, f64)> =
                h.points.iter().map(|&(t, _, n)| (t, n as f64)).collect();
            let muted = p.muted;
            let at: Vec<(i32, i32)> = totals.iter().map(|pt| chart.backend_coord(pt)).collect();
            super::polyline(root, &at, muted, super::stroke(opts, 1))?;
            chart
                .draw_series(std::iter::empty::<Circle<(Millis, f64), i32>>())
                .map_err(err)?
                .label("resources evaluated")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + legend, y)], muted.stroke_width(width1))
                });
        }
    }
    Ok(())
}

/// Renders the audit history as SVG with its geometry.
pub fn render_svg(
    history: &[CheckHistory],
    from: Millis,
    to: Millis,
    opts: &ChartOptions,
) -> Result<Svg, ChartError> {
    super::svg_with(opts, |root, o| draw(root, history, from, to, o))
}

/// Renders the audit history as PNG bytes (at `opts.scale` device pixels per pixel).
pub fn render_png(
    history: &[CheckHistory],
    from: Millis,
    to: Millis,
    opts: &ChartOptions,
) -> Result<Vec<u8>, ChartError> {
    render_raster(history, from, to, opts).map(|r| r.png)
}

/// Renders the audit history as a PNG with its geometry (logical pixels): what the app shows.
pub fn render_raster(
    history: &[CheckHistory],
    from: Millis,
    to: Millis,
    opts: &ChartOptions,
) -> Result<Raster, ChartError> {
    super::png_with(opts, |root, o| draw(root, history, from, to, o))
}
