//! The engine against queueing theory: every metric of every standard case
//! (M/M/8 at ρ = 0.9, M/M/1 and M/D/1 at ρ = 0.8) must fall within its
//! tolerance of the closed form — Erlang C for M/M/c, Pollaczek–Khinchine for
//! M/D/1. Lengths and tolerances are explained in `queueing::validation`.

use hcp_engine::queueing::validation::checks;
use hcp_engine::queueing::{MmcResult, ValidationCase, run_mmc, standard_cases};
use hcp_engine::rng::RngStreams;

const SEED: u64 = 20_261_123;

fn validate(name: &str) {
    let case: ValidationCase = standard_cases(1)
        .into_iter()
        .find(|c| c.name == name)
        .expect("standard case exists");
    let results: Vec<MmcResult> = (0..case.replications)
        .map(|r| run_mmc(&case.config, &RngStreams::new(SEED, r)))
        .collect();
    let checks = checks(&case, &results).expect("stable queue");
    assert!(checks.len() >= 4, "every case checks at least four metrics");
    for c in &checks {
        eprintln!(
            "{} {}: expected {:.5}, simulated {:.5} ± {:.5} ({:+.2} %)",
            c.case,
            c.metric,
            c.expected,
            c.simulated.mean,
            c.simulated.half_width,
            c.relative_error * 100.0
        );
    }
    for c in &checks {
        assert!(
            c.passed,
            "{} {}: simulated {} vs closed form {} ({:+.2} % > ±{} %)",
            c.case,
            c.metric,
            c.simulated.mean,
            c.expected,
            c.relative_error * 100.0,
            c.tolerance * 100.0
        );
    }
    // The run must be long enough for the tolerance to mean something: the
    // 95 % interval of the mean wait must be narrower than the tolerance.
    let wait = checks.iter().find(|c| c.metric == "mean wait W_q").unwrap();
    assert!(
        wait.simulated.half_width / wait.expected < wait.tolerance,
        "{}: run too short, ±{:.2} % interval",
        wait.case,
        wait.simulated.half_width / wait.expected * 100.0
    );
}

#[test]
fn mm8_at_rho_0_9_matches_erlang_c() {
    validate("M/M/8 ρ=0.9");
}

#[test]
fn mm1_at_rho_0_8_matches_its_closed_form() {
    validate("M/M/1 ρ=0.8");
}

#[test]
fn md1_at_rho_0_8_matches_pollaczek_khinchine() {
    validate("M/D/1 ρ=0.8");
}
