//! Data loading, transforms, generators, metrics and the spectral solvers.

use huashi_esn::data::{self, CsvTable, MinMaxScaler, Standardizer};
use huashi_esn::generators::{narma10, Lorenz, MackeyGlass};
use huashi_esn::metrics::{nrmse, r2, rmse, squared_correlation};
use huashi_esn::spectral::{
    spectral_radius, spectral_radius_dense, spectral_radius_iterative, ArnoldiOptions, DENSE_LIMIT,
};
use huashi_esn::{Reservoir, ReservoirConfig, SpectralMethod};

#[test]
fn embedded_sp500_series() {
    let table = data::sp500().unwrap();
    assert_eq!(table.len(), 5031);
    assert_eq!(
        table.headers(),
        [
            "Date",
            "Open",
            "High",
            "Low",
            "Close",
            "Adj Close",
            "Volume"
        ]
    );
    let dates = table.column_text("Date").unwrap();
    assert_eq!(
        (dates[0].as_str(), dates[5030].as_str()),
        ("1/4/1999", "12/31/2018")
    );
    let close = data::sp500_close().unwrap();
    assert_eq!(close.len(), 5031);
    assert_eq!(close[0], 1228.099976);
    let returns = data::log_returns(&close).unwrap();
    assert_eq!(returns.len(), 5030);
    assert!((returns[0] - (1244.780029f64 / 1228.099976).ln()).abs() < 1e-15);
    let back = data::from_log_returns(close[0], &returns);
    assert!((back[5030] - close[5030]).abs() < 1e-8 * close[5030]);
    let s = Standardizer::fit(&returns).unwrap();
    let z = s.transform(&returns);
    assert!(z.iter().sum::<f64>().abs() < 1e-9);
    let pairs = data::supervised(&z, 1).unwrap();
    assert_eq!((pairs.inputs.nrows(), pairs.targets[(0, 0)]), (5029, z[1]));
}

#[test]
fn csv_from_file_with_crlf_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    std::fs::write(
        &path,
        "\"Date\",Price\r\n\"2020-01-01\",1.5\r\n\r\n2020-01-02,\"2.5\"\r\n",
    )
    .unwrap();
    let t = CsvTable::from_path(&path).unwrap();
    assert_eq!(t.column_f64("Price").unwrap(), vec![1.5, 2.5]);
    assert!(matches!(
        CsvTable::from_path(dir.path().join("none.csv")),
        Err(huashi_esn::Error::File(huashi_io::Error::Read { .. }))
    ));
    assert_eq!(data::split_len(10, 0.7).unwrap(), (7, 3));
    assert!(data::split_len(10, 1.0).is_err());
}

#[test]
fn mackey_glass_follows_the_reservoirpy_scheme() {
    let mg = MackeyGlass::default().generate(3000).unwrap();
    assert_eq!(mg[0], 1.2);
    // Until step 17 the delayed term is the constant history x0 = 1.2:
    // one RK4 step of dx/dt = 0.2·1.2/(1 + 1.2^10) − 0.1 x.
    let f = |x: f64| 0.2 * 1.2 / (1.0 + 1.2f64.powi(10)) - 0.1 * x;
    let (k1, x) = (f(1.2), 1.2);
    let k2 = f(x + 0.5 * k1);
    let k3 = f(x + 0.5 * k2);
    let k4 = f(x + k3);
    assert!((mg[1] - (x + k1 / 6.0 + k2 / 3.0 + k3 / 3.0 + k4 / 6.0)).abs() < 1e-15);
    let tail = &mg[500..];
    let (lo, hi) = tail
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    assert!(
        lo > 0.2 && hi < 1.45 && hi - lo > 0.8,
        "chaotic attractor range [{lo}, {hi}]"
    );
    let seeded = MackeyGlass {
        history_seed: Some(1),
        ..MackeyGlass::default()
    }
    .generate(100)
    .unwrap();
    assert_ne!(seeded[50], mg[50]);
    assert!(MackeyGlass {
        h: 0.0,
        ..MackeyGlass::default()
    }
    .generate(10)
    .is_err());
}

#[test]
fn narma10_follows_its_equation() {
    let n = narma10(500, 3).unwrap();
    assert!(n.input.iter().all(|u| (0.0..0.5).contains(u)));
    for t in 9..499 {
        let sum: f64 = n.output[t - 9..=t].iter().sum();
        let y = n.output[t];
        let expected = 0.3 * y + 0.05 * y * sum + 1.5 * n.input[t - 9] * n.input[t] + 0.1;
        assert!((n.output[t + 1] - expected).abs() < 1e-15);
    }
    assert!(n.output[100..].iter().all(|y| (0.0..1.5).contains(y)));
}

#[test]
fn lorenz_stays_on_the_attractor() {
    let l = Lorenz::default().generate(5000).unwrap();
    assert_eq!((l[(0, 0)], l[(0, 1)], l[(0, 2)]), (1.0, 1.0, 1.0));
    let z_mean: f64 = (1000..5000).map(|t| l[(t, 2)]).sum::<f64>() / 4000.0;
    assert!((z_mean - 23.5).abs() < 2.0, "mean z {z_mean}");
    assert!((1000..5000).all(|t| l[(t, 0)].abs() < 25.0 && l[(t, 2)] > 0.0 && l[(t, 2)] < 55.0));
}

#[test]
fn metrics_match_their_definitions() {
    let y = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(rmse(&y, &y).unwrap(), 0.0);
    assert!((rmse(&[2.0, 3.0, 4.0, 5.0], &y).unwrap() - 1.0).abs() < 1e-15);
    // Predicting the mean gives NRMSE 1 (population std) and R² 0.
    let mean = [2.5; 4];
    assert!((nrmse(&mean, &y).unwrap() - 1.0).abs() < 1e-15);
    assert!(r2(&mean, &y).unwrap().abs() < 1e-15);
    let p = [1.1, 1.9, 3.2, 3.9];
    let e = nrmse(&p, &y).unwrap();
    assert!((r2(&p, &y).unwrap() - (1.0 - e * e)).abs() < 1e-14);
    assert!((squared_correlation(&y, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-14);
    assert!(nrmse(&[1.0, 1.0], &[1.0, 1.0]).is_err(), "constant target");
    let m = MinMaxScaler::fit(&y, -1.0, 1.0).unwrap();
    let scaled = m.transform(&y);
    assert!(scaled
        .iter()
        .zip([-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0])
        .all(|(a, b)| (a - b).abs() < 1e-15));
}

#[test]
fn iterative_and_dense_spectral_radius_agree() {
    let cases = [
        (1000, 0.05, 1),
        (600, 0.2, 2),
        (300, 0.01, 3),
        (DENSE_LIMIT, 0.1, 4),
    ];
    for (units, connectivity, seed) in cases {
        let cfg = ReservoirConfig {
            units,
            connectivity,
            spectral_radius: 1.0,
            spectral_method: SpectralMethod::Iterative,
            ..ReservoirConfig::default()
        };
        let w = Reservoir::new(&cfg, 1, seed).unwrap().w().clone();
        let dense = spectral_radius_dense(w.to_dense().as_ref()).unwrap();
        let opts = ArnoldiOptions {
            seed,
            ..ArnoldiOptions::default()
        };
        let iterative = spectral_radius_iterative(&w, &opts).unwrap();
        // Arnoldi on A itself (the fallback when A^8 does not converge).
        let plain = ArnoldiOptions { power: 1, ..opts };
        let on_a = spectral_radius_iterative(&w, &plain).unwrap();
        assert!(
            (dense - 1.0).abs() < 1e-10,
            "N = {units}: dense {dense} after iterative scaling"
        );
        assert!(
            (on_a - dense).abs() < 1e-10,
            "N = {units}: Arnoldi on A {on_a} vs dense {dense}"
        );
        assert!(
            (iterative - dense).abs() < 1e-10,
            "N = {units}: iterative {iterative} vs dense {dense}"
        );
        let auto = spectral_radius(&w, SpectralMethod::Auto, seed).unwrap();
        let expected = if units <= DENSE_LIMIT {
            dense
        } else {
            iterative
        };
        assert_eq!(
            auto, expected,
            "Auto is dense up to {DENSE_LIMIT} units, iterative above"
        );
    }
}
