//! Block-wise accumulation of `ΦᵀΦ` and `ΦᵀY` while a reservoir runs.
//!
//! The producer (the reservoir run) fills blocks of [`BLOCK`] feature and
//! target columns; each full block is added to a [`Ridge`] either at once
//! (serial) or by a helper thread (pipelined), so that on two or more cores
//! the matrix products overlap the strictly sequential reservoir run. Every
//! block is added as the two independent parts of [`Ridge::parts`]. When
//! pipelined, up to [`DEPTH`] blocks are in flight, so the run seldom waits;
//! once it ends, the producer takes over the left part of the blocks the
//! worker has not reached while the worker finishes their right parts. Each
//! part is a single accumulator that takes the blocks in order, whichever
//! thread adds them, so both modes give bit-identical sums whatever the
//! number of threads or the timing. Memory stays `O(F · BLOCK · DEPTH)`.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use faer::{Mat, MatRef, Par};

use crate::readout::{LeftPart, Ridge};

/// Steps accumulated per block into `ΦᵀΦ`.
pub const BLOCK: usize = 256;

/// Most blocks in flight between the producer and the worker.
pub(crate) const DEPTH: usize = 6;

/// One block of feature columns (`F × BLOCK`) and target columns
/// (`m × BLOCK`), of which the first `filled` are in use.
pub(crate) struct Block {
    pub(crate) phi: Mat<f64>,
    pub(crate) y: Mat<f64>,
    pub(crate) filled: usize,
}

impl Block {
    fn new(f: usize, m: usize) -> Self {
        Self {
            phi: Mat::zeros(f, BLOCK),
            y: Mat::zeros(m, BLOCK),
            filled: 0,
        }
    }

    fn add_to(&self, ridge: &mut Ridge) {
        ridge.add_columns_with(self.phi(), self.y(), Par::Seq);
    }

    fn phi(&self) -> MatRef<'_, f64> {
        self.phi.subcols(0, self.filled)
    }

    fn y(&self) -> MatRef<'_, f64> {
        self.y.subcols(0, self.filled)
    }
}

enum Mode {
    Serial(Ridge),
    Piped {
        tx: SyncSender<(usize, Arc<Block>)>,
        /// One message per block the worker is done with, in order.
        back: Receiver<()>,
        /// The blocks sent and not yet reused, with their numbers.
        sent: VecDeque<(usize, Arc<Block>)>,
        samples: usize,
    },
}

/// Where the producer puts its columns.
pub(crate) struct Sink {
    current: Option<Block>,
    mode: Mode,
    shape: (usize, usize),
}

impl Sink {
    /// The block being filled.
    pub(crate) fn block(&mut self) -> &mut Block {
        let (f, m) = self.shape;
        let reused = match &mut self.mode {
            // Reuses the oldest block once `DEPTH` are in flight.
            Mode::Piped { back, sent, .. } if self.current.is_none() && sent.len() >= DEPTH => back
                .recv()
                .ok()
                .and_then(|()| sent.pop_front())
                .and_then(|(_, b)| Arc::into_inner(b)),
            _ => None,
        };
        self.current.get_or_insert_with(|| {
            let mut b = reused.unwrap_or_else(|| Block::new(f, m));
            b.filled = 0;
            b
        })
    }

    /// Hands the current block over if it holds any column.
    pub(crate) fn flush(&mut self) {
        let Some(block) = self.current.take_if(|b| b.filled > 0) else {
            return;
        };
        match &mut self.mode {
            Mode::Serial(ridge) => {
                block.add_to(ridge);
                self.current = Some(Block { filled: 0, ..block });
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
                let _ = tx.send((number, block));
            }
        }
    }
}

/// Runs `produce` with a sink and returns the accumulated sums with its
/// result; `pipelined` puts the products on a helper thread.
pub(crate) fn accumulate<T>(
    f: usize,
    m: usize,
    pipelined: bool,
    produce: impl FnOnce(&mut Sink) -> T,
) -> (Ridge, T) {
    if pipelined {
        return accumulate_piped(f, m, produce);
    }
    let mode = Mode::Serial(Ridge::new(f, m));
    let mut sink = Sink {
        current: None,
        mode,
        shape: (f, m),
    };
    let out = produce(&mut sink);
    sink.flush();
    match sink.mode {
        Mode::Serial(ridge) => (ridge, out),
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

/// [`accumulate`] with a worker thread adding the blocks in order.
fn accumulate_piped<T>(f: usize, m: usize, produce: impl FnOnce(&mut Sink) -> T) -> (Ridge, T) {
    let mut ridge = Ridge::new(f, m);
    let (part, mut right) = ridge.parts();
    let lane = Mutex::new(Lane { part, next: 0 });
    let (out, samples) = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(usize, Arc<Block>)>(DEPTH);
        let (back_tx, back) = sync_channel::<()>(DEPTH);
        let lane = &lane;
        let worker = scope.spawn(move || {
            for (number, block) in rx {
                // Fails only once the producer has taken the left part over.
                if let Ok(mut lane) = lane.try_lock() {
                    lane.add(number, &block);
                }
                right.add(block.phi(), block.y(), Par::Seq);
                drop(block);
                let _ = back_tx.send(());
            }
        });
        let mode = Mode::Piped {
            tx,
            back,
            sent: VecDeque::new(),
            samples: 0,
        };
        let mut sink = Sink {
            current: None,
            mode,
            shape: (f, m),
        };
        let out = produce(&mut sink);
        sink.flush();
        let Mode::Piped {
            tx, sent, samples, ..
        } = sink.mode
        else {
            unreachable!("a piped sink stays piped")
        };
        drop(tx); // closes the channel, so the worker finishes
        let mut lane = lane.lock().unwrap_or_else(PoisonError::into_inner);
        for (number, block) in &sent {
            lane.add(*number, block);
        }
        drop(lane);
        worker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (out, samples)
    });
    ridge.count(samples);
    (ridge, out)
}
