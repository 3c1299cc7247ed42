//! `summary.md`: per scenario its replications and seed, what is missing,
//! the comparison and stream tables, one sentence per figure and the
//! figure files.

use std::fmt::Write as _;

use super::Section;
use super::tables::Table;

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "| {} |", t.header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        t.header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    for row in &t.rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// The Markdown summary of every section.
pub fn summary(sections: &[Section]) -> String {
    let mut out = String::from("# HCP Twin sweep report\n\n");
    for s in sections {
        let _ = writeln!(out, "## Scenario `{}`\n", s.data.name);
        let _ = writeln!(out, "{}\n", s.header_line());
        if !s.data.notes.is_empty() {
            out.push_str("**What is missing or odd in this dataset:**\n\n");
            for n in &s.data.notes {
                let _ = writeln!(out, "- {n}");
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "### Comparison (USD {}, 95 % Student-t CIs; uplift paired by replication)\n",
            s.per_run
        );
        table(&mut out, &s.comparison);
        let _ = writeln!(
            out,
            "### Revenue and cost by stream (mean USD {})\n",
            s.per_run
        );
        table(&mut out, &s.streams);
        if let Some(split) = &s.regret_split {
            let _ = writeln!(
                out,
                "### What mpc's regret is made of (USD {}; paired by replication; mpc-clairvoyant is mpc shown the true prices, a diagnostic)\n",
                s.per_run
            );
            table(&mut out, split);
        }
        out.push_str("### Figures\n\n");
        for f in &s.figures {
            let _ = writeln!(
                out,
                "- {} ([{name}.svg]({name}.svg), [{name}.png]({name}.png))",
                f.finding,
                name = f.name
            );
        }
        out.push('\n');
    }
    out
}
