//! The virtual GPU server driven by the bridge's own adapters (vLLM sleep
//! API, HTTP telemetry): sleeping drops the board to idle draw, waking
//! brings it back, the energy counter only grows, and faults are typed.

use std::sync::Arc;
use std::time::Duration;

use hcp_devices::FailureKind;
use hcp_devices::gpu::http::HttpGpuTelemetry;
use hcp_devices::gpu::vllm::VllmSleepAdapter;
use hcp_devices::gpu::{GpuTelemetry, SleepLevel, WorkloadState, WorkloadSwitch};
use hcp_fleet::clock::FleetClock;
use hcp_fleet::faults::Fault;
use hcp_fleet::gpu_server::{VirtualGpuServer, router};
use hcp_models::plant::GpuCatalog;

const T: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vllm_adapter_and_telemetry_follow_the_server() {
    let catalog = GpuCatalog::default();
    let h100 = catalog
        .gpus
        .iter()
        .find(|g| g.name == "H100")
        .expect("H100")
        .clone();
    // 100× wall time: a 5–12 s cold load is 50–120 ms of the test.
    let server = Arc::new(VirtualGpuServer::new(
        h100.clone(),
        8,
        catalog.switching.clone(),
        FleetClock::new(100.0),
        7,
    ));
    let listener = tokio::net::TcpListener::bind("127.32.0.1:0")
        .await
        .expect("loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = router(Arc::clone(&server));
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let vllm = VllmSleepAdapter::new(&base, None).expect("client");
    let nvml = HttpGpuTelemetry::new(&base).expect("client");
    let awake = nvml.read_all(T).await.expect("readings");
    assert_eq!(awake.len(), 8);
    assert!(awake.iter().all(|r| r.uuid.starts_with("GPU-")));
    let serving_w = h100.idle_w + (h100.tdp_w - h100.idle_w) * 0.6;
    assert!((awake[0].power_w - serving_w).abs() < 1e-9);
    assert_eq!(vllm.state(T).await.expect("state"), WorkloadState::Awake);

    vllm.sleep(SleepLevel::Offload, T).await.expect("sleep");
    assert_eq!(vllm.state(T).await.expect("state"), WorkloadState::Asleep);
    let asleep = nvml.read_all(T).await.expect("readings");
    assert_eq!(asleep[0].power_w, h100.idle_w);
    assert!(asleep[0].memory_used_bytes < awake[0].memory_used_bytes / 10);
    assert!(asleep[0].energy_j > awake[0].energy_j, "the counter grows");

    vllm.wake(T).await.expect("wake");
    let back = nvml.read_all(T).await.expect("readings");
    assert_eq!(
        (back[0].power_w, back[0].utilisation_pct),
        (serving_w, 60.0)
    );
    assert!(back[0].energy_j > asleep[0].energy_j);

    server.fault().set(Fault::Impossible);
    assert_eq!(
        nvml.read_all(T).await.unwrap_err().kind(),
        FailureKind::Implausible
    );
    server.fault().set(Fault::AuthFailure);
    assert_eq!(
        vllm.wake(T).await.unwrap_err().kind(),
        FailureKind::Unauthorised
    );
    server.fault().set(Fault::Malformed);
    assert_eq!(
        vllm.state(T).await.unwrap_err().kind(),
        FailureKind::Protocol
    );
    server.fault().set(Fault::Slow { delay_ms: 1_000 });
    assert_eq!(
        vllm.state(Duration::from_millis(200))
            .await
            .unwrap_err()
            .kind(),
        FailureKind::Timeout
    );
    server.fault().set(Fault::None);
    serving.abort();
    // Nothing listens now: connections are refused.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        vllm.state(T).await.unwrap_err().kind(),
        FailureKind::Refused
    );
}
