//! Demand generator behaviour: determinism, stream isolation, volumes,
//! speed and memory of a year's tape, closed forms, and bad input.

use std::path::Path;

use chrono::{TimeZone, Utc};
use hcp_engine::rng::RngStreams;
use hcp_models::demand::calibrate::{RequestTraceOptions, calibrate_requests};
use hcp_models::demand::traces::{read_pods, read_request_trace};
use hcp_models::demand::{
    BurstParams, DemandParams, JobArrival, WorkloadClass, generate, index_of_dispersion,
};
use hcp_models::series::Horizon;

fn horizon(days: u64) -> Horizon {
    Horizon::days(Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap(), days, 5)
}

#[test]
fn same_seed_same_tape_other_seed_other_tape() {
    let p = DemandParams::default();
    let a = generate(&p, &horizon(7), &RngStreams::new(1, 0));
    let b = generate(&p, &horizon(7), &RngStreams::new(1, 0));
    let c = generate(&p, &horizon(7), &RngStreams::new(1, 1));
    assert_eq!(a, b);
    assert_ne!(a.jobs, c.jobs);
    assert_ne!(a.p1[0].rate.values, c.p1[0].rate.values);
}

#[test]
fn adding_customers_or_classes_leaves_other_streams_untouched() {
    let p = DemandParams::default();
    let streams = RngStreams::new(7, 0);
    let base = generate(&p, &horizon(3), &streams);
    let mut more = p.clone();
    more.customers.count[0] += 5; // five more P1 customers, appended to P1
    let grown = generate(&more, &horizon(3), &streams);
    // The first P1 customers keep their contracts and rate streams.
    assert_eq!(base.customers[..30], grown.customers[..30]);
    assert_eq!(base.p1[..30], grown.p1[..30]);
    // P4 jobs only (their stream) are unchanged when P2 is removed.
    let mut no_p2 = p.clone();
    no_p2.jobs.classes.retain(|c| c.class != WorkloadClass::P2);
    let without = generate(&no_p2, &horizon(3), &streams);
    let p4 = |jobs: &[JobArrival]| -> Vec<(u64, f32)> {
        jobs.iter()
            .filter(|j| j.class == WorkloadClass::P4)
            .map(|j| (j.arrival.as_micros(), j.work_gpu_s))
            .collect()
    };
    // Durations rescale with the mix, arrival instants do not.
    let a: Vec<u64> = p4(&base.jobs).iter().map(|x| x.0).collect();
    let b: Vec<u64> = p4(&without.jobs).iter().map(|x| x.0).collect();
    assert_eq!(a, b);
}

#[test]
// Wall time is measured for the printed figure only; no result depends on it.
#[allow(clippy::disallowed_methods)]
fn a_year_for_the_reference_fleet() {
    let p = DemandParams::default();
    assert_eq!(p.fleet.gpus(), 1_152);
    assert_eq!(p.customers.count.iter().sum::<u16>(), 100);
    let h = horizon(365);
    let t0 = std::time::Instant::now();
    let tape = generate(&p, &h, &RngStreams::new(42, 0));
    let elapsed = t0.elapsed();
    println!(
        "year: {} jobs, {} P1 streams, {:.1} MB, {:?}",
        tape.jobs.len(),
        tape.p1.len(),
        tape.heap_bytes() as f64 / 1e6,
        elapsed
    );
    assert_eq!(std::mem::size_of::<JobArrival>(), 24);
    assert!(tape.jobs.len() as f64 / 365.0 >= 10_000.0);
    assert!(tape.jobs.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    assert!(
        tape.jobs
            .iter()
            .all(|j| j.arrival < h.end() && j.work_gpu_s > 0.0)
    );
    assert!(
        tape.jobs
            .iter()
            .filter(|j| j.class == WorkloadClass::P2)
            .all(|j| j.deadline_s() > 0)
    );
    assert!(
        tape.jobs
            .iter()
            .filter(|j| j.class == WorkloadClass::P3)
            .all(|j| j.checkpoint_s() > 0)
    );
    assert_eq!(tape.p1.len(), 30);
    assert!(tape.p1.iter().all(|s| s.rate.values.len() == 105_120));
    // Mean P1 rate over a year ≈ base rate (daily and weekly shapes mean one).
    for s in &tape.p1 {
        let base = tape.customers[usize::from(s.customer)].base_rate_per_s;
        assert!(
            (s.rate.mean() / base - 1.0).abs() < 0.08,
            "{} vs {base}",
            s.rate.mean()
        );
    }
    assert!(tape.heap_bytes() < 200_000_000);
}

#[test]
fn dispersion_closed_form_limits() {
    // Without modulation (σ → 0) and unit batches, counts are Poisson: IoD = 1.
    let poisson = BurstParams {
        batch_mean: 1.0,
        sigma: 1e-6,
        tau_s: 10.0,
    };
    assert!((index_of_dispersion(&poisson, 5.0, 60.0) - 1.0).abs() < 1e-6);
    // Geometric batches of mean 3 alone: IoD = 2·3 − 1 = 5.
    let batched = BurstParams {
        batch_mean: 3.0,
        ..poisson
    };
    assert!((index_of_dispersion(&batched, 5.0, 60.0) - 5.0).abs() < 1e-6);
    // τ ≫ w: IoD − 1 → rate·w·(e^{σ²} − 1).
    let slow = BurstParams {
        batch_mean: 1.0,
        sigma: 0.5,
        tau_s: 1e9,
    };
    let expected = 1.0 + 2.0 * 60.0 * (0.25f64.exp() - 1.0);
    assert!((index_of_dispersion(&slow, 2.0, 60.0) - expected).abs() < 1e-6);
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("hcp-demand-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_request_traces_are_rejected_with_file_line_and_column() {
    let opts = RequestTraceOptions::azure();
    let unsorted = write(
        "unsorted.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:01.0000000,5,6\n2023-11-16 18:00:00.5000000,5,6\n",
    );
    let e = read_request_trace(&unsorted, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unsorted.csv: line 3, column 'TIMESTAMP'") && e.contains("sorted"),
        "{e}"
    );
    let tokens = write(
        "tokens.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:01.0000000,5,6\n2023-11-16 18:00:02.0000000,-5,6\n",
    );
    let e = read_request_trace(&tokens, &opts).unwrap_err().to_string();
    assert!(
        e.contains("line 3, column 'ContextTokens'") && e.contains("token count"),
        "{e}"
    );
    let bad_time = write(
        "time.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n16/11/2023 18:00,5,6\n2023-11-16 18:00:02.0,5,6\n",
    );
    let e = read_request_trace(&bad_time, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2, column 'TIMESTAMP'"), "{e}");
    let short = write(
        "short.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:01.0,5,6\n2023-11-16 18:00:02.0,5,6\n",
    );
    let e = calibrate_requests(&short, &opts).unwrap_err().to_string();
    assert!(
        e.contains("short.csv") && e.contains("less than two minutes"),
        "{e}"
    );
    let missing = RequestTraceOptions {
        time_column: "time".into(),
        ..opts
    };
    let e = read_request_trace(&short, &missing)
        .unwrap_err()
        .to_string();
    assert!(e.contains("there is no column 'time'"), "{e}");
}

#[test]
fn bad_pod_lists_are_rejected_with_file_line_and_column() {
    let header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";
    let early = write(
        "early.csv",
        &format!("{header}p0,1,1,1,1000,,LS,Running,0,100,0\np1,1,1,1,1000,,LS,Running,5,4,6\n"),
    );
    let e = read_pods(&early).unwrap_err().to_string();
    assert!(
        e.contains("early.csv: line 3, column 'deletion_time'"),
        "{e}"
    );
    let milli = write(
        "milli.csv",
        &format!("{header}p0,1,1,1,1500,,LS,Running,0,100,0\n"),
    );
    let e = read_pods(&milli).unwrap_err().to_string();
    assert!(e.contains("line 2, column 'gpu_milli'"), "{e}");
    let unsorted = write(
        "unsorted_pods.csv",
        &format!("{header}p0,1,1,1,1000,,LS,Running,9,100,9\np1,1,1,1,1000,,LS,Running,5,100,6\n"),
    );
    let e = read_pods(&unsorted).unwrap_err().to_string();
    assert!(e.contains("line 3, column 'creation_time'"), "{e}");
}

#[test]
fn shipped_pod_list_drops_cpu_only_and_unscheduled_pods() {
    let dir = hcp_models::data::default_data_dir();
    let pods = read_pods(&dir.join("alibaba_gpu_v2023_openb_pod_list_default.csv")).unwrap();
    assert_eq!(pods.pods.len(), 6_203);
    assert_eq!(
        pods.dropped_no_gpu + pods.dropped_unscheduled + pods.pods.len(),
        8_152
    );
    assert!(Path::new(&dir).exists());
}

#[test]
fn replays_keep_every_request_and_pod() {
    use hcp_models::demand::replay::{replay_pods, replay_requests};
    let dir = hcp_models::data::default_data_dir();
    let trace = read_request_trace(
        &dir.join("azure_llm_inference_2023_conv.csv"),
        &RequestTraceOptions::azure(),
    )
    .unwrap();
    let h = horizon(1);
    let once = replay_requests(&trace, &h, 3, false);
    let requests: f64 = once.rate.values.iter().map(|&r| f64::from(r) * 300.0).sum();
    assert!((requests - 19_365.0).abs() < 1.0, "{requests}");
    // The trace (≈ 58 min) fills 12 five-minute steps, then nothing.
    assert!(once.rate.values[..11].iter().all(|&r| r > 0.0));
    assert!(once.rate.values[13..].iter().all(|&r| r == 0.0));
    let looped = replay_requests(&trace, &h, 3, true);
    assert!(looped.rate.values.iter().all(|&r| r > 0.0));
    let pods = read_pods(&dir.join("alibaba_gpu_v2023_openb_pod_list_default.csv")).unwrap();
    let p = DemandParams::default();
    let customers =
        hcp_models::demand::customers(&p.customers, &p.requests, &RngStreams::new(1, 0));
    // 149 days of pods compressed 200× fit in a day.
    let jobs = replay_pods(&pods, &h, &customers, 1.0 / 200.0, 1.0);
    assert_eq!(jobs.len(), 6_203);
    assert!(jobs.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    let p4 = jobs.iter().filter(|j| j.class == WorkloadClass::P4).count();
    assert_eq!(p4, pods.pods.iter().filter(|p| p.best_effort).count());
}
