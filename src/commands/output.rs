//! Plain-text tables shared by commands that print validation checks.

use hcp_models::check::{Check, ToleranceKind};

/// Prints checks grouped by model, one line each, with the sources listed
/// once under the table.
pub fn print_checks(checks: &[Check]) {
    let mut sources: Vec<&str> = Vec::new();
    let mut group = "";
    println!(
        "{:<44} {:>14} {:>14} {:>10} {:>9}  result  src",
        "check", "model", "reference", "deviation", "tol."
    );
    for c in checks {
        if c.group != group {
            group = &c.group;
            println!("{group}");
        }
        let source = sources
            .iter()
            .position(|s| *s == c.source)
            .unwrap_or_else(|| {
                sources.push(&c.source);
                sources.len() - 1
            });
        let (deviation, tolerance) = match c.tolerance_kind {
            ToleranceKind::Relative => (
                format!("{:+.1}%", c.deviation() * 100.0),
                format!("{:.1}%", c.tolerance * 100.0),
            ),
            ToleranceKind::Absolute => (
                format!("{:+.4}", c.deviation()),
                format!("±{}", number(c.tolerance)),
            ),
        };
        println!(
            "  {:<42} {:>14} {:>14} {:>10} {:>9}  {:<6}  [{}]",
            format!("{} ({})", c.name, c.unit),
            number(c.value),
            number(c.reference),
            deviation,
            tolerance,
            if c.pass { "pass" } else { "FAIL" },
            source + 1
        );
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    println!();
    println!(
        "{} checks, {} passed, {failed} failed",
        checks.len(),
        checks.len() - failed
    );
    println!("Sources:");
    for (i, s) in sources.iter().enumerate() {
        println!("  [{}] {s}", i + 1);
    }
}

/// A number with four significant digits, in plain or scientific notation.
fn number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-3..1e7).contains(&a) {
        let decimals = if a >= 1_000.0 {
            1
        } else if a >= 1.0 {
            3
        } else {
            5
        };
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}
