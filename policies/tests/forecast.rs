//! The forecasters on synthetic observation streams: seasonal-naive
//! repeats a pure daily cycle exactly after one day; the AR forecaster
//! beats persistence on an AR(1) series.

use chrono::{TimeZone, Utc};
use hcp_contract::{Forecast, Forecaster, Observation, Persistence, SiteId, SiteView};
use hcp_policies::ForecasterConfig;

fn observation(price: f64, hashprice: f64) -> Observation {
    let mut o = Observation::empty(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    o.interval_s = 900.0;
    o.market.hashprice_usd_per_th_day = Some(hashprice);
    let mut site = SiteView::new(SiteId::from("test"), "HB_WEST".into(), 10.0, 1.0, false);
    site.price_usd_per_mwh = Some(price);
    o.sites.push(site);
    o
}

fn test_site() -> SiteId {
    SiteId::from("test")
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
    assert_eq!(out.price(&test_site()), vec![daily(94); 4].as_slice());
    for i in 95..300 {
        f.observe(&observation(daily(i), 0.05 + i as f64 * 1e-4));
        f.forecast(200, &mut out);
        for k in 1..=200 {
            assert_eq!(out.price(&test_site())[k - 1], daily(i + k), "at {i} + {k}");
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
            err_ar += (out_ar.price(&test_site())[k - 1] - series[t + k]).abs();
            err_naive += (out_naive.price(&test_site())[k - 1] - series[t + k]).abs();
            n += 1.0;
        }
    }
    let (mae_ar, mae_naive) = (err_ar / n, err_naive / n);
    assert!(
        mae_ar < 0.95 * mae_naive,
        "AR {mae_ar} vs persistence {mae_naive}"
    );
}

#[test]
fn an_unknown_price_teaches_nothing_and_a_new_site_starts_its_own_history() {
    for name in ["seasonal-naive", "autoregressive"] {
        let mut f = ForecasterConfig::by_name(name).unwrap().build();
        let mut out = Forecast::default();
        for i in 0..10 {
            f.observe(&observation(daily(i), 0.05));
        }
        // A late price feed: the forecast stays on the last known price.
        let mut late = observation(0.0, 0.05);
        late.sites[0].price_usd_per_mwh = None;
        f.observe(&late);
        f.forecast(3, &mut out);
        assert_eq!(
            out.price(&test_site()),
            vec![daily(9); 3].as_slice(),
            "{name}"
        );
        // A second site joins: its own series, the first one's untouched.
        let mut two = observation(daily(10), 0.05);
        let mut other = two.sites[0].clone();
        other.id = SiteId::from("other");
        other.price_usd_per_mwh = Some(500.0);
        two.sites.insert(0, other);
        f.observe(&two);
        f.forecast(3, &mut out);
        assert_eq!(
            out.price(&SiteId::from("other")),
            vec![500.0; 3].as_slice(),
            "{name}"
        );
        assert_eq!(
            out.price(&test_site()),
            vec![daily(10); 3].as_slice(),
            "{name}"
        );
        // It leaves again: its forecast goes with it.
        f.observe(&observation(daily(11), 0.05));
        f.forecast(3, &mut out);
        assert!(out.price(&SiteId::from("other")).is_empty(), "{name}");
    }
}
