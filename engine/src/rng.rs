//! Named, seeded random-number streams: one per stochastic process.
//!
//! # Scheme
//! Every stream is a ChaCha12 keystream ([`StreamRng`]). Its 256-bit key is
//! the little-endian concatenation of
//!
//! | bytes  | content                                              |
//! |--------|------------------------------------------------------|
//! | 0–7    | master seed (the scenario's `seed`)                  |
//! | 8–15   | replication index (0, 1, 2, … of a Monte Carlo sweep) |
//! | 16–23  | stream family: FNV-1a 64 of the stream's name         |
//! | 24–31  | the ASCII tag `HCPTWIN1` (version of this scheme)     |
//!
//! and its 64-bit ChaCha stream number (nonce) is the stream's index within
//! the family (a device number, a customer number; 0 for a lone process).
//!
//! ChaCha is a pseudo-random function of (key, nonce, position): streams with
//! different (seed, replication, family, index) are independent for every
//! practical purpose, and each is 2^68 bytes long. A stream is found by its
//! name, never by the order in which streams were created, so adding a process
//! or a device never changes another stream's draws. Families of distinct
//! names collide with probability about n²/2^65 (negligible for the hundreds
//! of names a twin uses); indices within a family never collide.
//!
//! Draws are reproducible across platforms for a given `Cargo.lock`: ChaCha's
//! output is fixed by its specification, and `rand_distr` changes sampling
//! algorithms only in releases it marks as value-breaking.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

/// The generator behind every stream.
pub type StreamRng = ChaCha12Rng;

const SCHEME_TAG: [u8; 8] = *b"HCPTWIN1";

/// The identity of a random stream: a named family and an index within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamId {
    family: u64,
    index: u64,
}

impl StreamId {
    /// The stream of a lone process, e.g. `StreamId::named("market.btc_price")`.
    pub const fn named(name: &str) -> Self {
        StreamId {
            family: fnv1a_64(name.as_bytes()),
            index: 0,
        }
    }

    /// The `index`-th stream of this family, e.g. one per device or customer.
    #[must_use]
    pub const fn index(self, index: u64) -> Self {
        StreamId {
            family: self.family,
            index,
        }
    }

    /// The family hash (FNV-1a 64 of the name).
    pub const fn family(self) -> u64 {
        self.family
    }
}

/// The stream factory of one replication of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RngStreams {
    master_seed: u64,
    replication: u64,
}

impl RngStreams {
    /// The streams of replication `replication` under `master_seed`.
    pub const fn new(master_seed: u64, replication: u64) -> Self {
        RngStreams {
            master_seed,
            replication,
        }
    }

    /// The master seed.
    pub const fn master_seed(&self) -> u64 {
        self.master_seed
    }

    /// The replication index.
    pub const fn replication(&self) -> u64 {
        self.replication
    }

    /// A fresh generator at the start of stream `id`.
    pub fn stream(&self, id: StreamId) -> StreamRng {
        let mut key = [0u8; 32];
        key[0..8].copy_from_slice(&self.master_seed.to_le_bytes());
        key[8..16].copy_from_slice(&self.replication.to_le_bytes());
        key[16..24].copy_from_slice(&id.family.to_le_bytes());
        key[24..32].copy_from_slice(&SCHEME_TAG);
        let mut rng = StreamRng::from_seed(key);
        rng.set_stream(id.index);
        rng
    }
}

/// FNV-1a, 64-bit: a fixed, documented hash usable in `const` context.
const fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn draws(rng: &mut StreamRng, n: usize) -> Vec<u64> {
        (0..n).map(|_| rng.random::<u64>()).collect()
    }

    #[test]
    fn fnv_matches_published_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv).
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn same_identity_same_draws() {
        let s = RngStreams::new(42, 3);
        let id = StreamId::named("market.btc_price");
        assert_eq!(draws(&mut s.stream(id), 16), draws(&mut s.stream(id), 16));
    }

    #[test]
    fn every_coordinate_changes_the_stream() {
        let base = RngStreams::new(42, 3).stream(StreamId::named("a"));
        let variants = [
            RngStreams::new(43, 3).stream(StreamId::named("a")),
            RngStreams::new(42, 4).stream(StreamId::named("a")),
            RngStreams::new(42, 3).stream(StreamId::named("b")),
            RngStreams::new(42, 3).stream(StreamId::named("a").index(1)),
        ];
        let reference = draws(&mut base.clone(), 4);
        for mut v in variants {
            assert_ne!(draws(&mut v, 4), reference);
        }
    }

    #[test]
    fn using_other_streams_never_changes_a_stream() {
        let s = RngStreams::new(7, 0);
        let alone = draws(&mut s.stream(StreamId::named("demand")), 64);
        // Create and consume many other streams first, interleaved.
        let mut others: Vec<StreamRng> = (0..100)
            .map(|i| s.stream(StreamId::named("fleet.failures").index(i)))
            .collect();
        let mut demand = s.stream(StreamId::named("demand"));
        let mut interleaved = Vec::new();
        for _ in 0..64 {
            for o in &mut others {
                let _: u64 = o.random();
            }
            interleaved.push(demand.random::<u64>());
        }
        assert_eq!(alone, interleaved);
    }

    #[test]
    fn known_answer_is_stable() {
        // Pins the scheme: changing the key layout or generator breaks this.
        let mut rng = RngStreams::new(1, 0).stream(StreamId::named("known-answer"));
        let first: u64 = rng.random();
        let again: u64 = RngStreams::new(1, 0)
            .stream(StreamId::named("known-answer"))
            .random();
        assert_eq!(first, again);
        assert_eq!(first, KNOWN_ANSWER);
    }

    /// First `u64` of stream "known-answer", seed 1, replication 0: the first
    /// 8 keystream bytes (little-endian) of ChaCha with 12 rounds, key as in the
    /// module docs, 64-bit block counter 0 and 64-bit nonce 0 (Bernstein's
    /// original layout). Computed independently from the ChaCha specification
    /// with a 25-line Python implementation of the block function, not with
    /// this crate.
    const KNOWN_ANSWER: u64 = 6_250_674_303_003_859_352;
}
