//! From a scenario's plant to a running fleet: which miners exist (each
//! cohort's count times `--scale`), which address and protocol each gets,
//! and the servers that answer for them. The plan is pure and
//! deterministic (the same plant, scale and seed give the same addresses,
//! protocols and random streams); [`start`] binds and spawns it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hcp_devices::miner::Firmware;
use hcp_models::plant::{AsicCatalog, PlantConfig, catalogs};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::FleetClock;
use crate::faults::Fault;
use crate::miner::MinerPhysics;
use crate::virtual_miner::VirtualMiner;

/// How to build the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetOptions {
    /// Share of each cohort's count to serve (1 = the scenario's fleet).
    pub scale: f64,
    /// Fleet time per wall second.
    pub speed: f64,
    /// Seed of every miner's random stream.
    pub seed: u64,
    /// The RPC port (4028: the port clients assume).
    pub rpc_port: u16,
    /// Whether stock Antminer and Braiins units serve their web interface
    /// (port 80: needs root or `CAP_NET_BIND_SERVICE`).
    pub web: bool,
    /// Protocol per twin firmware name or cohort id, over the default
    /// (`luxos` → LuxOS; `stock` → Whatsminer for MicroBT models, stock
    /// Antminer otherwise).
    pub protocols: BTreeMap<String, Firmware>,
    /// Share of miners given a random fault at start (0 = none).
    pub random_fault_share: f64,
    /// Index of the first address handed out (fleets side by side, as in
    /// tests running at once, take disjoint ranges).
    pub first_address: usize,
    /// Serve only shard `i` of `n` of the plan (contiguous ranges, the
    /// addresses those of the whole plan), so one fleet can span several
    /// processes when one process may not open enough sockets.
    pub shard: (usize, usize),
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            scale: 1.0,
            speed: 1.0,
            seed: 1,
            rpc_port: 4028,
            web: true,
            protocols: BTreeMap::new(),
            random_fault_share: 0.0,
            first_address: 0,
            shard: (0, 1),
        }
    }
}

/// One planned miner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMiner {
    /// Its RPC address.
    pub address: SocketAddr,
    /// The contract's cohort id, `site/model/firmware`.
    pub cohort: String,
    /// The protocol it speaks.
    pub protocol: Firmware,
    /// The model's name.
    pub model: String,
    /// The twin firmware whose latencies it follows.
    pub firmware: String,
}

/// The whole fleet, before anything is bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetPlan {
    /// The miners, in scenario order.
    pub miners: Vec<PlannedMiner>,
}

/// A plan that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A model or firmware the catalog does not know.
    #[error("plant: {0}")]
    Plant(String),
    /// More miners than loopback addresses planned for them.
    #[error("{0} miners is more than the {MAX_MINERS} loopback addresses the fleet hands out")]
    TooMany(usize),
    /// An address could not be bound.
    #[error(
        "cannot listen on {address}: {source} (loopback addresses need no setup on Linux; port 80 needs root, or run with web off)"
    )]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Most miners the address plan covers (127.64.1.1 – 127.127.255.254).
pub const MAX_MINERS: usize = 64 * 254 * 254;

/// The loopback address of miner `i`: 127.(64 + i / 254²).((i / 254) % 254 + 1).(i % 254 + 1).
pub fn miner_ip(i: usize) -> Ipv4Addr {
    let a = 64 + i / (254 * 254);
    let b = (i / 254) % 254 + 1;
    let c = i % 254 + 1;
    // Each part is below 256 for i < MAX_MINERS.
    Ipv4Addr::new(
        127,
        u8::try_from(a).unwrap_or(127),
        u8::try_from(b).unwrap_or(254),
        u8::try_from(c).unwrap_or(254),
    )
}

fn protocol_for(options: &FleetOptions, cohort: &str, firmware: &str, maker: &str) -> Firmware {
    if let Some(p) = options
        .protocols
        .get(cohort)
        .or_else(|| options.protocols.get(firmware))
    {
        return *p;
    }
    match (firmware, maker) {
        ("luxos", _) => Firmware::LuxOs,
        (_, "MicroBT") => Firmware::Whatsminer,
        _ => Firmware::AntminerStock,
    }
}

/// Plans the fleet of `plant` under `options`.
///
/// # Errors
/// An unknown model or firmware; a fleet larger than [`MAX_MINERS`].
pub fn plan(plant: &PlantConfig, options: &FleetOptions) -> Result<FleetPlan, FleetError> {
    let (asic, _) = catalogs(plant);
    let mut miners = Vec::new();
    for site in &plant.sites {
        for cohort in &site.asics {
            let spec = asic
                .model(&cohort.model)
                .map_err(|e| FleetError::Plant(e.to_string()))?;
            asic.firmware(&cohort.firmware)
                .map_err(|e| FleetError::Plant(e.to_string()))?;
            let id = format!("{}/{}/{}", site.name, cohort.model, cohort.firmware);
            let protocol = protocol_for(options, &id, &cohort.firmware, &spec.maker);
            let scaled = (f64::from(cohort.count) * options.scale.max(0.0)).round();
            // At most u32::MAX × a finite scale; the address check bounds it.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = if cohort.count > 0 && options.scale > 0.0 {
                (scaled as usize).max(1)
            } else {
                0
            };
            for _ in 0..n {
                let i = options.first_address + miners.len();
                if i >= MAX_MINERS {
                    return Err(FleetError::TooMany(i + 1));
                }
                miners.push(PlannedMiner {
                    address: SocketAddr::new(miner_ip(i).into(), options.rpc_port),
                    cohort: id.clone(),
                    protocol,
                    model: cohort.model.clone(),
                    firmware: cohort.firmware.clone(),
                });
            }
        }
    }
    let (i, n) = (options.shard.0, options.shard.1.max(1));
    let len = miners.len();
    let range = (i.min(n) * len / n)..((i + 1).min(n) * len / n);
    Ok(FleetPlan {
        miners: miners.drain(range).collect(),
    })
}

/// A fleet being served.
#[derive(Debug)]
pub struct RunningFleet {
    /// The plan it serves.
    pub plan: FleetPlan,
    /// Each miner, in plan order.
    pub miners: Vec<Arc<VirtualMiner>>,
    /// The fleet's clock.
    pub clock: FleetClock,
    stop: watch::Sender<bool>,
    tasks: JoinSet<std::io::Result<()>>,
}

impl RunningFleet {
    /// Stops every server and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Sets `fault` on miner `i` (out of range: nothing).
    pub fn set_fault(&self, i: usize, fault: Fault) {
        if let Some(m) = self.miners.get(i) {
            m.fault().set(fault);
        }
    }
}

/// Binds and serves `plan` on `clock`'s time.
///
/// # Errors
/// An address cannot be bound; nothing is left listening then.
pub async fn start(
    plant: &PlantConfig,
    options: &FleetOptions,
) -> Result<RunningFleet, FleetError> {
    let plan = plan(plant, options)?;
    let (asic, _): (AsicCatalog, _) = catalogs(plant);
    let clock = FleetClock::new(options.speed);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut miners = Vec::with_capacity(plan.miners.len());
    for planned in &plan.miners {
        let i = miner_index(planned.address.ip());
        let spec = asic
            .model(&planned.model)
            .map_err(|e| FleetError::Plant(e.to_string()))?
            .clone();
        let firmware = asic
            .firmware(&planned.firmware)
            .map_err(|e| FleetError::Plant(e.to_string()))?
            .clone();
        let serial = i as u64; // the plan index: the same miner in any shard
        let seed = options
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(serial);
        let physics = MinerPhysics::new(spec, firmware, asic.reliability.clone(), seed);
        let miner = Arc::new(VirtualMiner::new(planned.protocol, physics, clock, serial));
        if options.random_fault_share > 0.0 {
            miner
                .fault()
                .set(random_fault(seed, options.random_fault_share));
        }
        // Bind here, so a failure is reported before anything is served
        // and a client that connects at once finds the miner listening.
        let listener =
            std::net::TcpListener::bind(planned.address).map_err(|source| FleetError::Bind {
                address: planned.address,
                source,
            })?;
        tasks.spawn(crate::rpc_server::serve(
            listener,
            Arc::clone(&miner),
            stopped.clone(),
        ));
        if options.web
            && matches!(
                planned.protocol,
                Firmware::AntminerStock | Firmware::BraiinsOs
            )
        {
            let web = SocketAddr::new(planned.address.ip(), 80);
            let listener = std::net::TcpListener::bind(web).map_err(|source| FleetError::Bind {
                address: web,
                source,
            })?;
            tasks.spawn(crate::web::serve(
                listener,
                Arc::clone(&miner),
                stopped.clone(),
            ));
        }
        miners.push(miner);
    }
    Ok(RunningFleet {
        plan,
        miners,
        clock,
        stop,
        tasks,
    })
}

/// The plan index of the miner at `ip` (the inverse of [`miner_ip`]).
pub fn miner_index(ip: std::net::IpAddr) -> usize {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [_, a, b, c] = v4.octets();
            (usize::from(a).saturating_sub(64)) * 254 * 254
                + usize::from(b).saturating_sub(1) * 254
                + usize::from(c).saturating_sub(1)
        }
        std::net::IpAddr::V6(_) => 0,
    }
}

/// A fault drawn for a miner with probability `share` (else none), from
/// the miner's seed so the same fleet shows the same faults.
fn random_fault(seed: u64, share: f64) -> Fault {
    let mut x = seed ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    let u = (x >> 11) as f64 / (1_u64 << 53) as f64;
    if u >= share {
        return Fault::None;
    }
    match (x % 7) as u8 {
        0 => Fault::NoAnswer,
        1 => Fault::Slow { delay_ms: 1_500 },
        2 => Fault::Refused,
        3 => Fault::Malformed,
        4 => Fault::Impossible,
        5 => Fault::RebootMidCommand,
        _ => Fault::AuthFailure,
    }
}
