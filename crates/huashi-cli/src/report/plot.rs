//! PNG charts with `plotters`: bar chart, line chart and heatmap.
//!
//! Text is drawn with the embedded DejaVu Sans (see `assets/`), registered
//! once by [`register_fonts`]; no system fonts are needed.

use anyhow::{anyhow, ensure, Context};
use image::ImageEncoder;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (1000, 600);

/// Registers the embedded font under the family names plotters asks for.
pub fn register_fonts() -> anyhow::Result<()> {
    for family in ["sans-serif", "serif", "monospace"] {
        plotters::style::register_font(family, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| anyhow!("the embedded DejaVu Sans font could not be parsed"))?;
    }
    Ok(())
}

/// Hands a white canvas of `size` pixels to `draw`, then writes it to
/// `path` as a PNG with [`huashi_io::write_bytes`] (temporary file, sync,
/// rename), so a full disk never leaves a truncated plot.
pub fn with_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, size.0, size.1, image::ColorType::Rgb8)
        .with_context(|| format!("encoding {}", path.display()))?;
    huashi_io::write_bytes(path, &png)?;
    Ok(())
}

/// Compact number for labels: 8.19k, 231M, 1.5G (at most 3 significant digits).
pub fn short_number(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let decimals = match scaled.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    let mut text = format!("{scaled:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    text + suffix
}

/// A vertical bar chart, one bar per `(label, value)`, values printed on top.
pub fn bar_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    bars: &[(String, f64)],
) -> anyhow::Result<()> {
    ensure!(!bars.is_empty(), "bar chart `{title}` has no bars");
    ensure!(
        bars.iter().all(|(_, v)| v.is_finite() && *v >= 0.0),
        "bar values must be ≥ 0"
    );
    let top = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.15;
    with_png(path, SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 26))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d((0..bars.len() - 1).into_segmented(), 0f64..top)?;
        let name = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map_or(String::new(), |b| b.0.clone()),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len() + 1)
            .x_label_formatter(&name)
            .y_label_formatter(&|v| short_number(*v))
            .y_desc(y_label)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .draw()?;
        draw_bars(&mut chart, bars)
    })
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>,
>;

/// The bars and their value labels.
fn draw_bars(chart: &mut BarChart<'_, '_>, bars: &[(String, f64)]) -> anyhow::Result<()> {
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        let color = Palette99::pick(i).to_rgba().filled();
        let upper = (SegmentValue::Exact(i + 1), *v);
        let mut bar = Rectangle::new([(SegmentValue::Exact(i), 0.0), upper], color);
        bar.set_margin(0, 0, 15, 15);
        bar
    }))?;
    let label = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        let at = (SegmentValue::CenterOf(i), *v);
        Text::new(short_number(*v), at, label.clone())
    }))?;
    Ok(())
}

/// One named curve of a line chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart with markers and a legend; the y axis includes 0.
pub fn line_chart(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    series: &[Series],
) -> anyhow::Result<()> {
    lines(path, title, axes, series, true, &short_number)
}

/// A line chart of time series: the y axis spans the data only, and curves
/// longer than [`MARKER_LIMIT`] points have no markers.
pub fn series_chart(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    series: &[Series],
) -> anyhow::Result<()> {
    lines(path, title, axes, series, false, &short_number)
}

/// [`series_chart`] whose x values are rows of a table: labelled with the
/// rows' `dates` when there are some (the axis is then named "date"), else
/// with the row numbers. Rows past the dates (forecasts) have no label.
pub fn row_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[Series],
    dates: Option<&[String]>,
) -> anyhow::Result<()> {
    let Some(dates) = dates else {
        return series_chart(path, title, ("row", y_label), series);
    };
    let label = |x: f64| {
        let row = x.round().max(0.0) as usize;
        dates.get(row).cloned().unwrap_or_default()
    };
    lines(path, title, ("date", y_label), series, false, &label)
}

/// Curves with more points than this are drawn without markers.
pub const MARKER_LIMIT: usize = 60;

/// `(x0, x1)` and `(y0, y1)` of the points; the y range includes 0 when
/// `from_zero`, else it has a 5% margin below.
fn bounds(series: &[Series], from_zero: bool) -> ((f64, f64), (f64, f64)) {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x0, x1) = all().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(x), b.max(x)));
    let (lo, y1) = all().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(y), b.max(y)));
    let y0 = if from_zero {
        lo.min(0.0)
    } else {
        lo - pad_of(lo, y1)
    };
    ((x0, x1), (y0, y1))
}

fn lines(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    series: &[Series],
    from_zero: bool,
    x_label: &dyn Fn(f64) -> String,
) -> anyhow::Result<()> {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    ensure!(all().count() > 0, "line chart `{title}` has no points");
    ensure!(
        all().all(|(x, y)| x.is_finite() && y.is_finite()),
        "points must be finite"
    );
    let ((x0, x1), (y0, y1)) = bounds(series, from_zero);
    let pad = pad_of;
    with_png(path, SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 26))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(
                x0 - pad(x0, x1)..x1 + pad(x0, x1),
                y0..y1 + pad(y0, y1) * 2.0,
            )?;
        chart
            .configure_mesh()
            .x_desc(axes.0)
            .y_desc(axes.1)
            .x_label_formatter(&|v| x_label(*v))
            .y_label_formatter(&|v| short_number(*v))
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .draw()?;
        draw_lines(&mut chart, series, (x0, x1), (y0, y1))
    })
}

/// 5% of the range, or 1 for an empty range.
fn pad_of(lo: f64, hi: f64) -> f64 {
    if hi > lo {
        (hi - lo) * 0.05
    } else {
        1.0
    }
}

type LineChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The curves, their markers and the legend.
fn draw_lines<'a, 'b: 'a>(
    chart: &mut LineChart<'a, 'b>,
    series: &[Series],
    xs: (f64, f64),
    ys: (f64, f64),
) -> anyhow::Result<()> {
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let width = if s.points.len() > MARKER_LIMIT { 2 } else { 3 };
        let style = color.stroke_width(width);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), style))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        if s.points.len() <= MARKER_LIMIT {
            chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .position(legend_corner(series, xs, ys))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 16))
        .draw()?;
    Ok(())
}

/// Upper right unless the curves are high there, then upper left.
fn legend_corner(
    series: &[Series],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let right = x0 + 0.6 * (x1 - x0);
    let high = y0 + 0.6 * (y1 - y0);
    let points = series.iter().flat_map(|s| s.points.iter());
    if points.filter(|(x, _)| *x >= right).any(|(_, y)| *y >= high) {
        SeriesLabelPosition::UpperLeft
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// Viridis-like colour for `t` in `[0, 1]` (piecewise-linear through 5 anchors).
pub fn viridis(t: f64) -> RGBColor {
    const ANCHORS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A heatmap of `values[row][col]` (row 0 at the top), colour scaled to its
/// range, with a colour bar.
pub fn heatmap(path: &Path, title: &str, values: &[Vec<f64>]) -> anyhow::Result<()> {
    let rows = values.len();
    let cols = values.first().map_or(0, Vec::len);
    ensure!(rows > 0 && cols > 0, "heatmap `{title}` is empty");
    ensure!(
        values.iter().all(|r| r.len() == cols),
        "heatmap rows differ in length"
    );
    let flat = || values.iter().flatten().copied().filter(|v| v.is_finite());
    let lo = flat().fold(f64::MAX, f64::min);
    let hi = flat().fold(f64::MIN, f64::max);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    with_png(path, (820, 720), |root| {
        let root = root.titled(title, (FONT, 22))?;
        let (main, bar) = root.split_horizontally(700);
        let mut chart = ChartBuilder::on(&main)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..cols as f64, rows as f64..0f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("column")
            .y_desc("row")
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| short_number(*v))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        chart.draw_series(values.iter().enumerate().flat_map(|(r, row)| {
            row.iter().enumerate().map(move |(c, v)| {
                let color = viridis((v - lo) / (hi - lo)).filled();
                let (x, y) = (c as f64, r as f64);
                Rectangle::new([(x, y), (x + 1.0, y + 1.0)], color)
            })
        }))?;
        colour_bar(&bar, lo, hi)
    })
}

/// A vertical colour bar from `lo` (bottom) to `hi` (top).
fn colour_bar(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    lo: f64,
    hi: f64,
) -> anyhow::Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(15)
        .margin_bottom(60)
        .margin_right(10)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&|v| short_number(*v))
        .label_style((FONT, 14))
        .draw()?;
    let steps = 100;
    chart.draw_series((0..steps).map(|i| {
        let (a, b) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
        let (y0, y1) = (lo + a * (hi - lo), lo + b * (hi - lo));
        Rectangle::new([(0.0, y0), (1.0, y1)], viridis(a).filled())
    }))?;
    Ok(())
}

/// The map divided by its largest value (readable colour-bar labels).
pub fn relative_to_peak(map: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let peak = map.iter().flatten().fold(0f64, |m, &v| m.max(v));
    let peak = peak.max(f64::MIN_POSITIVE);
    map.iter()
        .map(|row| row.iter().map(|v| v / peak).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(8192.0), "8.19k");
        assert_eq!(short_number(231_211_008.0), "231M");
        assert_eq!(short_number(73_728.0), "73.7k");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(12.5), "12.5");
        assert_eq!(short_number(3.0), "3");
        assert_eq!(short_number(2e9), "2G");
    }

    #[test]
    fn charts_write_png_files() {
        register_fonts().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bars = vec![("a".to_string(), 3.0), ("bb".to_string(), 7.5)];
        bar_chart(&dir.path().join("bar.png"), "bars", "value", &bars).unwrap();
        let s = Series {
            name: "line".into(),
            points: vec![(1.0, 2.0), (2.0, 3.0), (3.0, 1.0)],
        };
        line_chart(&dir.path().join("line.png"), "lines", ("x", "y"), &[s]).unwrap();
        let long = Series {
            name: "long".into(),
            points: (0..200)
                .map(|i| (i as f64, 100.0 + (i as f64).sin()))
                .collect(),
        };
        series_chart(&dir.path().join("series.png"), "t", ("x", "y"), &[long]).unwrap();
        let grid = vec![vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]];
        heatmap(&dir.path().join("heat.png"), "heat", &grid).unwrap();
        for f in ["bar.png", "line.png", "series.png", "heat.png"] {
            let bytes = std::fs::read(dir.path().join(f)).unwrap();
            assert!(bytes.starts_with(b"\x89PNG"), "{f} is not a PNG");
        }
        assert!(bar_chart(&dir.path().join("x.png"), "empty", "v", &[]).is_err());
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
    }
}
