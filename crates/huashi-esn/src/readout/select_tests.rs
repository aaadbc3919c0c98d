use super::*;
use crate::rng::Rng;
use faer::linalg::solvers::Solve;

/// A small noisy regression with a bias column: `T × (1 + 4)`, 2 outputs.
fn problem(t: usize, bias: bool) -> (Mat<f64>, Mat<f64>) {
    let mut rng = Rng::stream(3, "select/test");
    let off = usize::from(bias);
    let x = Mat::from_fn(t, 4 + off, |_, j| {
        if bias && j == 0 {
            1.0
        } else {
            rng.normal() + 0.5
        }
    });
    let mut y = Mat::zeros(t, 2);
    for i in 0..t {
        let s: f64 = (off..4 + off).map(|j| x[(i, j)] * (j as f64 - 1.5)).sum();
        y[(i, 0)] = 2.0 + s + 0.3 * rng.normal();
        y[(i, 1)] = -s + x[(i, off)].powi(2) + 0.3 * rng.normal();
    }
    (x, y)
}

fn accumulate(x: &Mat<f64>, y: &Mat<f64>) -> Ridge {
    let mut r = Ridge::new(x.ncols(), y.ncols());
    r.add(x.as_ref(), y.as_ref()).unwrap();
    r
}

/// Leave-one-out by refitting without each sample.
fn brute_force_loo(x: &Mat<f64>, y: &Mat<f64>, l: f64, bias: Option<usize>) -> f64 {
    let (t, m) = (x.nrows(), y.ncols());
    let mut sse = 0.0;
    for out in 0..t {
        let rows: Vec<usize> = (0..t).filter(|&i| i != out).collect();
        let xs = Mat::from_fn(t - 1, x.ncols(), |i, j| x[(rows[i], j)]);
        let ys = Mat::from_fn(t - 1, m, |i, k| y[(rows[i], k)]);
        let w = accumulate(&xs, &ys).solve(l, bias).unwrap();
        for k in 0..m {
            let pred: f64 = (0..x.ncols()).map(|j| x[(out, j)] * w[(j, k)]).sum();
            sse += (y[(out, k)] - pred).powi(2);
        }
    }
    sse / (t * m) as f64
}

#[test]
fn closed_form_loo_equals_refitting() {
    for bias in [true, false] {
        let (x, y) = problem(30, bias);
        let b = bias.then_some(0);
        let sel = RidgeSelection::new(&accumulate(&x, &y), b).unwrap();
        let grid = log_grid(1e-4, 1e2, 7).unwrap();
        let fast = sel.loo(&grid, x.as_ref(), y.as_ref()).unwrap();
        for (l, f) in grid.iter().zip(&fast) {
            let slow = brute_force_loo(&x, &y, *l, b);
            assert!(
                (f - slow).abs() < 1e-9 * slow,
                "bias {bias}, λ {l}: {f} vs {slow}"
            );
        }
    }
}

#[test]
fn gcv_equals_its_definition() {
    let (x, y) = problem(40, true);
    let ridge = accumulate(&x, &y);
    let sel = RidgeSelection::new(&ridge, Some(0)).unwrap();
    let yty: Vec<f64> = (0..2)
        .map(|k| (0..40).map(|i| y[(i, k)].powi(2)).sum())
        .collect();
    let l = 0.7;
    let gcv = sel.gcv(&[l], &yty).unwrap()[0];
    // Direct: RSS of the fitted readout, df = trace of the hat matrix.
    let w = ridge.solve(l, Some(0)).unwrap();
    let resid = &y - &x * &w;
    let rss: f64 = (0..40)
        .map(|i| (0..2).map(|k| resid[(i, k)].powi(2)).sum::<f64>())
        .sum();
    let mut a = ridge.xtx();
    (1..5).for_each(|i| a[(i, i)] += l);
    let hat_cols = a.as_ref().partial_piv_lu().solve(x.transpose());
    let df: f64 = (0..40)
        .map(|i| (0..5).map(|j| x[(i, j)] * hat_cols[(j, i)]).sum::<f64>())
        .sum();
    let want = (rss / 80.0) / (1.0 - df / 40.0).powi(2);
    assert!((gcv - want).abs() < 1e-10 * want, "{gcv} vs {want}");
}

#[test]
fn grid_and_curve() {
    let g = log_grid(1e-6, 1.0, 7).unwrap();
    assert!(
        (g[0] - 1e-6).abs() < 1e-18 && (g[6] - 1.0).abs() < 1e-12 && (g[3] - 1e-3).abs() < 1e-15
    );
    assert!(
        log_grid(1.0, 1e-3, 5).is_err()
            && log_grid(0.0, 1.0, 5).is_err()
            && log_grid(1e-3, 1.0, 1).is_err()
    );
    let c = RidgeCurve::new(Criterion::Gcv, vec![1.0, 2.0, 3.0], vec![3.0, 1.0, 2.0]).unwrap();
    assert_eq!(c.best, 2.0);
    let (x, y) = problem(10, true);
    let r = accumulate(&x, &y);
    assert!(RidgeSelection::new(&r, Some(3)).is_err());
    assert!(RidgeSelection::new(&Ridge::new(5, 2), Some(0)).is_err());
}
