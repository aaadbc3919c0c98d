//! Random initialisation of reservoir matrices.
//!
//! Every matrix draws its sparsity pattern and its values from two streams of
//! its own (`"<layer>/<matrix>.mask"`, `"<layer>/<matrix>.values"`, see
//! [`crate::rng`]), so changing one initialiser leaves all the others intact.

use crate::config::Distribution;
use crate::rng::Rng;
use crate::sparse::CsrMatrix;

/// Draws one value from a distribution.
pub(crate) fn draw(rng: &mut Rng, dist: Distribution) -> f64 {
    match dist {
        Distribution::Normal => rng.normal(),
        Distribution::Uniform => rng.uniform_in(-1.0, 1.0),
        Distribution::Bernoulli => rng.sign(),
    }
}

/// Number of non-zeros per row/column for a connectivity `c` over `n` slots.
pub(crate) fn fan(c: f64, n: usize) -> usize {
    ((c * n as f64).round() as usize).clamp(1, n.max(1))
}

/// Square `n × n` recurrent matrix with `fan(c, n)` entries in every row.
pub(crate) fn recurrent(n: usize, c: f64, dist: Distribution, seed: u64, name: &str) -> CsrMatrix {
    let mut mask = Rng::stream(seed, &format!("{name}.mask"));
    let mut values = Rng::stream(seed, &format!("{name}.values"));
    let k = fan(c, n);
    let mut scratch = vec![false; n];
    let rows = (0..n)
        .map(|_| {
            let cols = mask.choose_sorted(n, k, &mut scratch);
            cols.into_iter()
                .map(|j| (j, draw(&mut values, dist)))
                .collect()
        })
        .collect();
    CsrMatrix::from_rows(n, rows)
}

/// `n × scaling.len()` input-like matrix: feature `j` reaches `fan(c, n)`
/// units with weights `scaling[j] · draw(dist)`.
pub(crate) fn input_like(
    n: usize,
    scaling: &[f64],
    c: f64,
    dist: Distribution,
    seed: u64,
    name: &str,
) -> CsrMatrix {
    let mut mask = Rng::stream(seed, &format!("{name}.mask"));
    let mut values = Rng::stream(seed, &format!("{name}.values"));
    let k = fan(c, n);
    let mut scratch = vec![false; n];
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for (j, &s) in scaling.iter().enumerate() {
        for unit in mask.choose_sorted(n, k, &mut scratch) {
            rows[unit].push((j, s * draw(&mut values, dist)));
        }
    }
    CsrMatrix::from_rows(scaling.len(), rows)
}

/// Dense bias vector `scale · draw(dist)` (zeros when `scale == 0`).
pub(crate) fn bias(n: usize, scale: f64, dist: Distribution, seed: u64, name: &str) -> Vec<f64> {
    if scale == 0.0 {
        return vec![0.0; n];
    }
    let mut rng = Rng::stream(seed, name);
    (0..n).map(|_| scale * draw(&mut rng, dist)).collect()
}
