//! Training an [`Esn`]'s readout online by recursive least squares
//! ([`Esn::fit_online`]): at every step after the washout the readout's
//! a-priori error updates it,
//!
//! ```text
//! e = y(t) − W_outᵀ φ(t),   g = P φ,   k = g / (λ + φᵀ g),   W_out ← W_out + k eᵀ,   P ← (P − k gᵀ) / λ
//! ```
//!
//! (see [`crate::readout::Rls`]), with the teacher fed back
//! ([`OnlineMode::TeacherForced`]) or the network's own output
//! ([`OnlineMode::Force`], FORCE learning, Sussillo & Abbott 2009,
//! "Generating coherent patterns of activity from chaotic neural networks",
//! *Neuron* 63(4)).

use crate::error::Result;
use crate::esn::{Esn, EsnConfig, EsnState};
use crate::readout::{LinearReadout, Rls, RlsConfig};
use crate::train::{advance, EsnTrainer, Sequence};
use crate::util::copy_row;

/// Where the feedback comes from during online training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlineMode {
    /// The teacher's previous value is fed back.
    TeacherForced,
    /// The network's own previous output is fed back (FORCE learning).
    Force,
}

/// Result of online training.
#[derive(Clone, Debug)]
pub struct OnlineFit {
    /// The trained network (its readout holds the final RLS weights).
    pub esn: Esn,
    /// The state after the last step.
    pub end_state: EsnState,
    /// Euclidean norm of the a-priori error at each step after the washout.
    pub errors: Vec<f64>,
}

impl Esn {
    /// Trains the readout online by RLS over one sequence (with state noise
    /// as in [`Esn::fit`], from the stream of sequence 0).
    ///
    /// # Shapes
    /// `seq`: `T × d` inputs, `T × m` targets.
    ///
    /// # Errors
    /// As [`EsnTrainer::new`] and [`Rls::new`], a sequence of the wrong shape,
    /// or a diverged update.
    pub fn fit_online(
        config: &EsnConfig,
        rls: &RlsConfig,
        seq: Sequence<'_>,
        mode: OnlineMode,
    ) -> Result<OnlineFit> {
        let trainer = EsnTrainer::new(config, seq.inputs.ncols(), seq.targets.ncols())?;
        trainer.check_sequence(seq, 0)?;
        let mut learner = Rls::new(trainer.layout.len(), seq.targets.ncols(), rls)?;
        let (end_state, errors) = online(&trainer, &mut learner, seq, mode)?;
        let EsnTrainer {
            config,
            stack,
            layout,
            ..
        } = trainer;
        let readout = LinearReadout::new(layout, learner.weights().to_owned())?;
        let esn = Esn::from_parts(config, stack, readout)?;
        Ok(OnlineFit {
            esn,
            end_state,
            errors,
        })
    }
}

/// The online run: RLS updates after the washout; returns the end state
/// and the a-priori error norms.
fn online(
    trainer: &EsnTrainer,
    learner: &mut Rls,
    seq: Sequence<'_>,
    mode: OnlineMode,
) -> Result<(EsnState, Vec<f64>)> {
    let (mut state, mut next) = (trainer.zero_state(), trainer.stack.zero_state());
    let mut noise = trainer.noise(0);
    let mut phi = vec![0.0; trainer.layout.len()];
    let mut errors = Vec::with_capacity(seq.inputs.nrows() - trainer.config.washout);
    for t in 0..seq.inputs.nrows() {
        advance(
            &trainer.stack,
            &mut state,
            seq.inputs,
            t,
            &mut next,
            noise.as_mut(),
        );
        trainer
            .layout
            .fill(&state.input, &state.reservoir, &mut phi);
        let mut own = state.output.clone();
        learner.predict(&phi, &mut own);
        copy_row(seq.targets, t, &mut state.output);
        if t >= trainer.config.washout {
            let e = learner.update(&phi, &state.output)?;
            errors.push(e.iter().map(|v| v * v).sum::<f64>().sqrt());
        }
        if mode == OnlineMode::Force {
            state.output = own;
        }
    }
    Ok((state, errors))
}
