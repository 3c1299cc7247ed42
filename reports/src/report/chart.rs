//! What every figure shares: the embedded font, the palette, number
//! formats, and `render`, which draws a `Plot` twice — as SVG text and
//! as a PNG — and writes both atomically beside the report.
//!
//! PNG text is drawn by ab_glyph from DejaVu Sans, embedded in the binary
//! (`reports/assets/DejaVuSans.ttf`, Bitstream Vera licence in
//! `reports/assets/DejaVuSans-LICENSE.txt`), so the figures look the same
//! on every machine and need no system fonts.

use std::error::Error;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::write_bytes;
use crate::error::ReportError;

/// DejaVu Sans (Bitstream Vera licence).
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The font family every figure uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Default figure size, pixels.
pub(crate) const SIZE: (u32, u32) = (1000, 560);

/// The result of drawing.
pub(crate) type Drawn = Result<(), Box<dyn Error>>;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Plot {
    /// Size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static;
}

/// A figure written to disk.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`<name>.svg`, `<name>.png`).
    pub name: String,
    /// Title drawn on the figure: the finding.
    pub title: String,
    /// One sentence for summary.md stating what the figure shows.
    pub finding: String,
    /// Caption under the figure in the HTML: how it was computed.
    pub caption: String,
    /// The PNG's bytes (embedded in the HTML).
    pub png: Vec<u8>,
}

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to parse; should it not, text
        // falls back to plotters' error, reported by `render`.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Draws `plot` as `<dir>/<name>.svg` and `<dir>/<name>.png`.
///
/// # Errors
/// Plotting fails (named with the figure) or a file cannot be written.
pub(crate) fn render<P: Plot>(
    dir: &Path,
    name: &str,
    plot: &P,
    title: String,
    finding: String,
    caption: String,
) -> Result<Figure, ReportError> {
    fonts();
    let (w, h) = plot.size();
    let fail = |e: Box<dyn Error>| ReportError::Figure {
        name: name.to_owned(),
        problem: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.into()))?;
        plot.draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.into()))?;
    }
    write_bytes(&dir.join(format!("{name}.svg")), svg.as_bytes())?;
    let mut rgb = vec![0u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.into()))?;
        plot.draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.into()))?;
    }
    let png = super::png::encode(&rgb, w, h);
    write_bytes(&dir.join(format!("{name}.png")), &png)?;
    Ok(Figure {
        name: name.to_owned(),
        title,
        finding,
        caption,
        png,
    })
}

/// Colour of the `i`-th policy (Okabe–Ito, colour-blind safe; the
/// baseline, first, is grey).
pub(crate) fn colour(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(90, 90, 90),
        RGBColor(0, 114, 178),
        RGBColor(230, 159, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(213, 94, 0),
        RGBColor(86, 180, 233),
        RGBColor(240, 228, 66),
    ];
    P[i % P.len()]
}

/// Title font.
pub(crate) fn title_font() -> TextStyle<'static> {
    (FAMILY, 19).into_font().into()
}

/// Axis-description font.
pub(crate) fn label_font() -> TextStyle<'static> {
    (FAMILY, 15).into_font().into()
}

/// Tick-label font.
pub(crate) fn tick_font() -> TextStyle<'static> {
    (FAMILY, 13).into_font().into()
}

/// A value range padded by `pad` of its width on both sides (and never
/// empty).
pub(crate) fn padded(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let width = (hi - lo).max(hi.abs().max(1e-9) * 0.02);
    (lo - pad * width, hi + pad * width)
}

/// The label of a category axis tick at `x` (integers are categories).
pub(crate) fn category(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    names.get(i as usize).cloned().unwrap_or_default()
}

/// Days since the epoch `t0_us` → a `Mon DD` (or `YYYY-MM-DD`) date label.
pub(crate) fn date_label(t0_us: i64, days: f64, with_year: bool) -> String {
    let us = t0_us + (days * 86_400e6) as i64;
    chrono::DateTime::from_timestamp_micros(us).map_or_else(String::new, |t| {
        if with_year {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.format("%b %d").to_string()
        }
    })
}

/// `c` blended with white by `t` (0: unchanged, 1: white).
pub(crate) fn lighten(c: RGBColor, t: f64) -> RGBColor {
    let mix = |v: u8| {
        (f64::from(v) + (255.0 - f64::from(v)) * t)
            .round()
            .clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled band.
    Fill(RGBColor),
}

/// Legend width beside a plot, pixels.
pub(crate) const LEGEND_WIDTH: u32 = 330;

/// A legend drawn in its own column beside the plots, so it never covers
/// data.
pub(crate) fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Key)],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let font = tick_font();
    for (i, (label, key)) in entries.iter().enumerate() {
        let y = 40 + i32::try_from(i).unwrap_or(0) * 22;
        match *key {
            Key::Line(c) => {
                area.draw(&PathElement::new(vec![(6, y), (34, y)], c.stroke_width(3)))?;
            }
            Key::Dashed(c) => {
                area.draw(&PathElement::new(vec![(6, y), (15, y)], c.stroke_width(3)))?;
                area.draw(&PathElement::new(vec![(22, y), (34, y)], c.stroke_width(3)))?;
            }
            Key::Fill(c) => {
                area.draw(&Rectangle::new([(6, y - 7), (34, y + 7)], c.filled()))?;
                area.draw(&Rectangle::new([(6, y - 7), (34, y + 7)], BLACK.mix(0.3)))?;
            }
        }
        area.draw(&Text::new(label.clone(), (42, y - 8), font.clone()))?;
    }
    Ok(())
}

/// The series' legend inside the plot at `position`, on a light box.
pub(crate) fn inner_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .label_font(tick_font())
        .draw()?;
    Ok(())
}

/// Tick labels with as many decimals as an axis spanning `span` needs.
pub(crate) fn ticks(span: f64) -> impl Fn(&f64) -> String {
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    };
    move |v: &f64| {
        // Avoid "-0".
        let v = if v.abs() < 1e-12 { 0.0 } else { *v };
        format!("{v:.decimals$}")
    }
}

/// The colour of minor grid lines.
pub(crate) const LIGHT_GRID: RGBColor = RGBColor(243, 243, 243);

/// A file-name-safe form of `name`: lower case, runs of other characters
/// as one `-`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}
