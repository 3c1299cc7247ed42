//! The drivers' parsers against replies written down from each firmware's
//! public API documentation (shapes and field names as documented; the
//! figures are this file's own): cgminer's API-README for the common
//! commands, Luxor's LUXminer API pages (`summary`, `power`, `curtail`,
//! `logon`, `profiles`), Braiins' BOSminer API (`tunerstatus`), MicroBT's
//! Whatsminer API V2 (`summary` with `Power`), and Bitmain's bmminer
//! (`stats` with `GHS 5s` as a string, `temp2_*`).

use hcp_devices::FailureKind;
use hcp_devices::miner::rpc::{check_status, parse_reply};
use hcp_devices::miner::{MinerMode, replies};

const DEV: &str = "127.64.0.1:4028";

fn parse(command: &str, text: &str) -> serde_json::Value {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    let v = parse_reply(DEV, command, &bytes).expect("a documented reply parses");
    check_status(DEV, command, &v).expect("a documented success status");
    v
}

#[test]
fn luxos_summary_power_and_config() {
    let v = parse(
        "summary+power+config",
        r#"{"summary":[{"STATUS":[{"STATUS":"S","When":1681332079,"Code":11,"Msg":"Summary","Description":"LUXminer 2024.9.17.174900-4631c4d1"}],
            "SUMMARY":[{"Elapsed":86400,"GHS 5s":"104512.37","GHS av":104020.9,"Accepted":51234,"Rejected":12,"Hardware Errors":0}],"id":1}],
           "power":[{"STATUS":[{"STATUS":"S","Code":339,"Msg":"Power","Description":"LUXminer 2024.9.17.174900-4631c4d1"}],
            "POWER":[{"PSU":true,"Watts":3254}],"id":1}],
           "config":[{"STATUS":[{"STATUS":"S","Code":33,"Msg":"Configuration","Description":"LUXminer"}],
            "CONFIG":[{"IsAtmEnabled":true,"Profile":"default","CurtailMode":"None"}],"id":1}]}"#,
    );
    let r = replies::luxos(DEV, &v).expect("reading");
    assert!(
        (r.hashrate_th - 104.512_37).abs() < 1e-9,
        "GHS given as a string: {r:?}"
    );
    assert_eq!(
        (r.power_w, r.mode, r.uptime_s),
        (Some(3_254.0), MinerMode::Hashing, 86_400.0)
    );
}

#[test]
fn luxos_asleep_and_its_session_replies() {
    let v = parse(
        "summary+power+config",
        r#"{"summary":[{"STATUS":[{"STATUS":"S","Msg":"Summary"}],"SUMMARY":[{"Elapsed":12,"GHS 5s":0.0}]}],
           "power":[{"STATUS":[{"STATUS":"S","Msg":"Power"}],"POWER":[{"PSU":false,"Watts":24}]}],
           "config":[{"STATUS":[{"STATUS":"S","Msg":"Configuration"}],"CONFIG":[{"CurtailMode":"Sleep"}]}]}"#,
    );
    assert_eq!(
        replies::luxos(DEV, &v).expect("reading").mode,
        MinerMode::Curtailed
    );
    let logon = parse(
        "logon",
        r#"{"SESSION":[{"SessionID":"yJN2nlj1"}],"STATUS":[{"Code":316,"Description":"LUXminer 0.1.0-15436f7140","Msg":"Session created","STATUS":"S","When":1667917312}],"id":1}"#,
    );
    assert_eq!(logon["SESSION"][0]["SessionID"], "yJN2nlj1");
    let curtail = parse(
        "curtail",
        r#"{"CURTAIL":[{"Action":"sleep mode"}],"STATUS":[{"Code":335,"Description":"LUXminer 0.1.0-15436f7140","Msg":"Curtailment command sent","STATUS":"S","When":1681332079}],"id":1}"#,
    );
    assert_eq!(curtail["CURTAIL"][0]["Action"], "sleep mode");
    let profiles = hcp_devices::miner::luxos::parse_profiles(&parse(
        "profiles",
        r#"{"PROFILES":[{"Profile Name":"default","Frequency":525,"Hashrate":104.1,"Voltage":13.6,"Watts":3250,"IsDynamic":false},
                        {"Profile Name":"-2","Frequency":475,"Hashrate":94.5,"Voltage":13.0,"Watts":2860,"IsDynamic":false}],
           "STATUS":[{"STATUS":"S","Msg":"Profiles"}],"id":1}"#,
    ));
    assert_eq!(
        profiles,
        vec![("default".to_owned(), 3_250.0), ("-2".to_owned(), 2_860.0)]
    );
    let stale = parse_reply(
        DEV,
        "curtail",
        br#"{"STATUS":[{"Code":319,"Msg":"Invalid session ID","STATUS":"E","When":1}],"id":1}"#,
    )
    .expect("json");
    assert_eq!(
        check_status(DEV, "curtail", &stale).unwrap_err().kind(),
        FailureKind::Unauthorised
    );
}

#[test]
fn bmminer_stats_with_string_rates_and_board_temperatures() {
    let v = parse(
        "summary+stats",
        r#"{"summary":[{"STATUS":[{"STATUS":"S","When":1700000000,"Code":11,"Msg":"Summary","Description":"cgminer 4.9.2"}],
            "SUMMARY":[{"Elapsed":3600,"GHS 5s":"140123.45","GHS av":139988.1,"Found Blocks":0,"Accepted":4321,"Rejected":3}],"id":1}],
           "stats":[{"STATUS":[{"STATUS":"S","Msg":"CGMiner stats","Description":"cgminer 4.9.2"}],
            "STATS":[{"BMMiner":"1.0.0","Miner":"uart_trans.1.3","CompileTime":"Thu Jul  6 15:02:09 CST 2023","Type":"Antminer S19 XP"},
                     {"STATS":0,"ID":"BC50","Elapsed":3600,"GHS 5s":"140123.45","miner_count":3,"temp2_1":71,"temp2_2":74,"temp2_3":69}],"id":1}]}"#,
    );
    let r = replies::antminer(DEV, &v).expect("reading");
    assert!((r.hashrate_th - 140.123_45).abs() < 1e-9);
    assert_eq!(
        (r.power_w, r.max_temp_c),
        (None, Some(74.0)),
        "no power on stock firmware; the hottest board"
    );
}

#[test]
fn bosminer_tunerstatus_and_whatsminer_summary() {
    let v = parse(
        "summary+tunerstatus",
        r#"{"summary":[{"STATUS":[{"STATUS":"S","Msg":"Summary","Description":"BOSminer bosminer-plus-tuner 0.9.0"}],
            "SUMMARY":[{"Elapsed":500,"MHS 5s":95012345.6,"MHS av":94900000.0}]}],
           "tunerstatus":[{"STATUS":[{"STATUS":"S","Msg":"Tuner Status"}],
            "TUNERSTATUS":[{"PowerLimit":2900,"ApproximateMinerPowerConsumption":2874,"DynamicPowerScaling":"Disabled","TunerChainStatus":[]}]}]}"#,
    );
    let r = replies::braiins(DEV, &v).expect("reading");
    assert!((r.hashrate_th - 95.012_345_6).abs() < 1e-9);
    assert_eq!(
        (r.power_w, r.power_target_w),
        (Some(2_874.0), Some(2_900.0))
    );
    let v = parse(
        "summary",
        r#"{"STATUS":[{"STATUS":"S","Msg":"Summary"}],"SUMMARY":[{"Elapsed":7200,"MHS av":185000000.0,"MHS 5s":186200000.5,
            "Temperature":68.5,"Power":3430,"Power Limit":3600,"Power Mode":"Normal","Factory GHS":186000}],"id":1}"#,
    );
    let r = replies::whatsminer(DEV, &v).expect("reading");
    assert!((r.hashrate_th - 186.200_000_5).abs() < 1e-9);
    assert_eq!(
        (r.power_w, r.power_target_w, r.max_temp_c),
        (Some(3_430.0), Some(3_600.0), Some(68.5))
    );
}

#[test]
fn impossible_readings_are_faults_not_facts() {
    for (text, field) in [
        (
            r#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS 5s":1.0e8,"Power":2147483647}]}"#,
            "power_w",
        ),
        (
            r#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS 5s":-5.0,"Power":3400}]}"#,
            "hashrate_th",
        ),
        (
            r#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS 5s":1.0e8,"Power":3400,"Temperature":4000}]}"#,
            "max_temp_c",
        ),
    ] {
        let v = parse("summary", text);
        let e = replies::whatsminer(DEV, &v).expect_err("refused");
        assert_eq!(e.kind(), FailureKind::Implausible);
        assert!(e.to_string().contains(field), "{e}");
    }
    let v = parse(
        "summary",
        r#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":1}]}"#,
    );
    assert_eq!(
        replies::whatsminer(DEV, &v).unwrap_err().kind(),
        FailureKind::Protocol,
        "no hashrate at all"
    );
}
