//! Bad bridge configurations are refused before anything runs, each with
//! the file, the key and the problem: an unknown firmware, a cap below what
//! the fleet draws even curtailed, a policy that does not exist or is the
//! clairvoyant diagnostic, a missing
//! token file, a feed that cannot be reached at start, arming a site that
//! does not allow it. A good one loads, and the bridge starts disarmed.

use std::path::{Path, PathBuf};

use hcp_bridge::config::{ConfigError, parse};
use hcp_bridge::control::{Bridge, StartError};

const GOOD: &str = r#"
interval_minutes = 5

[policy]
kind = "breakeven"

[market.hashprice_usd_per_th_day]
source = "fixed"
value = 0.05

[[sites]]
id = "Texas North"
node = "HB_NORTH"
cap_mw = 1.0
pue = 1.05
price = { source = "fixed", value = 40.0 }

[[sites.miners]]
model = "S21"
firmware = "luxos"
curve = { stock_hashrate_th = 200.0, stock_power_w = 3500.0, min_power_w = 1925.0, max_power_w = 4200.0, exponent = 0.63 }
standby_w = 35.0
range = { first = "127.0.0.2", count = 3 }
"#;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("hcp-config-errors-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn error(text: &str) -> (String, String) {
    match parse(text, "bridge.toml", &dir()) {
        Err(ConfigError::Key { key, problem, file }) => {
            assert_eq!(file, "bridge.toml");
            (key, problem)
        }
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn a_good_configuration_loads_with_its_addresses() {
    let loaded = parse(GOOD, "bridge.toml", &dir()).unwrap();
    let addrs = loaded.config.sites[0].miners[0].socket_addrs().unwrap();
    assert_eq!(
        addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["127.0.0.2:4028", "127.0.0.3:4028", "127.0.0.4:4028"]
    );
    assert!(
        !loaded.config.sites[0].allow_arming,
        "arming is off unless said"
    );
}

#[test]
fn an_unknown_firmware_names_its_key() {
    let (key, problem) = error(&GOOD.replace("firmware = \"luxos\"", "firmware = \"avalon\""));
    assert_eq!(key, "sites[0].miners[0].firmware");
    assert!(
        problem.contains("avalon") && problem.contains("luxos"),
        "{problem}"
    );
}

#[test]
fn a_cap_below_the_fleets_least_draw_is_refused() {
    let text = GOOD.replace("cap_mw = 1.0", "cap_mw = 0.0001");
    let (key, problem) = error(&text);
    assert_eq!(key, "sites[0].cap_mw");
    assert!(
        problem.contains("below") && problem.contains("curtailed"),
        "{problem}"
    );
}

#[test]
fn a_policy_that_does_not_exist_is_refused() {
    let (key, problem) = error(&GOOD.replace("kind = \"breakeven\"", "kind = \"best-guess\""));
    assert_eq!(key, "policy.kind");
    assert!(
        problem.contains("best-guess") && problem.contains("breakeven"),
        "{problem}"
    );
}

#[test]
fn the_clairvoyant_diagnostic_cannot_drive_a_fleet() {
    let (key, problem) = error(&GOOD.replace("kind = \"breakeven\"", "kind = \"mpc-clairvoyant\""));
    assert_eq!(key, "policy.kind");
    assert!(
        problem.contains("mpc-clairvoyant") && problem.contains("cannot drive a fleet"),
        "{problem}"
    );
}

#[test]
fn a_missing_token_file_is_refused() {
    let text = format!("{GOOD}\n[api]\ntokens_file = \"no-such-tokens\"\n");
    let (key, problem) = error(&text);
    assert_eq!(key, "api.tokens_file");
    assert!(
        problem.contains("does not exist") && problem.contains("hcp bridge token"),
        "{problem}"
    );
}

#[test]
fn unknown_keys_wrong_types_and_impossible_values_name_the_key() {
    let (key, problem) = error(&GOOD.replace("pue = 1.05", "pue = 1.05\nvoltage = 480"));
    assert_eq!(key, "sites[0].voltage");
    assert!(problem.contains("unknown field"), "{problem}");
    let (key, _) = error(&GOOD.replace("cap_mw = 1.0", "cap_mw = \"lots\""));
    assert_eq!(key, "sites[0].cap_mw");
    let (key, problem) = error(&GOOD.replace("pue = 1.05", "pue = 0.7"));
    assert_eq!(
        (key.as_str(), problem.contains("at least 1")),
        ("sites[0].pue", true)
    );
    let (key, _) = error(&GOOD.replace("count = 3", "count = 0"));
    assert_eq!(key, "sites[0].miners[0].addresses");
    let (key, _) = error(&GOOD.replace(
        "[market.hashprice_usd_per_th_day]\nsource = \"fixed\"\nvalue = 0.05",
        "",
    ));
    assert_eq!(key, "market");
}

fn write(text: &str) -> PathBuf {
    let path = dir().join(format!("bridge-{}.toml", text.len()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_unreachable_feed_at_start_is_an_error_naming_its_url() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/price");
    let text = GOOD.replace(
        "price = { source = \"fixed\", value = 40.0 }",
        &format!("price = {{ source = \"http\", url = \"{url}\", pointer = \"/price\", max_age_s = 600 }}"),
    );
    let loaded = hcp_bridge::config::load(&write(&text)).unwrap();
    let e = Bridge::start(&loaded, &[])
        .await
        .err()
        .expect("an unreachable feed stops the start");
    assert!(matches!(e, StartError::Feed(_)), "{e}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[tokio::test]
async fn arming_a_site_that_does_not_allow_it_stops_the_start() {
    let audit = dir().join("audit-arm");
    let text = format!("{GOOD}\n[audit]\ndir = \"{}\"\n", audit.display());
    let loaded = hcp_bridge::config::load(&write(&text)).unwrap();
    let e = Bridge::start(&loaded, &["all".into()])
        .await
        .err()
        .expect("no site allows arming");
    assert!(e.to_string().contains("allow_arming"), "{e}");
    let e = Bridge::start(&loaded, &["Texas South".into()])
        .await
        .err()
        .expect("an unknown site");
    assert!(e.to_string().contains("no site 'Texas South'"), "{e}");
    let bridge = Bridge::start(&loaded, &[]).await.unwrap();
    assert!(
        bridge.shared().armed().is_empty(),
        "the bridge starts disarmed"
    );
    let _ = std::fs::remove_dir_all(Path::new(&audit));
}
