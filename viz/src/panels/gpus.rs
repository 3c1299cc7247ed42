//! The plant's GPUs: IT power by use (P1 real-time inference, P2 batch,
//! P3 training, P4 interruptible, rental, idle with switching, off),
//! summed over the sites and stacked, and the job queues (P2, P3, P4 jobs
//! waiting) when the source has them — sweeps of `hcp.schema_version` 3
//! and the live twin do; older datasets say so.

use egui_plot::FilledArea;

use super::{Scrub, USE_COLOURS, View, columns, line, time_plot};
use crate::decimate::{mean_xs, means, min_max};
use crate::series::{GPU_USES, RunSeries};

/// The plant's GPU power of one use per interval, MW.
pub fn plant_gpu_mw(run: &RunSeries, k: usize) -> Vec<f64> {
    let n = run.len();
    let mut out = vec![0.0; n];
    for t in &run.sites {
        for (o, v) in out.iter_mut().zip(&t.gpu_mw[k]) {
            if !v.is_nan() {
                *o += v;
            }
        }
    }
    out
}

/// The plant's GPU power of one use over `range` of the intervals, MW.
pub fn plant_gpu_mw_over(run: &RunSeries, k: usize, range: std::ops::Range<usize>) -> Vec<f64> {
    let mut out = vec![0.0; range.len()];
    for t in &run.sites {
        let column = &t.gpu_mw[k];
        let r = range.start.min(column.len())..range.end.min(column.len());
        for (o, v) in out.iter_mut().zip(&column[r]) {
            if !v.is_nan() {
                *o += v;
            }
        }
    }
    out
}

/// GPU power by use, and the queues.
pub fn gpu_panel(ui: &mut egui::Ui, view: &View, run: &RunSeries) -> Scrub {
    let range = view.range(run);
    let cols = columns(ui);
    let x_of = view.x_of(run);
    let xs = mean_xs(range.clone(), cols, &x_of);
    let mut acc = vec![0.0; xs.len()];
    let mut areas = Vec::new();
    for (k, name) in GPU_USES.iter().enumerate() {
        let layer = means(
            &plant_gpu_mw_over(run, k, range.clone()),
            0..range.len(),
            cols,
            |i| x_of(i + range.start),
        )
        .1;
        if layer.iter().all(|v| *v == 0.0) {
            continue;
        }
        let bottom = acc.clone();
        for (a, v) in acc.iter_mut().zip(&layer) {
            *a += v;
        }
        areas.push(
            FilledArea::new(format!("GPU {name}"), &xs, &bottom, &acc)
                .fill_color(USE_COLOURS[k + 1].gamma_multiply(0.85)),
        );
    }
    ui.label("GPUs — IT power by use, all sites, MW");
    let mut scrub = time_plot(ui, &format!("gpus-{}", view.link), view, "MW", |plot| {
        for a in areas {
            plot.add(a);
        }
    });
    match &run.queued_jobs {
        Some(queues) => {
            let lines: Vec<_> = ["P2 queued", "P3 queued", "P4 queued"]
                .iter()
                .zip(queues)
                .enumerate()
                .map(|(k, (name, q))| {
                    line(
                        name,
                        min_max(q, range.clone(), cols, &x_of),
                        USE_COLOURS[k + 2],
                        false,
                    )
                })
                .collect();
            ui.label("Job queues — jobs waiting at each interval's end");
            let h = View {
                height: view.height * 0.6,
                ..*view
            };
            scrub = scrub.or(time_plot(
                ui,
                &format!("queues-{}", view.link),
                &h,
                "jobs",
                |plot| {
                    for l in lines {
                        plot.add(l);
                    }
                },
            ));
        }
        None => {
            ui.weak("Job queues: not in this dataset (written before hcp.schema_version 3).");
        }
    }
    scrub
}
