//! The classes of work and the uses of a GPU, and the records keyed by
//! them: [`WorkloadClass`], [`GpuUse`], [`GpuAllocation`] (GPUs per use),
//! [`PerJobClass`] (one value per queued class, P2–P4) and [`PerGpuUse`]
//! (one value per earning use). Named fields replace positional arrays, so
//! no reader has to know an order.

use serde::{Deserialize, Serialize};

/// The four workload classes, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum WorkloadClass {
    /// Real-time inference under a latency SLA.
    P1 = 1,
    /// Batch inference with a deadline.
    P2 = 2,
    /// Training, preemptible at a checkpoint cost.
    P3 = 3,
    /// Interruptible background work.
    P4 = 4,
}

impl WorkloadClass {
    /// The classes that queue as jobs, in priority order.
    pub const JOBS: [WorkloadClass; 3] = [WorkloadClass::P2, WorkloadClass::P3, WorkloadClass::P4];
}

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

/// One value per class that queues as jobs (P2, P3, P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerJobClass<T> {
    /// Batch inference.
    pub p2: T,
    /// Training.
    pub p3: T,
    /// Interruptible background work.
    pub p4: T,
}

impl<T> PerJobClass<T> {
    /// The same value for every class.
    pub fn splat(value: T) -> Self
    where
        T: Clone,
    {
        PerJobClass {
            p2: value.clone(),
            p3: value.clone(),
            p4: value,
        }
    }

    /// The value of `class` (`None` for P1, which does not queue).
    pub fn get(&self, class: WorkloadClass) -> Option<&T> {
        match class {
            WorkloadClass::P1 => None,
            WorkloadClass::P2 => Some(&self.p2),
            WorkloadClass::P3 => Some(&self.p3),
            WorkloadClass::P4 => Some(&self.p4),
        }
    }

    /// The value of `class`, mutably (`None` for P1).
    pub fn get_mut(&mut self, class: WorkloadClass) -> Option<&mut T> {
        match class {
            WorkloadClass::P1 => None,
            WorkloadClass::P2 => Some(&mut self.p2),
            WorkloadClass::P3 => Some(&mut self.p3),
            WorkloadClass::P4 => Some(&mut self.p4),
        }
    }

    /// Every class with its value, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = (WorkloadClass, &T)> {
        [
            (WorkloadClass::P2, &self.p2),
            (WorkloadClass::P3, &self.p3),
            (WorkloadClass::P4, &self.p4),
        ]
        .into_iter()
    }

    /// Every class with its value, mutably, in priority order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (WorkloadClass, &mut T)> {
        [
            (WorkloadClass::P2, &mut self.p2),
            (WorkloadClass::P3, &mut self.p3),
            (WorkloadClass::P4, &mut self.p4),
        ]
        .into_iter()
    }
}

/// One value per use that earns money (P1 to P4 and rental).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerGpuUse<T> {
    /// Real-time inference.
    pub p1: T,
    /// Batch inference.
    pub p2: T,
    /// Training.
    pub p3: T,
    /// Interruptible background work.
    pub p4: T,
    /// Let on the rental market.
    pub rental: T,
}

impl<T> PerGpuUse<T> {
    /// The uses that earn, in allocation order.
    pub const EARNING: [GpuUse; 5] = [
        GpuUse::P1,
        GpuUse::P2,
        GpuUse::P3,
        GpuUse::P4,
        GpuUse::Rental,
    ];

    /// The value of `use_` (`None` for idle and off, which earn nothing).
    pub fn get(&self, use_: GpuUse) -> Option<&T> {
        match use_ {
            GpuUse::P1 => Some(&self.p1),
            GpuUse::P2 => Some(&self.p2),
            GpuUse::P3 => Some(&self.p3),
            GpuUse::P4 => Some(&self.p4),
            GpuUse::Rental => Some(&self.rental),
            GpuUse::Idle | GpuUse::Off => None,
        }
    }

    /// The value of `use_`, mutably (`None` for idle and off).
    pub fn get_mut(&mut self, use_: GpuUse) -> Option<&mut T> {
        match use_ {
            GpuUse::P1 => Some(&mut self.p1),
            GpuUse::P2 => Some(&mut self.p2),
            GpuUse::P3 => Some(&mut self.p3),
            GpuUse::P4 => Some(&mut self.p4),
            GpuUse::Rental => Some(&mut self.rental),
            GpuUse::Idle | GpuUse::Off => None,
        }
    }
}
