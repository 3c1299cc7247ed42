//! Grid events as a policy hears of them: their kind, their payment terms
//! and the [`GridNotice`] an observation lists while one is announced and
//! not yet over.

use std::collections::BTreeMap;

use hcp_engine::time::SimTime;
use serde::{Deserialize, Serialize};

use crate::ids::SiteId;

/// The kinds of grid event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GridEventKind {
    /// ERS deployment with 10-minute notice.
    #[serde(rename = "ers-10")]
    Ers10,
    /// ERS deployment with 30-minute notice.
    #[serde(rename = "ers-30")]
    Ers30,
    /// A 4CP alert window (the realised peak is marked ex post).
    #[serde(rename = "4cp")]
    FourCp,
    /// An emergency (EEA-like) curtailment request.
    #[serde(rename = "emergency")]
    Emergency,
}

impl GridEventKind {
    /// Every kind, in stream order.
    pub const ALL: [GridEventKind; 4] = [
        GridEventKind::Ers10,
        GridEventKind::Ers30,
        GridEventKind::FourCp,
        GridEventKind::Emergency,
    ];

    /// The name used in files and stream names.
    pub fn name(self) -> &'static str {
        match self {
            GridEventKind::Ers10 => "ers-10",
            GridEventKind::Ers30 => "ers-30",
            GridEventKind::FourCp => "4cp",
            GridEventKind::Emergency => "emergency",
        }
    }

    /// The kind of a name, if known.
    pub fn parse(name: &str) -> Option<GridEventKind> {
        GridEventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What an event pays (zero where a term does not apply).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// Standby (capacity) payment, $/MW per hour of the contract period (ERS).
    pub standby_per_mw_h: f64,
    /// Payment per MWh curtailed, $/MWh (0 for a voluntary request).
    pub per_mwh: f64,
    /// Whether curtailed energy is also settled at the real-time price.
    pub at_real_time_price: bool,
    /// Avoided transmission charge, $/kW-year, for load off in the realised
    /// 4CP interval.
    pub per_kw_year: f64,
}

/// A grid event the operator has been told about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridNotice {
    /// Identifier used in `Action::DemandResponse`.
    pub id: u32,
    /// The kind.
    pub kind: GridEventKind,
    /// Start of the event or alert window.
    pub start: SimTime,
    /// End of it.
    pub end: SimTime,
    /// Terms.
    pub payment: Payment,
    /// MW committed so far, by site (every site that takes part in grid
    /// events, 0 where nothing is committed).
    pub committed_mw: BTreeMap<SiteId, f64>,
}

impl GridNotice {
    /// MW committed at `site` (0 if none).
    pub fn committed_at(&self, site: &SiteId) -> f64 {
        self.committed_mw.get(site).copied().unwrap_or(0.0)
    }

    /// Whether `t` falls in the event's window.
    pub fn covers(&self, t: SimTime) -> bool {
        self.start <= t && t < self.end
    }
}
