//! What a chart tells the UI about its plot: where the plot area is and how it maps to data.

use serde::Serialize;

use crate::time::Millis;

/// What a chart plots, as its geometry tells the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum GeometryKind {
    /// Values over time.
    Numeric,
    /// Set members (rows) over time.
    Drift,
    /// Audit check results (rows) over time.
    Audit,
    /// Nothing to plot in the window.
    Empty,
}

/// Where the plot area is and how it maps to data: what a crosshair and brush-zoom need.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Geometry {
    /// What it plots.
    pub kind: GeometryKind,
    /// Plot area left edge, pixels.
    pub left: i32,
    /// Plot area top edge.
    pub top: i32,
    /// Plot area width.
    pub width: i32,
    /// Plot area height.
    pub height: i32,
    /// Time at the left edge (epoch ms).
    #[ts(as = "crate::ts::Millis")]
    pub x_from: Millis,
    /// Time at the right edge.
    #[ts(as = "crate::ts::Millis")]
    pub x_to: Millis,
    /// Value at the bottom edge (row index for drift charts).
    pub y_min: f64,
    /// Value at the top edge.
    pub y_max: f64,
    /// Drift charts: the member on each row, bottom to top.
    pub rows: Vec<String>,
    /// Time zone stated on the chart.
    pub zone: String,
}

impl Geometry {
    /// Takes the plot area from the pixel ranges plotters reports.
    pub(super) fn set_area(&mut self, x: &std::ops::Range<i32>, y: &std::ops::Range<i32>) {
        self.left = x.start;
        self.top = y.start;
        self.width = x.end - x.start;
        self.height = y.end - y.start;
    }

    /// From device pixels of a bitmap drawn at `scale` back to logical pixels.
    pub(super) fn unscale(mut self, scale: f32) -> Self {
        let l = |v: i32| (v as f32 / scale).round() as i32;
        let (left, top) = (l(self.left), l(self.top));
        self.width = l(self.left + self.width) - left;
        self.height = l(self.top + self.height) - top;
        (self.left, self.top) = (left, top);
        self
    }
}
