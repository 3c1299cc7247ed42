//! One virtual miner: its physics ([`MinerPhysics`]), the firmware it
//! pretends to run, its fault, and — for LuxOS — its one API session. A
//! request is parsed here and answered by the firmware's personality in
//! [`crate::protocol`]; the replies are shaped as each firmware's public
//! API documentation shows them.

use std::sync::Mutex;

use hcp_devices::miner::Firmware;
use serde_json::Value;

use crate::clock::FleetClock;
use crate::faults::{Fault, FaultSlot};
use crate::miner::MinerPhysics;
use crate::protocol;

/// What the server should do with a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Send these bytes (the NUL is added by the server).
    Reply(Vec<u8>),
    /// Hold the connection and say nothing.
    Hang,
    /// Drop the connection without a word (reset).
    Drop,
}

/// A LuxOS API session: its id and when it lapses (fleet seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The id `logon` handed out.
    pub id: String,
    /// Fleet time at which it lapses unless used.
    pub expires_at: f64,
}

/// A virtual miner behind one address.
#[derive(Debug)]
pub struct VirtualMiner {
    firmware: Firmware,
    clock: FleetClock,
    physics: Mutex<MinerPhysics>,
    fault: FaultSlot,
    session: Mutex<Option<Session>>,
    sessions_made: Mutex<u64>,
    serial: u64,
}

impl VirtualMiner {
    /// A miner speaking `firmware`, on `clock`, `serial` distinguishing it
    /// (session ids, MAC address).
    pub fn new(firmware: Firmware, physics: MinerPhysics, clock: FleetClock, serial: u64) -> Self {
        VirtualMiner {
            firmware,
            clock,
            physics: Mutex::new(physics),
            fault: FaultSlot::default(),
            session: Mutex::new(None),
            sessions_made: Mutex::new(0),
            serial,
        }
    }

    /// The firmware it speaks.
    pub fn firmware(&self) -> Firmware {
        self.firmware
    }

    /// Its fault slot.
    pub fn fault(&self) -> &FaultSlot {
        &self.fault
    }

    /// Its serial.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// Fleet seconds now.
    pub fn now(&self) -> f64 {
        self.clock.now_s()
    }

    /// Runs `f` on the physics (a poisoned lock is taken as it is: the
    /// physics has no invariant a panic could break half-way).
    pub fn with_physics<T>(&self, f: impl FnOnce(&mut MinerPhysics) -> T) -> T {
        let mut physics = self
            .physics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut physics)
    }

    /// Opens a LuxOS session, or `None` if another one is alive.
    pub fn logon(&self, now: f64) -> Option<String> {
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if session.as_ref().is_some_and(|s| s.expires_at > now) {
            return None;
        }
        let mut made = self
            .sessions_made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *made += 1;
        let id = session_id(self.serial, *made);
        *session = Some(Session {
            id: id.clone(),
            expires_at: now + protocol::luxos::SESSION_LIFETIME_S,
        });
        Some(id)
    }

    /// The live session's id, if any (LuxOS' `session` command).
    pub fn current_session(&self, now: f64) -> Option<String> {
        let session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        session
            .as_ref()
            .filter(|s| s.expires_at > now)
            .map(|s| s.id.clone())
    }

    /// Whether `id` is the live session; using it extends its life.
    pub fn use_session(&self, id: &str, now: f64) -> bool {
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match session.as_mut() {
            Some(s) if s.id == id && s.expires_at > now => {
                s.expires_at = now + protocol::luxos::SESSION_LIFETIME_S;
                true
            }
            _ => false,
        }
    }

    /// Ends session `id`; whether it was the live one.
    pub fn logoff(&self, id: &str) -> bool {
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if session.as_ref().is_some_and(|s| s.id == id) {
            *session = None;
            true
        } else {
            false
        }
    }

    /// The answer to one request's bytes, after the request-level faults.
    pub fn answer(&self, request: &[u8]) -> Answer {
        let now = self.now();
        if self.with_physics(|p| p.snapshot(now).failed) {
            return Answer::Drop;
        }
        match self.fault.get() {
            Fault::NoAnswer => return Answer::Hang,
            Fault::Malformed => {
                return Answer::Reply(b"{\"STATUS\":[{\"STATUS\":\"S\",\"Msg\":".to_vec());
            }
            Fault::RebootMidCommand if self.fault.take_if(Fault::RebootMidCommand) => {
                self.with_physics(|p| p.reboot(now));
                return Answer::Drop;
            }
            _ => {}
        }
        let Ok(request) = serde_json::from_slice::<Value>(request) else {
            return reply(&protocol::error_reply(self, now, 23, "Invalid JSON"));
        };
        let command = request.get("command").and_then(Value::as_str).unwrap_or("");
        let parameter = request.get("parameter").map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        if command.contains('+') {
            let mut joined = serde_json::Map::new();
            for part in command.split('+') {
                let one = protocol::answer(self, part, parameter.as_deref(), now);
                joined.insert(part.to_owned(), Value::Array(vec![one]));
            }
            return reply(&Value::Object(joined));
        }
        reply(&protocol::answer(self, command, parameter.as_deref(), now))
    }
}

fn reply(v: &Value) -> Answer {
    Answer::Reply(v.to_string().into_bytes())
}

/// An 8-character session id, as LuxOS hands out (`yJN2nlj1`).
fn session_id(serial: u64, n: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = serial.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (0..8)
        .map(|_| {
            x ^= x >> 31;
            x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
            char::from(ALPHABET[usize::try_from(x % 62).unwrap_or(0)])
        })
        .collect()
}
