use super::*;
use crate::systems::Rk4;

fn field<F: Flow>(f: &F, s: &[f64]) -> Vec<f64> {
    let mut ds = vec![0.0; s.len()];
    f.derivative(s, &mut ds);
    ds
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Integrates to time `t` with RK4 steps `h`.
fn integrate<F: Flow>(f: &F, t: f64, h: f64) -> Vec<f64> {
    let mut s = f.initial();
    let mut rk = Rk4::new(s.len());
    for _ in 0..(t / h).round() as usize {
        rk.step(f, &mut s, h);
    }
    s
}

/// RK4 at `dt` and at `dt/2` agree to `tol` at time `t` (short enough that
/// chaos has not amplified the truncation error much); the error at `dt/2`
/// is about 16 times smaller, as a fourth-order method's should be.
fn check_convergence<F: Flow>(f: &F, t: f64, tol: f64) {
    let h = f.dt() / f.substeps() as f64;
    let (a, b, c) = (
        integrate(f, t, h),
        integrate(f, t, h / 2.0),
        integrate(f, t, h / 4.0),
    );
    let d1: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let d2: Vec<f64> = b.iter().zip(&c).map(|(x, y)| x - y).collect();
    assert!(norm(&d1) < tol, "{} dt vs dt/2: {}", F::NAME, norm(&d1));
    let ratio = norm(&d1) / norm(&d2);
    assert!(
        (12.0..20.0).contains(&ratio),
        "{} order ratio {ratio}",
        F::NAME
    );
}

#[test]
fn rossler_fixed_points_and_convergence() {
    let r = Rossler::default();
    for p in r.fixed_points() {
        assert!(norm(&field(&r, &p)) < 1e-12, "{p:?}");
    }
    // Literature value of the inner equilibrium: (0.0070, −0.0351, 0.0351).
    let p = r.fixed_points()[0];
    assert!((p[2] - 0.035_09).abs() < 1e-4, "{p:?}");
    check_convergence(&r, 10.0, 1e-5);
    assert!(r.generate(5000).is_ok());
}

#[test]
fn lorenz96_equilibrium_energy_budget_and_convergence() {
    let l = Lorenz96::default();
    let eq = vec![l.forcing; l.n];
    assert!(norm(&field(&l, &eq)) < 1e-12);
    // Σ xᵢ ẋᵢ = −Σ xᵢ² + F Σ xᵢ for any state (advection conserves energy).
    let s: Vec<f64> = (0..l.n)
        .map(|i| (i as f64 * 1.7).sin() * 3.0 + 1.0)
        .collect();
    let ds = field(&l, &s);
    let lhs: f64 = s.iter().zip(&ds).map(|(x, d)| x * d).sum();
    let rhs = -s.iter().map(|x| x * x).sum::<f64>() + l.forcing * s.iter().sum::<f64>();
    assert!((lhs - rhs).abs() < 1e-10 * rhs.abs().max(1.0));
    check_convergence(&l, 2.0, 1e-4);
}

#[test]
fn multiscroll_fixed_points_and_convergence() {
    let m = Multiscroll::default();
    for p in m.fixed_points() {
        assert!(norm(&field(&m, &p)) < 1e-12, "{p:?}");
    }
    assert!((m.fixed_points()[0][0] - 48f64.sqrt()).abs() < 1e-12);
    check_convergence(&m, 1.0, 1e-5);
    assert!(m.generate(5000).is_ok());
}

#[test]
fn double_scroll_is_odd_with_origin_fixed_and_converges() {
    let d = DoubleScroll::default();
    assert!(norm(&field(&d, &[0.0; 3])) == 0.0);
    let s = [0.3, -0.2, 0.1];
    let (f, g) = (field(&d, &s), field(&d, &s.map(|v| -v)));
    assert!(f.iter().zip(&g).all(|(a, b)| (a + b).abs() < 1e-15));
    check_convergence(&d, 10.0, 1e-5);
    assert!(d.generate(5000).is_ok());
}

#[test]
fn rabinovich_fabrikant_invariant_plane_and_convergence() {
    let rf = RabinovichFabrikant::default();
    assert!(norm(&field(&rf, &[0.0; 3])) == 0.0);
    let on_plane = RabinovichFabrikant {
        x0: [0.3, -0.2, 0.0],
        ..rf.clone()
    };
    let traj = on_plane.generate(50).unwrap();
    assert!((0..50).all(|t| traj[(t, 2)] == 0.0));
    check_convergence(&rf, 2.0, 1e-5);
    assert!(rf.generate(5000).is_ok());
}
