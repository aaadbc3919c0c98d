//! Sparse products `y += A x` split by rows over two threads, for long
//! chains of short, dependent products: the Arnoldi iteration of
//! [`crate::spectral`] takes about 900 products of 2.8 µs each to draw a
//! 500-unit reservoir, while the second core idles.
//!
//! A product is far shorter than waking a parked thread (tens of µs), so a
//! helper thread spins between products, and handing a product over costs
//! a cache-line round trip between the cores (115 ns measured on the 2-core
//! Zen 4 box). The caller computes the first half of the row groups and the
//! helper the rest; each row is computed exactly as in the whole product,
//! so the result is bit-identical. After [`SPINS`] idle polls a waiting
//! thread yields its core at each poll, so an oversubscribed machine keeps
//! making progress.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::kernel::{Ell, LANES};

/// Polls of a waiting thread before it starts yielding its core.
const SPINS: u32 = 1 << 16;

/// The job number that tells the helper to stop.
const STOP: usize = usize::MAX;

/// What the two threads share: the posted job and the helper's progress.
struct Shared {
    /// Number of the job posted last (jobs count from 1), or [`STOP`].
    posted: AtomicUsize,
    /// Number of the job the helper finished last.
    finished: AtomicUsize,
    /// `x` of the posted job (`ncols` values).
    x: AtomicPtr<f64>,
    /// The helper's rows of `y` in the posted job.
    y: AtomicPtr<f64>,
}

/// Waits until `ready` returns a value, spinning, then yielding.
fn wait_for(mut ready: impl FnMut() -> Option<usize>) -> usize {
    let mut polls = 0;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        if polls < SPINS {
            polls += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// The products of one matrix, split by rows with a helper thread.
pub(crate) struct SplitProduct<'a> {
    ell: &'a Ell,
    shared: &'a Shared,
    /// First row group of the helper's half.
    split: usize,
}

impl SplitProduct<'_> {
    /// Number of rows.
    pub(crate) fn nrows(&self) -> usize {
        self.ell.nrows()
    }

    /// `y = A x`, bit-identical to [`Ell::mul_add`] into zeros. Each
    /// thread zeroes its own rows: zeroing all of `y` here first made the
    /// helper's rows travel between the cores twice more (a split product
    /// of 500 units took 2.3 µs instead of 1.9, the whole one 2.9).
    ///
    /// # Panics
    /// If `x.len() != ncols` or `y.len() != nrows`.
    pub(crate) fn mul(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ell.ncols(), "x length");
        assert_eq!(y.len(), self.ell.nrows(), "y length");
        let (mine, theirs) = y.split_at_mut(self.split * LANES);
        let shared = self.shared;
        shared.x.store(x.as_ptr().cast_mut(), Ordering::Relaxed);
        shared.y.store(theirs.as_mut_ptr(), Ordering::Relaxed);
        let job = shared.posted.load(Ordering::Relaxed) + 1;
        shared.posted.store(job, Ordering::Release);
        // Waits for the helper even while unwinding: it writes `theirs`.
        let _wait = Finished { shared, job };
        mine.fill(0.0);
        self.ell.mul_add_groups(x, 0, mine);
    }
}

/// Waits on drop until the helper has finished `job`.
struct Finished<'a> {
    shared: &'a Shared,
    job: usize,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let finished = &self.shared.finished;
        wait_for(|| (finished.load(Ordering::Acquire) == self.job).then_some(0));
    }
}

/// Tells the helper to stop on drop (also when `body` panics).
struct StopOnDrop<'a>(&'a Shared);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.posted.store(STOP, Ordering::Release);
    }
}

/// Runs `body` with products of `ell` split over this thread and a helper.
pub(crate) fn with_split_product<R>(ell: &Ell, body: impl FnOnce(&SplitProduct<'_>) -> R) -> R {
    let shared = Shared {
        posted: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        x: AtomicPtr::new(std::ptr::null_mut()),
        y: AtomicPtr::new(std::ptr::null_mut()),
    };
    let split = ell.groups() / 2;
    std::thread::scope(|scope| {
        let shared = &shared;
        scope.spawn(move || help(ell, shared, split));
        let _stop = StopOnDrop(shared);
        body(&SplitProduct { ell, shared, split })
    })
}

/// The helper's loop: the rows from group `split` on of each posted job.
fn help(ell: &Ell, shared: &Shared, split: usize) {
    let rows = ell.nrows() - split * LANES;
    let mut done = 0;
    loop {
        let job = wait_for(|| {
            let posted = shared.posted.load(Ordering::Acquire);
            (posted != done).then_some(posted)
        });
        if job == STOP {
            return;
        }
        // SAFETY: the caller stored both pointers before posting `job`
        // (Release, read here with Acquire): `x` has `ncols` values and `y`
        // the `rows` values after row `split·LANES` of a `y` that the caller
        // neither reads nor writes, nor frees, until `finished == job`.
        let (x, y) = unsafe {
            let x = std::slice::from_raw_parts(shared.x.load(Ordering::Relaxed), ell.ncols());
            let y = std::slice::from_raw_parts_mut(shared.y.load(Ordering::Relaxed), rows);
            (x, y)
        };
        y.fill(0.0);
        ell.mul_add_groups(x, split, y);
        done = job;
        shared.finished.store(job, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Distribution;

    #[test]
    fn split_products_match_whole_ones_bit_for_bit() {
        for (n, connectivity) in [(501, 0.05), (64, 0.1), (9, 0.3)] {
            let a = crate::init::recurrent(n, connectivity, Distribution::Normal, 7, "w");
            let ell = Ell::from_csr(&a).expect("uniform rows");
            let mut x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            with_split_product(&ell, |split| {
                for _ in 0..50 {
                    let (mut whole, mut halves) = (vec![0.0; n], vec![0.5; n]);
                    ell.mul_add(&x, &mut whole);
                    split.mul(&x, &mut halves);
                    assert_eq!(whole, halves, "{n} units");
                    x = whole.iter().map(|v| v.tanh()).collect();
                }
            });
        }
    }
}
