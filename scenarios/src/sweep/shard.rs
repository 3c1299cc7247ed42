//! [`Shard`]: which slice of a sweep's replications one process runs, given
//! on the command line (`--shard i/N`) or detected from the scheduler that
//! started the process ([`detect`]): a Slurm job array
//! (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes
//! Indexed Job (`JOB_COMPLETION_INDEX`, with the count from
//! `--shard-count` or `HCP_SHARD_COUNT`). An offset (`--shard-offset`,
//! `HCP_SHARD_OFFSET`) lets one sweep span several arrays when a site caps
//! their size. Shard i of N runs replications r with r mod N = i − 1, so
//! results never depend on N: each replication draws from its own streams.

use std::fmt;
use std::str::FromStr;

/// One shard of a sweep: replications r with r mod `count` = `index` − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

/// A shard that cannot be made out of the flags or the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--shard` written wrongly.
    #[error("--shard {given}: {problem} (write i/N with 1 ≤ i ≤ N, e.g. 2/4)")]
    Syntax {
        /// What was given.
        given: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A scheduler or `HCP_SHARD_*` variable (or its flag) that does not
    /// make a shard.
    #[error("{name}={value}: {problem}")]
    Variable {
        /// The variable or flag.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let error = |problem: &str| ShardError::Syntax {
            given: s.to_owned(),
            problem: problem.to_owned(),
        };
        let (i, n) = s.split_once('/').ok_or_else(|| error("no '/'"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| error("i is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| error("N is not a whole number"))?;
        if count == 0 {
            return Err(error("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(error("i must lie between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The only shard of an unsharded sweep.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether replication `r` belongs to this shard.
    pub fn owns(&self, r: u64) -> bool {
        r % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// This shard's replications of a sweep of `total`, in increasing order.
    pub fn replications(&self, total: u64) -> impl Iterator<Item = u64> + '_ {
        (0..total).filter(|&r| self.owns(r))
    }
}

/// Where a shard came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardOrigin {
    /// `--shard i/N`.
    Flag,
    /// A Slurm job array's `SLURM_ARRAY_TASK_ID`.
    Slurm,
    /// A Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`.
    Kubernetes,
}

impl ShardOrigin {
    /// How the origin is named in logs and manifests.
    pub fn name(self) -> &'static str {
        match self {
            ShardOrigin::Flag => "--shard",
            ShardOrigin::Slurm => "slurm",
            ShardOrigin::Kubernetes => "kubernetes",
        }
    }
}

/// What the command line says about sharding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardRequest {
    /// `--shard i/N`: wins over everything else.
    pub explicit: Option<Shard>,
    /// `--shard-count N`: the sweep's number of shards (over
    /// `HCP_SHARD_COUNT` and `SLURM_ARRAY_TASK_COUNT`).
    pub count: Option<u32>,
    /// `--shard-offset K`: added to the scheduler's 0-based index (over
    /// `HCP_SHARD_OFFSET`).
    pub offset: Option<u32>,
}

/// The shard this process runs, if any: `--shard` when given; otherwise
/// from the scheduler's environment, read through `env` (the process's
/// environment in the binary, a map in tests). The 0-based index is the
/// scheduler's (`SLURM_ARRAY_TASK_ID`, else `JOB_COMPLETION_INDEX`) plus the
/// offset; the count is `--shard-count`, else `HCP_SHARD_COUNT`, else (Slurm
/// only) `SLURM_ARRAY_TASK_COUNT`. `Ok(None)` means an unsharded sweep.
///
/// # Errors
/// A variable that is not a whole number, an index outside the count, a
/// Kubernetes index without a count, or a count or offset with no index to
/// go with it.
pub fn detect(
    request: &ShardRequest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(Shard, ShardOrigin)>, ShardError> {
    if let Some(shard) = request.explicit {
        return Ok(Some((shard, ShardOrigin::Flag)));
    }
    let number = |name: &'static str| -> Result<Option<u32>, ShardError> {
        let Some(value) = env(name) else {
            return Ok(None);
        };
        value
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| ShardError::Variable {
                name,
                value,
                problem: "not a whole number".to_owned(),
            })
    };
    let offset = match request.offset {
        Some(k) => Some(("--shard-offset", k)),
        None => number("HCP_SHARD_OFFSET")?.map(|k| ("HCP_SHARD_OFFSET", k)),
    };
    let count = match request.count {
        Some(n) => Some(("--shard-count", n)),
        None => number("HCP_SHARD_COUNT")?.map(|n| ("HCP_SHARD_COUNT", n)),
    };
    let (index_name, index, origin) = if let Some(i) = number("SLURM_ARRAY_TASK_ID")? {
        ("SLURM_ARRAY_TASK_ID", i, ShardOrigin::Slurm)
    } else if let Some(i) = number("JOB_COMPLETION_INDEX")? {
        ("JOB_COMPLETION_INDEX", i, ShardOrigin::Kubernetes)
    } else {
        return match count.or(offset) {
            None => Ok(None),
            Some((name, value)) => Err(ShardError::Variable {
                name,
                value: value.to_string(),
                problem: "no scheduler index to go with it (SLURM_ARRAY_TASK_ID or \
                          JOB_COMPLETION_INDEX); outside a scheduler use --shard i/N"
                    .to_owned(),
            }),
        };
    };
    let count = match (count, origin) {
        (Some(c), _) => c,
        (None, ShardOrigin::Slurm) => match number("SLURM_ARRAY_TASK_COUNT")? {
            Some(n) => ("SLURM_ARRAY_TASK_COUNT", n),
            None => {
                return Err(ShardError::Variable {
                    name: index_name,
                    value: index.to_string(),
                    problem: "SLURM_ARRAY_TASK_COUNT is not set: give the sweep's shard count \
                              with --shard-count or HCP_SHARD_COUNT"
                        .to_owned(),
                });
            }
        },
        (None, _) => {
            return Err(ShardError::Variable {
                name: index_name,
                value: index.to_string(),
                problem: "a Kubernetes Indexed Job does not tell its completions: set \
                          HCP_SHARD_COUNT (or --shard-count) to the Job's `completions`"
                    .to_owned(),
            });
        }
    };
    let (count_name, count) = count;
    if count == 0 {
        return Err(ShardError::Variable {
            name: count_name,
            value: count.to_string(),
            problem: "the shard count must be at least 1".to_owned(),
        });
    }
    let (offset_name, offset) = offset.unwrap_or(("HCP_SHARD_OFFSET", 0));
    let zero_based = u64::from(index) + u64::from(offset);
    if zero_based >= u64::from(count) {
        return Err(ShardError::Variable {
            name: index_name,
            value: index.to_string(),
            problem: format!(
                "with {offset_name} {offset} this is shard {} of {count} ({count_name}); \
                 indices start at 0 (Slurm: --array=0-{}), and a sweep spread over several \
                 arrays sets the total with HCP_SHARD_COUNT",
                zero_based + 1,
                count.saturating_sub(1)
            ),
        });
    }
    // zero_based < count ≤ u32::MAX, so it fits.
    let index = u32::try_from(zero_based + 1).unwrap_or(u32::MAX);
    Ok(Some((Shard { index, count }, origin)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: BTreeMap<&str, &str> = pairs.iter().copied().collect();
        move |k| map.get(k).map(|v| (*v).to_owned())
    }

    fn shard(index: u32, count: u32) -> Shard {
        Shard { index, count }
    }

    #[test]
    fn bad_shards_say_what_is_wrong() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), shard(2, 4));
        for bad in ["3/2", "0/2", "1/0", "a/2", "2"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("i/N"), "{e}");
        }
    }

    #[test]
    fn the_flag_wins_over_the_scheduler() {
        let request = ShardRequest {
            explicit: Some(shard(2, 3)),
            ..ShardRequest::default()
        };
        let got = detect(
            &request,
            env(&[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ]),
        );
        assert_eq!(got, Ok(Some((shard(2, 3), ShardOrigin::Flag))));
        assert_eq!(detect(&ShardRequest::default(), env(&[])), Ok(None));
    }

    #[test]
    fn slurm_arrays_give_index_and_count_and_offsets_span_arrays() {
        let none = ShardRequest::default();
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            detect(&none, env(&slurm)),
            Ok(Some((shard(4, 4), ShardOrigin::Slurm)))
        );
        // A second array of 500 tasks continuing a 1,500-shard sweep.
        let second = [
            ("SLURM_ARRAY_TASK_ID", "499"),
            ("SLURM_ARRAY_TASK_COUNT", "500"),
            ("HCP_SHARD_OFFSET", "1000"),
            ("HCP_SHARD_COUNT", "1500"),
        ];
        assert_eq!(
            detect(&none, env(&second)),
            Ok(Some((shard(1500, 1500), ShardOrigin::Slurm)))
        );
        // Flags win over the variables.
        let flags = ShardRequest {
            explicit: None,
            count: Some(2000),
            offset: Some(0),
        };
        assert_eq!(
            detect(&flags, env(&second)),
            Ok(Some((shard(500, 2000), ShardOrigin::Slurm)))
        );
    }

    #[test]
    fn kubernetes_needs_a_count() {
        let none = ShardRequest::default();
        let e = detect(&none, env(&[("JOB_COMPLETION_INDEX", "2")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("JOB_COMPLETION_INDEX=2") && e.contains("HCP_SHARD_COUNT"),
            "{e}"
        );
        let k8s = [("JOB_COMPLETION_INDEX", "2"), ("HCP_SHARD_COUNT", "5")];
        assert_eq!(
            detect(&none, env(&k8s)),
            Ok(Some((shard(3, 5), ShardOrigin::Kubernetes)))
        );
    }

    #[test]
    fn impossible_environments_name_the_variable() {
        let none = ShardRequest::default();
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "4"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                "SLURM_ARRAY_TASK_ID=4: with HCP_SHARD_OFFSET 0 this is shard 5 of 4",
            ),
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "x"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                "SLURM_ARRAY_TASK_ID=x: not a whole number",
            ),
            (
                &[("SLURM_ARRAY_TASK_ID", "1")],
                "SLURM_ARRAY_TASK_COUNT is not set",
            ),
            (
                &[("HCP_SHARD_COUNT", "4")],
                "HCP_SHARD_COUNT=4: no scheduler index",
            ),
            (
                &[("JOB_COMPLETION_INDEX", "0"), ("HCP_SHARD_COUNT", "0")],
                "HCP_SHARD_COUNT=0: the shard count must be at least 1",
            ),
        ];
        for (vars, expected) in cases {
            let e = detect(&none, env(vars)).unwrap_err().to_string();
            assert!(e.contains(expected), "{vars:?}: {e}");
        }
    }

    #[test]
    fn every_replication_belongs_to_exactly_one_shard() {
        for count in 1..=7 {
            let mut owners = vec![0u32; 20];
            for index in 1..=count {
                for r in shard(index, count).replications(20) {
                    owners[usize::try_from(r).unwrap()] += 1;
                }
            }
            assert!(owners.iter().all(|&n| n == 1), "{count}: {owners:?}");
        }
    }
}
