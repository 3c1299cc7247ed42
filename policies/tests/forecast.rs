//! The forecasters on synthetic observation streams: seasonal-naive
//! repeats a pure daily cycle exactly after one day; the AR forecaster
//! beats persistence on an AR(1) series.

use chrono::{TimeZone, Utc};
use hcp_models::contract::{Forecast, Forecaster, Observation, Persistence, SiteView};
use hcp_policies::ForecasterConfig;

fn observation(price: f64, hashprice: f64) -> Observation {
    let mut o = Observation::empty(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    o.interval_s = 900.0;
    o.market.hashprice_usd_per_th_day = hashprice;
    o.sites.push(SiteView {
        name: "test".into(),
        node: "HB_WEST".into(),
        price_usd_per_mwh: price,
        cap_mw: 10.0,
        pue: 1.0,
        committed_mw: 0.0,
        headroom_mw: 10.0,
        last_power_mw: 0.0,
        grid_events: false,
    });
    o
}

fn daily(i: usize) -> f64 {
    let x = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
    40.0 + 25.0 * x.sin() + 10.0 * (3.0 * x).cos()
}

#[test]
fn seasonal_naive_repeats_a_daily_cycle_exactly_after_one_day() {
    let mut f = ForecasterConfig::by_name("seasonal-naive").unwrap().build();
    let mut out = Forecast::default();
    for i in 0..95 {
        f.observe(&observation(daily(i), 0.05));
    }
    // Less than a day seen: persistence.
    f.forecast(4, &mut out);
    assert_eq!(out.price_usd_per_mwh[0], vec![daily(94); 4]);
    for i in 95..300 {
        f.observe(&observation(daily(i), 0.05 + i as f64 * 1e-4));
        f.forecast(200, &mut out);
        for k in 1..=200 {
            assert_eq!(
                out.price_usd_per_mwh[0][k - 1],
                daily(i + k),
                "at {i} + {k}"
            );
        }
        assert_eq!(out.hashprice_usd_per_th_day.len(), 200);
    }
}

/// An AR(1) series around 50 with φ = 0.9 and unit normal shocks (a fixed
/// xorshift and Box–Muller: the test needs no RNG crate).
fn ar1(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut x = 0.0;
    (0..n)
        .map(|_| {
            let z = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            x = 0.9 * x + 5.0 * z;
            50.0 + x
        })
        .collect()
}

#[test]
fn autoregressive_beats_persistence_on_an_ar1_series() {
    let series = ar1(96 * 40);
    let mut ar = ForecasterConfig::by_name("autoregressive").unwrap().build();
    let mut naive = Persistence::default();
    let (mut out_ar, mut out_naive) = (Forecast::default(), Forecast::default());
    let (mut err_ar, mut err_naive, mut n) = (0.0, 0.0, 0.0);
    let steps = 16;
    for (t, &price) in series.iter().enumerate().take(series.len() - steps) {
        let o = observation(price, 0.05);
        ar.observe(&o);
        naive.observe(&o);
        if t < 96 * 20 {
            continue;
        }
        ar.forecast(steps, &mut out_ar);
        naive.forecast(steps, &mut out_naive);
        for k in 1..=steps {
            err_ar += (out_ar.price_usd_per_mwh[0][k - 1] - series[t + k]).abs();
            err_naive += (out_naive.price_usd_per_mwh[0][k - 1] - series[t + k]).abs();
            n += 1.0;
        }
    }
    let (mae_ar, mae_naive) = (err_ar / n, err_naive / n);
    assert!(
        mae_ar < 0.95 * mae_naive,
        "AR {mae_ar} vs persistence {mae_naive}"
    );
}
