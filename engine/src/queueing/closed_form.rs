//! Closed-form results of queueing theory, the references the engine is
//! validated against.
//!
//! - M/M/c (Erlang C): probability of waiting, mean wait, mean queue length
//!   and the waiting-time distribution P(W_q > t) = C · e^{−(cμ−λ)t}
//!   (Kleinrock, *Queueing Systems* vol. 1, §3.5; Gross & Harris, §2.3).
//! - M/G/1 (Pollaczek–Khinchine): W_q = λ·E\[S²\] / (2(1−ρ)), which gives M/M/1
//!   (E\[S²\] = 2/μ²) and M/D/1 (E\[S²\] = 1/μ²) as special cases.
//!
//! Erlang C is computed through the Erlang B recursion
//! B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), C = c·B / (c − a(1 − B)),
//! which is stable for thousands of servers where the textbook sum of
//! a^k/k! overflows.

/// Parameters that describe no stable queue.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum QueueError {
    /// A rate or the server count is not positive and finite.
    #[error(
        "arrival rate, service rate and servers must be positive and finite (λ = {arrival_rate}, μ = {service_rate}, c = {servers})"
    )]
    InvalidParameters {
        /// λ, arrivals per second.
        arrival_rate: f64,
        /// μ, services per second per server.
        service_rate: f64,
        /// c.
        servers: u32,
    },
    /// ρ = λ / (cμ) ≥ 1: the queue grows without bound.
    #[error("utilisation ρ = {0:.4} ≥ 1: the queue has no steady state")]
    Unstable(f64),
}

/// Erlang's B formula: blocking probability of an M/M/c/c loss system with
/// offered load `a` = λ/μ erlangs.
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered_load * b / (f64::from(k) + offered_load * b);
    }
    b
}

/// Erlang's C formula: probability that an arrival to an M/M/c queue waits.
/// Requires `offered_load < servers`.
pub fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    let b = erlang_b(servers, offered_load);
    let c = f64::from(servers);
    c * b / (c - offered_load * (1.0 - b))
}

/// The steady state of an M/M/c queue (FCFS, infinite buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MmcQueue {
    arrival_rate: f64,
    service_rate: f64,
    servers: u32,
}

impl MmcQueue {
    /// An M/M/c queue with arrival rate λ, per-server service rate μ and c servers.
    ///
    /// # Errors
    /// [`QueueError`] if a parameter is not positive or ρ ≥ 1.
    pub fn new(arrival_rate: f64, service_rate: f64, servers: u32) -> Result<Self, QueueError> {
        let valid = |x: f64| x.is_finite() && x > 0.0;
        if !valid(arrival_rate) || !valid(service_rate) || servers == 0 {
            return Err(QueueError::InvalidParameters {
                arrival_rate,
                service_rate,
                servers,
            });
        }
        let rho = arrival_rate / (service_rate * f64::from(servers));
        if rho >= 1.0 {
            return Err(QueueError::Unstable(rho));
        }
        Ok(MmcQueue {
            arrival_rate,
            service_rate,
            servers,
        })
    }

    /// Offered load a = λ/μ, in erlangs.
    pub fn offered_load(&self) -> f64 {
        self.arrival_rate / self.service_rate
    }

    /// Server utilisation ρ = λ/(cμ).
    pub fn utilisation(&self) -> f64 {
        self.offered_load() / f64::from(self.servers)
    }

    /// P(an arrival waits) — Erlang C.
    pub fn prob_wait(&self) -> f64 {
        erlang_c(self.servers, self.offered_load())
    }

    /// The rate of the exponential tail of the wait, cμ − λ.
    fn drain_rate(&self) -> f64 {
        f64::from(self.servers) * self.service_rate - self.arrival_rate
    }

    /// Mean wait in queue W_q = C / (cμ − λ), in the time unit of the rates.
    pub fn mean_wait(&self) -> f64 {
        self.prob_wait() / self.drain_rate()
    }

    /// Mean number waiting L_q = λ·W_q (Little's law).
    pub fn mean_queue_length(&self) -> f64 {
        self.arrival_rate * self.mean_wait()
    }

    /// Mean time in system W = W_q + 1/μ.
    pub fn mean_sojourn(&self) -> f64 {
        self.mean_wait() + 1.0 / self.service_rate
    }

    /// The `q`-quantile of the wait in queue, from P(W_q > t) = C·e^{−(cμ−λ)t};
    /// zero when q ≤ 1 − C (that share of arrivals never waits).
    pub fn wait_quantile(&self, q: f64) -> f64 {
        let tail = 1.0 - q;
        let c = self.prob_wait();
        if tail >= c {
            0.0
        } else {
            (c / tail).ln() / self.drain_rate()
        }
    }
}

/// Mean wait in queue of an M/G/1 queue (Pollaczek–Khinchine), with service
/// times of mean `mean_service` and squared coefficient of variation
/// `service_scv` (0 for deterministic, 1 for exponential).
///
/// # Errors
/// [`QueueError`] if a parameter is not positive or ρ = λ·E\[S\] ≥ 1.
pub fn pollaczek_khinchine_mean_wait(
    arrival_rate: f64,
    mean_service: f64,
    service_scv: f64,
) -> Result<f64, QueueError> {
    let valid = |x: f64| x.is_finite() && x > 0.0;
    if !valid(arrival_rate) || !valid(mean_service) || service_scv.is_nan() || service_scv < 0.0 {
        return Err(QueueError::InvalidParameters {
            arrival_rate,
            service_rate: 1.0 / mean_service,
            servers: 1,
        });
    }
    let rho = arrival_rate * mean_service;
    if rho >= 1.0 {
        return Err(QueueError::Unstable(rho));
    }
    let second_moment = mean_service * mean_service * (1.0 + service_scv);
    Ok(arrival_rate * second_moment / (2.0 * (1.0 - rho)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_values_from_the_literature() {
        // M/M/2 at a = 1: C = 1/3 (Gross & Harris, ex. 2.4 family).
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Erlang B table: B(10, 5 erlangs) = 0.018384.
        assert!((erlang_b(10, 5.0) - 0.018_384).abs() < 1e-6);
        // One server: C = ρ.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_matches_the_textbook_sum() {
        // C = (a^c/c!)(c/(c−a)) / (Σ_{k<c} a^k/k! + (a^c/c!)(c/(c−a))).
        let (c, a) = (8u32, 7.2f64);
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..c {
            sum += term;
            term *= a / f64::from(k + 1);
        }
        let top = term * f64::from(c) / (f64::from(c) - a);
        assert!((erlang_c(c, a) - top / (sum + top)).abs() < 1e-12);
    }

    #[test]
    fn erlang_b_is_stable_for_large_pools() {
        let c = erlang_c(5_000, 4_900.0);
        assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
    }

    #[test]
    fn mm1_special_case() {
        let q = MmcQueue::new(0.8, 1.0, 1).unwrap();
        assert!((q.mean_wait() - 4.0).abs() < 1e-12); // ρ/(μ(1−ρ))
        assert!((q.mean_queue_length() - 3.2).abs() < 1e-12); // ρ²/(1−ρ)
        // Median wait: 0.8·e^{−0.2t} = 0.5 ⇒ t = 5·ln(1.6).
        assert!((q.wait_quantile(0.5) - 5.0 * 1.6f64.ln()).abs() < 1e-12);
        assert_eq!(q.wait_quantile(0.1), 0.0);
        let pk = pollaczek_khinchine_mean_wait(0.8, 1.0, 1.0).unwrap();
        assert!((pk - q.mean_wait()).abs() < 1e-12);
    }

    #[test]
    fn md1_waits_half_as_long_as_mm1() {
        let md1 = pollaczek_khinchine_mean_wait(0.8, 1.0, 0.0).unwrap();
        assert!((md1 - 2.0).abs() < 1e-12); // ρ/(2μ(1−ρ))
    }

    #[test]
    fn unstable_and_invalid_queues_are_refused() {
        assert_eq!(MmcQueue::new(8.0, 1.0, 8), Err(QueueError::Unstable(1.0)));
        assert!(MmcQueue::new(-1.0, 1.0, 8).is_err());
        assert!(MmcQueue::new(1.0, 1.0, 0).is_err());
        assert!(pollaczek_khinchine_mean_wait(1.2, 1.0, 0.0).is_err());
        let msg = MmcQueue::new(9.0, 1.0, 8).unwrap_err().to_string();
        assert!(msg.contains("ρ = 1.1250"), "{msg}");
    }
}
