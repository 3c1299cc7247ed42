//! [`Action`]: what a policy may ask the plant to do at a decision epoch.

use serde::{Deserialize, Serialize};

use crate::demand::WorkloadClass;

/// The uses a GPU can be put to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuUse {
    /// Real-time inference.
    P1,
    /// Batch inference.
    P2,
    /// Training.
    P3,
    /// Interruptible background work.
    P4,
    /// Let on a GPU rental market at the market's hourly price.
    Rental,
    /// Powered and warm, doing nothing (ready in a switch time).
    Idle,
    /// Server powered down (ready after a cold start).
    Off,
}

impl GpuUse {
    /// Every use, in allocation order.
    pub const ALL: [GpuUse; 7] = [
        GpuUse::P1,
        GpuUse::P2,
        GpuUse::P3,
        GpuUse::P4,
        GpuUse::Rental,
        GpuUse::Idle,
        GpuUse::Off,
    ];

    /// The use that serves a workload class.
    pub fn of_class(class: WorkloadClass) -> GpuUse {
        match class {
            WorkloadClass::P1 => GpuUse::P1,
            WorkloadClass::P2 => GpuUse::P2,
            WorkloadClass::P3 => GpuUse::P3,
            WorkloadClass::P4 => GpuUse::P4,
        }
    }

    /// Position in [`GpuUse::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            GpuUse::P1 => "p1",
            GpuUse::P2 => "p2",
            GpuUse::P3 => "p3",
            GpuUse::P4 => "p4",
            GpuUse::Rental => "rental",
            GpuUse::Idle => "idle",
            GpuUse::Off => "off",
        }
    }
}

/// GPUs of one pool per use. GPUs not listed (installed − failed − the
/// sum) are powered off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuAllocation {
    /// Real-time inference.
    pub p1: u32,
    /// Batch inference.
    pub p2: u32,
    /// Training.
    pub p3: u32,
    /// Interruptible background work.
    pub p4: u32,
    /// Let on the rental market.
    pub rental: u32,
    /// Powered, idle.
    pub idle: u32,
}

impl GpuAllocation {
    /// GPUs given to `use_` (`Off` is not stored: 0).
    pub fn get(&self, use_: GpuUse) -> u32 {
        match use_ {
            GpuUse::P1 => self.p1,
            GpuUse::P2 => self.p2,
            GpuUse::P3 => self.p3,
            GpuUse::P4 => self.p4,
            GpuUse::Rental => self.rental,
            GpuUse::Idle => self.idle,
            GpuUse::Off => 0,
        }
    }

    /// Sets the GPUs given to `use_` (`Off` is ignored: it is the rest).
    pub fn set(&mut self, use_: GpuUse, gpus: u32) {
        match use_ {
            GpuUse::P1 => self.p1 = gpus,
            GpuUse::P2 => self.p2 = gpus,
            GpuUse::P3 => self.p3 = gpus,
            GpuUse::P4 => self.p4 = gpus,
            GpuUse::Rental => self.rental = gpus,
            GpuUse::Idle => self.idle = gpus,
            GpuUse::Off => {}
        }
    }

    /// GPUs powered on (every use but off).
    pub fn powered(&self) -> u32 {
        self.p1 + self.p2 + self.p3 + self.p4 + self.rental + self.idle
    }

    /// Removes `excess` GPUs in the order the plant cuts an allocation that
    /// does not fit ([`GpuAllocation::CUT_ORDER`]).
    pub fn cut(&mut self, mut excess: u32) {
        for use_ in GpuAllocation::CUT_ORDER {
            if excess == 0 {
                break;
            }
            let take = self.get(use_).min(excess);
            self.set(use_, self.get(use_) - take);
            excess -= take;
        }
    }

    /// The order in which GPUs are cut: idle, rental, P4, P3, P2, P1.
    pub const CUT_ORDER: [GpuUse; 6] = [
        GpuUse::Idle,
        GpuUse::Rental,
        GpuUse::P4,
        GpuUse::P3,
        GpuUse::P2,
        GpuUse::P1,
    ];
}

/// One request of a policy. Indices refer to the vectors of the
/// [`Observation`](super::Observation) the policy was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Run `on` devices of an ASIC cohort at `power_target_w` each (the rest
    /// curtailed). `None` keeps the current target. Firmware without power
    /// targets runs at stock power whatever is asked.
    Asic {
        /// Index into `asic_cohorts`.
        cohort: usize,
        /// Devices hashing.
        on: u32,
        /// Power target per device, W.
        power_target_w: Option<f64>,
    },
    /// Allocate a GPU pool's working GPUs to uses.
    Gpu {
        /// Index into `gpu_pools`.
        pool: usize,
        /// GPUs per use.
        allocation: GpuAllocation,
    },
    /// Open or close admission of new work of a class (closed: arrivals
    /// are turned away and earn nothing).
    Admission {
        /// P1 to P4.
        class: WorkloadClass,
        /// Whether new work is accepted.
        open: bool,
    },
    /// Commit to reduce a site's demand by `mw` during an announced grid
    /// event (0 withdraws). Payment and the power actually shed follow the
    /// event's terms.
    DemandResponse {
        /// `GridNotice::id` of the event.
        event: u32,
        /// Index into `sites`.
        site: usize,
        /// MW of load reduction offered.
        mw: f64,
    },
    /// Offer `mw` of a site's curtailable load as an ancillary service for
    /// the coming market intervals until changed (0 withdraws).
    Ancillary {
        /// Index into `sites`.
        site: usize,
        /// Index into `MarketView::ancillary_services`.
        service: usize,
        /// MW offered.
        mw: f64,
    },
}
