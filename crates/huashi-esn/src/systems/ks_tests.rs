use super::*;

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn mean_is_conserved() {
    let ks = KuramotoSivashinsky::default();
    let grid = ks.grid();
    let w = 2.0 * std::f64::consts::PI / ks.length;
    let u0: Vec<f64> = grid
        .iter()
        .map(|x| 0.3 + (w * x).cos() * (1.0 + (2.0 * w * x).sin()))
        .collect();
    let ks = KuramotoSivashinsky { x0: Some(u0), ..ks };
    let out = ks.generate(400).unwrap();
    let last: Vec<f64> = (0..ks.points).map(|j| out[(399, j)]).collect();
    assert!((mean(&last) - 0.3).abs() < 1e-12, "{}", mean(&last));
    // Chaos has set in: the field is far from its start.
    assert!(last.iter().map(|v| v.abs()).fold(0.0, f64::max) > 1.0);
}

#[test]
fn a_small_single_mode_follows_the_linear_rate() {
    let ks = KuramotoSivashinsky::default();
    let grid = ks.grid();
    // k = 2π m / L: m = 20 decays (k = 1.25), m = 8 grows (k = 0.5).
    for m in [20.0, 8.0] {
        let k = 2.0 * std::f64::consts::PI * m / ks.length;
        let eps = 1e-7;
        let u0: Vec<f64> = grid.iter().map(|x| eps * (k * x).cos()).collect();
        let run = KuramotoSivashinsky {
            x0: Some(u0.clone()),
            ..ks.clone()
        };
        let steps = 8;
        let out = run.generate(steps + 1).unwrap();
        let t = steps as f64 * ks.dt;
        let factor = ((k * k - k.powi(4)) * t).exp();
        for (j, u) in u0.iter().enumerate() {
            assert!((out[(steps, j)] - factor * u).abs() < 1e-6 * eps, "m {m}");
        }
    }
}

#[test]
fn the_nonlinear_term_conserves_energy() {
    // Σ u · F⁻¹N̂(u) = 0 for a resolved field (no aliasing).
    let ks = KuramotoSivashinsky {
        points: 64,
        ..Default::default()
    };
    let w = 2.0 * std::f64::consts::PI / ks.length;
    let u: Vec<f64> = ks
        .grid()
        .iter()
        .map(|x| (w * x).cos() + 0.5 * (2.0 * w * x).sin())
        .collect();
    let solver = ks.solver().unwrap();
    let mut v: Vec<C> = u.iter().map(|x| C::new(*x, 0.0)).collect();
    fft(&mut v, false);
    let mut nl = solver.nonlinear(&v);
    fft(&mut nl, true);
    let dot: f64 = u.iter().zip(&nl).map(|(a, b)| a * b.re).sum();
    let size: f64 = nl.iter().map(|z| z.re.abs()).sum();
    assert!(size > 1e-3 && dot.abs() < 1e-12 * size, "{dot} vs {size}");
}

#[test]
fn etdrk4_converges_at_high_order() {
    // u at t = 10 with h, h/2 and h/4: the differences shrink at least
    // ~7-fold (nominally 16; Cox–Matthews ETDRK4 can lose up to an order on
    // stiff problems, Hochbruck & Ostermann 2005, and does here at these h).
    let at = |div: usize| {
        let ks = KuramotoSivashinsky {
            dt: 0.25 / div as f64,
            ..Default::default()
        };
        let out = ks.generate(40 * div + 1).unwrap();
        (0..ks.points)
            .map(|j| out[(40 * div, j)])
            .collect::<Vec<f64>>()
    };
    let (a, b, c) = (at(1), at(2), at(4));
    let dist = |x: &[f64], y: &[f64]| {
        x.iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max)
    };
    let (d1, d2) = (dist(&a, &b), dist(&b, &c));
    assert!(d1 < 1e-4, "{d1}");
    assert!((6.0..20.0).contains(&(d1 / d2)), "ratio {}", d1 / d2);
}

#[test]
fn bad_settings_are_typed_errors() {
    let bad = KuramotoSivashinsky {
        points: 100,
        ..Default::default()
    };
    assert!(matches!(
        bad.generate(2),
        Err(Error::InvalidParameter { name: "points", .. })
    ));
    let bad = KuramotoSivashinsky {
        x0: Some(vec![0.0; 3]),
        ..Default::default()
    };
    assert!(matches!(
        bad.generate(2),
        Err(Error::DimensionMismatch { .. })
    ));
    let bad = KuramotoSivashinsky {
        dt: f64::NAN,
        ..Default::default()
    };
    assert!(bad.generate(2).is_err());
}
