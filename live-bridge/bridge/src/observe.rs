//! From telemetry and feeds to the contract's [`Observation`]: the same
//! type the twin builds, filled with what the bridge knows at the start of
//! an epoch.
//!
//! Counts follow the contract: a miner without a fresh reading, or
//! quarantined, is `unresponsive` and counted at its maximum draw in the
//! site's committed power; a miner told to stop that still hashes is
//! `curtailing`. Prices older than their feed's limit are `None` with
//! their age beside them. The derived figures (headroom, a cohort's range,
//! hashrate and J/TH at its target) come from the contract's constructors,
//! so they mean what they mean in the twin.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hcp_contract::{AsicCohortView, MarketView, Observation, SiteView, Trigger};

use crate::config::BridgeConfig;
use crate::feeds::{Feed, Sample, hashprice_usd_per_th_day};
use crate::fleet::{Fleet, MinerState};

/// The feeds the observation reads, opened.
#[derive(Debug, Clone)]
pub struct Feeds {
    /// Spot price per site, in site order.
    pub prices: Vec<Feed>,
    /// BTC/USD.
    pub btc_usd: Option<Feed>,
    /// Hashprice, when given directly.
    pub hashprice: Option<Feed>,
    /// Network hashrate, EH/s.
    pub network_hashrate_ehs: Option<Feed>,
    /// BTC per block, for a derived hashprice.
    pub block_reward_btc: Option<f64>,
}

/// Per-site power as the envelope judges it.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct SitePower {
    /// Facility power the devices' states commit, MW.
    pub committed_mw: f64,
    /// Facility power measured now, MW.
    pub measured_mw: f64,
    /// Miners without a fresh reading, or quarantined.
    pub unresponsive: u32,
    /// Miners in all.
    pub miners: u32,
    /// Hashrate reported, TH/s.
    pub hashrate_th: f64,
}

/// The observation of epoch `k`, and each site's power.
pub fn observe(
    config: &BridgeConfig,
    fleet: &Fleet,
    feeds: &Feeds,
    epoch: u64,
    time: hcp_engine::time::SimTime,
    utc: DateTime<Utc>,
    now_s: f64,
) -> (Observation, Vec<SitePower>) {
    let interval_s = f64::from(config.interval_minutes) * 60.0;
    let mut o = Observation::empty(utc);
    o.time = time;
    o.interval = epoch;
    o.interval_s = interval_s;
    o.trigger = Trigger::Interval;
    o.market = market(config, feeds, utc);
    let mut power = vec![SitePower::default(); config.sites.len()];
    for cohort in &fleet.cohorts {
        let mut view = AsicCohortView::new(cohort.spec.clone(), cohort.target_w);
        let pue = config.sites[cohort.site].pue;
        let p = &mut power[cohort.site];
        for i in cohort.miners.clone() {
            let state = fleet.miner_state(i, now_s);
            match state {
                MinerState::On => view.on += 1,
                MinerState::Curtailing => view.curtailing += 1,
                MinerState::Asleep => {}
                MinerState::Unresponsive => view.unresponsive += 1,
            }
            let (committed, measured) = fleet.miner_power_w(i, now_s);
            p.committed_mw += committed * pue / 1e6;
            p.measured_mw += measured * pue / 1e6;
            p.miners += 1;
            if state != MinerState::Unresponsive {
                p.hashrate_th += fleet.miners[i].last.as_ref().map_or(0.0, |r| r.hashrate_th);
            }
        }
        p.unresponsive += view.unresponsive;
        o.asic_cohorts.push(view);
    }
    for (s, site) in config.sites.iter().enumerate() {
        let mut view = SiteView::new(
            site.id.as_str().into(),
            site.node.clone(),
            site.cap_mw,
            site.pue,
            site.grid_events,
        );
        let Sample { value, age_s } = feeds.prices[s].sample(utc);
        view.price_usd_per_mwh = value;
        view.price_age_s = finite_age(age_s);
        view.set_committed(power[s].committed_mw);
        view.last_power_mw = power[s].measured_mw;
        o.sites.push(view);
    }
    (o, power)
}

fn finite_age(age_s: f64) -> f64 {
    if age_s.is_finite() { age_s } else { f64::MAX }
}

fn market(config: &BridgeConfig, feeds: &Feeds, utc: DateTime<Utc>) -> MarketView {
    let none = Sample {
        value: None,
        age_s: f64::INFINITY,
    };
    let sample = |f: &Option<Feed>| f.as_ref().map_or(none, |f| f.sample(utc));
    let btc = sample(&feeds.btc_usd);
    let network = sample(&feeds.network_hashrate_ehs);
    let hashprice = match (&feeds.hashprice, feeds.block_reward_btc) {
        (Some(f), _) => f.sample(utc),
        (None, Some(reward)) => Sample {
            value: btc
                .value
                .zip(network.value)
                .map(|(b, n)| hashprice_usd_per_th_day(b, n, reward)),
            age_s: btc.age_s.max(network.age_s),
        },
        (None, None) => none,
    };
    let age_s = [btc.age_s, hashprice.age_s, network.age_s]
        .into_iter()
        .filter(|a| a.is_finite())
        .fold(0.0, f64::max);
    MarketView {
        btc_usd: btc.value,
        hashprice_usd_per_th_day: hashprice.value,
        network_hashrate_ehs: network.value,
        age_s: if hashprice.value.is_some() {
            age_s
        } else {
            finite_age(hashprice.age_s)
        },
        gpu_rental_usd_per_gpu_hour: BTreeMap::new(),
        ancillary_services: BTreeMap::new(),
        pool_fee: config.pool_fee,
        gpu_usd_per_gpu_hour: hcp_contract::PerGpuUse::default(),
    }
}
