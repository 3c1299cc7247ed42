//! The twin's own checks for `hcp validate plant`: a week of the reference
//! fleet under the fixed policy must keep every site under its cap, book
//! energy as exactly ∫ price × facility power, balance its books, serve
//! the P1 demand its GPUs can carry, and switch GPUs with the reference
//! latencies.

use std::path::Path;

use hcp_engine::rng::RngStreams;

use super::{FixedPolicy, MemorySink, TwinSetup, run};
use crate::check::Check;
use crate::ledger::Stream;
use crate::plant::PlantConfig;
use crate::world::WorldConfig;
use hcp_contract::Persistence;

const GROUP: &str = "plant";
const SOURCE: &str = "identity of the twin's books (docs/models/plant.md)";

/// Runs the reference fleet for `days` and checks the books and the cap.
///
/// # Panics
/// If the built-in reference scenario is refused (a bug).
pub fn checks(days: u32) -> Vec<Check> {
    let world = WorldConfig {
        days,
        ..WorldConfig::default()
    };
    let setup = TwinSetup::prepare(world, PlantConfig::default(), Path::new("."))
        .unwrap_or_else(|e| panic!("the reference scenario is refused: {e}"));
    let streams = RngStreams::new(1, 0);
    let tape = setup.tape(&streams);
    let (result, sink) = run(
        &setup,
        tape,
        &streams,
        Box::new(FixedPolicy::default()),
        Box::new(Persistence::default()),
        MemorySink::default(),
    );
    let books = &result.ledger;
    let hours = setup.world().horizon().step.as_secs_f64() / 3600.0;
    let energy_integral: f64 = sink
        .intervals
        .iter()
        .map(|r| r.price_usd_per_mwh * r.facility_mw * hours)
        .sum();
    let streams_sum: f64 = Stream::ALL
        .iter()
        .map(|s| {
            if s.is_revenue() {
                books.total(*s)
            } else {
                -books.total(*s)
            }
        })
        .sum();
    let over_cap = sink
        .intervals
        .iter()
        .filter(|r| r.facility_mw > r.cap_mw * (1.0 + 1e-12))
        .count()
        + usize::from(result.max_committed_share_of_cap > 1.0 + 1e-12);
    let [asked, served, _] = result.p1_requests;
    vec![
        Check::relative(
            GROUP,
            "twin/energy cost = ∫ price × facility power",
            books.total(Stream::Energy),
            energy_integral,
            1e-9,
            "USD",
            SOURCE,
        ),
        Check::relative(
            GROUP,
            "twin/sum of streams = profit",
            streams_sum,
            books.profit_usd,
            1e-9,
            "USD",
            SOURCE,
        ),
        Check::absolute(
            GROUP,
            "twin/intervals with a site over its cap",
            over_cap as f64,
            0.0,
            0.0,
            "intervals",
            "each site's grid connection cap (plant.sites[].cap_mw)",
        ),
        Check::relative(
            GROUP,
            "twin/P1 requests served ÷ asked",
            served / asked.max(1.0),
            1.0,
            0.01,
            "ratio",
            "P1 staffed by the square-root rule (β = 2.6) serves its demand",
        ),
        Check::relative(
            GROUP,
            "twin/warm GPU switch p50",
            result.switch_ms[0],
            442.0,
            0.05,
            "ms",
            "reference GPU switching measurements: p50 ≈ 442 ms pre-warmed (docs/models/gpu.md)",
        ),
    ]
}
