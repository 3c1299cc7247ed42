//! One site's rolling-horizon linear program: how many devices of each ASIC
//! cohort run at each step ahead, with the cost of switching devices and the
//! site's cap.
//!
//! For cohorts `c` and steps `h = 0 … H−1` (step 0 is the current interval):
//!
//! ```text
//! maximise   Σ m[c,h]·x[c,h] − u[c,h]·up[c,h] − d[c]·down[c,h]
//! subject to x[c,h] − x[c,h−1] − up[c,h] + down[c,h] = 0   (x[c,−1] = start[c])
//!            Σ_c w[c,h]·x[c,h] ≤ budget                    (each step)
//!            0 ≤ x[c,h] ≤ upper[c,h],  up, down ≥ 0
//! ```
//!
//! Units: `m` USD per device over the step, `u` and `d` USD per device
//! switched, `w` IT W per device above standby, `budget` IT W, `x` devices
//! (continuous).
//!
//! When the step-by-step optimum (a fractional knapsack: cohorts by margin
//! per W, best first) equals the starting plan at every step, that plan
//! switches nothing and maximises every step, so it is the LP's optimum and
//! the solver is skipped. This is the common case: prices below every
//! breakeven over the whole horizon and the cap full.
//!
//! When the cap cannot bind (every step's Σ upper·w fits the budget), the
//! cap rows are implied by the bounds and the problem separates into one
//! problem per cohort, each solved exactly by [`SiteLp::solve_cohort`]
//! without the solver.

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, SolveOptions, Variable};

/// Devices within which two plans count as the same.
const SAME_DEVICES: f64 = 1e-6;

/// The LP of one site, in reused buffers (indices `c * steps + h`).
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteLp {
    /// Cohorts in the problem.
    pub cohorts: usize,
    /// Steps ahead, the current interval first.
    pub steps: usize,
    /// Margin of one device on over a step, USD.
    pub margin: Vec<f64>,
    /// IT power of one device on, above its standby draw, W.
    pub watts: Vec<f64>,
    /// Most devices that may be on.
    pub upper: Vec<f64>,
    /// Cost of turning one device on at the step, USD.
    pub up_cost: Vec<f64>,
    /// Cost of turning one device off, USD (per cohort).
    pub down_cost: Vec<f64>,
    /// Devices on before step 0 (per cohort).
    pub start: Vec<f64>,
    /// IT power the site's ASICs may draw above standby, W.
    pub budget_w: f64,
    order: Vec<usize>,
    scratch: Vec<f64>,
    /// Candidate values of one cohort's plan (see `solve_cohort`).
    values: Vec<f64>,
    /// Best objective so far per candidate value, and the next one.
    best: Vec<f64>,
    next: Vec<f64>,
    /// Each step's choice of predecessor per candidate value.
    from: Vec<usize>,
}

impl SiteLp {
    /// Empties the problem for `cohorts` cohorts over `steps` steps.
    pub(crate) fn reset(&mut self, cohorts: usize, steps: usize) {
        self.cohorts = cohorts;
        self.steps = steps;
        let n = cohorts * steps;
        for v in [
            &mut self.margin,
            &mut self.watts,
            &mut self.upper,
            &mut self.up_cost,
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        self.down_cost.clear();
        self.down_cost.resize(cohorts, 0.0);
        self.start.clear();
        self.start.resize(cohorts, 0.0);
        self.budget_w = 0.0;
    }

    /// The step-`h` optimum with no switching costs, into `out` (per
    /// cohort): cohorts that earn, by margin per W, until the budget is
    /// spent.
    fn myopic(&mut self, h: usize, out: &mut [f64]) {
        let s = self.steps;
        self.order.clear();
        self.order.extend(0..self.cohorts);
        let (margin, watts) = (&self.margin, &self.watts);
        let ratio = |c: usize| margin[c * s + h] / watts[c * s + h].max(1e-9);
        self.order
            .sort_by(|&a, &b| ratio(b).total_cmp(&ratio(a)).then(a.cmp(&b)));
        let mut left = self.budget_w.max(0.0);
        out.fill(0.0);
        for &c in &self.order {
            let i = c * s + h;
            if self.margin[i] <= 0.0 {
                break;
            }
            let fits = (left / self.watts[i].max(1e-9)).min(self.upper[i]).max(0.0);
            out[c] = fits;
            left -= fits * self.watts[i];
        }
    }

    /// The first step of the optimal plan, per cohort, into `first`.
    /// Falls back to the step-0 optimum without switching costs if the
    /// solver fails (it never has on these small, bounded problems).
    pub(crate) fn solve(&mut self, first: &mut Vec<f64>) {
        first.clear();
        first.resize(self.cohorts, 0.0);
        if self.steady() {
            first.copy_from_slice(&self.start);
            return;
        }
        if self.cap_slack() {
            for (c, out) in first.iter_mut().enumerate() {
                *out = self.solve_cohort(c).0;
            }
            return;
        }
        if self.solve_lp(first).is_err() {
            self.myopic(0, first);
        }
    }

    /// Whether the starting plan is the step-by-step optimum at every step.
    fn steady(&mut self) -> bool {
        let mut best = std::mem::take(&mut self.scratch);
        best.resize(self.cohorts, 0.0);
        let mut same = true;
        for h in 0..self.steps {
            self.myopic(h, &mut best);
            if best
                .iter()
                .zip(&self.start)
                .any(|(b, s)| (b - s).abs() > SAME_DEVICES)
            {
                same = false;
                break;
            }
        }
        self.scratch = best;
        same
    }

    /// Whether every step's cap holds for any plan within the bounds
    /// (Σ_c upper·w ≤ budget): then the cap rows are redundant.
    fn cap_slack(&self) -> bool {
        let s = self.steps;
        let budget = self.budget_w.max(0.0);
        (0..s).all(|h| {
            (0..self.cohorts)
                .map(|c| self.upper[c * s + h].max(0.0) * self.watts[c * s + h])
                .sum::<f64>()
                <= budget
        })
    }

    /// Step 0 of cohort `c`'s optimal plan with no cap, exactly.
    ///
    /// Without the cap, the cohort's problem is to maximise
    /// Σ m_h·x_h − u_h·(x_h − x_{h−1})⁺ − d·(x_{h−1} − x_h)⁺ over
    /// 0 ≤ x_h ≤ upper_h (x_{−1} = start; `up` and `down` at their least,
    /// as costs are ≥ 0). Some optimum takes its values in
    /// V = {start, 0, upper_0 … upper_{H−1}}: take any optimum and a
    /// maximal run of steps sharing one value t. Moving t while keeping
    /// the order against the neighbouring runs changes the objective
    /// linearly, so t can move (without loss) to an end of that range: a
    /// member's bound, `start` if the run holds step 0, or a neighbour's
    /// value (the runs merge). Each move fixes a run at a value of V or
    /// removes a run, so it ends with every value in V. A dynamic
    /// programme over V per step is then exact: O(H·|V|²), with |V| the
    /// distinct values (often three or four).
    ///
    /// On ties the earlier candidate is kept (start, then 0, then the
    /// bounds in step order), at every step and for step 0.
    /// Returns (step 0's devices, the plan's objective).
    pub(crate) fn solve_cohort(&mut self, c: usize) -> (f64, f64) {
        let steps = self.steps;
        let row = c * steps;
        let start = self.start[c];
        let down = self.down_cost[c];
        // V without repeats (bounds are often equal from step to step): a
        // repeat keeps the DP values of its first occurrence, which wins
        // every tie, so dropping it changes nothing.
        self.values.clear();
        for v in [start, 0.0]
            .into_iter()
            .chain(self.upper[row..row + steps].iter().map(|u| u.max(0.0)))
        {
            if !self.values.iter().any(|x| x.to_bits() == v.to_bits()) {
                self.values.push(v);
            }
        }
        let n = self.values.len();
        self.from.clear();
        self.from.resize(n * steps, usize::MAX);
        self.best.clear();
        self.best.resize(n, f64::NEG_INFINITY);
        self.next.clear();
        self.next.resize(n, f64::NEG_INFINITY);
        for h in 0..steps {
            let (margin, up, cap) = (
                self.margin[row + h],
                self.up_cost[row + h],
                self.upper[row + h],
            );
            for j in 0..n {
                let v = self.values[j];
                self.next[j] = f64::NEG_INFINITY;
                if v > cap.max(0.0) {
                    continue;
                }
                let switch = |prev: f64| {
                    if v > prev {
                        up * (v - prev)
                    } else {
                        down * (prev - v)
                    }
                };
                let (mut arg, mut val) = (usize::MAX, f64::NEG_INFINITY);
                if h == 0 {
                    arg = 0;
                    val = -switch(start);
                } else {
                    for i in 0..n {
                        if self.best[i] == f64::NEG_INFINITY {
                            continue;
                        }
                        let total = self.best[i] - switch(self.values[i]);
                        if total > val {
                            (arg, val) = (i, total);
                        }
                    }
                }
                if arg != usize::MAX {
                    self.next[j] = val + margin * v;
                    self.from[h * n + j] = arg;
                }
            }
            std::mem::swap(&mut self.best, &mut self.next);
        }
        let mut j = 0;
        for i in 1..n {
            if self.best[i] > self.best[j] {
                j = i;
            }
        }
        let objective = self.best[j];
        for h in (1..steps).rev() {
            j = self.from[h * n + j];
        }
        (self.values[j], objective)
    }

    /// Solves the LP with microlp; writes step 0 into `first`.
    ///
    /// Variables are added as `x` (all cohorts and steps), then `up`, then
    /// `down`, and the rows as each cohort's flow rows then each step's cap
    /// row.
    /// Returns the objective.
    fn solve_lp(&self, first: &mut [f64]) -> Result<f64, microlp::Error> {
        let (cohorts, steps) = (self.cohorts, self.steps);
        let n = cohorts * steps;
        let mut problem = Problem::new(OptimizationDirection::Maximize);
        let x: Vec<Variable> = (0..n)
            .map(|i| problem.add_var(self.margin[i], (0.0, self.upper[i].max(0.0))))
            .collect();
        let up: Vec<Variable> = (0..n)
            .map(|i| problem.add_var(-self.up_cost[i], (0.0, f64::INFINITY)))
            .collect();
        let down: Vec<Variable> = (0..n)
            .map(|i| problem.add_var(-self.down_cost[i / steps], (0.0, f64::INFINITY)))
            .collect();
        for c in 0..cohorts {
            for h in 0..steps {
                let i = c * steps + h;
                let mut flow = LinearExpr::empty();
                flow.add(x[i], 1.0);
                flow.add(up[i], -1.0);
                flow.add(down[i], 1.0);
                let b = if h == 0 {
                    self.start[c]
                } else {
                    flow.add(x[i - 1], -1.0);
                    0.0
                };
                problem.add_constraint(flow, ComparisonOp::Eq, b);
            }
        }
        for h in 0..steps {
            let mut cap = LinearExpr::empty();
            for c in 0..cohorts {
                cap.add(x[c * steps + h], self.watts[c * steps + h]);
            }
            problem.add_constraint(cap, ComparisonOp::Le, self.budget_w.max(0.0));
        }
        let mut options = SolveOptions::default();
        options.mip_gap = 0.0;
        let Ok(solution) = problem.solve_with(options)?.into_solution() else {
            return Err(microlp::Error::InternalError("interrupted".into()));
        };
        for (c, out) in first.iter_mut().enumerate() {
            *out = solution.var_value(x[c * steps]).max(0.0);
        }
        Ok(solution.objective())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), uniform in [0, 1).
    struct Uniform(u64);

    impl Uniform {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            #[allow(clippy::cast_precision_loss)]
            let u = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64;
            u / (1u64 << 53) as f64
        }
    }

    /// A random LP of the policy's shape; about one in three with a cap
    /// that can bind.
    fn random_lp(r: &mut Uniform, lp: &mut SiteLp) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (cohorts, steps) = (1 + (r.next() * 3.0) as usize, 1 + (r.next() * 7.0) as usize);
        lp.reset(cohorts, steps);
        let mut need = vec![0.0_f64; steps];
        for c in 0..cohorts {
            let size = (r.next() * 100.0).floor();
            for (h, need) in need.iter_mut().enumerate() {
                let i = c * steps + h;
                lp.margin[i] = (r.next() - 0.4) * 10.0;
                lp.watts[i] = 1000.0 + r.next() * 3000.0;
                lp.upper[i] = if r.next() < 0.15 { 0.0 } else { size };
                lp.up_cost[i] = r.next() * 4.0;
                *need += lp.upper[i] * lp.watts[i];
            }
            lp.down_cost[c] = r.next() * 0.5;
            lp.start[c] = match (r.next() * 3.0).floor() {
                0.0 => 0.0,
                1.0 => size,
                _ => (r.next() * size * 1e3).floor() / 1e3,
            };
        }
        let most = need.iter().copied().fold(0.0, f64::max);
        lp.budget_w = most * if r.next() < 0.33 { r.next() } else { 1.0 };
    }

    #[test]
    fn separated_cohorts_match_the_solver_on_random_instances() {
        let (mut r, mut lp, mut first) = (
            Uniform(0x9E37_79B9_7F4A_7C15),
            SiteLp::default(),
            Vec::new(),
        );
        let (mut slack, mut same_first) = (0, 0);
        for _ in 0..5000 {
            random_lp(&mut r, &mut lp);
            first.clear();
            first.resize(lp.cohorts, 0.0);
            let exact = lp.solve_lp(&mut first).expect("a bounded, feasible LP");
            if !lp.cap_slack() {
                continue;
            }
            slack += 1;
            let mut total = 0.0;
            let mut agree = true;
            for (c, &f) in first.iter().enumerate() {
                let (x0, objective) = lp.solve_cohort(c);
                total += objective;
                agree &= (x0 - f).abs() <= 1e-9 * f.abs().max(1.0);
            }
            same_first += usize::from(agree);
            assert!(
                (total - exact).abs() <= 1e-9 * exact.abs().max(1.0),
                "{total} against the solver's {exact} for {lp:?}"
            );
        }
        assert!(slack > 3000, "{slack} instances with a slack cap");
        assert!(
            same_first * 100 > slack * 95,
            "{same_first} of {slack} with the same first step"
        );
    }

    #[test]
    fn a_slack_cap_is_recognised_and_a_binding_one_is_not() {
        let mut lp = SiteLp::default();
        lp.reset(2, 2);
        lp.upper.copy_from_slice(&[10.0, 10.0, 5.0, 5.0]);
        lp.watts.copy_from_slice(&[100.0, 100.0, 200.0, 200.0]);
        lp.budget_w = 2000.0;
        assert!(lp.cap_slack());
        lp.budget_w = 1999.0;
        assert!(!lp.cap_slack());
    }

    #[test]
    fn one_cohort_rides_out_a_blip_and_curtails_for_a_run() {
        let mut lp = SiteLp::default();
        // One interval at a loss of 1 USD per device, restarting costs 2.
        lp.reset(1, 4);
        lp.margin.copy_from_slice(&[-1.0, 3.0, 3.0, 3.0]);
        lp.upper.fill(10.0);
        lp.watts.fill(1000.0);
        lp.up_cost.fill(2.0);
        lp.start[0] = 10.0;
        lp.budget_w = 1e9;
        assert_eq!(lp.solve_cohort(0), (10.0, 80.0));
        // Three intervals at a loss of 1: off (−2 to restart) beats −3.
        lp.margin.copy_from_slice(&[-1.0, -1.0, -1.0, 3.0]);
        assert_eq!(lp.solve_cohort(0), (0.0, 10.0));
    }
}
