//! A grid of scatter panels on log–log axes: a score against each of
//! several parameters (`huashi esn search`'s `search.png`).

use super::plot::{short_number, with_png};
use anyhow::ensure;
use plotters::prelude::*;
use std::path::Path;

const FONT: &str = "sans-serif";

/// One panel: `points` of (parameter, score), each in a group (drawn in
/// the group's colour; the legend names the groups).
pub struct Panel {
    /// The parameter's name (the x axis).
    pub name: String,
    /// `(x, y, group)`; x and y must be positive and finite.
    pub points: Vec<(f64, f64, usize)>,
}

/// Draws `panels` side by side in rows of three, every axis logarithmic,
/// the y axis shared and named `y_label`; `groups` names the colours (in
/// the first free cell, when there is one).
///
/// # Errors
/// No points, a point that is not positive and finite, or a failed write.
pub fn log_scatter_grid(
    path: &Path,
    title: &str,
    y_label: &str,
    groups: &[String],
    panels: &[Panel],
) -> anyhow::Result<()> {
    let all = || panels.iter().flat_map(|p| p.points.iter());
    ensure!(all().count() > 0, "scatter `{title}` has no points");
    ensure!(
        all().all(|&(x, y, _)| x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite()),
        "scatter `{title}`: points must be positive and finite"
    );
    let ys = log_span(all().map(|p| p.1));
    let rows = panels.len().div_ceil(3);
    let size = (1200, 60 + 360 * rows as u32);
    with_png(path, size, |root| {
        let root = root.titled(title, (FONT, 26))?;
        let cells = root.split_evenly((rows, 3));
        for (panel, area) in panels.iter().zip(&cells) {
            draw_panel(area, panel, ys, y_label)?;
        }
        match cells.get(panels.len()) {
            Some(free) if groups.len() > 1 => draw_legend(free, groups),
            _ => Ok(()),
        }
    })
}

/// `(lo / 1.3, hi · 1.3)` of positive values (a span of at least one
/// factor of 10 around a single value).
fn log_span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if hi / lo < 10.0 {
        let mid = (hi * lo).sqrt();
        return (mid / 4.0, mid * 4.0);
    }
    (lo / 1.3, hi * 1.3)
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    panel: &Panel,
    (y0, y1): (f64, f64),
    y_label: &str,
) -> anyhow::Result<()> {
    let (x0, x1) = log_span(panel.points.iter().map(|p| p.0));
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(panel.name.as_str())
        .y_desc(y_label)
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|v| log_label(*v))
        .y_label_formatter(&|v| log_label(*v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()?;
    for &(x, y, g) in &panel.points {
        chart.draw_series([Circle::new(
            (x, y),
            4,
            Palette99::pick(g).to_rgba().filled(),
        )])?;
    }
    Ok(())
}

/// The groups' colours and names, one per line, in a free cell.
fn draw_legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    groups: &[String],
) -> anyhow::Result<()> {
    for (g, name) in groups.iter().enumerate() {
        let y = 60 + 30 * g as i32;
        let color = Palette99::pick(g).to_rgba();
        area.draw(&Circle::new((60, y), 6, color.filled()))?;
        area.draw(&Text::new(name.as_str(), (80, y - 9), (FONT, 17)))?;
    }
    Ok(())
}

/// A tick label: compact between 0.01 and 10⁴, else `1e-7`.
fn log_label(v: f64) -> String {
    if (0.01..1e4).contains(&v.abs()) {
        short_number(v)
    } else {
        format!("{v:.0e}")
    }
}
