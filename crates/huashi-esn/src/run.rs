//! The one loop that runs a sequence of inputs through a reservoir step;
//! [`crate::Reservoir::run_with`], [`crate::ReservoirStack::run`],
//! [`crate::Esn::run`] and the test run of [`crate::Esn::fit_and_run`] are
//! all this loop with their own step and visit:
//!
//! ```text
//! for t in 0..T:  u = inputs row t;   x(t) = step(x(t−1), u, y);   visit(t, u, x(t), y)
//! ```
//!
//! where `y` is the feedback `y(t−1)` the step reads and `visit` may set
//! for the next step (a teacher's row, or the network's own output).

use faer::{Mat, MatRef};

use crate::error::Result;
use crate::rng::Rng;
use crate::util::{check_matrix, copy_row, mismatch};

/// A reservoir (or a stack of them) as [`teacher_forced`] runs it.
pub(crate) trait Dynamics {
    /// The lengths of the state, of an input and of the feedback.
    fn sizes(&self) -> (usize, usize, usize);

    /// One step from `x` with input `u` and feedback `y` into `out`.
    fn step(&self, x: &[f64], u: &[f64], y: &[f64], out: &mut [f64], noise: Option<&mut Rng>);
}

/// Checks the arguments, then runs `d` over `inputs` from `state` with
/// teacher-forced `feedback` rows and optional noise, keeping every state.
///
/// # Shapes
/// `inputs`: `T × d`; `feedback`: `T × m`; `state`: `N`; returns `T × N`.
///
/// # Errors
/// As [`check_run`].
pub(crate) fn teacher_forced(
    d: &impl Dynamics,
    inputs: MatRef<'_, f64>,
    feedback: Option<MatRef<'_, f64>>,
    state: &mut [f64],
    mut noise: Option<&mut Rng>,
) -> Result<Mat<f64>> {
    let sizes = d.sizes();
    check_run(sizes, state, inputs, feedback)?;
    let step = |x: &[f64], u: &[f64], y: &[f64], out: &mut [f64]| {
        d.step(x, u, y, out, noise.as_deref_mut());
    };
    Ok(run_states(inputs, feedback, sizes.2, state, step))
}

/// Runs `step(x, u, y, out)` (writing the new state into `out`) over the
/// rows of `inputs` from `state`, which ends as the last state; after each
/// step, `visit(t, u, x, y)` sees the input row and the new state and may
/// change the feedback `y` for the next step.
///
/// # Shapes
/// `inputs`: `T × d`; `state`: `N`; `feedback`: `m` (may be empty).
pub(crate) fn run_rows(
    inputs: MatRef<'_, f64>,
    state: &mut [f64],
    feedback: &mut [f64],
    mut step: impl FnMut(&[f64], &[f64], &[f64], &mut [f64]),
    mut visit: impl FnMut(usize, &[f64], &[f64], &mut [f64]),
) {
    let mut u = vec![0.0; inputs.ncols()];
    let (mut x, mut next) = (state.to_vec(), vec![0.0; state.len()]);
    for t in 0..inputs.nrows() {
        copy_row(inputs, t, &mut u);
        step(&x, &u, feedback, &mut next);
        std::mem::swap(&mut x, &mut next);
        visit(t, &u, &x, feedback);
    }
    state.copy_from_slice(&x);
}

/// [`run_rows`] with teacher-forced feedback rows (row `t` of `feedback`
/// is `y(t−1)`; zeros without it), keeping every state.
///
/// # Shapes
/// `inputs`: `T × d`; `feedback`: `T × m`; `state`: `N`; returns `T × N`.
fn run_states(
    inputs: MatRef<'_, f64>,
    feedback: Option<MatRef<'_, f64>>,
    feedback_len: usize,
    state: &mut [f64],
    step: impl FnMut(&[f64], &[f64], &[f64], &mut [f64]),
) -> Mat<f64> {
    let t_len = inputs.nrows();
    let mut states = Mat::zeros(t_len, state.len());
    let mut y = vec![0.0; feedback_len];
    let teacher_row = |t: usize, y: &mut [f64]| {
        if let Some(fb) = feedback.filter(|_| t < t_len) {
            copy_row(fb, t, y);
        }
    };
    teacher_row(0, &mut y);
    run_rows(inputs, state, &mut y, step, |t, _, x, y| {
        x.iter().enumerate().for_each(|(i, v)| states[(t, i)] = *v);
        teacher_row(t + 1, y);
    });
    states
}

/// Checks the arguments of a run: the state length, the input columns, the
/// feedback's shape and that every value is finite.
///
/// # Errors
/// [`crate::Error::DimensionMismatch`] or [`crate::Error::NonFinite`].
fn check_run(
    sizes: (usize, usize, usize),
    state: &[f64],
    inputs: MatRef<'_, f64>,
    feedback: Option<MatRef<'_, f64>>,
) -> Result<()> {
    let (state_len, input_len, feedback_len) = sizes;
    mismatch("state length", state_len, state.len())?;
    mismatch("input columns", input_len, inputs.ncols())?;
    check_matrix("inputs", inputs)?;
    if let Some(fb) = feedback {
        mismatch("feedback columns", feedback_len, fb.ncols())?;
        mismatch("feedback rows", inputs.nrows(), fb.nrows())?;
        check_matrix("feedback", fb)?;
    }
    Ok(())
}
