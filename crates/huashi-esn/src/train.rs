//! Training an [`Esn`] offline by ridge regression over many sequences
//! (online RLS: [`Esn::fit_online`]):
//!
//! ```text
//! W_out = (ΦᵀΦ + λ D)⁻¹ ΦᵀY
//! ```
//!
//! ([`Esn::fit`], [`EsnTrainer`]; Lukoševičius & Jaeger 2009, "Reservoir
//! computing approaches to recurrent neural network training", *Computer
//! Science Review* 3(3)): every sequence is run from the
//! zero state with teacher forcing (the feedback `y(t−1)` is the target of the
//! previous step) and state noise if configured; after the washout its
//! feature vectors `φ(t) = [1; u(t); x(t)]` are accumulated into `ΦᵀΦ` and
//! `ΦᵀY` through the pipeline's sink (in blocks, on a helper thread when
//! cores are spare; see [`Accumulation`]). Sequences run in parallel (rayon) and
//! their sums are added in sequence order, so results do not depend on
//! scheduling or on the number of threads. One Cholesky solve gives `W_out`.
//! [`Esn::fit_and_run`] fits on one sequence and predicts what follows it,
//! running the test inputs through the reservoir while the helper thread
//! still adds the last blocks and then solves the readout (the run does not
//! need the readout without output feedback), then applying the readout to
//! the stored states.

use faer::{Mat, MatRef};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::esn::{Esn, EsnConfig, EsnState};
use crate::pipeline::{accumulate, accumulate_and_solve, Accumulation, Sink, SolveSpec};
use crate::readout::{FeatureLayout, LinearReadout, Ridge};
use crate::rng::Rng;
use crate::run::run_rows;
use crate::stack::ReservoirStack;
use crate::util::{check_matrix, copy_row, mismatch};

/// One training sequence: `inputs` is `T × d`, `targets` is `T × m`; row
/// `t` of `targets` is the desired output after reading input row `t`.
#[derive(Clone, Copy, Debug)]
pub struct Sequence<'a> {
    /// Input rows, one per time step.
    pub inputs: MatRef<'a, f64>,
    /// Target rows, one per time step.
    pub targets: MatRef<'a, f64>,
}

impl<'a> Sequence<'a> {
    /// A sequence from its inputs and targets.
    pub fn new(inputs: MatRef<'a, f64>, targets: MatRef<'a, f64>) -> Self {
        Self { inputs, targets }
    }
}

/// A trained ESN and the state it was left in at the end of each sequence.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The trained network.
    pub esn: Esn,
    /// End state of each training sequence (teacher's last value as output),
    /// ready for [`Esn::run`] or [`Esn::generate`] on what follows it.
    pub end_states: Vec<EsnState>,
}

/// Incremental ridge training over sequences that arrive one by one.
#[derive(Debug)]
pub struct EsnTrainer {
    pub(crate) config: EsnConfig,
    pub(crate) stack: ReservoirStack,
    pub(crate) layout: FeatureLayout,
    ridge: Ridge,
    sequences: usize,
    accumulation: Accumulation,
}

impl EsnTrainer {
    /// Draws the reservoir for `inputs` features and `outputs` outputs.
    ///
    /// # Errors
    /// An invalid config, 0 outputs, or a network too large for memory.
    pub fn new(config: &EsnConfig, inputs: usize, outputs: usize) -> Result<Self> {
        config.check()?;
        if outputs == 0 {
            return Err(crate::error::invalid("outputs", 0.0, "must be at least 1"));
        }
        let shape = crate::budget::TrainingShape {
            layers: &config.layers,
            feedback: config.feedback.is_some(),
            input_to_readout: config.input_to_readout,
        };
        crate::budget::check_training(shape, inputs, outputs)?;
        let fb = config.feedback.as_ref().map(|f| (f, outputs));
        let stack = ReservoirStack::new(&config.layers, inputs, fb, config.seed)?;
        let layout = config.layout(inputs);
        Ok(Self {
            config: config.clone(),
            stack,
            layout,
            ridge: Ridge::new(layout.len(), outputs),
            sequences: 0,
            accumulation: Accumulation::Auto,
        })
    }

    /// Chooses how the sums of the sequences added from now on are
    /// accumulated (the sums are bit-identical either way).
    pub fn set_accumulation(&mut self, accumulation: Accumulation) {
        self.accumulation = accumulation;
    }

    /// The accumulated normal equations so far.
    pub fn accumulator(&self) -> &Ridge {
        &self.ridge
    }

    /// The reservoir being trained on.
    pub fn reservoir(&self) -> &ReservoirStack {
        &self.stack
    }

    /// Accumulates one sequence; returns its end state.
    ///
    /// # Errors
    /// As [`EsnTrainer::add_sequences`].
    pub fn add_sequence(&mut self, seq: Sequence<'_>) -> Result<EsnState> {
        Ok(self.add_sequences(&[seq])?.remove(0))
    }

    /// Accumulates many sequences in parallel; returns their end states.
    ///
    /// # Errors
    /// A sequence of the wrong shape, no longer than the washout, or with non-
    /// finite values.
    pub fn add_sequences(&mut self, seqs: &[Sequence<'_>]) -> Result<Vec<EsnState>> {
        let batch = 2 * rayon::current_num_threads().max(1);
        let mut ends = Vec::with_capacity(seqs.len());
        for (b, chunk) in seqs.chunks(batch).enumerate() {
            let first = self.sequences + b * batch;
            // Spare cores overlap each run with its accumulation.
            let spare_core = chunk.len() < rayon::current_num_threads();
            let parts: Vec<(Ridge, EsnState)> = chunk
                .par_iter()
                .enumerate()
                .map(|(i, s)| self.harvest(*s, first + i, spare_core))
                .collect::<Result<_>>()?;
            for (r, end) in parts {
                self.absorb(r)?;
                ends.push(end);
            }
        }
        self.sequences += seqs.len();
        Ok(ends)
    }

    /// Adds the sums of one sequence to those so far.
    fn absorb(&mut self, ridge: Ridge) -> Result<()> {
        if self.ridge.samples() > 0 {
            return self.ridge.merge(&ridge);
        }
        // The same sums as merging into zeros, without the pass.
        mismatch("merged features", self.ridge.features(), ridge.features())?;
        self.ridge = ridge;
        Ok(())
    }

    /// Accumulates one sequence like [`EsnTrainer::add_sequence`], then runs
    /// the reservoir over `next` (`T' × d`, no teacher, no noise) from its
    /// end state while the last blocks of `ΦᵀΦ` are still being added (and
    /// the readout solved) on the helper thread. Returns the end state of
    /// `seq`, the `T'` reservoir states of the run, one after another
    /// (`state_len` values each), and the solved readout weights. Only
    /// meaningful without output feedback (the run ignores the outputs),
    /// and only on a fresh trainer ([`Esn::fit_and_run`]): the weights are
    /// solved from this sequence's sums alone.
    fn add_then_run(
        &mut self,
        seq: Sequence<'_>,
        next: MatRef<'_, f64>,
    ) -> Result<(EsnState, Vec<f64>, Mat<f64>)> {
        debug_assert_eq!(self.ridge.samples(), 0, "a fresh trainer");
        let index = self.sequences;
        self.check_sequence(seq, index)?;
        mismatch("input columns", self.stack.inputs(), next.ncols())?;
        check_matrix("inputs", next)?;
        let (f, m) = (self.layout.len(), self.ridge.outputs());
        let columns = seq.inputs.nrows() - self.config.washout;
        let pipelined = self
            .accumulation
            .pipelined(rayon::current_num_threads() > 1, columns);
        let spec = SolveSpec {
            ridge: self.config.ridge,
            unpenalised: self.layout.bias_index(),
        };
        let drive = |sink: &mut Sink| self.drive(seq, index, sink);
        let run_next = |end: EsnState| {
            let states = self.run_on(&end, next);
            (end, states)
        };
        let (ridge, (end, states), w) =
            accumulate_and_solve(f, m, pipelined, spec, drive, run_next);
        self.absorb(ridge)?;
        self.sequences += 1;
        Ok((end, states, w?))
    }

    /// The noise-free reservoir states over `inputs` from `start`, one
    /// after another (the feedback stays `start.output`).
    ///
    /// # Shapes
    /// `inputs`: `T × d`; returns `T · state_len` values.
    fn run_on(&self, start: &EsnState, inputs: MatRef<'_, f64>) -> Vec<f64> {
        let n = self.stack.state_len();
        // Appended, not zeroed first: the run writes every value once.
        let mut states = Vec::with_capacity(n * inputs.nrows());
        let (mut x, mut y) = (start.reservoir.clone(), start.output.clone());
        let step = |x: &[f64], u: &[f64], y: &[f64], next: &mut [f64]| {
            self.stack.step_into(x, u, y, next, None);
        };
        let visit = |_: usize, _: &[f64], x: &[f64], _: &mut [f64]| states.extend_from_slice(x);
        run_rows(inputs, &mut x, &mut y, step, visit);
        states
    }

    /// Solves the readout and returns the trained network.
    ///
    /// # Errors
    /// [`Error::SingularSystem`] or no samples.
    pub fn finish(self) -> Result<Esn> {
        let w = self
            .ridge
            .solve(self.config.ridge, self.layout.bias_index())?;
        self.finish_with(w)
    }

    /// The trained network with readout weights `w`.
    fn finish_with(self, w: Mat<f64>) -> Result<Esn> {
        let readout = LinearReadout::new(self.layout, w)?;
        Esn::from_parts(self.config, self.stack, readout)
    }

    /// Checks the shape and values of training sequence `index`.
    pub(crate) fn check_sequence(&self, s: Sequence<'_>, index: usize) -> Result<()> {
        mismatch("input columns", self.stack.inputs(), s.inputs.ncols())?;
        mismatch("target columns", self.ridge.outputs(), s.targets.ncols())?;
        mismatch("target rows", s.inputs.nrows(), s.targets.nrows())?;
        if s.inputs.nrows() == 0 {
            return Err(Error::EmptySeries {
                what: "training sequence",
            });
        }
        if s.inputs.nrows() <= self.config.washout {
            return Err(Error::WashoutTooLong {
                washout: self.config.washout,
                sequence: index,
                len: s.inputs.nrows(),
            });
        }
        check_matrix("inputs", s.inputs)?;
        check_matrix("targets", s.targets)
    }

    /// Runs one sequence teacher-forced and accumulates its own sums.
    fn harvest(
        &self,
        s: Sequence<'_>,
        index: usize,
        spare_core: bool,
    ) -> Result<(Ridge, EsnState)> {
        self.check_sequence(s, index)?;
        let (f, m) = (self.layout.len(), self.ridge.outputs());
        let columns = s.inputs.nrows() - self.config.washout;
        let pipelined = self.accumulation.pipelined(spare_core, columns);
        Ok(accumulate(f, m, pipelined, |sink| {
            self.drive(s, index, sink)
        }))
    }

    /// The teacher-forced run, handing `φ(t)` and `y(t)` after the washout
    /// to `sink`; returns the end state.
    fn drive(&self, s: Sequence<'_>, index: usize, sink: &mut Sink) -> EsnState {
        let mut noise = self.noise(index);
        let (mut state, mut next) = (self.zero_state(), self.stack.zero_state());
        for t in 0..s.inputs.nrows() {
            if t < self.config.washout {
                advance(
                    &self.stack,
                    &mut state,
                    s.inputs,
                    t,
                    &mut next,
                    noise.as_mut(),
                );
                copy_row(s.targets, t, &mut state.output);
                continue;
            }
            // The step writes its state straight into the sink's column.
            let (phi, y) = sink.push();
            let (head, x) = self.layout.split_mut(phi);
            copy_row(s.inputs, t, &mut state.input);
            let (input, feedback) = (&state.input, &state.output);
            self.stack
                .step_into(&state.reservoir, input, feedback, x, noise.as_mut());
            state.reservoir.copy_from_slice(x);
            self.layout.fill_head(&state.input, head);
            copy_row(s.targets, t, &mut state.output);
            y.copy_from_slice(&state.output);
        }
        state
    }

    /// The state-noise stream of training sequence `index`, if any layer is noisy.
    pub(crate) fn noise(&self, index: usize) -> Option<Rng> {
        let noisy = self.config.layers.iter().any(|l| l.noise > 0.0);
        noisy.then(|| Rng::stream(self.config.seed, &format!("noise/{index}")))
    }

    /// The all-zero state, outputs included.
    pub(crate) fn zero_state(&self) -> EsnState {
        EsnState {
            reservoir: self.stack.zero_state(),
            input: vec![0.0; self.stack.inputs()],
            output: vec![0.0; self.ridge.outputs()],
        }
    }
}

/// Reads input row `t` into `state.input` and advances the stack one step
/// with `state.output` as the feedback.
pub(crate) fn advance(
    stack: &ReservoirStack,
    state: &mut EsnState,
    inputs: MatRef<'_, f64>,
    t: usize,
    next: &mut Vec<f64>,
    noise: Option<&mut Rng>,
) {
    copy_row(inputs, t, &mut state.input);
    stack.step_into(&state.reservoir, &state.input, &state.output, next, noise);
    std::mem::swap(&mut state.reservoir, next);
}

/// The outputs of `esn`'s readout over the stored reservoir `states` (one
/// after another) and their `inputs`, one row per step, on one thread.
///
/// # Shapes
/// `inputs`: `T × d`; `states`: `T · state_len` values; returns `T × m`.
fn apply_readout(esn: &Esn, inputs: MatRef<'_, f64>, states: &[f64]) -> Mat<f64> {
    let (layout, readout) = (esn.readout().layout(), esn.readout());
    let (n, m) = (esn.reservoir().state_len(), esn.outputs());
    let mut phi = vec![0.0; layout.len()];
    let (mut u, mut y) = (vec![0.0; inputs.ncols()], vec![0.0; m]);
    let mut out = Mat::zeros(inputs.nrows(), m);
    for (t, x) in states.chunks_exact(n).enumerate() {
        copy_row(inputs, t, &mut u);
        layout.fill(&u, x, &mut phi);
        readout.apply(&phi, &mut y);
        y.iter().enumerate().for_each(|(k, v)| out[(t, k)] = *v);
    }
    out
}

impl Esn {
    /// Trains by ridge regression over `sequences` (run in parallel).
    ///
    /// # Shapes
    /// Each sequence: `T_i × d` inputs, `T_i × m` targets.
    ///
    /// # Errors
    /// No sequence, or as [`EsnTrainer::new`], [`EsnTrainer::add_sequences`]
    /// and [`EsnTrainer::finish`].
    pub fn fit(config: &EsnConfig, sequences: &[Sequence<'_>]) -> Result<Fit> {
        let first = sequences.first().ok_or(Error::EmptySeries {
            what: "training sequence list",
        })?;
        let mut trainer = EsnTrainer::new(config, first.inputs.ncols(), first.targets.ncols())?;
        let end_states = trainer.add_sequences(sequences)?;
        Ok(Fit {
            esn: trainer.finish()?,
            end_states,
        })
    }

    /// Fits on `train` ([`Esn::fit`] with one sequence) and runs the trained
    /// network over `test_inputs` from the end-of-training state; returns the
    /// fit and the outputs, identical to those of
    /// `fit.esn.run(&mut fit.end_states[0].clone(), test_inputs, None)`.
    ///
    /// Without output feedback the test run does not depend on the readout,
    /// so it overlaps the end of the training accumulation (on a helper
    /// thread when cores are spare) and the readout is applied afterwards;
    /// with feedback it is simply [`Esn::fit`] followed by [`Esn::run`].
    ///
    /// # Shapes
    /// `train`: `T × d` inputs and `T × m` targets; `test_inputs`: `T' × d`;
    /// returns `T' × m`.
    ///
    /// # Errors
    /// As [`Esn::fit`] and [`Esn::run`].
    pub fn fit_and_run(
        config: &EsnConfig,
        train: Sequence<'_>,
        test_inputs: MatRef<'_, f64>,
    ) -> Result<(Fit, Mat<f64>)> {
        Self::fit_and_run_with(config, train, test_inputs, Accumulation::Auto)
    }

    /// [`Esn::fit_and_run`] with the sums accumulated as `accumulation`
    /// says ([`Accumulation::Serial`] gives the serial path, to time what
    /// the pipeline gains); the results are the same either way.
    ///
    /// # Shapes
    /// `train`: `T × d` inputs and `T × m` targets; `test_inputs`:
    /// `T' × d`; returns `T' × m` outputs.
    ///
    /// # Errors
    /// As [`Esn::fit`] and [`Esn::run`].
    pub fn fit_and_run_with(
        config: &EsnConfig,
        train: Sequence<'_>,
        test_inputs: MatRef<'_, f64>,
        accumulation: Accumulation,
    ) -> Result<(Fit, Mat<f64>)> {
        let (d, m) = (train.inputs.ncols(), train.targets.ncols());
        let mut trainer = EsnTrainer::new(config, d, m)?;
        trainer.set_accumulation(accumulation);
        if config.feedback.is_some() {
            let end = trainer.add_sequence(train)?;
            let esn = trainer.finish()?;
            let out = esn.run(&mut end.clone(), test_inputs, None)?;
            let end_states = vec![end];
            return Ok((Fit { esn, end_states }, out));
        }
        let (end, states, w) = trainer.add_then_run(train, test_inputs)?;
        let esn = trainer.finish_with(w)?;
        let out = apply_readout(&esn, test_inputs, &states);
        let end_states = vec![end];
        Ok((Fit { esn, end_states }, out))
    }
}
