//! Shadow mode, arming and the emergency stop, through the operator's
//! port against the virtual fleet: a bridge that is not armed sends
//! nothing whatever its policy asks; arming needs the configuration's
//! permission and the act; the emergency stop disarms and curtails every
//! miner — armed or not — within its stated time, and the audit log says
//! who did it and how long it took.

use std::time::Duration;

use hcp_bridge::audit::Event;
use hcp_bridge::control::{Bridge, RunFor};
use hcp_bridge::operator::{Actor, ArmRequest, FeedPush, OperatorPort, Role};
use hcp_fleet::FleetOptions;
use hcp_models::plant::PlantConfig;

const PLANT: &str = r#"
[[sites]]
name = "Texas North"
node = "HB_NORTH"
cap_mw = 1.0
cooling = "immersion"
grid_events = false
asics = [{ model = "S21", count = 30, firmware = "luxos" }]
gpus = []
"#;

#[test]
fn shadow_mode_sends_nothing_and_the_emergency_stop_curtails_every_miner() {
    let plant: PlantConfig = toml::from_str(PLANT).unwrap();
    let dir = std::env::temp_dir().join(format!("hcp-estop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = FleetOptions {
        speed: 600.0,
        web: false,
        first_address: 5_000,
        ..FleetOptions::default()
    };
    let plan = hcp_fleet::plan(&plant, &options).unwrap();
    let text =
        hcp_fleet::bridge_config::bridge_config(&plant, &options, &plan, "kind = \"breakeven\"")
            .unwrap();
    let text = text
        .replace("grid_events = false", "grid_events = false\nallow_arming = true")
        .replace("[market.hashprice_usd_per_th_day]\nsource = \"push\"\nname = \"hashprice\"\nmax_age_s = 3600", "[market.hashprice_usd_per_th_day]\nsource = \"fixed\"\nvalue = 0.05");
    let text = format!("speed = 600\n{text}\n[audit]\ndir = \"audit\"\ndurable = false\n");
    std::fs::write(dir.join("bridge.toml"), text).unwrap();
    let loaded = hcp_bridge::config::load(&dir.join("bridge.toml")).unwrap();
    let alice = Actor {
        name: "alice".into(),
        role: Role::Operator,
    };

    drive(&plant, &options, &loaded, &alice);

    let lines = hcp_bridge::audit::read(&dir.join("audit")).unwrap();
    let stop = lines
        .iter()
        .find_map(|l| match &l.event {
            Event::EmergencyStop {
                curtailed,
                failed,
                elapsed_s,
                within_s,
            } => Some((*curtailed, *failed, *elapsed_s, *within_s)),
            _ => None,
        })
        .expect("the stop is in the audit log");
    eprintln!(
        "emergency stop: {} curtailed, {} failed, {:.3} s (limit {} s)",
        stop.0, stop.1, stop.2, stop.3
    );
    assert_eq!((stop.0, stop.1), (30, 0));
    assert!(stop.2 < stop.3, "the stop took {} s", stop.2);
    let acts: Vec<(String, bool)> = lines
        .iter()
        .filter_map(|l| match &l.event {
            Event::Operator {
                actor, act, done, ..
            } if actor.name == "alice" => Some((act.clone(), *done)),
            _ => None,
        })
        .collect();
    assert!(
        acts.contains(&("arm".into(), false)) && acts.contains(&("arm".into(), true)),
        "{acts:?}"
    );
    assert!(
        acts.iter().filter(|(a, _)| a == "emergency_stop").count() >= 2,
        "{acts:?}"
    );
    assert!(acts.contains(&("push_feed".into(), true)), "{acts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The two bridge runs against the fleet: four epochs in shadow mode, then
/// armed and stopped.
fn drive(
    plant: &PlantConfig,
    options: &FleetOptions,
    loaded: &hcp_bridge::config::Loaded,
    alice: &Actor,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fleet = hcp_fleet::start(plant, options).await.unwrap();
        let curtailed = |fleet: &hcp_fleet::RunningFleet| {
            fleet
                .miners
                .iter()
                .filter(|m| m.with_physics(|p| p.snapshot(m.now()).curtailed))
                .count()
        };

        // Shadow mode: four epochs at a price far above breakeven, where
        // the policy wants every miner off.
        let bridge = Bridge::start(loaded, &[]).await.unwrap();
        let push = |value| FeedPush { value, at: None };
        bridge
            .shared()
            .push_feed(alice, "HB_NORTH", push(900.0))
            .unwrap();
        let summary = bridge
            .run(RunFor { epochs: Some(4) }, std::future::pending())
            .await;
        assert!(summary.commands_shadowed >= 30, "{summary:?}");
        assert_eq!(summary.commands_sent, 0, "{summary:?}");
        assert_eq!(curtailed(&fleet), 0, "a miner was curtailed in shadow mode");

        // Armed by the act at a price where mining pays (every miner
        // stays on), then stopped: every miner curtailed.
        let bridge = Bridge::start(loaded, &[]).await.unwrap();
        let shared = bridge.shared();
        shared.push_feed(alice, "HB_NORTH", push(20.0)).unwrap();
        let run = tokio::spawn(bridge.run(
            RunFor {
                epochs: Some(1_000),
            },
            tokio::time::sleep(Duration::from_secs(8)),
        ));
        assert!(
            shared
                .arm(
                    alice,
                    ArmRequest {
                        sites: vec!["Texas South".into()]
                    }
                )
                .is_err()
        );
        let armed = shared.arm(alice, ArmRequest::default()).unwrap();
        assert_eq!(armed["armed"][0], "Texas North");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            curtailed(&fleet),
            0,
            "mining pays: nothing is curtailed before the stop"
        );
        shared.emergency_stop(alice);
        assert!(shared.armed().is_empty(), "the stop disarms at once");
        let mut all = false;
        for _ in 0..200 {
            if curtailed(&fleet) == 30 {
                all = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(all, "{} of 30 curtailed", curtailed(&fleet));
        let summary = run.await.unwrap();
        assert!(summary.commands_failed == 0, "{summary:?}");
        fleet.shutdown().await;
    });
}
