//! The bridge's own drivers (hcp-devices) against the virtual fleet: every
//! firmware read on the lean path, LuxOS commanded through its session,
//! and every fault of the fleet turned into its typed error within the
//! call's timeout, never a panic or a hang.
//!
//! Loopback only; each test takes its own address range.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hcp_devices::fanout::fan_out;
use hcp_devices::miner::{Firmware, MinerMode, driver};
use hcp_devices::retry::RetryPolicy;
use hcp_devices::{DeviceError, FailureKind};
use hcp_fleet::faults::Fault;
use hcp_fleet::{FleetOptions, RunningFleet, start};
use hcp_models::plant::{AsicFleetConfig, PlantConfig};

const TIMEOUT: Duration = Duration::from_millis(400);

fn plant(count: u32) -> PlantConfig {
    let mut plant = PlantConfig::default();
    plant.sites.truncate(1);
    let cohort = |model: &str, firmware: &str| AsicFleetConfig {
        model: model.into(),
        count,
        firmware: firmware.into(),
        power_target_w: None,
    };
    plant.sites[0].asics = vec![
        cohort("S21", "luxos"),
        cohort("S19 XP", "stock"),
        cohort("M60S", "stock"),
        cohort("S21 XP", "luxos"),
    ];
    plant.sites[0].gpus.clear();
    plant
}

async fn fleet(count: u32, first_address: usize) -> RunningFleet {
    let mut protocols = BTreeMap::new();
    protocols.insert("Texas North/S21 XP/luxos".to_owned(), Firmware::BraiinsOs);
    let options = FleetOptions {
        speed: 200.0,
        web: false,
        protocols,
        first_address,
        ..FleetOptions::default()
    };
    start(&plant(count), &options)
        .await
        .expect("fleet binds on loopback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_firmware_reads_on_the_lean_path() {
    let fleet = fleet(1, 1_000).await;
    let expected = [
        (Firmware::LuxOs, 200.0, Some(3_500.0)),
        (Firmware::AntminerStock, 140.0, None),
        (Firmware::Whatsminer, 186.0, Some(3_441.0)),
        (Firmware::BraiinsOs, 270.0, Some(3_645.0)),
    ];
    for (planned, (firmware, ths, watts)) in fleet.plan.miners.iter().zip(expected) {
        assert_eq!(planned.protocol, firmware);
        let d = driver(planned.address, firmware, None);
        let r = d
            .read(TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{firmware}: {e}"));
        assert!((r.hashrate_th - ths).abs() < 1e-6, "{firmware}: {r:?}");
        assert_eq!(r.mode, MinerMode::Hashing, "{firmware}");
        // Stock Antminer reports chain power in `stats`, but the lean path
        // reads only what every stock build has.
        assert_eq!(r.power_w, watts, "{firmware}");
    }
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn luxos_curtails_resumes_and_runs_a_power_profile_through_its_session() {
    let fleet = fleet(1, 1_100).await;
    let addr = fleet.plan.miners[0].address;
    let lux = driver(addr, Firmware::LuxOs, None);
    lux.curtail(TIMEOUT).await.expect("curtail");
    tokio::time::sleep(Duration::from_millis(60)).await; // > 5 s of fleet time
    let r = lux.read(TIMEOUT).await.expect("read");
    assert_eq!(
        (r.mode, r.power_w, r.hashrate_th),
        (MinerMode::Curtailed, Some(25.0), 0.0)
    );
    lux.resume(TIMEOUT).await.expect("resume (same session)");
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(
        lux.read(TIMEOUT).await.expect("read").mode,
        MinerMode::Hashing
    );
    // 2,800 W: the highest profile not above it is -4 (3,500 − 4 × 175 W).
    lux.set_power_target(2_800.0, TIMEOUT)
        .await
        .expect("profile");
    let r = lux.read(TIMEOUT).await.expect("read");
    assert_eq!(r.power_w, Some(2_800.0));
    assert!(
        (r.hashrate_th - 200.0 * (0.8_f64).powf(0.629)).abs() < 0.01,
        "{r:?}"
    );
    // Another client ends the session: the driver opens a new one once.
    let session = fleet.miners[0]
        .current_session(fleet.clock.now_s())
        .expect("a live session");
    assert!(fleet.miners[0].logoff(&session));
    lux.curtail(TIMEOUT)
        .await
        .expect("curtail after the session was dropped");
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_a_typed_error_within_the_timeout() {
    let fleet = fleet(1, 1_200).await;
    let addr = fleet.plan.miners[0].address;
    let lux = driver(addr, Firmware::LuxOs, None);
    let cases = [
        (Fault::NoAnswer, FailureKind::Timeout),
        (Fault::Slow { delay_ms: 1_500 }, FailureKind::Timeout),
        (Fault::Refused, FailureKind::Refused),
        (Fault::Malformed, FailureKind::Protocol),
        (Fault::Impossible, FailureKind::Implausible),
    ];
    for (fault, kind) in cases {
        fleet.set_fault(0, fault);
        tokio::time::sleep(Duration::from_millis(20)).await; // the listener closes or reopens
        let started = Instant::now();
        let e = lux
            .read(TIMEOUT)
            .await
            .expect_err("a faulty miner gives no reading");
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert!(
            started.elapsed() < TIMEOUT + Duration::from_millis(200),
            "{fault:?} took {:?}",
            started.elapsed()
        );
        if let DeviceError::Implausible { value, .. } = e {
            assert!(value == 2_147_483_647.0 || value < 0.0, "{value}");
        }
    }
    fleet.set_fault(0, Fault::AuthFailure);
    let e = lux.curtail(TIMEOUT).await.expect_err("no session");
    assert_eq!(e.kind(), FailureKind::Unauthorised, "{e}");
    assert!(!e.is_retryable());
    fleet.set_fault(0, Fault::RebootMidCommand);
    let e = lux.read(TIMEOUT).await.expect_err("dropped mid-command");
    assert_eq!(e.kind(), FailureKind::Refused, "{e}");
    let r = lux
        .read(TIMEOUT)
        .await
        .expect("answers again after the reboot");
    assert_eq!(
        (r.hashrate_th, r.power_w),
        (0.0, Some(3_500.0)),
        "starting up: full draw, no hashing yet"
    );
    // With the fault cleared, a retry with backoff gets through.
    fleet.set_fault(0, Fault::Malformed);
    let (first, tries) = RetryPolicy::default().run(|| lux.read(TIMEOUT)).await;
    assert!(first.is_err() && tries == 3, "3 tries, then the last error");
    fleet.set_fault(0, Fault::None);
    let (ok, tries) = RetryPolicy::default().run(|| lux.read(TIMEOUT)).await;
    assert!(ok.is_ok() && tries == 1);
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_reads_a_fleet_with_faulty_members() {
    let fleet = fleet(50, 1_300).await; // 200 miners
    for i in (0..200).step_by(20) {
        fleet.set_fault(i, Fault::Refused);
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let drivers: Vec<_> = fleet
        .plan
        .miners
        .iter()
        .map(|m| driver(m.address, m.protocol, None))
        .collect();
    let retry = RetryPolicy {
        attempts: 2,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
    };
    let outcomes = fan_out(drivers.len(), 64, retry, |i| drivers[i].read(TIMEOUT)).await;
    let failed: Vec<usize> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.index)
        .collect();
    assert_eq!(failed, (0..200).step_by(20).collect::<Vec<_>>());
    assert!(
        outcomes
            .iter()
            .filter(|o| o.result.is_err())
            .all(|o| o.tries == 2)
    );
    let total_th: f64 = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|r| r.hashrate_th)
        .sum();
    // 190 answering: the refusing ones are 0, 20, 40 of the S21s, 60, 80 of
    // the S19 XPs, 100, 120, 140 of the M60Ss and 160, 180 of the S21 XPs.
    let expected = 47.0 * 200.0 + 48.0 * 140.0 + 47.0 * 186.0 + 48.0 * 270.0;
    assert!(
        (total_th - expected).abs() < 1e-6,
        "{total_th} vs {expected}"
    );
    fleet.shutdown().await;
}
