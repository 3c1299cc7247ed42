//! The summary tab: per scenario, the policy comparison — mean profit
//! with its 95 % CI, paired uplift over the baseline, CVaR 5 %, % of the
//! oracle — and revenue and cost by stream: the tables `hcp sweep` and
//! `hcp report` print, from the same code ([`crate::summary`]).

use egui::{Grid, RichText};
use hcp_reports::report::tables::Table;

use crate::summary::SummaryView;

fn table(ui: &mut egui::Ui, id: &str, t: &Table) {
    Grid::new(id)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in &t.header {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for row in &t.rows {
                for cell in row {
                    ui.label(cell);
                }
                ui.end_row();
            }
        });
}

/// The summary of every scenario, or why there is none.
pub fn summary_tab(ui: &mut egui::Ui, summary: Option<&SummaryView>, loading: bool) {
    let Some(summary) = summary else {
        ui.label(if loading {
            "Reading the sweep's runs…"
        } else {
            "No summary: this source is not a sweep's dataset."
        });
        return;
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        for s in &summary.scenarios {
            ui.heading(format!("Scenario {}", s.scenario));
            ui.label(&s.header);
            ui.label(format!("Policy comparison (USD {}):", s.per_run));
            table(ui, &format!("cmp-{}", s.scenario), &s.comparison);
            ui.add_space(6.0);
            ui.label("Revenue and cost by stream (means over replications):");
            table(ui, &format!("streams-{}", s.scenario), &s.streams);
            for n in &s.notes {
                ui.weak(format!("note: {n}"));
            }
            ui.separator();
        }
    });
}
