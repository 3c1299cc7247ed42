//! [`AsicCohort`]: identical ASICs at one site, kept as counts per state —
//! hashing, ramping up (resuming), winding down (curtailing), on standby,
//! failed — with one power target, so a fleet of 250,000 miners is a few
//! dozen records, not 250,000 objects.
//!
//! A curtailed miner keeps hashing and drawing its target power until its
//! firmware has wound it down; a resumed miner draws its target power from
//! the command on but hashes only once its firmware is up (a conservative
//! choice for the power cap). Batches in flight are kept in arrival order so
//! a later command can take devices back from the newest batch first.

use std::collections::VecDeque;

use hcp_engine::time::SimTime;

use super::integral::Integral;
use crate::plant::{AsicSpec, FirmwareSpec};

/// Devices of one cohort, by state.
#[derive(Debug, Clone)]
pub(crate) struct AsicCohort {
    pub(crate) site: usize,
    pub(crate) spec: AsicSpec,
    pub(crate) firmware: FirmwareSpec,
    pub(crate) installed: u32,
    pub(crate) failed: u32,
    /// Devices commanded on (hashing or resuming).
    pub(crate) on: u32,
    /// Of `on`, devices whose firmware is not up yet.
    pub(crate) resuming: u32,
    /// Devices commanded off that are still winding down.
    pub(crate) curtailing: u32,
    /// Power target per device, W.
    pub(crate) target_w: f64,
    /// Hashrate per device at the target, TH/s.
    pub(crate) hashrate_th: f64,
    /// Resume batches in flight: (done at, devices).
    pub(crate) resumes: VecDeque<(SimTime, u32)>,
    /// Curtail batches in flight: (done at, devices).
    pub(crate) curtails: VecDeque<(SimTime, u32)>,
    /// Power drawn, W.
    pub(crate) power: Integral,
    /// Hashrate delivered, TH/s.
    pub(crate) hash: Integral,
}

impl AsicCohort {
    pub(crate) fn new(
        site: usize,
        spec: AsicSpec,
        firmware: FirmwareSpec,
        installed: u32,
        target_w: Option<f64>,
    ) -> Self {
        let target_w = match target_w {
            Some(w) if firmware.supports_power_target => spec.clamp_power_w(w),
            _ => spec.power_w,
        };
        let hashrate_th = spec.hashrate_th_at(target_w);
        let mut cohort = AsicCohort {
            site,
            spec,
            firmware,
            installed,
            failed: 0,
            on: 0,
            resuming: 0,
            curtailing: 0,
            target_w,
            hashrate_th,
            resumes: VecDeque::new(),
            curtails: VecDeque::new(),
            power: Integral::default(),
            hash: Integral::default(),
        };
        cohort.refresh(SimTime::ZERO);
        cohort
    }

    /// Devices in working order.
    pub(crate) fn working(&self) -> u32 {
        self.installed - self.failed
    }

    /// Working devices neither on nor curtailing.
    pub(crate) fn standby(&self) -> u32 {
        self.working() - self.on - self.curtailing
    }

    /// Devices hashing now.
    pub(crate) fn hashing(&self) -> u32 {
        self.on - self.resuming + self.curtailing
    }

    /// IT power the cohort may draw at most in its current state, W: every
    /// device on or curtailing at its target, the others on standby.
    pub(crate) fn committed_w(&self) -> f64 {
        f64::from(self.on + self.curtailing) * self.target_w
            + f64::from(self.standby() + self.failed) * self.firmware.standby_w
    }

    /// Updates the power and hash integrals after a state change.
    pub(crate) fn refresh(&mut self, now: SimTime) {
        let power = f64::from(self.on + self.curtailing) * self.target_w
            + f64::from(self.standby()) * self.firmware.standby_w;
        self.power.set(now, power);
        self.hash
            .set(now, f64::from(self.hashing()) * self.hashrate_th);
    }

    /// Sets the power target (clamped to the firmware's range; stock
    /// firmware stays at stock power).
    pub(crate) fn set_target(&mut self, now: SimTime, target_w: f64) {
        if !self.firmware.supports_power_target {
            return;
        }
        self.target_w = self.spec.clamp_power_w(target_w);
        self.hashrate_th = self.spec.hashrate_th_at(self.target_w);
        self.refresh(now);
    }

    /// Turns `count` devices off: resuming ones first (newest batch first,
    /// they stop at once), then hashing ones, which wind down until `done`.
    /// Returns the devices that went into a new curtail batch.
    pub(crate) fn curtail(&mut self, now: SimTime, count: u32, done: SimTime) -> u32 {
        let count = count.min(self.on);
        let mut left = count;
        while left > 0 {
            let Some(batch) = self.resumes.back_mut() else {
                break;
            };
            let take = batch.1.min(left);
            batch.1 -= take;
            self.resuming -= take;
            self.on -= take;
            left -= take;
            if batch.1 == 0 {
                self.resumes.pop_back();
            }
        }
        if left > 0 {
            self.on -= left;
            self.curtailing += left;
            self.curtails.push_back((done, left));
        }
        self.refresh(now);
        left
    }

    /// Turns `count` standby devices on; they hash from `done`. Returns
    /// the devices that went into a new resume batch.
    pub(crate) fn resume(&mut self, now: SimTime, count: u32, done: SimTime) -> u32 {
        let count = count.min(self.standby());
        if count > 0 {
            self.on += count;
            self.resuming += count;
            self.resumes.push_back((done, count));
            self.refresh(now);
        }
        count
    }

    /// Completes the resume batches due at `now`.
    pub(crate) fn resumes_done(&mut self, now: SimTime) {
        while let Some(&(at, n)) = self.resumes.front() {
            if at > now {
                break;
            }
            self.resuming -= n;
            self.resumes.pop_front();
        }
        self.refresh(now);
    }

    /// Completes the curtail batches due at `now`.
    pub(crate) fn curtails_done(&mut self, now: SimTime) {
        while let Some(&(at, n)) = self.curtails.front() {
            if at > now {
                break;
            }
            self.curtailing -= n;
            self.curtails.pop_front();
        }
        self.refresh(now);
    }

    /// One working device fails. `pick` ∈ [0, 1) chooses which, in
    /// proportion to the states: hashing (from the newest batch), curtailing,
    /// or standby.
    pub(crate) fn fail_one(&mut self, now: SimTime, pick: f64) {
        let working = f64::from(self.working());
        let on_share = f64::from(self.on) / working;
        let curtailing_share = f64::from(self.curtailing) / working;
        if pick < on_share && self.on > 0 {
            if self.resuming > 0 {
                // Take it from the newest resume batch (it never comes up).
                if let Some(batch) = self.resumes.back_mut() {
                    batch.1 -= 1;
                    if batch.1 == 0 {
                        self.resumes.pop_back();
                    }
                }
                self.resuming -= 1;
            }
            self.on -= 1;
        } else if pick < on_share + curtailing_share && self.curtailing > 0 {
            if let Some(batch) = self.curtails.back_mut() {
                batch.1 -= 1;
                if batch.1 == 0 {
                    self.curtails.pop_back();
                }
            }
            self.curtailing -= 1;
        }
        self.failed += 1;
        self.refresh(now);
    }

    /// One failed device is repaired; it comes back on standby.
    pub(crate) fn repair_one(&mut self, now: SimTime) {
        self.failed = self.failed.saturating_sub(1);
        self.refresh(now);
    }
}
