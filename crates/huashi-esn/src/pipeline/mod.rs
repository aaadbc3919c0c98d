//! Block-wise accumulation of `ΦᵀΦ` and `ΦᵀY` while a reservoir runs.
//!
//! The one interface: the producer (a training run) calls [`Sink::push`]
//! for each step after the washout and writes that step's feature column
//! `φ(t)` and target column `y(t)` into the slices it returns. The sums are
//!
//! ```text
//! ΦᵀΦ = Σ_blocks Φ_bᵀ Φ_b,      ΦᵀY = Σ_blocks Φ_bᵀ Y_b
//! ```
//!
//! over blocks of `BLOCK` columns (the first block of a run a quarter as
//! many). Each full block is added to a [`Ridge`] either at once (serial)
//! or by a helper thread (pipelined, [`Accumulation::Auto`] with a spare
//! core and a run of at least four blocks), so that on two or more cores
//! the matrix products overlap the strictly sequential reservoir run. Every
//! block is added as the two independent parts of [`Ridge::parts`]. When
//! pipelined, up to `IN_FLIGHT_BYTES` of blocks are in flight, so the run
//! seldom waits; once it ends, the producer takes over the left part of the
//! blocks the worker has not reached while the worker finishes their right
//! parts. Each part is a single accumulator that takes the blocks in order,
//! whichever thread adds them, so both modes give bit-identical sums
//! whatever the number of threads or the timing.
//!
//! [`accumulate_and_solve`] ends the stream when the producer is done and
//! then runs more work on the producer's thread (a test run) while the
//! worker finishes; the ridge system is solved by whichever thread completes
//! the sums, the worker if the producer is still busy.
//!
//! The reservoir step writes its state straight into a block's column;
//! blocks are reused, oldest first, only once `IN_FLIGHT_BYTES` are in
//! flight. The measurements behind `BLOCK` and `IN_FLIGHT_BYTES` are in
//! `PERF.md` (section "Echo state networks").

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use faer::{Mat, Par};

use crate::error::Result;
use crate::readout::{LeftPart, Normal, Ridge};

mod block;

use block::{Block, BLOCK};

/// Steps in the first block of a run: a short one hands the worker its
/// first product a quarter as late.
const FIRST_BLOCK: usize = BLOCK / 4;

/// Most bytes of blocks in flight between the producer and the worker
/// (21 blocks for 500 units). The reservoir step writes into reused blocks
/// in place, and writing lines the worker has read recently is slow, so
/// blocks are reused only once this much is in flight.
const IN_FLIGHT_BYTES: usize = 16 << 20;

/// How a training run's sums are accumulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Accumulation {
    /// On a helper thread when a core is spare and the run after the
    /// washout is at least four blocks long, else on the run's thread.
    #[default]
    Auto,
    /// Always on the run's thread (the serial path).
    Serial,
}

impl Accumulation {
    /// Whether a run of `columns` steps after the washout is pipelined
    /// when `spare_core` says a core is free.
    pub(crate) fn pipelined(self, spare_core: bool, columns: usize) -> bool {
        self == Accumulation::Auto && spare_core && columns >= 4 * BLOCK
    }
}

/// Most blocks in flight for `f` features and `m` outputs (2 to 64).
fn depth(f: usize, m: usize) -> usize {
    (IN_FLIGHT_BYTES / ((f + m) * BLOCK * 8)).clamp(2, 64)
}

enum Mode {
    Serial(Ridge),
    Piped {
        /// `None` once the stream is closed.
        tx: Option<SyncSender<(usize, Arc<Block>)>>,
        /// One message per block the worker is done with, in order.
        back: Receiver<()>,
        /// The blocks sent and not yet reused, with their numbers.
        sent: VecDeque<(usize, Arc<Block>)>,
        samples: usize,
        depth: usize,
    },
}

/// Where the producer puts its columns.
pub(crate) struct Sink {
    current: Option<Block>,
    /// A block already added (serial mode), to be filled again.
    spare: Option<Block>,
    /// Blocks started so far.
    started: usize,
    mode: Mode,
    shape: (usize, usize),
}

impl Sink {
    fn new(mode: Mode, shape: (usize, usize)) -> Self {
        Self {
            current: None,
            spare: None,
            started: 0,
            mode,
            shape,
        }
    }

    /// The next column, to be written over whole: its feature part (`F`
    /// values) and its target part (`m`). A full block is handed over
    /// first.
    ///
    /// # Shapes
    /// Returns slices of `F` and `m` values.
    pub(crate) fn push(&mut self) -> (&mut [f64], &mut [f64]) {
        if self.current.as_ref().is_some_and(Block::is_full) {
            self.flush();
        }
        let block = match self.current.take() {
            Some(block) => block,
            None => self.start_block(),
        };
        self.current.insert(block).push()
    }

    /// An empty block: the spare one, the oldest in flight once `depth`
    /// are (after the worker is done with it), or a new one.
    fn start_block(&mut self) -> Block {
        let reused = match &mut self.mode {
            Mode::Piped {
                back, sent, depth, ..
            } if sent.len() >= *depth => back
                .recv()
                .ok()
                .and_then(|()| sent.pop_front())
                .and_then(|(_, b)| Arc::into_inner(b)),
            _ => None,
        };
        let (f, m) = self.shape;
        let mut block = self
            .spare
            .take()
            .or(reused)
            .unwrap_or_else(|| Block::new(f, m));
        let limit = if self.started == 0 {
            FIRST_BLOCK
        } else {
            BLOCK
        };
        block.clear(limit);
        self.started += 1;
        block
    }

    /// Hands the current block over if it holds any column.
    fn flush(&mut self) {
        let Some(block) = self.current.take_if(|b| b.filled > 0) else {
            return;
        };
        match &mut self.mode {
            Mode::Serial(ridge) => {
                block.add_to(ridge);
                self.spare = Some(block);
            }
            Mode::Piped {
                tx, sent, samples, ..
            } => {
                let number = sent.back().map_or(0, |(i, _)| i + 1);
                *samples += block.filled;
                let block = Arc::new(block);
                sent.push_back((number, Arc::clone(&block)));
                // The worker only stops receiving by panicking, which `join`
                // re-raises below.
                if let Some(tx) = tx {
                    let _ = tx.send((number, block));
                }
            }
        }
    }

    /// Hands the current block over and ends the stream (the producer has
    /// no access to the sink afterwards), so the worker can finish.
    fn close(&mut self) {
        self.flush();
        if let Mode::Piped { tx, .. } = &mut self.mode {
            *tx = None;
        }
    }
}

/// The readout's ridge problem: the penalty and the unpenalised (bias) row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SolveSpec {
    pub(crate) ridge: f64,
    pub(crate) unpenalised: Option<usize>,
}

/// Runs `produce` with a sink and returns the accumulated sums with its
/// result; `pipelined` puts the products on a helper thread.
pub(crate) fn accumulate<T>(
    f: usize,
    m: usize,
    pipelined: bool,
    produce: impl FnOnce(&mut Sink) -> T,
) -> (Ridge, T) {
    let (ridge, out, _) = run(f, m, pipelined, None, produce, |a| a);
    (ridge, out)
}

/// [`accumulate`], then `then` on `produce`'s result on this thread while
/// the worker finishes the sums, and the solution of the ridge problem
/// `spec`: computed by the worker as soon as the sums are complete if
/// `then` is still running, else afterwards on this thread.
pub(crate) fn accumulate_and_solve<A, T>(
    f: usize,
    m: usize,
    pipelined: bool,
    spec: SolveSpec,
    produce: impl FnOnce(&mut Sink) -> A,
    then: impl FnOnce(A) -> T,
) -> (Ridge, T, Result<Mat<f64>>) {
    let (ridge, out, solved) = run(f, m, pipelined, Some(spec), produce, then);
    let w = solved.unwrap_or_else(|| ridge.solve(spec.ridge, spec.unpenalised));
    (ridge, out, w)
}

/// The sums, the result of `then` after `produce`, and the solution if the
/// worker found it.
fn run<A, T>(
    f: usize,
    m: usize,
    pipelined: bool,
    spec: Option<SolveSpec>,
    produce: impl FnOnce(&mut Sink) -> A,
    then: impl FnOnce(A) -> T,
) -> (Ridge, T, Option<Result<Mat<f64>>>) {
    if pipelined {
        return accumulate_piped(f, m, spec, produce, then);
    }
    let mut sink = Sink::new(Mode::Serial(Ridge::new(f, m)), (f, m));
    let produced = produce(&mut sink);
    sink.flush();
    let out = then(produced);
    match sink.mode {
        Mode::Serial(ridge) => (ridge, out, None),
        Mode::Piped { .. } => unreachable!("a serial sink stays serial"),
    }
}

/// The left part and the number of the next block it takes.
struct Lane<'a> {
    part: LeftPart<'a>,
    next: usize,
}

impl Lane<'_> {
    /// Adds block `number` if it is the next one.
    fn add(&mut self, number: usize, block: &Block) {
        if number == self.next {
            self.part.add(block.phi(), Par::Seq);
            self.next += 1;
        }
    }
}

/// [`run`] with a worker thread adding the blocks in order.
fn accumulate_piped<A, T>(
    f: usize,
    m: usize,
    spec: Option<SolveSpec>,
    produce: impl FnOnce(&mut Sink) -> A,
    then: impl FnOnce(A) -> T,
) -> (Ridge, T, Option<Result<Mat<f64>>>) {
    let mut ridge = Ridge::new(f, m);
    let (part, mut right) = ridge.parts();
    let lane = Mutex::new(Lane { part, next: 0 });
    let depth = depth(f, m);
    let (out, samples, solved) = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(usize, Arc<Block>)>(depth);
        let (back_tx, back) = sync_channel::<()>(depth);
        let lane = &lane;
        let worker = scope.spawn(move || {
            let (mut received, mut samples) = (0, 0);
            for (number, block) in rx {
                // Fails only once the producer has taken the left part over.
                if let Ok(mut lane) = lane.try_lock() {
                    lane.add(number, &block);
                }
                right.add(block.phi(), block.y(), Par::Seq);
                (received, samples) = (received + 1, samples + block.filled);
                drop(block);
                let _ = back_tx.send(());
            }
            // Solves here only if every left part is in (none taken over).
            let spec = spec?;
            let lane = lane.try_lock().ok()?;
            let complete = lane.next == received;
            complete.then(|| {
                let normal = Normal::from_parts(&lane.part, &right, samples);
                normal.solve(spec.ridge, spec.unpenalised)
            })
        });
        let mode = Mode::Piped {
            tx: Some(tx),
            back,
            sent: VecDeque::new(),
            samples: 0,
            depth,
        };
        let mut sink = Sink::new(mode, (f, m));
        let produced = produce(&mut sink);
        sink.close(); // the worker finishes once the channel is closed
        let out = then(produced);
        let Mode::Piped { sent, samples, .. } = sink.mode else {
            unreachable!("a piped sink stays piped")
        };
        let mut lane = lane.lock().unwrap_or_else(PoisonError::into_inner);
        for (number, block) in &sent {
            lane.add(*number, block);
        }
        drop(lane);
        let solved = worker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (out, samples, solved)
    });
    ridge.count(samples);
    (ridge, out, solved)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `t` columns of a fixed sequence with a constant first feature.
    fn produce(sink: &mut Sink, t: usize) {
        for s in 0..t {
            let (phi, y) = sink.push();
            for (i, v) in phi.iter_mut().enumerate() {
                *v = ((s * 31 + i * 17) % 23) as f64 / 11.0 - 1.0;
            }
            phi[0] = 1.0;
            y[0] = (s as f64 * 0.01).sin();
        }
    }

    #[test]
    fn pipelined_sums_and_solution_match_serial_whoever_solves() {
        let (f, m, t) = (40, 1, 20 * BLOCK + 7);
        let spec = SolveSpec {
            ridge: 1e-6,
            unpenalised: Some(0),
        };
        let (serial, (), none) = run(f, m, false, Some(spec), |sink| produce(sink, t), |()| ());
        assert!(none.is_none(), "serial mode solves on the caller's thread");
        let expected = serial.solve(spec.ridge, spec.unpenalised).unwrap();
        // Without a wait the producer usually takes the sums over and solves;
        // with one the worker completes them and solves first.
        for wait_ms in [0, 200] {
            let wait = std::time::Duration::from_millis(wait_ms);
            let fill = |sink: &mut Sink| produce(sink, t);
            let (ridge, (), w) =
                accumulate_and_solve(f, m, true, spec, fill, |()| std::thread::sleep(wait));
            assert_eq!(ridge, serial, "wait {wait_ms} ms");
            assert_eq!(w.unwrap(), expected, "wait {wait_ms} ms");
        }
    }
}
