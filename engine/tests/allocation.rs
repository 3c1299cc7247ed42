//! The hot path allocates nothing per event (design.md §5): ten times as many
//! events must cost exactly as many heap allocations. The boxed-event loop,
//! which allocates per event, shows that the measurement can tell.

use hcp_engine::queueing::{MmcConfig, run_mmc, run_mmc_boxed};
use hcp_engine::rng::RngStreams;

fn allocations(
    customers: u64,
    run: fn(&MmcConfig, &RngStreams) -> hcp_engine::queueing::MmcResult,
) -> u64 {
    let config = MmcConfig::mmc(8, 0.9, customers, 0);
    let streams = RngStreams::new(9, 0);
    allocation_counter::measure(|| {
        std::hint::black_box(run(&config, &streams));
    })
    .count_total
}

#[test]
fn engine_allocations_do_not_grow_with_events() {
    let small = allocations(20_000, run_mmc);
    let large = allocations(200_000, run_mmc);
    assert!(small > 0, "set-up allocates (queue, histogram, buffers)");
    assert_eq!(small, large, "360,000 more events must not allocate");
}

#[test]
fn boxed_events_allocate_per_event() {
    let small = allocations(20_000, run_mmc_boxed);
    let large = allocations(200_000, run_mmc_boxed);
    assert!(large - small >= 360_000, "{small} → {large}");
}
