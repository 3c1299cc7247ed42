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

    /// Solves the LP with microlp; writes step 0 into `first`.
    ///
    /// Variables are added as `x` (all cohorts and steps), then `up`, then
    /// `down`, and the rows as each cohort's flow rows then each step's cap
    /// row.
    fn solve_lp(&self, first: &mut [f64]) -> Result<(), microlp::Error> {
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
        Ok(())
    }
}
