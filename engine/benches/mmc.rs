//! Criterion benchmark: the engine against a plain `BinaryHeap` loop and a
//! boxed-`dyn`-event loop on the
//! M/M/c model of the issue (c = 8, μ = 1, λ = 0.9·c·μ).
//!
//! Run with `cargo bench -p hcp-engine --bench mmc`. Throughput is reported
//! in events per second (two events per customer). `hcp bench engine` prints
//! the same comparison for 1,000,000 customers, with peak memory and `--json`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hcp_engine::queueing::{MmcConfig, run_mmc, run_mmc_baseline, run_mmc_boxed};
use hcp_engine::rng::RngStreams;

fn mmc(c: &mut Criterion) {
    let customers = 100_000;
    let config = MmcConfig::mmc(8, 0.9, customers, 0);
    let streams = RngStreams::new(1, 0);
    let mut group = c.benchmark_group("mmc_c8_rho0.9");
    group.throughput(Throughput::Elements(2 * customers));
    group.sample_size(30);
    group.bench_function("engine", |b| b.iter(|| run_mmc(&config, &streams)));
    group.bench_function("binary_heap_baseline", |b| {
        b.iter(|| run_mmc_baseline(&config, &streams));
    });
    group.bench_function("boxed_dyn_events", |b| {
        b.iter(|| run_mmc_boxed(&config, &streams));
    });
    group.finish();
}

criterion_group!(benches, mmc);
criterion_main!(benches);
