//! The report's tables as rows of text cells, shared by the HTML and the
//! Markdown writers: the policy comparison (profit, paired uplift, CVaR,
//! % of oracle) and revenue and cost by stream (means over replications).

use hcp_models::ledger::Stream;
use hcp_scenarios::sweep::{CLAIRVOYANT, Estimate, Summary};

use super::stats::{musd, signed_musd};

/// A table: header cells, then rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column headers.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

fn with_ci(e: &Estimate, f: fn(f64) -> String) -> String {
    if e.n < 2 {
        f(e.mean)
    } else {
        format!("{} [{}, {}]", f(e.mean), f(e.ci_low), f(e.ci_high))
    }
}

/// A policy's name as the tables show it: the clairvoyant reference is
/// marked as the diagnostic it is.
fn shown_name(policy: &str) -> String {
    if policy == CLAIRVOYANT {
        format!("{policy} (diagnostic: sees the future)")
    } else {
        policy.to_owned()
    }
}

/// The policy comparison (with a "% of clairvoyant mpc" column when the
/// clairvoyant reference ran).
pub fn comparison(sum: &Summary) -> Table {
    let with_clairvoyant = sum.policies.iter().any(|p| p.pct_of_clairvoyant.is_some());
    let mut rows: Vec<Vec<String>> = sum
        .policies
        .iter()
        .map(|p| {
            let mut row = vec![
                shown_name(&p.policy),
                with_ci(&p.profit_usd, musd),
                p.uplift_usd
                    .as_ref()
                    .map_or_else(|| "baseline".to_owned(), |u| with_ci(u, signed_musd)),
                musd(p.cvar5_usd),
                p.pct_of_oracle
                    .map_or_else(|| "—".to_owned(), |e| format!("{:.1} %", e.mean)),
                p.worst_pct_of_oracle
                    .map_or_else(|| "—".to_owned(), |w| format!("{w:.1} %")),
            ];
            if with_clairvoyant {
                row.push(
                    p.pct_of_clairvoyant
                        .as_ref()
                        .map_or_else(|| "—".to_owned(), |e| with_ci(e, |v| format!("{v:.1} %"))),
                );
            }
            row
        })
        .collect();
    if let Some(o) = &sum.oracle_usd {
        let mut row = vec![
            "oracle (bound)".to_owned(),
            with_ci(o, musd),
            "—".to_owned(),
            "—".to_owned(),
            "100 %".to_owned(),
            "—".to_owned(),
        ];
        if with_clairvoyant {
            row.push("—".to_owned());
        }
        rows.push(row);
    }
    let mut header: Vec<String> = [
        "policy",
        "mean profit [95 % CI]",
        format!("uplift vs {} [95 % CI]", sum.baseline).as_str(),
        "CVaR 5 %",
        "% of oracle (mean)",
        "% of oracle (worst)",
    ]
    .map(str::to_owned)
    .to_vec();
    if with_clairvoyant {
        header.push("% of clairvoyant mpc [95 % CI]".to_owned());
    }
    Table { header, rows }
}

/// mpc's regret against the oracle split at the clairvoyant reference
/// (absent unless mpc, the reference and the oracle all ran).
pub fn regret_split(sum: &Summary) -> Option<Table> {
    let split = sum.mpc_regret_split.as_ref()?;
    let row = |what: &str, e: &Estimate| vec![what.to_owned(), with_ci(e, musd)];
    Some(Table {
        header: [
            "mpc's regret vs the oracle",
            "USD per replication [95 % CI]",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: vec![
            row("regret (oracle − mpc)", &split.regret_usd),
            row(
                "forecast error (clairvoyant mpc − mpc)",
                &split.forecast_error_usd,
            ),
            row(
                "structure and relaxation (oracle − clairvoyant mpc)",
                &split.structure_and_relaxation_usd,
            ),
        ],
    })
}

/// Revenue and cost by stream, means over replications (costs as positive
/// amounts, their header marked "−"), with revenue, cost and profit totals;
/// streams that are zero for every policy are left out.
pub fn streams(sum: &Summary) -> Table {
    let mut header = vec!["policy".to_owned()];
    let shown: Vec<Stream> = Stream::ALL
        .into_iter()
        .filter(|s| {
            sum.policies
                .iter()
                .any(|p| p.streams_usd.get(s.name()).is_some_and(|v| *v != 0.0))
        })
        .collect();
    for s in &shown {
        header.push(format!(
            "{} ({})",
            s.name().replace('_', " "),
            if s.is_revenue() { "+" } else { "−" }
        ));
    }
    header.extend(["revenue", "costs", "profit"].map(str::to_owned));
    let rows = sum
        .policies
        .iter()
        .map(|p| {
            let get = |s: Stream| p.streams_usd.get(s.name()).copied().unwrap_or(0.0);
            let mut row = vec![shown_name(&p.policy)];
            for s in &shown {
                row.push(musd(get(*s)));
            }
            let revenue: f64 = Stream::ALL
                .into_iter()
                .filter(|s| s.is_revenue())
                .map(get)
                .sum();
            let costs: f64 = Stream::ALL
                .into_iter()
                .filter(|s| !s.is_revenue())
                .map(get)
                .sum();
            row.push(musd(revenue));
            row.push(musd(costs));
            row.push(musd(p.profit_usd.mean));
            row
        })
        .collect();
    Table { header, rows }
}
