//! [`Action`]: what a policy may ask the plant to do at a decision epoch.
//!
//! Every action names its target by id; one aimed at a site, cohort, pool,
//! event or service that does not exist is refused and recorded, never
//! applied to another.

use serde::{Deserialize, Serialize};

use crate::class::{GpuAllocation, WorkloadClass};
use crate::ids::{CohortId, PoolId, SiteId};

/// One request of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Run `on` devices of an ASIC cohort at `power_target_w` each (the rest
    /// curtailed). `None` keeps the current target. Firmware without power
    /// targets runs at stock power whatever is asked.
    Asic {
        /// The cohort.
        cohort: CohortId,
        /// Devices hashing.
        on: u32,
        /// Power target per device, W.
        power_target_w: Option<f64>,
    },
    /// Allocate a GPU pool's working GPUs to uses.
    Gpu {
        /// The pool.
        pool: PoolId,
        /// GPUs per use.
        allocation: GpuAllocation,
    },
    /// Open or close admission of new work of a class (closed: arrivals
    /// are turned away and earn nothing).
    Admission {
        /// P2 to P4 (P1 admission is contractual and refused).
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
        /// The site.
        site: SiteId,
        /// MW of load reduction offered.
        mw: f64,
    },
    /// Offer `mw` of a site's curtailable load as an ancillary service for
    /// the coming market intervals until changed (0 withdraws).
    Ancillary {
        /// The site.
        site: SiteId,
        /// A key of `MarketView::ancillary_services`.
        service: String,
        /// MW offered.
        mw: f64,
    },
}
