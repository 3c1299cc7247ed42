//! One run as the panels read it: per-site columns indexed by market
//! interval (price, hashprice, power by use, cap, money), the plant's GPU
//! revenue by use, the job queues when the source has them, and the
//! timeline's markers. Every source (dataset, live twin, bridge stream)
//! fills a [`RunSeries`] through [`RunSeries::push`], interval by
//! interval, so the panels never see where the data came from.

use hcp_models::twin::IntervalRecord;

/// GPU uses in the order of the `gpu_mw` columns (`GpuUse::ALL`).
pub const GPU_USES: [&str; 7] = ["P1", "P2", "P3", "P4", "rental", "idle", "off"];

/// GPU revenue uses in the order of the `ai_usd` columns.
pub const REVENUE_USES: [&str; 5] = ["P1", "P2", "P3", "P4", "rental"];

/// Price at or above which an interval counts as a spike, USD/MWh.
pub const SPIKE_USD_PER_MWH: f64 = 1_000.0;

/// One site's columns, one value per interval (NaN where unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteTrack {
    /// Site name.
    pub name: String,
    /// Spot price at the site's node, USD/MWh.
    pub price: Vec<f64>,
    /// Hashprice, USD per TH/s per day.
    pub hashprice: Vec<f64>,
    /// Facility power (IT × PUE), MW.
    pub facility_mw: Vec<f64>,
    /// ASIC IT power, MW.
    pub asic_mw: Vec<f64>,
    /// GPU IT power by use ([`GPU_USES`] order), MW.
    pub gpu_mw: [Vec<f64>; 7],
    /// Hashrate delivered, PH/s.
    pub hashrate_phs: Vec<f64>,
    /// Highest committed facility power in the interval, MW.
    pub committed_mw: Vec<f64>,
    /// Grid connection cap, MW.
    pub cap_mw: Vec<f64>,
    /// Mining revenue, USD.
    pub mining_usd: Vec<f64>,
    /// Energy cost, USD.
    pub energy_usd: Vec<f64>,
}

/// What a marker on the timeline stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkerKind {
    /// A grid event (demand-response notice or deployment) at a site.
    GridEvent,
    /// The start of a run of intervals priced at or above [`SPIKE_USD_PER_MWH`].
    PriceSpike,
    /// An action the plant (or the bridge's envelope) did not carry out as asked.
    Clip,
    /// A batch of GPUs starting a switch.
    GpuSwitch,
    /// A device fault (bridge stream).
    Fault,
}

impl MarkerKind {
    /// Every kind, in legend order.
    pub const ALL: [MarkerKind; 5] = [
        MarkerKind::GridEvent,
        MarkerKind::PriceSpike,
        MarkerKind::Clip,
        MarkerKind::GpuSwitch,
        MarkerKind::Fault,
    ];

    /// Name in the legend.
    pub fn label(self) -> &'static str {
        match self {
            MarkerKind::GridEvent => "grid events",
            MarkerKind::PriceSpike => "price spikes",
            MarkerKind::Clip => "clips",
            MarkerKind::GpuSwitch => "GPU switches",
            MarkerKind::Fault => "faults",
        }
    }
}

/// A point of interest on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// When, µs since 1970 (UTC).
    pub time_us: i64,
    /// What.
    pub kind: MarkerKind,
    /// The site it concerns, if one.
    pub site: Option<usize>,
    /// One line of detail, shown on hover.
    pub text: String,
}

/// One run: one policy on one world, interval by interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSeries {
    /// Policy name.
    pub policy: String,
    /// What the run is, in words (`breakeven · reference · replication 0`).
    pub label: String,
    /// Start of interval 0, µs since 1970 (UTC).
    pub start_us: i64,
    /// Market interval length, µs.
    pub step_us: i64,
    /// Per site, in plant order.
    pub sites: Vec<SiteTrack>,
    /// Plant GPU revenue by use ([`REVENUE_USES`] order), USD per interval.
    pub ai_usd: [Vec<f64>; 5],
    /// Jobs queued (P2, P3, P4) at each interval's end, when the source has them.
    pub queued_jobs: Option<[Vec<f64>; 3]>,
    /// Markers, in time order.
    pub markers: Vec<Marker>,
    /// Whether the run is over (false while a live source is still filling it).
    pub complete: bool,
    /// Per site, whether a grid event was on in each interval pushed.
    grid_on: Vec<Vec<bool>>,
    /// Per site, the ASIC efficiency (computed once; reset by a push).
    efficiency: std::cell::OnceCell<Vec<f64>>,
    /// The cumulative books by stream (computed once; reset by a push).
    cumulative: std::cell::OnceCell<[Vec<f64>; 7]>,
    /// Stacked layers decimated for the last spans drawn (reset by a push).
    stacks: std::cell::RefCell<Vec<(StackKey, Stacked)>>,
}

/// What a decimated stack was computed for: which stack (a name and a
/// site), the intervals, the pixel columns and the x of interval 0.
#[derive(Debug, Clone, PartialEq)]
pub struct StackKey {
    /// The panel's stack (`"power"`, `"gpus"`).
    pub stack: &'static str,
    /// The site (0 for plant-wide stacks).
    pub site: usize,
    /// The intervals decimated.
    pub range: std::ops::Range<usize>,
    /// The pixel columns.
    pub columns: usize,
    /// x of interval 0 (bits), which moves with the view's origin.
    pub x0_bits: u64,
}

/// A decimated stack: the columns' xs and each layer's top.
pub type Stacked = (Vec<f64>, Vec<Vec<f64>>);

/// Stacks a run keeps: enough for every stack panel of one frame.
const STACKS_KEPT: usize = 32;

impl RunSeries {
    /// An empty run starting at `start_us` with intervals of `step_us`.
    pub fn new(policy: &str, label: String, start_us: i64, step_us: i64) -> RunSeries {
        RunSeries {
            policy: policy.to_owned(),
            label,
            start_us,
            step_us: step_us.max(1),
            ..RunSeries::default()
        }
    }

    /// Intervals held (of the longest site).
    pub fn len(&self) -> usize {
        self.sites.iter().map(|s| s.price.len()).max().unwrap_or(0)
    }

    /// Whether no interval is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Start of interval `i`, µs since 1970.
    pub fn time_of(&self, i: usize) -> i64 {
        self.start_us + i64::try_from(i).unwrap_or(i64::MAX / 2) * self.step_us
    }

    /// The interval holding instant `t_us`, clamped to the run.
    pub fn index_at(&self, t_us: i64) -> usize {
        let n = self.len();
        if n == 0 || t_us <= self.start_us {
            return 0;
        }
        let i = usize::try_from((t_us - self.start_us) / self.step_us).unwrap_or(usize::MAX);
        i.min(n - 1)
    }

    /// End of the last interval held, µs since 1970.
    pub fn end_us(&self) -> i64 {
        self.time_of(self.len())
    }

    /// Appends one site's record of one interval (records of an interval
    /// may come in any site order; a gap is filled with NaN). A spike
    /// marker is added where the site's price first reaches
    /// [`SPIKE_USD_PER_MWH`].
    pub fn push(&mut self, record: &IntervalRecord, site_name: &str) {
        let i = usize::try_from(record.interval).unwrap_or(usize::MAX);
        if i > 50_000_000 {
            return;
        }
        self.efficiency = std::cell::OnceCell::new();
        self.cumulative = std::cell::OnceCell::new();
        self.stacks.get_mut().clear();
        if self.sites.len() <= record.site {
            self.sites.resize_with(record.site + 1, SiteTrack::default);
        }
        let spike_start = {
            let t = &self.sites[record.site];
            record.price_usd_per_mwh >= SPIKE_USD_PER_MWH
                && (i == 0 || t.price.get(i - 1).is_none_or(|p| *p < SPIKE_USD_PER_MWH))
        };
        let t = &mut self.sites[record.site];
        if t.name.is_empty() {
            site_name.clone_into(&mut t.name);
        }
        set(&mut t.price, i, record.price_usd_per_mwh);
        set(&mut t.hashprice, i, record.hashprice_usd_per_th_day);
        set(&mut t.facility_mw, i, record.facility_mw);
        set(&mut t.asic_mw, i, record.asic_mw);
        for (column, v) in t.gpu_mw.iter_mut().zip(record.gpu_mw) {
            set(column, i, v);
        }
        set(&mut t.hashrate_phs, i, record.hashrate_phs);
        set(&mut t.committed_mw, i, record.committed_mw_max);
        set(&mut t.cap_mw, i, record.cap_mw);
        set(&mut t.mining_usd, i, record.mining_usd);
        set(&mut t.energy_usd, i, record.energy_usd);
        let grid_start = record.grid_event
            && (i == 0
                || !self
                    .grid_on
                    .get(record.site)
                    .and_then(|v| v.get(i - 1))
                    .copied()
                    .unwrap_or(false));
        if self.grid_on.len() <= record.site {
            self.grid_on.resize_with(record.site + 1, Vec::new);
        }
        let g = &mut self.grid_on[record.site];
        if g.len() <= i {
            g.resize(i + 1, false);
        }
        g[i] = record.grid_event;
        if record.site == 0 {
            for (column, v) in self.ai_usd.iter_mut().zip(record.ai_usd) {
                set_zero(column, i, v);
            }
            self.set_queues(i, record.queued_jobs.map(|q| q as f64));
        }
        if grid_start {
            let time_us = self.time_of(i);
            let text = format!("{}: grid event", self.sites[record.site].name);
            self.add_marker(Marker {
                time_us,
                kind: MarkerKind::GridEvent,
                site: Some(record.site),
                text,
            });
        }
        if spike_start {
            let time_us = self.time_of(i);
            self.add_marker(Marker {
                time_us,
                kind: MarkerKind::PriceSpike,
                site: Some(record.site),
                text: format!(
                    "{}: ${:.0}/MWh",
                    self.sites[record.site].name, record.price_usd_per_mwh
                ),
            });
        }
    }

    /// Sets the queue lengths (P2, P3, P4) at the end of interval `i`.
    pub fn set_queues(&mut self, i: usize, jobs: [f64; 3]) {
        let q = self
            .queued_jobs
            .get_or_insert_with(|| [Vec::new(), Vec::new(), Vec::new()]);
        for (column, v) in q.iter_mut().zip(jobs) {
            set(column, i, v);
        }
    }

    /// Adds a marker, keeping them in time order.
    pub fn add_marker(&mut self, marker: Marker) {
        let at = self
            .markers
            .partition_point(|m| m.time_us <= marker.time_us);
        self.markers.insert(at, marker);
    }

    /// The markers between two instants (µs), in time order.
    pub fn markers_between(&self, from_us: i64, to_us: i64) -> &[Marker] {
        let a = self.markers.partition_point(|m| m.time_us < from_us);
        let b = self.markers.partition_point(|m| m.time_us <= to_us);
        &self.markers[a..b.max(a)]
    }

    /// The ASIC fleet's efficiency at a site, J/TH: the median over the
    /// intervals in which it hashed of IT power ÷ hashrate (NaN when it
    /// never hashed).
    pub fn asic_efficiency_j_per_th(&self, site: usize) -> f64 {
        let all = self.efficiency.get_or_init(|| {
            (0..self.sites.len())
                .map(|s| self.measure_efficiency(s))
                .collect()
        });
        all.get(site).copied().unwrap_or(f64::NAN)
    }

    /// Each stream's running sum from the run's start, one value per
    /// interval, USD, in [`crate::panels::profit::STREAMS`] order: computed
    /// once per run (again after a push), not per frame.
    pub fn cumulative_usd(&self) -> &[Vec<f64>; 7] {
        self.cumulative
            .get_or_init(|| crate::panels::profit::cumulative(self))
    }

    /// The plant's sum over sites of one site column (`column` picks it)
    /// over `range` of the intervals; NaN and missing values count as 0.
    pub fn plant_sum(
        &self,
        range: std::ops::Range<usize>,
        column: impl Fn(&SiteTrack) -> &Vec<f64>,
    ) -> Vec<f64> {
        let mut out = vec![0.0; range.len()];
        for t in &self.sites {
            let c = column(t);
            let r = range.start.min(c.len())..range.end.min(c.len());
            for (o, v) in out.iter_mut().zip(&c[r]) {
                if !v.is_nan() {
                    *o += v;
                }
            }
        }
        out
    }

    /// The stack `key` names, computed by `compute` unless the same stack
    /// over the same intervals and columns was asked before (a span that
    /// does not move — the whole run shown — costs nothing per frame).
    pub fn stacked(&self, key: StackKey, compute: impl FnOnce() -> Stacked) -> Stacked {
        if let Some((_, hit)) = self.stacks.borrow().iter().find(|(k, _)| *k == key) {
            return hit.clone();
        }
        let fresh = compute();
        let mut kept = self.stacks.borrow_mut();
        if kept.len() >= STACKS_KEPT {
            kept.remove(0);
        }
        kept.push((key, fresh.clone()));
        fresh
    }

    fn measure_efficiency(&self, site: usize) -> f64 {
        let Some(t) = self.sites.get(site) else {
            return f64::NAN;
        };
        let mut e: Vec<f64> = t
            .asic_mw
            .iter()
            .zip(&t.hashrate_phs)
            .filter(|(mw, phs)| **mw > 0.0 && **phs > 0.0)
            .map(|(mw, phs)| mw * 1e6 / (phs * 1e3))
            .collect();
        if e.is_empty() {
            return f64::NAN;
        }
        e.sort_by(f64::total_cmp);
        e[e.len() / 2]
    }
}

/// The electricity price at which a miner of `j_per_th` earns what its
/// power costs, USD/MWh: hashprice (USD per TH/s per day) ÷ the energy one
/// TH/s uses in a day (`j_per_th` × 24 h = `j_per_th` × 24 × 10⁻⁶ MWh).
pub fn breakeven_usd_per_mwh(hashprice_usd_per_th_day: f64, j_per_th: f64) -> f64 {
    hashprice_usd_per_th_day / (j_per_th * 24e-6)
}

fn set(column: &mut Vec<f64>, i: usize, v: f64) {
    if column.len() <= i {
        column.resize(i + 1, f64::NAN);
    }
    column[i] = v;
}

fn set_zero(column: &mut Vec<f64>, i: usize, v: f64) {
    if column.len() <= i {
        column.resize(i + 1, 0.0);
    }
    column[i] = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(interval: u64, site: usize, price: f64) -> IntervalRecord {
        IntervalRecord {
            interval,
            site,
            price_usd_per_mwh: price,
            hashprice_usd_per_th_day: 0.05,
            facility_mw: 10.0,
            asic_mw: 6.0,
            gpu_mw: [1.0, 0.5, 0.5, 0.0, 0.0, 0.2, 0.0],
            hashrate_phs: 300.0,
            committed_mw_max: 10.5,
            cap_mw: 12.0,
            mining_usd: 100.0,
            energy_usd: 40.0,
            ai_usd: [10.0, 1.0, 2.0, 0.0, 0.0],
            grid_event: false,
            queued_jobs: [0; 3],
        }
    }

    #[test]
    fn intervals_land_by_index_and_spikes_mark_their_start() {
        let mut run = RunSeries::new("breakeven", "b".into(), 1_000_000, 300_000_000);
        for (i, p) in [30.0, 1_200.0, 1_500.0, 20.0, 2_000.0]
            .into_iter()
            .enumerate()
        {
            run.push(&record(i as u64, 0, p), "North");
        }
        run.push(&record(2, 1, 50.0), "South");
        assert_eq!(run.len(), 5);
        assert_eq!(run.sites[1].price.len(), 3);
        assert!(run.sites[1].price[0].is_nan());
        let spikes: Vec<i64> = run.markers.iter().map(|m| m.time_us).collect();
        assert_eq!(spikes, vec![run.time_of(1), run.time_of(4)]);
        assert_eq!(run.index_at(run.time_of(3) + 5), 3);
        assert_eq!(run.index_at(i64::MAX), 4);
        assert_eq!(run.index_at(0), 0);
        assert_eq!(run.markers_between(run.time_of(2), run.time_of(4)).len(), 1);
        assert_eq!(run.ai_usd[0], vec![10.0; 5]);
    }

    #[test]
    fn breakeven_of_an_s21_at_a_hashprice_of_five_cents() {
        // 17.5 J/TH uses 0.00042 MWh per TH/s per day: $0.05 pays $119/MWh.
        let b = breakeven_usd_per_mwh(0.05, 17.5);
        assert!((b - 119.047_6).abs() < 1e-3, "{b}");
        let mut run = RunSeries::new("p", "p".into(), 0, 1);
        run.push(&record(0, 0, 10.0), "s");
        // 6 MW for 300 PH/s is 20 J/TH.
        assert!((run.asic_efficiency_j_per_th(0) - 20.0).abs() < 1e-9);
    }
}
