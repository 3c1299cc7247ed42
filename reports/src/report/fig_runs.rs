//! Figures over replications, from `runs`: the profit distribution per
//! policy, the paired uplift over mining-only with % of oracle, and GPU
//! SLA attainment per class.

use std::path::Path;

use hcp_models::describe::quantile_sorted;
use hcp_models::ledger::Stream;
use hcp_scenarios::sweep::Summary;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::chart::{self, Drawn, Figure, Plot, category, colour, padded};
use hcp_scenarios::sweep::BASELINE;

use super::load::ScenarioData;
use super::stats::{self, musd, signed_musd};
use crate::error::ReportError;

/// Type-7 quantile of sorted values.
fn category_mesh<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    names: &[String],
    y_desc: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let span = chart.y_range().end - chart.y_range().start;
    let y_ticks = chart::ticks(span);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(chart::LIGHT_GRID)
        .x_labels(names.len().max(1))
        .x_label_formatter(&|x| category(names, *x))
        .y_label_formatter(&y_ticks)
        .y_desc(y_desc)
        .axis_desc_style(chart::label_font())
        .label_style(chart::tick_font())
        .draw()?;
    Ok(())
}

struct ProfitPlot {
    title: String,
    policies: Vec<String>,
    /// Profits in USD million, per policy.
    values: Vec<Vec<f64>>,
    baseline_mean: Option<f64>,
    unit: String,
}

impl Plot for ProfitPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let area = root.titled(&self.title, chart::title_font())?;
        let n = self.policies.len();
        let (lo, hi) = padded(self.values.iter().flatten().copied(), 0.12);
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..hi)?;
        category_mesh(&mut chart, &self.policies, &self.unit)?;
        for (i, values) in self.values.iter().enumerate() {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let x = i as f64;
            let c = colour(i);
            let (q1, q2, q3) = (
                quantile_sorted(&sorted, 0.25),
                quantile_sorted(&sorted, 0.5),
                quantile_sorted(&sorted, 0.75),
            );
            let (min, max) = (
                sorted.first().copied().unwrap_or(0.0),
                sorted.last().copied().unwrap_or(0.0),
            );
            chart.draw_series([
                Rectangle::new([(x - 0.25, q1), (x + 0.25, q3)], c.mix(0.25).filled()),
                Rectangle::new([(x - 0.25, q1), (x + 0.25, q3)], c.stroke_width(2)),
            ])?;
            chart.draw_series([
                PathElement::new(vec![(x - 0.25, q2), (x + 0.25, q2)], c.stroke_width(3)),
                PathElement::new(vec![(x, min), (x, q1)], c.stroke_width(1)),
                PathElement::new(vec![(x, q3), (x, max)], c.stroke_width(1)),
                PathElement::new(vec![(x - 0.1, min), (x + 0.1, min)], c.stroke_width(1)),
                PathElement::new(vec![(x - 0.1, max), (x + 0.1, max)], c.stroke_width(1)),
            ])?;
            let k = values.len().max(1) as f64;
            let series = chart.draw_series(values.iter().enumerate().map(|(j, &v)| {
                // Spread the replications' dots evenly across the box.
                let dx = 0.3 * ((j as f64 + 0.5) / k - 0.5);
                Circle::new((x + dx, v), 3, BLACK.mix(0.7).filled())
            }))?;
            if i == 0 {
                series
                    .label("one replication")
                    .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.mix(0.7).filled()));
            }
        }
        if let Some(b) = self.baseline_mean {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(-0.5, b), (n as f64 - 0.5, b)],
                    8,
                    5,
                    colour(0).stroke_width(2),
                ))?
                .label(format!("{BASELINE} mean ({b:.1})"))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour(0).stroke_width(2))
                });
        }
        chart::inner_legend(&mut chart, self.legend_corner(lo, hi))?;
        Ok(())
    }
}

impl ProfitPlot {
    /// The corner whose edge policy's dots and the baseline line are
    /// farthest away: the side of the axis away from the baseline mean,
    /// then the left or right edge with more room.
    fn legend_corner(&self, lo: f64, hi: f64) -> SeriesLabelPosition {
        let mid = 0.5 * (lo + hi);
        let upper = self.baseline_mean.unwrap_or(mid) < mid;
        // Room between the legend's edge of the axis and an edge policy's dots.
        let room = |values: Option<&Vec<f64>>| {
            let values = values.map_or(&[][..], Vec::as_slice);
            if upper {
                hi - values.iter().copied().fold(lo, f64::max)
            } else {
                values.iter().copied().fold(hi, f64::min) - lo
            }
        };
        let left = room(self.values.first()) >= room(self.values.last());
        match (upper, left) {
            (true, true) => SeriesLabelPosition::UpperLeft,
            (true, false) => SeriesLabelPosition::UpperRight,
            (false, true) => SeriesLabelPosition::LowerLeft,
            (false, false) => SeriesLabelPosition::LowerRight,
        }
    }
}

/// The profit distribution per policy.
pub fn profit(dir: &Path, data: &ScenarioData, sum: &Summary) -> Result<Figure, ReportError> {
    let by = stats::profits(data);
    let values: Vec<Vec<f64>> = data
        .policies
        .iter()
        .map(|p| {
            by.get(p.as_str())
                .map(|m| m.values().map(|v| v / 1e6).collect())
                .unwrap_or_default()
        })
        .collect();
    let best = sum
        .policies
        .iter()
        .max_by(|a, b| a.profit_usd.mean.total_cmp(&b.profit_usd.mean));
    let title = best.map_or_else(String::new, |b| {
        format!(
            "{} has the highest mean profit: {} (95 % CI {} to {})",
            b.policy,
            musd(b.profit_usd.mean),
            musd(b.profit_usd.ci_low),
            musd(b.profit_usd.ci_high)
        )
    });
    let base = sum.policies.iter().find(|p| p.policy == BASELINE);
    let finding = format!(
        "Profit per replication: {title}{}.",
        base.map_or_else(String::new, |b| format!(
            "; {BASELINE} averages {}",
            musd(b.profit_usd.mean)
        ))
    );
    let plot = ProfitPlot {
        title: title.clone(),
        policies: data.policies.clone(),
        values,
        baseline_mean: base.map(|b| b.profit_usd.mean / 1e6),
        unit: format!("profit (USD million {})", stats::per_run(data)),
    };
    chart::render(
        dir,
        &format!("{}-profit", data.name),
        &plot,
        title,
        finding,
        format!(
            "Profit of each replication (dots), box from the 25th to the 75th percentile with the median, whiskers to the extremes; {} replications; dashed: {BASELINE}'s mean.",
            data.replications.len()
        ),
    )
}

struct UpliftPlot {
    title: String,
    /// (policy, colour index, mean, low, high) in USD million.
    uplift: Vec<(String, usize, f64, f64, f64)>,
    /// (policy, colour index, mean, low, high, worst) in %.
    oracle: Vec<(String, usize, f64, f64, f64, f64)>,
    unit: String,
}

impl Plot for UpliftPlot {
    fn size(&self) -> (u32, u32) {
        (if self.oracle.is_empty() { 1000 } else { 1240 }, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let area = root.titled(&self.title, chart::title_font())?;
        let (left, right) = if self.oracle.is_empty() {
            (area.clone(), None)
        } else {
            let (l, r) = area.split_horizontally((50).percent_width());
            (l, Some(r))
        };
        let names: Vec<String> = self.uplift.iter().map(|u| u.0.clone()).collect();
        let n = names.len();
        let (lo, hi) = padded(
            self.uplift
                .iter()
                .flat_map(|u| [u.3, u.4])
                .chain(std::iter::once(0.0)),
            0.12,
        );
        let mut chart = ChartBuilder::on(&left)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n.max(1) as f64 - 0.5), lo..hi)?;
        category_mesh(&mut chart, &names, &self.unit)?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            colour(0).stroke_width(2),
        )))?;
        for (i, (_, c, mean, low, high)) in self.uplift.iter().enumerate() {
            let x = i as f64;
            let style = colour(*c).stroke_width(2);
            chart.draw_series([ErrorBar::new_vertical(x, *low, *mean, *high, style, 16)])?;
        }
        if let Some(right) = right {
            let names: Vec<String> = self.oracle.iter().map(|u| u.0.clone()).collect();
            let n = names.len();
            let (lo, _) = padded(self.oracle.iter().flat_map(|u| [u.3, u.5]), 0.15);
            let mut chart = ChartBuilder::on(&right)
                .margin(14)
                .x_label_area_size(36)
                .y_label_area_size(60)
                .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo.min(95.0)..100.5)?;
            category_mesh(&mut chart, &names, "profit as % of the oracle's bound")?;
            for (i, (_, c, mean, low, high, worst)) in self.oracle.iter().enumerate() {
                let x = i as f64;
                let style = colour(*c).stroke_width(2);
                chart.draw_series([ErrorBar::new_vertical(x, *low, *mean, *high, style, 16)])?;
                let s = chart.draw_series([TriangleMarker::new((x, *worst), 5, BLACK)])?;
                if i == 0 {
                    s.label("worst replication")
                        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 5, BLACK));
                }
            }
            chart::inner_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}

/// Paired uplift over the baseline, and % of oracle, per policy.
pub fn uplift(
    dir: &Path,
    data: &ScenarioData,
    sum: &Summary,
) -> Result<Option<Figure>, ReportError> {
    let uplift: Vec<(String, usize, f64, f64, f64)> = sum
        .policies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let u = p.uplift_usd?;
            Some((
                p.policy.clone(),
                i,
                u.mean / 1e6,
                u.ci_low / 1e6,
                u.ci_high / 1e6,
            ))
        })
        .collect();
    if uplift.is_empty() {
        return Ok(None);
    }
    let oracle: Vec<(String, usize, f64, f64, f64, f64)> = sum
        .policies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let e = p.pct_of_oracle?;
            Some((
                p.policy.clone(),
                i,
                e.mean,
                e.ci_low,
                e.ci_high,
                p.worst_pct_of_oracle?,
            ))
        })
        .collect();
    let Some(best) = sum
        .policies
        .iter()
        .filter_map(|p| Some((p, p.uplift_usd?)))
        .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean))
    else {
        return Ok(None);
    };
    let (p, u) = best;
    let title = format!(
        "{} earns {} over {BASELINE} (95 % CI {} to {})",
        p.policy,
        signed_musd(u.mean),
        signed_musd(u.ci_low),
        signed_musd(u.ci_high)
    );
    let oracle_text = p.pct_of_oracle.map_or_else(String::new, |e| {
        format!(", {:.1} % of the oracle's bound", e.mean)
    });
    let finding = format!(
        "Paired uplift: {title} on the same {} replications{oracle_text}.",
        u.n
    );
    let plot = UpliftPlot {
        title: title.clone(),
        uplift,
        oracle,
        unit: format!(
            "uplift over {BASELINE} (USD million {})",
            stats::per_run(data)
        ),
    };
    chart::render(
        dir,
        &format!("{}-uplift", data.name),
        &plot,
        title,
        finding,
        format!(
            "Left: profit minus {BASELINE}'s on the same replication (same seed), mean and 95 % Student-t CI over the paired differences. Right: profit as % of the perfect-foresight oracle's bound on the same tape, mean with 95 % CI, triangle the worst replication."
        ),
    )
    .map(Some)
}

struct SlaPlot {
    title: String,
    policies: Vec<String>,
    /// Per class: (label, values per policy in %).
    classes: Vec<(String, Vec<Option<f64>>)>,
}

impl Plot for SlaPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let area = root.titled(&self.title, chart::title_font())?;
        let n = self.policies.len();
        let (lo, _) = padded(
            self.classes
                .iter()
                .flat_map(|c| c.1.iter().flatten().copied()),
            0.3,
        );
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo.clamp(0.0, 99.0)..100.4)?;
        category_mesh(&mut chart, &self.policies, "attainment (%)")?;
        let shapes = [
            RGBColor(0, 114, 178),
            RGBColor(213, 94, 0),
            RGBColor(0, 158, 115),
        ];
        let k = self.classes.len() as f64;
        for (j, (label, values)) in self.classes.iter().enumerate() {
            let c = shapes[j % shapes.len()];
            let dx = 0.5 * ((j as f64 + 0.5) / k - 0.5);
            chart
                .draw_series(values.iter().enumerate().filter_map(|(i, v)| {
                    v.map(|v| Circle::new((i as f64 + dx, v), 6, c.filled()))
                }))?
                .label(label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, c.filled()));
            chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
                v.map(|v| {
                    PathElement::new(
                        vec![(i as f64 + dx, lo.clamp(0.0, 99.0)), (i as f64 + dx, v)],
                        c.mix(0.5).stroke_width(2),
                    )
                })
            }))?;
        }
        chart::inner_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}

/// GPU SLA attainment per class per policy (P1 SLA %, P2 on-time %).
pub fn sla(dir: &Path, data: &ScenarioData) -> Result<Option<Figure>, ReportError> {
    // Policies that earn nothing from GPUs serve no customer: their 0 %
    // would only squash the axis, so they are named in the caption instead.
    let gpu = |r: &crate::RunRow| {
        [
            Stream::AiInference,
            Stream::AiTraining,
            Stream::AiInterruptible,
            Stream::GpuRental,
        ]
        .iter()
        .map(|s| r.streams_usd[s.index()].abs())
        .sum::<f64>()
    };
    let (serving, idle): (Vec<String>, Vec<String>) = data
        .policies
        .iter()
        .cloned()
        .partition(|p| data.runs.iter().any(|r| &r.policy == p && gpu(r) > 0.0));
    let per_policy = |get: fn(&crate::RunRow) -> Option<f64>| -> Vec<Option<f64>> {
        serving
            .iter()
            .map(|p| {
                let v: Vec<f64> = data
                    .runs
                    .iter()
                    .filter(|r| &r.policy == p)
                    .filter_map(get)
                    .collect();
                (!v.is_empty()).then(|| stats::mean(v))
            })
            .collect()
    };
    let classes = vec![
        (
            "P1 real-time: SLA attainment".to_owned(),
            per_policy(|r| r.p1_sla_pct),
        ),
        (
            "P2 batch: on time".to_owned(),
            per_policy(|r| r.p2_on_time_pct),
        ),
    ];
    if classes.iter().all(|c| c.1.iter().all(Option::is_none)) {
        return Ok(None);
    }
    let worst = |k: usize| {
        serving
            .iter()
            .zip(&classes[k].1)
            .filter_map(|(p, v)| Some((p, (*v)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let mut parts = Vec::new();
    if let Some((p, v)) = worst(0) {
        parts.push(format!("lowest P1 SLA attainment {v:.1} % ({p})"));
    }
    if let Some((p, v)) = worst(1) {
        parts.push(format!("lowest P2 on-time share {v:.1} % ({p})"));
    }
    let title = format!("GPU service: {}", parts.join(", "));
    let left_out = if idle.is_empty() {
        String::new()
    } else {
        format!(
            " Not shown: {} (no GPU revenue, so no customer served).",
            idle.join(", ")
        )
    };
    let plot = SlaPlot {
        title: title.clone(),
        policies: serving.clone(),
        classes,
    };
    chart::render(
        dir,
        &format!("{}-sla", data.name),
        &plot,
        title.clone(),
        format!("{title}, mean over replications."),
        format!("Mean over replications of runs.p1_sla_pct (share of P1 requests in intervals whose p99 wait met the customer's target) and runs.p2_on_time_pct (P2 jobs finished by their deadline); the axis starts above zero to separate values near 100 %.{left_out}"),
    )
    .map(Some)
}
