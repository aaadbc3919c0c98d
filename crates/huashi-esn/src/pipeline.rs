//! Block-wise accumulation of `ΦᵀΦ` and `ΦᵀY` while a reservoir runs.
//!
//! The producer (the reservoir run) fills blocks of [`BLOCK`] feature and
//! target columns; each full block is added to a [`Ridge`] either at once
//! (serial) or by a helper thread (pipelined), so that on two or more cores
//! the matrix products overlap the strictly sequential reservoir run. Blocks
//! are added in order with sequential products either way, so both modes
//! give bit-identical sums whatever the number of threads. Three buffers
//! circulate; memory stays `O(F · BLOCK)`.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use faer::{Mat, Par};

use crate::readout::Ridge;

/// Steps accumulated per block into `ΦᵀΦ`.
pub const BLOCK: usize = 256;

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
        let n = self.filled;
        ridge.add_columns_with(self.phi.subcols(0, n), self.y.subcols(0, n), Par::Seq);
    }
}

enum Mode {
    Serial(Ridge),
    Piped {
        tx: SyncSender<Block>,
        back: Receiver<Block>,
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
        let back = match &self.mode {
            Mode::Piped { back, .. } => Some(back),
            Mode::Serial(_) => None,
        };
        self.current.get_or_insert_with(|| {
            let mut b = back
                .and_then(|r| r.recv().ok())
                .unwrap_or_else(|| Block::new(f, m));
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
            Mode::Piped { tx, .. } => {
                // The worker only stops receiving by panicking, which `join`
                // re-raises below.
                let _ = tx.send(block);
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

/// [`accumulate`] with a worker thread adding the blocks in order.
fn accumulate_piped<T>(f: usize, m: usize, produce: impl FnOnce(&mut Sink) -> T) -> (Ridge, T) {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Block>(2);
        let (back_tx, back) = sync_channel::<Block>(3);
        for _ in 0..2 {
            let _ = back_tx.send(Block::new(f, m));
        }
        let worker = scope.spawn(move || {
            let mut ridge = Ridge::new(f, m);
            for block in rx {
                block.add_to(&mut ridge);
                let _ = back_tx.send(block);
            }
            ridge
        });
        let mode = Mode::Piped { tx, back };
        let mut sink = Sink {
            current: None,
            mode,
            shape: (f, m),
        };
        let out = produce(&mut sink);
        sink.flush();
        drop(sink); // closes the channel, so the worker finishes
        let ridge = worker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (ridge, out)
    })
}
