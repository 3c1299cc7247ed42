//! The shipped demand parameters are what the fit on `data/` gives.

use hcp_models::data::default_data_dir;
use hcp_models::demand::calibrate::{
    QPS_UTC_OFFSET_HOURS, RequestTraceOptions, calibrate_jobs, calibrate_requests, fit_daily_shape,
};
use hcp_models::demand::traces::read_qps;
use hcp_models::demand::{DemandParams, JobClassParams, RequestStreamParams};

struct Fitted {
    daily_shape: Vec<f64>,
    services: Vec<(String, RequestStreamParams)>,
    classes: Vec<JobClassParams>,
}

fn fit(h100_only: [f64; 3]) -> Fitted {
    let dir = default_data_dir();
    let qps = read_qps(&dir.join("alibaba_genai_v2026_qps.csv")).unwrap();
    let services = ["code", "conv"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("azure_llm_inference_2023_{name}.csv"));
            (
                (*name).to_owned(),
                calibrate_requests(&path, &RequestTraceOptions::azure()).unwrap(),
            )
        })
        .collect();
    Fitted {
        daily_shape: fit_daily_shape(&qps, QPS_UTC_OFFSET_HOURS),
        services,
        classes: calibrate_jobs(
            &dir.join("alibaba_gpu_v2023_openb_pod_list_default.csv"),
            h100_only,
        )
        .unwrap(),
    }
}

#[test]
fn shipped_params_are_the_fit() {
    let shipped = DemandParams::default();
    let h100: Vec<f64> = shipped.jobs.classes.iter().map(|c| c.h100_only).collect();
    let fitted = fit([h100[0], h100[1], h100[2]]);
    assert_eq!(shipped.requests.daily_shape, fitted.daily_shape);
    assert_eq!(shipped.requests.services.len(), fitted.services.len());
    for (s, (name, f)) in shipped.requests.services.iter().zip(&fitted.services) {
        assert_eq!(&s.name, name);
        assert_eq!(&s.stream, f, "service {name}");
    }
    assert_eq!(shipped.jobs.classes, fitted.classes);
}

/// Prints `models/params/demand.toml` with its fitted blocks refreshed
/// (`cargo test -p hcp-models --test demand_fit -- --ignored --nocapture`).
#[test]
#[ignore = "regenerates the shipped parameter file"]
fn print_fitted_params() {
    let f = fit([0.0, 0.25, 0.0]);
    let mut file: toml::Table = toml::from_str(hcp_models::demand::BUILT_IN).unwrap();
    let requests = file["requests"].as_table_mut().unwrap();
    requests.insert(
        "daily_shape".into(),
        toml::Value::try_from(&f.daily_shape).unwrap(),
    );
    let services: Vec<toml::Value> = f
        .services
        .iter()
        .map(|(name, s)| {
            let mut t = toml::Table::new();
            t.insert("name".into(), toml::Value::String(name.clone()));
            t.insert("stream".into(), toml::Value::try_from(s).unwrap());
            toml::Value::Table(t)
        })
        .collect();
    requests.insert("services".into(), toml::Value::Array(services));
    file["jobs"]
        .as_table_mut()
        .unwrap()
        .insert("classes".into(), toml::Value::try_from(&f.classes).unwrap());
    println!("BEGIN\n{}END", toml::to_string(&file).unwrap());
}

#[test]
fn every_validation_check_passes() {
    let checks = hcp_models::demand::validation::checks(&default_data_dir()).unwrap();
    for c in &checks {
        println!(
            "{:<20} {:<34} {:>12.4} {:>12.4} {:>6} {}",
            c.group, c.name, c.value, c.reference, c.tolerance, c.pass
        );
    }
    assert!(checks.len() >= 25, "{}", checks.len());
    assert!(checks.iter().all(|c| c.pass));
}
