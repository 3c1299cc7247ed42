//! The oracle's inputs, read once from the plant and the tape: every
//! site's prices and grid pay per interval, every cohort's envelope, and
//! the GPU bound's pools, P1 groups and job customers.

use hcp_engine::rng::RngStreams;

use super::asic::{CohortEnvelope, SitePrices, envelope, site_value};
use super::gpu::{GpuTerms, JobCustomer, PoolTerms, p1_terms};
use crate::demand::{NO_CUSTOMER, Price, WorkloadClass};
use crate::grid::GridEventKind;
use crate::plant::mining_revenue_usd;
use crate::twin::job_source::JobSource;
use crate::twin::p1;
use crate::twin::setup::{TwinSetup, input_ratio, p2_tokens_per_s, rental_series};
use crate::world::WorldTape;

/// One site as the ASIC side sees it.
struct SiteTerms {
    cap_w: f64,
    pue: f64,
    grid_events: bool,
    cohorts: Vec<CohortEnvelope>,
    /// USD per facility MW over each interval the grid pays for power left
    /// unused.
    unused_usd_per_mw: Vec<f64>,
}

/// Everything the bound reads.
pub(super) struct Terms {
    sites: Vec<SiteTerms>,
    /// Per interval: hashprice, USD per TH/s per day.
    hashprice: Vec<f64>,
    /// Per interval: the best ancillary price, USD per MW-hour (≥ 0).
    ancillary: Vec<f64>,
    pool_fee: f64,
    step_s: f64,
    pub(super) gpu: GpuTerms,
    /// Grid pay bounded on the whole cap, USD.
    pub(super) grid_usd: f64,
}

impl Terms {
    pub(super) fn of(setup: &TwinSetup, tape: &WorldTape, streams: &RngStreams) -> Terms {
        let plant = setup.plant();
        let intervals = tape.horizon.intervals();
        let step_s = tape.horizon.step.as_secs_f64();
        let hours = step_s / 3600.0;
        let step_micros = tape.horizon.step.as_micros();
        let mut sites = Vec::new();
        let mut prices = Vec::new();
        for site in &plant.sites {
            let Some(price) = tape.grid.price(&site.node) else {
                unreachable!("every site's node is on the tape");
            };
            prices.push(price.values().to_vec());
            let cohorts = site
                .asics
                .iter()
                .map(|fleet| {
                    let (Ok(spec), Ok(firmware)) = (
                        setup.asic_catalog().model(&fleet.model),
                        setup.asic_catalog().firmware(&fleet.firmware),
                    ) else {
                        unreachable!("models were checked in prepare");
                    };
                    CohortEnvelope {
                        devices: f64::from(fleet.count),
                        pieces: envelope(spec, firmware.supports_power_target),
                        fast: firmware.sheds_for_ancillary(),
                    }
                })
                .collect();
            sites.push(SiteTerms {
                cap_w: site.cap_mw * 1e6,
                pue: site.pue(),
                grid_events: site.grid_events,
                cohorts,
                unused_usd_per_mw: vec![0.0; intervals],
            });
        }
        // Grid events: pay per MW left unused in the intervals they cover
        // (and on the realised 4CP peak), standby pay on the whole cap.
        let mut grid_usd = 0.0;
        let eligible = sites.iter().any(|s| s.grid_events);
        for event in tape.grid.events.iter().filter(|_| eligible) {
            let (start, end) = (event.start.as_micros(), event.end().as_micros());
            let first = (start / step_micros) as usize;
            for i in first..intervals.min((end.div_ceil(step_micros)) as usize) {
                let (a, b) = (i as u64 * step_micros, (i as u64 + 1) * step_micros);
                let overlap_h = b.min(end).saturating_sub(a.max(start)) as f64 / 3.6e9;
                let peak = event.kind == GridEventKind::FourCp
                    && event
                        .realised_peak
                        .is_some_and(|p| (a..b).contains(&p.as_micros()));
                for site in sites.iter_mut().filter(|s| s.grid_events) {
                    let mut usd_per_mw = event.payment.per_mwh * overlap_h;
                    if peak {
                        usd_per_mw += event.payment.per_kw_year * 1000.0 / 4.0;
                    }
                    site.unused_usd_per_mw[i] += usd_per_mw;
                    let cap_mw = site.cap_w / 1e6;
                    grid_usd += (event.payment.standby_per_mw_h * overlap_h + usd_per_mw) * cap_mw;
                }
            }
        }
        let ancillary = (0..intervals)
            .map(|i| {
                tape.grid
                    .ancillary
                    .iter()
                    .filter_map(|s| s.price.values().get(i).copied())
                    .fold(0.0_f64, f64::max)
            })
            .collect();
        let gpu = gpu_terms(setup, tape, streams, prices, hours);
        Terms {
            sites,
            hashprice: tape.market.hashprice_usd_per_th_day.values().to_vec(),
            ancillary,
            pool_fee: plant.pool_fee,
            step_s,
            gpu,
            grid_usd,
        }
    }

    /// The ASIC side over the horizon, USD.
    pub(super) fn asic_value(&self) -> f64 {
        let hours = self.step_s / 3600.0;
        let mut scratch = Vec::new();
        let mut total = 0.0;
        for (s, site) in self.sites.iter().enumerate() {
            for (i, &hashprice) in self.hashprice.iter().enumerate() {
                let price = self.gpu.prices[s].get(i).copied().unwrap_or(0.0);
                let prices = SitePrices {
                    usd_per_th: mining_revenue_usd(1.0, self.step_s, hashprice, self.pool_fee),
                    energy_usd_per_w: price * hours / 1e6,
                    unused_usd_per_w: site.unused_usd_per_mw[i] / 1e6,
                    ancillary_usd_per_w: if site.grid_events {
                        self.ancillary[i] * hours / 1e6
                    } else {
                        0.0
                    },
                };
                total += site_value(&site.cohorts, site.pue, site.cap_w, prices, &mut scratch);
            }
        }
        total
    }
}

/// The GPU bound's terms: pools, P1 groups per interval, job customers.
fn gpu_terms(
    setup: &TwinSetup,
    tape: &WorldTape,
    streams: &RngStreams,
    prices: Vec<Vec<f64>>,
    hours: f64,
) -> GpuTerms {
    let plant = setup.plant();
    let intervals = tape.horizon.intervals();
    let step_s = tape.horizon.step.as_secs_f64();
    let mut pools = Vec::new();
    for (s, site) in plant.sites.iter().enumerate() {
        for pool in &site.gpus {
            let Ok(spec) = setup.gpu_catalog().gpu(&pool.gpu) else {
                unreachable!("models were checked in prepare");
            };
            let rental = rental_series(tape, &spec.name).map_or_else(Vec::new, |k| {
                let rent = &plant.rental;
                tape.market.gpu_rental[k]
                    .usd_per_gpu_hour
                    .values()
                    .iter()
                    .map(|p| p * rent.occupancy * (1.0 - rent.fee))
                    .collect()
            });
            pools.push(PoolTerms {
                gpus: f64::from(pool.count),
                speed: spec.job_speed,
                site: s,
                off_w: spec.off_power_per_gpu_w(),
                idle_w: spec.power_per_gpu_w(0.0),
                full_w: spec.power_per_gpu_w(1.0),
                rented_w: spec.power_per_gpu_w(plant.rental.utilisation),
                rental_usd_per_h: rental,
            });
        }
    }
    let config = setup.world().config();
    let groups = p1::groups(tape, &config.demand, setup.gpu_catalog())
        .unwrap_or_else(|e| panic!("P1 models were checked in prepare: {e}"));
    let customers = &tape.demand.customers;
    let p1 = p1_terms(
        &groups,
        intervals,
        |g, i| groups[g].rate(tape, i),
        |g, i| {
            let group = &groups[g];
            group
                .members
                .iter()
                .map(|&(c, k)| {
                    let rate = tape.demand.p1[k]
                        .rate
                        .values
                        .get(i)
                        .map_or(0.0, |&r| f64::from(r));
                    match customers[usize::from(c)].price {
                        Price::PerMillionTokens { input, output } => {
                            rate * step_s
                                * (group.mean_input_tokens * input
                                    + group.mean_output_tokens * output)
                                / 1e6
                        }
                        Price::PerGpuHour(_) => 0.0,
                    }
                })
                .sum()
        },
    );
    let job_customers = job_customers(setup, tape, streams, &pools);
    let pue = plant
        .sites
        .iter()
        .map(crate::plant::SiteConfig::pue)
        .collect();
    GpuTerms {
        pools,
        customers: job_customers,
        p1,
        prices,
        pue,
        hours,
    }
}

/// Every job customer (P2–P4): its work over the horizon and what a
/// GPU-hour of it earns on each pool.
fn job_customers(
    setup: &TwinSetup,
    tape: &WorldTape,
    streams: &RngStreams,
    pools: &[PoolTerms],
) -> Vec<JobCustomer> {
    let config = setup.world().config();
    let customers = &tape.demand.customers;
    // Work per job customer over the horizon, H100 GPU-hours.
    let mut work = vec![0.0; customers.len()];
    let mut source = JobSource::new(setup, tape, streams);
    let mut arrivals = Vec::new();
    while source.next_interval(tape, &mut arrivals) {
        for job in &arrivals {
            if job.customer != NO_CUSTOMER
                && let Some(w) = work.get_mut(usize::from(job.customer))
            {
                *w += f64::from(job.work_gpu_s) / 3600.0;
            }
        }
        arrivals.clear();
    }
    let tokens = p2_tokens_per_s(setup, tape);
    let ratio = input_ratio(&config.demand);
    customers
        .iter()
        .filter(|c| c.class != WorkloadClass::P1)
        .map(|c| {
            let k = usize::from(c.id);
            let usd_per_gpu_h = pools
                .iter()
                .map(|pool| match (c.class, c.price) {
                    (WorkloadClass::P2, Price::PerMillionTokens { input, output }) => {
                        pool.speed * tokens[k] * 3600.0 * (ratio * input + output) / 1e6
                    }
                    (WorkloadClass::P3 | WorkloadClass::P4, Price::PerGpuHour(p)) => p,
                    _ => 0.0,
                })
                .collect();
            JobCustomer {
                work_h100_h: work[k],
                usd_per_gpu_h,
            }
        })
        .collect()
}
