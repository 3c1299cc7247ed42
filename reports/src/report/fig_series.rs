//! Figures over time, from the detail replication's `intervals`:
//! cumulative profit per policy, each site's stacked power by use in the
//! priciest week against the spot price, and hashprice with each site's
//! ASIC breakeven spot price.

use std::path::Path;

use hcp_contract::GpuUse;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{self, Drawn, Figure, Key, Plot, colour, date_label, padded};
use hcp_scenarios::sweep::BASELINE;

use super::load::{Detail, Intervals, ScenarioData, SiteSeries};
use super::stats::{musd, signed_musd};
use crate::error::ReportError;

/// A line: label, colour, points (days since the start, value).
type Line = (String, RGBColor, Vec<(f64, f64)>);

/// Averages of `values` over blocks of `k` (the last block may be short).
fn block_means(values: &[f64], k: usize) -> Vec<f64> {
    values
        .chunks(k.max(1))
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect()
}

fn days_of(site: &SiteSeries) -> Vec<f64> {
    let t0 = site.time_us.first().copied().unwrap_or(0);
    site.time_us
        .iter()
        .map(|&t| (t - t0) as f64 / 86_400e6)
        .collect()
}

/// Lines against calendar days, one panel.
struct LinePanel {
    y_desc: String,
    lines: Vec<Line>,
    dashed: Vec<Line>,
}

struct TimePlot {
    title: String,
    t0_us: i64,
    with_year: bool,
    panels: Vec<(LinePanel, f64)>,
}

impl TimePlot {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &LinePanel,
        last: bool,
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let all = p.lines.iter().chain(&p.dashed);
        let (x0, x1) = all
            .clone()
            .flat_map(|l| l.2.iter().map(|q| q.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        let (x0, x1) = if x0.is_finite() && x1 > x0 {
            (x0, x1)
        } else {
            (0.0, 1.0)
        };
        let (lo, hi) = padded(all.flat_map(|l| l.2.iter().map(|q| q.1)), 0.06);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(if last { 36 } else { 8 })
            .y_label_area_size(76)
            .build_cartesian_2d(x0..x1, lo..hi)?;
        let t0 = self.t0_us;
        let with_year = self.with_year;
        let y_ticks = chart::ticks(hi - lo);
        let dates = |d: &f64| {
            if last {
                date_label(t0, *d, with_year)
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(6)
            .light_line_style(chart::LIGHT_GRID)
            .y_label_formatter(&y_ticks)
            .y_desc(p.y_desc.as_str())
            .axis_desc_style(chart::label_font())
            .label_style(chart::tick_font())
            .x_label_formatter(&dates)
            .draw()?;
        for (_, c, points) in &p.dashed {
            chart.draw_series(DashedLineSeries::new(
                points.iter().copied(),
                6,
                4,
                c.stroke_width(2),
            ))?;
        }
        for (_, c, points) in &p.lines {
            chart.draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?;
        }
        Ok(())
    }
}

impl Plot for TimePlot {
    fn size(&self) -> (u32, u32) {
        (
            1000 + chart::LEGEND_WIDTH,
            if self.panels.len() > 1 { 680 } else { 560 },
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let titled = root.titled(&self.title, chart::title_font())?;
        let w = titled.dim_in_pixel().0;
        let (mut rest, side) = titled.split_horizontally(w.saturating_sub(chart::LEGEND_WIDTH));
        let entries: Vec<(String, Key)> = self
            .panels
            .iter()
            .flat_map(|(p, _)| {
                p.lines
                    .iter()
                    .map(|l| (l.0.clone(), Key::Line(l.1)))
                    .chain(p.dashed.iter().map(|l| (l.0.clone(), Key::Dashed(l.1))))
            })
            .collect();
        if entries.len() > 1 {
            chart::side_legend(&side, &entries)?;
        }
        let count = self.panels.len();
        for (k, (panel, share)) in self.panels.iter().enumerate() {
            let last = k + 1 == count;
            let area = if last {
                rest.clone()
            } else {
                let h = rest.dim_in_pixel().1;
                let (top, bottom) = rest.split_vertically((f64::from(h) * share) as u32);
                rest = bottom;
                top
            };
            self.panel(&area, panel, last)?;
        }
        Ok(())
    }
}

/// Profit of each interval (plant), USD: mining less energy at every
/// site, plus GPU revenue when the dataset has it.
fn interval_profit(iv: &Intervals) -> Vec<f64> {
    let n = iv.sites.iter().map(|s| s.time_us.len()).max().unwrap_or(0);
    let mut out = vec![0.0; n];
    for s in &iv.sites {
        for (k, slot) in out.iter_mut().enumerate() {
            *slot += s.mining_usd.get(k).copied().unwrap_or(0.0)
                - s.energy_usd.get(k).copied().unwrap_or(0.0);
        }
    }
    if let Some(ai) = &iv.ai_usd {
        for (slot, v) in out.iter_mut().zip(ai) {
            *slot += v;
        }
    }
    out
}

fn step_points(days: &[f64], values: &[f64], per_day: usize) -> Vec<(f64, f64)> {
    let k = (values.len() / (per_day * 400).max(1)).max(1);
    values
        .iter()
        .zip(days)
        .step_by(k)
        .map(|(v, d)| (*d, *v))
        .chain(values.last().zip(days.last()).map(|(v, d)| (*d, *v)))
        .collect()
}

fn per_day(data: &ScenarioData) -> usize {
    data.step_s
        .map_or(288, |s| (86_400.0 / s).round().max(1.0) as usize)
}

/// Cumulative profit over the detail replication, per policy.
pub fn cumulative(
    dir: &Path,
    data: &ScenarioData,
    detail: &Detail,
) -> Result<Option<Figure>, ReportError> {
    let Some(first) = detail
        .by_policy
        .first()
        .and_then(|(_, iv)| iv.sites.first())
    else {
        return Ok(None);
    };
    let days = days_of(first);
    let t0 = first.time_us.first().copied().unwrap_or(0);
    let with_ai = detail.by_policy.iter().all(|(_, iv)| iv.ai_usd.is_some());
    let mut lines = Vec::new();
    let mut ends = Vec::new();
    for (policy, iv) in &detail.by_policy {
        let i = data.policies.iter().position(|p| p == policy).unwrap_or(0);
        let mut total = 0.0;
        let cum: Vec<f64> = interval_profit(iv)
            .into_iter()
            .map(|v| {
                total += v;
                total / 1e6
            })
            .collect();
        ends.push((policy.clone(), total));
        lines.push((
            policy.clone(),
            colour(i),
            step_points(&days, &cum, per_day(data)),
        ));
    }
    let base = ends.iter().find(|e| e.0 == BASELINE).map(|e| e.1);
    let Some(best) = ends.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Ok(None);
    };
    let versus = match base {
        Some(b) if best.0 != BASELINE => format!(", {} vs {BASELINE}", signed_musd(best.1 - b)),
        _ => String::new(),
    };
    let title = format!(
        "Replication {}: {} ends with the most, {}{versus}",
        detail.replication,
        best.0,
        musd(best.1)
    );
    let what = if with_ai {
        "mining revenue + GPU revenue (gross) − energy"
    } else {
        "mining revenue − energy only (intervals of schema version 1 carry no GPU revenue)"
    };
    let plot = TimePlot {
        title: title.clone(),
        t0_us: t0,
        with_year: days.last().copied().unwrap_or(0.0) > 60.0,
        panels: vec![(
            LinePanel {
                y_desc: "cumulative profit (USD million)".to_owned(),
                lines,
                dashed: Vec::new(),
            },
            1.0,
        )],
    };
    chart::render(
        dir,
        &format!("{}-cumulative", data.name),
        &plot,
        title.clone(),
        format!("Cumulative profit over the horizon: {title} ({what})."),
        format!(
            "Cumulative {what}, summed over sites from the intervals table, for {}. Only the first detail replications have intervals; credits, demand-response and ancillary payments are booked as totals in runs and are not in these curves.",
            detail.rule
        ),
    )
    .map(Some)
}

/// The day-aligned week with the highest mean price (the whole series
/// when shorter), as an index range.
fn priciest_week(price: &[f64], per_day: usize) -> std::ops::Range<usize> {
    let week = 7 * per_day;
    if price.len() <= week {
        return 0..price.len();
    }
    let mut best = (f64::NEG_INFINITY, 0);
    let mut start = 0;
    while start + week <= price.len() {
        let s: f64 = price[start..start + week].iter().sum();
        if s > best.0 {
            best = (s, start);
        }
        start += per_day;
    }
    best.1..best.1 + week
}

struct PowerPlot {
    title: String,
    t0_us: i64,
    /// Stacked bands, bottom first: label, colour, values per hour (MW).
    bands: Vec<(String, RGBColor, Vec<f64>)>,
    cap: Vec<f64>,
    price: Vec<f64>,
    hours: Vec<f64>,
}

impl Plot for PowerPlot {
    fn size(&self) -> (u32, u32) {
        (1000 + chart::LEGEND_WIDTH, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let titled = root.titled(&self.title, chart::title_font())?;
        let w = titled.dim_in_pixel().0;
        let (area, side) = titled.split_horizontally(w.saturating_sub(chart::LEGEND_WIDTH));
        let mut entries: Vec<(String, Key)> = self
            .bands
            .iter()
            .rev()
            .map(|(label, c, _)| (label.clone(), Key::Fill(*c)))
            .collect();
        entries.push(("grid cap".to_owned(), Key::Dashed(BLACK)));
        entries.push((
            "spot price (lower panel)".to_owned(),
            Key::Line(RGBColor(213, 94, 0)),
        ));
        chart::side_legend(&side, &entries)?;
        let h = area.dim_in_pixel().1;
        let (top, bottom) = area.split_vertically((f64::from(h) * 0.66) as u32);
        let x1 = self.hours.last().copied().unwrap_or(1.0).max(1.0 / 24.0);
        let mut stack = vec![0.0; self.hours.len()];
        let mut layers = Vec::new();
        for (label, c, values) in &self.bands {
            let lower = stack.clone();
            for (s, v) in stack.iter_mut().zip(values) {
                *s += v.max(0.0);
            }
            layers.push((label, *c, lower, stack.clone()));
        }
        let hi = stack
            .iter()
            .chain(&self.cap)
            .copied()
            .fold(0.0_f64, f64::max)
            * 1.08;
        let t0 = self.t0_us;
        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(8)
            .y_label_area_size(76)
            .build_cartesian_2d(0.0..x1, 0.0..hi.max(1.0))?;
        let y_ticks = chart::ticks(hi);
        chart
            .configure_mesh()
            .x_labels(8)
            .light_line_style(chart::LIGHT_GRID)
            .y_label_formatter(&y_ticks)
            .x_label_formatter(&|_| String::new())
            .y_desc("facility power (MW)")
            .axis_desc_style(chart::label_font())
            .label_style(chart::tick_font())
            .draw()?;
        for (_, c, lower, upper) in layers.iter().rev() {
            let c = *c;
            let outline: Vec<(f64, f64)> = self
                .hours
                .iter()
                .zip(upper)
                .map(|(x, y)| (*x, *y))
                .chain(self.hours.iter().zip(lower).rev().map(|(x, y)| (*x, *y)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, c.filled())))?;
        }
        chart.draw_series(DashedLineSeries::new(
            self.hours.iter().copied().zip(self.cap.iter().copied()),
            6,
            4,
            BLACK.stroke_width(2),
        ))?;
        let (lo, phi) = padded(self.price.iter().copied(), 0.08);
        let p_ticks = chart::ticks(phi - lo);
        let mut chart = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(76)
            .build_cartesian_2d(0.0..x1, lo..phi)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|d| date_label(t0, *d, false))
            .y_labels(5)
            .light_line_style(chart::LIGHT_GRID)
            .y_label_formatter(&p_ticks)
            .y_desc("spot price (USD/MWh)")
            .axis_desc_style(chart::label_font())
            .label_style(chart::tick_font())
            .draw()?;
        chart.draw_series(LineSeries::new(
            self.hours.iter().copied().zip(self.price.iter().copied()),
            RGBColor(213, 94, 0).stroke_width(2),
        ))?;
        Ok(())
    }
}

/// The stacked bands of a site, bottom first, each sliced by `slice`:
/// ASIC hashing, GPU uses with power, cooling and losses, curtailed ASIC
/// power (the run's peak ASIC draw `peak_asic` less the current, × PUE).
fn site_bands(
    site: &SiteSeries,
    peak_asic: f64,
    slice: &dyn Fn(&[f64]) -> Vec<f64>,
) -> Vec<(String, RGBColor, Vec<f64>)> {
    let it: Vec<f64> = (0..site.asic_mw.len())
        .map(|i| site.asic_mw[i] + site.gpu_mw.iter().map(|g| g[i]).sum::<f64>())
        .collect();
    let overhead: Vec<f64> = site
        .facility_mw
        .iter()
        .zip(&it)
        .map(|(f, i)| (f - i).max(0.0))
        .collect();
    let pue = site.facility_mw.iter().sum::<f64>() / it.iter().sum::<f64>().max(1e-9);
    let curtailed: Vec<f64> = site
        .asic_mw
        .iter()
        .map(|a| (peak_asic - a).max(0.0) * pue)
        .collect();
    let mut bands = vec![(
        "ASIC hashing".to_owned(),
        RGBColor(230, 159, 0),
        slice(&site.asic_mw),
    )];
    let gpu_colours = [
        RGBColor(0, 114, 178),
        RGBColor(86, 180, 233),
        RGBColor(0, 158, 115),
        RGBColor(120, 200, 160),
        RGBColor(204, 121, 167),
        RGBColor(170, 170, 170),
        RGBColor(220, 220, 220),
    ];
    for (u, gpu_use) in GpuUse::ALL.iter().enumerate() {
        if gpu_use.name() == "off" || site.gpu_mw[u].iter().all(|&v| v <= 0.0) {
            continue;
        }
        let label = match gpu_use.name() {
            "idle" => "GPU idle / switching".to_owned(),
            "rental" => "GPU rental".to_owned(),
            other => format!("GPU {}", other.to_uppercase()),
        };
        bands.push((label, gpu_colours[u], slice(&site.gpu_mw[u])));
    }
    bands.push((
        "cooling and losses (PUE)".to_owned(),
        RGBColor(200, 200, 160),
        slice(&overhead),
    ));
    bands.push((
        "ASIC curtailed (below the run's peak)".to_owned(),
        RGBColor(235, 235, 235),
        slice(&curtailed),
    ));
    bands
}

/// Each site's stacked power by use in the priciest week, for the best
/// policy on mean profit.
pub fn power(
    dir: &Path,
    data: &ScenarioData,
    detail: &Detail,
    policy: &str,
) -> Result<Vec<Figure>, ReportError> {
    let Some((_, iv)) = detail.by_policy.iter().find(|(p, _)| p == policy) else {
        return Ok(Vec::new());
    };
    let peak_asic: Vec<f64> = iv
        .sites
        .iter()
        .map(|s| s.asic_mw.iter().copied().fold(0.0, f64::max))
        .collect();
    let pd = per_day(data);
    let hour = (pd / 24).max(1);
    let mut out = Vec::new();
    for (k, site) in iv.sites.iter().enumerate() {
        let range = priciest_week(&site.price, pd);
        let slice = |v: &[f64]| block_means(&v[range.clone()], hour);
        let bands = site_bands(site, peak_asic[k], &slice);
        let price = slice(&site.price);
        let facility = slice(&site.facility_mw);
        let hours: Vec<f64> = (0..price.len())
            .map(|h| h as f64 * hour as f64 / pd as f64)
            .collect();
        let (peak_i, peak) = price
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        let t0 = site.time_us.get(range.start).copied().unwrap_or(0);
        let mean_mw = facility.iter().sum::<f64>() / facility.len().max(1) as f64;
        let at_peak = facility.get(peak_i).copied().unwrap_or(0.0);
        let title = format!(
            "{} under {policy}, week of {}: at the ${peak:.0}/MWh price peak it draws {at_peak:.1} MW (week mean {mean_mw:.1} MW)",
            site.name,
            date_label(t0, 0.0, true)
        );
        let plot = PowerPlot {
            title: title.clone(),
            t0_us: t0,
            bands,
            cap: slice(&site.cap_mw),
            price,
            hours,
        };
        out.push(chart::render(
            dir,
            &format!("{}-power-{}", data.name, chart::slug(&site.name)),
            &plot,
            title.clone(),
            format!("Power by use at {}: {title}.", site.name),
            format!(
                "Facility power of site {} by use, hourly means, under {policy} (the highest mean profit) in {}; the week shown is the day-aligned 7 days with the highest mean spot price at the site's node. Curtailed ASIC power is the run's peak ASIC draw less the current one (× PUE), not an installed rating, which the dataset does not carry.",
                site.name, detail.rule
            ),
        )?);
    }
    Ok(out)
}

/// A site's fleet efficiency (J/TH), PUE, breakeven spot price per
/// interval (USD/MWh, net of the pool fee) and the share of intervals the
/// spot price was above it; `None` for a site without ASIC power.
fn breakeven_of(s: &SiteSeries, dt_days: f64) -> Option<(f64, f64, Vec<f64>, f64)> {
    let asic: f64 = s.asic_mw.iter().sum();
    let hash: f64 = s.hashrate_phs.iter().sum();
    if asic <= 0.0 || hash <= 0.0 {
        return None;
    }
    // W per TH/s = J/TH.
    let j_per_th = asic * 1e6 / (hash * 1e3);
    let it: f64 = (0..s.asic_mw.len())
        .map(|i| s.asic_mw[i] + s.gpu_mw.iter().map(|g| g[i]).sum::<f64>())
        .sum();
    let pue = s.facility_mw.iter().sum::<f64>() / it.max(1e-9);
    // Net of pool fee: mining revenue over gross hashprice × hashrate.
    let gross: f64 = (0..s.hashprice.len())
        .map(|i| s.hashprice[i] * s.hashrate_phs[i] * 1e3 * dt_days)
        .sum();
    let net = if gross > 0.0 {
        s.mining_usd.iter().sum::<f64>() / gross
    } else {
        1.0
    };
    let be: Vec<f64> = s
        .hashprice
        .iter()
        .map(|h| h * net / (j_per_th * 24e-6 * pue))
        .collect();
    let above =
        s.price.iter().zip(&be).filter(|(p, b)| p > b).count() as f64 / s.price.len().max(1) as f64;
    Some((j_per_th, pue, be, above))
}

/// Hashprice and each site's ASIC breakeven spot price over time.
pub fn hashprice(
    dir: &Path,
    data: &ScenarioData,
    detail: &Detail,
) -> Result<Option<Figure>, ReportError> {
    let Some((policy, iv)) = detail
        .by_policy
        .iter()
        .find(|(p, _)| p == BASELINE)
        .or(detail.by_policy.first())
    else {
        return Ok(None);
    };
    let Some(first) = iv.sites.first() else {
        return Ok(None);
    };
    let pd = per_day(data);
    let dt_days = 1.0 / pd as f64;
    let days: Vec<f64> = block_means(&days_of(first), pd);
    let hp_ph: Vec<f64> = first.hashprice.iter().map(|v| v * 1000.0).collect();
    let hp: Vec<(f64, f64)> = days.iter().copied().zip(block_means(&hp_ph, pd)).collect();
    let mut breakeven = Vec::new();
    let mut spot = Vec::new();
    let mut parts = Vec::new();
    for (k, s) in iv.sites.iter().enumerate() {
        let Some((j_per_th, pue, be, above)) = breakeven_of(s, dt_days) else {
            continue;
        };
        let daily = block_means(&be, pd);
        let lo = daily.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = daily.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        parts.push(format!(
            "{} ${lo:.0}–{hi:.0}/MWh (spot above it {:.1} % of intervals)",
            s.name,
            100.0 * above
        ));
        breakeven.push((
            format!("breakeven {} ({j_per_th:.1} J/TH, PUE {pue:.2})", s.name),
            colour(k + 1),
            days.iter().copied().zip(daily).collect(),
        ));
        spot.push((
            format!("spot {} (daily mean)", s.name),
            chart::lighten(colour(k + 1), 0.45),
            days.iter()
                .copied()
                .zip(block_means(&s.price, pd))
                .collect(),
        ));
    }
    if breakeven.is_empty() {
        return Ok(None);
    }
    let title = format!("ASIC breakeven spot price: {}", parts.join("; "));
    let short_title = if title.len() > 110 {
        format!(
            "ASIC breakeven spot price at {} sites vs spot (ranges in the caption)",
            parts.len()
        )
    } else {
        title.clone()
    };
    let plot = TimePlot {
        title: short_title.clone(),
        t0_us: first.time_us.first().copied().unwrap_or(0),
        with_year: days.last().copied().unwrap_or(0.0) > 60.0,
        panels: vec![
            (
                LinePanel {
                    y_desc: "hashprice (USD/PH/s/day)".to_owned(),
                    lines: vec![("hashprice".to_owned(), RGBColor(0, 0, 0), hp)],
                    dashed: Vec::new(),
                },
                0.38,
            ),
            (
                LinePanel {
                    y_desc: "USD/MWh".to_owned(),
                    lines: breakeven,
                    dashed: spot,
                },
                0.62,
            ),
        ],
    };
    chart::render(
        dir,
        &format!("{}-hashprice", data.name),
        &plot,
        short_title,
        format!("{title}."),
        format!(
            "Daily means from {policy}'s intervals of {}. The dataset carries no per-model ASIC specs, so each site's breakeven is at its fleet's average efficiency derived from the intervals (Σ asic_mw ÷ Σ hashrate_phs, in J/TH) and its PUE (Σ facility_mw ÷ Σ IT MW): breakeven = hashprice × (1 − pool fee) ÷ (J/TH × 24 h × PUE), the fee share measured as mining_usd ÷ (hashprice × hashrate).",
            detail.rule
        ),
    )
    .map(Some)
}
