//! One virtual miner's physics, following the twin's plant models exactly:
//! the model's spec sheet and power curve ([`AsicSpec`]), the firmware's
//! standby draw and log-normal curtail/resume latencies ([`FirmwareSpec`],
//! drawn with the same functions the twin uses) and random failures and
//! repairs ([`ReliabilityParams`]).
//!
//! As in the twin's cohorts (models/src/twin/asic_cohort.rs), a curtailed
//! miner keeps hashing and drawing its target power until its firmware has
//! wound it down, and a resumed miner draws its target power from the
//! command on but hashes only once its firmware is up. State advances
//! lazily: every query passes the fleet time, and phases whose end has come
//! are completed first, so a fleet of 38,000 needs no timers.

use hcp_models::plant::{AsicSpec, FirmwareSpec, ReliabilityParams};
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Exp};

/// Where a miner is in its curtail/resume cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Hashing at the target.
    Hashing,
    /// Told to sleep; still hashing until `done_at`.
    Curtailing {
        /// Fleet time the wind-down ends, s.
        done_at: f64,
    },
    /// Asleep at standby draw.
    Asleep,
    /// Told to wake; drawing target power, hashing from `done_at`.
    Resuming {
        /// Fleet time the firmware is up, s.
        done_at: f64,
    },
    /// Off line until `repaired_at` (answers nothing).
    Failed {
        /// Fleet time the repair ends, s.
        repaired_at: f64,
    },
}

/// What a miner shows at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinerSnapshot {
    /// Wall power, W.
    pub power_w: f64,
    /// Hashrate, TH/s.
    pub hashrate_th: f64,
    /// The power target, W.
    pub target_w: f64,
    /// Whether it is asleep or winding down to sleep (as the firmware
    /// reports its curtail state).
    pub curtailed: bool,
    /// Whether it is off line.
    pub failed: bool,
    /// Fleet seconds since the mining process (re)started.
    pub uptime_s: f64,
}

/// One virtual miner.
#[derive(Debug, Clone)]
pub struct MinerPhysics {
    spec: AsicSpec,
    firmware: FirmwareSpec,
    reliability: ReliabilityParams,
    rng: ChaCha12Rng,
    phase: Phase,
    target_w: f64,
    started_at: f64,
    next_failure_at: f64,
}

impl MinerPhysics {
    /// A hashing miner at stock power, its randomness from `seed`.
    pub fn new(
        spec: AsicSpec,
        firmware: FirmwareSpec,
        reliability: ReliabilityParams,
        seed: u64,
    ) -> Self {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let next_failure_at = draw_failure(&reliability, &mut rng, 0.0);
        let target_w = spec.power_w;
        MinerPhysics {
            spec,
            firmware,
            reliability,
            rng,
            phase: Phase::Hashing,
            target_w,
            started_at: 0.0,
            next_failure_at,
        }
    }

    /// The model's spec.
    pub fn spec(&self) -> &AsicSpec {
        &self.spec
    }

    /// The firmware's spec.
    pub fn firmware(&self) -> &FirmwareSpec {
        &self.firmware
    }

    /// The phase at fleet time `now` (completing phases that have ended).
    pub fn phase(&mut self, now: f64) -> Phase {
        self.advance(now);
        self.phase
    }

    fn advance(&mut self, now: f64) {
        loop {
            match self.phase {
                Phase::Failed { repaired_at } if now >= repaired_at => {
                    self.phase = Phase::Resuming {
                        done_at: repaired_at
                            + self.firmware.resume_latency(&mut self.rng).as_secs_f64(),
                    };
                    self.started_at = repaired_at;
                    self.next_failure_at =
                        draw_failure(&self.reliability, &mut self.rng, repaired_at);
                }
                Phase::Curtailing { done_at } if now >= done_at => self.phase = Phase::Asleep,
                Phase::Resuming { done_at } if now >= done_at => self.phase = Phase::Hashing,
                Phase::Failed { .. } => return,
                _ if now >= self.next_failure_at => {
                    let at = self.next_failure_at;
                    let repair = self.reliability.repair_time(&mut self.rng).as_secs_f64();
                    self.phase = Phase::Failed {
                        repaired_at: at + repair,
                    };
                    self.next_failure_at = f64::INFINITY;
                }
                _ => return,
            }
        }
    }

    /// What the miner shows at `now`.
    pub fn snapshot(&mut self, now: f64) -> MinerSnapshot {
        self.advance(now);
        let at_target = self.spec.hashrate_th_at(self.target_w);
        let (power_w, hashrate_th, curtailed, failed) = match self.phase {
            Phase::Hashing => (self.target_w, at_target, false, false),
            Phase::Curtailing { .. } => (self.target_w, at_target, true, false),
            Phase::Asleep => (self.firmware.standby_w, 0.0, true, false),
            Phase::Resuming { .. } => (self.target_w, 0.0, false, false),
            Phase::Failed { .. } => (0.0, 0.0, false, true),
        };
        MinerSnapshot {
            power_w,
            hashrate_th,
            target_w: self.target_w,
            curtailed,
            failed,
            uptime_s: (now - self.started_at).max(0.0),
        }
    }

    /// The sleep command at `now`: winds down over a drawn curtail latency.
    /// A miner already asleep or winding down is left as it is.
    pub fn curtail(&mut self, now: f64) {
        self.advance(now);
        if matches!(self.phase, Phase::Hashing | Phase::Resuming { .. }) {
            let latency = self.firmware.curtail_latency(&mut self.rng).as_secs_f64();
            self.phase = Phase::Curtailing {
                done_at: now + latency,
            };
        }
    }

    /// The wake command at `now`: up after a drawn resume latency. A miner
    /// hashing or already resuming is left as it is.
    pub fn resume(&mut self, now: f64) {
        self.advance(now);
        if matches!(self.phase, Phase::Asleep | Phase::Curtailing { .. }) {
            let latency = self.firmware.resume_latency(&mut self.rng).as_secs_f64();
            self.phase = Phase::Resuming {
                done_at: now + latency,
            };
            self.started_at = now;
        }
    }

    /// A new power target (clamped into the model's window), taking effect
    /// at once as in the twin; `false` if the firmware has no power target.
    pub fn set_target(&mut self, now: f64, watts: f64) -> bool {
        self.advance(now);
        if !self.firmware.supports_power_target || !watts.is_finite() {
            return false;
        }
        self.target_w = self.spec.clamp_power_w(watts);
        true
    }

    /// A reboot at `now` (a fault mid-command): the miner restarts and is
    /// back hashing after a drawn resume latency.
    pub fn reboot(&mut self, now: f64) {
        self.advance(now);
        if !matches!(self.phase, Phase::Failed { .. }) {
            let latency = self.firmware.resume_latency(&mut self.rng).as_secs_f64();
            self.phase = Phase::Resuming {
                done_at: now + latency,
            };
            self.started_at = now;
        }
    }
}

fn draw_failure(reliability: &ReliabilityParams, rng: &mut ChaCha12Rng, from: f64) -> f64 {
    match Exp::new(reliability.failure_rate_per_s()) {
        Ok(exp) if reliability.failure_rate_per_s() > 0.0 => from + exp.sample(rng),
        _ => f64::INFINITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_models::plant::AsicCatalog;

    fn lux_s21(seed: u64) -> MinerPhysics {
        let c = AsicCatalog::default();
        let mut reliability = c.reliability.clone();
        reliability.annual_failure_rate = 0.0;
        MinerPhysics::new(
            c.model("S21").unwrap().clone(),
            c.firmware("luxos").unwrap().clone(),
            reliability,
            seed,
        )
    }

    #[test]
    fn curtail_keeps_hashing_until_wound_down_then_standby() {
        let mut m = lux_s21(1);
        let s = m.snapshot(0.0);
        assert_eq!((s.power_w, s.hashrate_th), (3_500.0, 200.0));
        m.curtail(10.0);
        let Phase::Curtailing { done_at } = m.phase(10.0) else {
            panic!("not curtailing")
        };
        // LuxOS: median 2 s, hard bound 5 s (models/params/asic.toml).
        assert!(done_at > 10.0 && done_at <= 15.0, "{done_at}");
        assert_eq!(m.snapshot(done_at - 1e-6).power_w, 3_500.0);
        let asleep = m.snapshot(done_at);
        assert_eq!(
            (asleep.power_w, asleep.hashrate_th, asleep.curtailed),
            (25.0, 0.0, true)
        );
        m.resume(100.0);
        let waking = m.snapshot(100.0);
        assert_eq!((waking.power_w, waking.hashrate_th), (3_500.0, 0.0));
        assert_eq!(
            m.snapshot(110.0).hashrate_th,
            200.0,
            "resumed within the 10 s bound"
        );
    }

    #[test]
    fn power_target_follows_the_curve_and_stock_firmware_has_none() {
        let mut m = lux_s21(2);
        assert!(m.set_target(0.0, 2_500.0));
        let s = m.snapshot(0.0);
        let expected = 200.0 * (2_500.0_f64 / 3_500.0).powf(0.629);
        assert!((s.hashrate_th - expected).abs() < 1e-9, "{}", s.hashrate_th);
        assert!(m.set_target(0.0, 100.0));
        assert_eq!(m.snapshot(0.0).target_w, 1_925.0, "clamped to the window");
        let c = AsicCatalog::default();
        let mut stock = MinerPhysics::new(
            c.model("M60S").unwrap().clone(),
            c.firmware("stock").unwrap().clone(),
            c.reliability.clone(),
            3,
        );
        assert!(!stock.set_target(0.0, 2_000.0));
    }

    #[test]
    fn failures_follow_the_reliability_model_and_repair() {
        let c = AsicCatalog::default();
        let mut reliability = c.reliability.clone();
        reliability.annual_failure_rate = 365.0 * 24.0; // one an hour, for the test
        let mut m = MinerPhysics::new(
            c.model("S21").unwrap().clone(),
            c.firmware("luxos").unwrap().clone(),
            reliability,
            4,
        );
        let failure = (0..200).find_map(|hour| match m.phase(f64::from(hour) * 3_600.0) {
            Phase::Failed { repaired_at } => Some(repaired_at),
            _ => None,
        });
        let repaired_at = failure.expect("a device failing hourly failed within 200 h");
        let down = m.snapshot(repaired_at - 1e-3);
        assert!(down.failed && down.power_w == 0.0);
        let back = m.snapshot(repaired_at);
        assert!(!back.failed, "repaired at the drawn repair time");
        assert_eq!(
            (back.power_w, back.hashrate_th),
            (3_500.0, 0.0),
            "resuming after the repair"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_latencies() {
        let (mut a, mut b) = (lux_s21(9), lux_s21(9));
        a.curtail(0.0);
        b.curtail(0.0);
        assert_eq!(a.phase(0.0), b.phase(0.0));
    }
}
