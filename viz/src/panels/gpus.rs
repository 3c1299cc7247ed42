//! The plant's GPUs: IT power by use (P1 real-time inference, P2 batch,
//! P3 training, P4 interruptible, rental, idle with switching, off),
//! summed over the sites and stacked, and the job queues (P2, P3, P4 jobs
//! waiting) when the source has them — sweeps of `hcp.schema_version` 3
//! and the live twin do; older datasets say so.

use egui_plot::FilledArea;

use super::{Scrub, USE_COLOURS, View, columns, line, time_plot};
use crate::decimate::{mean_xs, means, min_max};
use crate::series::{GPU_USES, RunSeries, StackKey};

/// GPU power by use, and the queues.
pub fn gpu_panel(ui: &mut egui::Ui, view: &View, run: &RunSeries) -> Scrub {
    let range = view.range(run);
    let cols = columns(ui);
    let x_of = view.x_of(run);
    ui.label("GPUs — IT power by use, all sites, MW");
    let mut scrub = time_plot(ui, &format!("gpus-{}", view.link), view, "MW", |plot| {
        let key = StackKey {
            stack: "gpus",
            site: 0,
            range: range.clone(),
            columns: cols,
            x0_bits: x_of(0).to_bits(),
        };
        let (xs, layers) = run.stacked(key, || {
            let xs = mean_xs(range.clone(), cols, &x_of);
            let layers = (0..GPU_USES.len())
                .map(|k| {
                    means(
                        &run.plant_sum(range.clone(), |t| &t.gpu_mw[k]),
                        0..range.len(),
                        cols,
                        |i| x_of(i + range.start),
                    )
                    .1
                })
                .collect();
            (xs, layers)
        });
        let mut acc = vec![0.0; xs.len()];
        for (k, (name, layer)) in GPU_USES.iter().zip(&layers).enumerate() {
            if layer.iter().all(|v| *v == 0.0) {
                continue;
            }
            let bottom = acc.clone();
            for (a, v) in acc.iter_mut().zip(layer) {
                *a += v;
            }
            plot.add(
                FilledArea::new(format!("GPU {name}"), &xs, &bottom, &acc)
                    .fill_color(USE_COLOURS[k + 1].gamma_multiply(0.85)),
            );
        }
    });
    match &run.queued_jobs {
        Some(queues) => {
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
                    for (k, (name, q)) in ["P2 queued", "P3 queued", "P4 queued"]
                        .iter()
                        .zip(queues)
                        .enumerate()
                    {
                        plot.add(line(
                            name,
                            min_max(q, range.clone(), cols, &x_of),
                            USE_COLOURS[k + 2],
                            false,
                        ));
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
