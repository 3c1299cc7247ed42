//! Property test of the pending-event set: whatever mix of scheduling,
//! cancelling and popping, events come out in (time, rank, sequence) order,
//! cancelled events never fire, and nothing else is lost.

use std::collections::BTreeMap;

use hcp_engine::queue::{Event, EventHandle, EventQueue, Rank};
use hcp_engine::time::SimTime;
use proptest::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tagged {
    rank: Rank,
    tag: u32,
}

impl Event for Tagged {
    fn rank(&self) -> Rank {
        self.rank
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push {
        dt: u64,
        rank: Rank,
        cancellable: bool,
    },
    Cancel(usize),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..20, 0u8..4, any::<bool>())
            .prop_map(|(dt, rank, cancellable)| Op::Push { dt, rank, cancellable }),
        1 => any::<usize>().prop_map(Op::Cancel),
        3 => Just(Op::Pop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pops_follow_the_total_order(ops in prop::collection::vec(op(), 1..400)) {
        let mut queue = EventQueue::new();
        // Reference: the pending set keyed by (time, rank, sequence).
        let mut reference: BTreeMap<(u64, Rank, u64), u32> = BTreeMap::new();
        let mut handles: Vec<(EventHandle, (u64, Rank, u64))> = Vec::new();
        let mut now = 0u64;
        let mut tag = 0u32;
        for op in ops {
            match op {
                Op::Push { dt, rank, cancellable } => {
                    let time = now + dt;
                    let event = Tagged { rank, tag };
                    let seq = if cancellable {
                        let h = queue.push_cancellable(SimTime::from_micros(time), event);
                        let seq = h.id().sequence();
                        handles.push((h, (time, rank, seq)));
                        seq
                    } else {
                        queue.push(SimTime::from_micros(time), event).sequence()
                    };
                    reference.insert((time, rank, seq), tag);
                    tag += 1;
                }
                Op::Cancel(i) => {
                    if !handles.is_empty() {
                        let (h, key) = handles.swap_remove(i % handles.len());
                        let was_pending = reference.remove(&key).is_some();
                        prop_assert_eq!(queue.cancel(h), was_pending);
                    }
                }
                Op::Pop => {
                    let expected = reference.pop_first();
                    let got = queue.pop();
                    match (expected, got) {
                        (None, None) => {}
                        (Some(((time, rank, seq), tag)), Some(s)) => {
                            prop_assert_eq!(s.time.as_micros(), time);
                            prop_assert_eq!(s.event, Tagged { rank, tag });
                            prop_assert_eq!(s.id.sequence(), seq);
                            now = time;
                        }
                        (e, g) => prop_assert!(false, "expected {:?}, got {:?}", e, g),
                    }
                }
            }
            prop_assert_eq!(queue.len(), reference.len());
        }
        // Drain: the rest comes out in order too.
        for ((time, rank, _), tag) in reference {
            let s = queue.pop().expect("event still pending");
            prop_assert_eq!((s.time.as_micros(), s.event), (time, Tagged { rank, tag }));
        }
        prop_assert!(queue.pop().is_none());
    }
}
