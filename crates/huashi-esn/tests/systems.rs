//! The benchmark systems, diagnostics and ridge selection end to end: the
//! Santa Fe laser task, an ESN learning Lorenz-63 (valid prediction time
//! and the Lyapunov exponent of its closed loop), and hostile input.

use huashi_esn::data::MinMaxScaler;
use huashi_esn::diagnostics::{closed_loop_lyapunov, valid_prediction_time};
use huashi_esn::generators::Lorenz;
use huashi_esn::metrics::{nrmse_by, Normalisation};
use huashi_esn::systems::lyapunov::LyapunovOptions;
use huashi_esn::systems::SystemName;
use huashi_esn::tasks::LaserTask;
use huashi_esn::{Error, Esn, EsnConfig, InputScaling, Mat, ReservoirConfig, Sequence};

#[test]
fn santafe_laser_one_step() {
    let report = LaserTask::default().run().unwrap();
    println!("laser one-step NRMSE {}", report.nrmse);
    assert_eq!(report.truth.len(), 10_093 - 8_001);
    assert!(report.nrmse < 0.06, "{}", report.nrmse);
    let range = nrmse_by(&report.prediction, &report.truth, Normalisation::Range).unwrap();
    assert!(range < report.nrmse);
}

/// Lorenz-63 sampled every 0.02 (every second RK4 step of 0.01), each
/// component scaled to [−1, 1] on the training part.
fn lorenz(samples: usize) -> (Mat<f64>, [MinMaxScaler; 3]) {
    let raw = Lorenz::default().generate(2 * samples + 2000).unwrap();
    let train = samples * 3 / 4;
    let col = |k: usize| {
        (0..samples)
            .map(|t| raw[(2000 + 2 * t, k)])
            .collect::<Vec<f64>>()
    };
    let cols = [col(0), col(1), col(2)];
    let scalers = [0, 1, 2].map(|k| MinMaxScaler::fit(&cols[k][..train], -1.0, 1.0).unwrap());
    let scaled: Vec<Vec<f64>> = (0..3).map(|k| scalers[k].transform(&cols[k])).collect();
    (Mat::from_fn(samples, 3, |t, k| scaled[k][t]), scalers)
}

#[test]
fn an_esn_learns_lorenz63_and_its_exponent() {
    let (s, _) = lorenz(8000);
    let train = 6000;
    let reservoir = ReservoirConfig {
        units: 500,
        leak_rate: 0.6,
        spectral_radius: 0.9,
        connectivity: 0.05,
        input_scaling: InputScaling::All(0.3),
        input_connectivity: 1.0,
        bias_scaling: 0.2,
        ..ReservoirConfig::default()
    };
    let mut config = EsnConfig::new(reservoir);
    config.ridge = 1e-7;
    config.washout = 200;
    config.input_to_readout = true;
    let x = s.as_ref().subrows(0, train);
    let y = s.as_ref().subrows(1, train);
    let fit = Esn::fit(&config, &[Sequence::new(x, y)]).unwrap();
    let horizon = 1000;
    let gen = fit
        .esn
        .generate(&mut fit.end_states[0].clone(), horizon)
        .unwrap();
    let truth = s.as_ref().subrows(train + 1, horizon);
    let vpt = valid_prediction_time(gen.as_ref(), truth, 0.5, 0.02, Some(0.906)).unwrap();
    let opts = LyapunovOptions {
        transient: 500,
        renormalisations: 20_000,
        ..Default::default()
    };
    let l = closed_loop_lyapunov(&fit.esn, &fit.end_states[0], &opts).unwrap() / 0.02;
    println!(
        "valid prediction time {} steps = {:?} Lyapunov times; closed-loop exponent {l}",
        vpt.steps, vpt.lyapunov_times
    );
    assert!(vpt.lyapunov_times.unwrap() > 4.0);
    assert!((l - 0.906).abs() < 0.15, "{l}");
}

#[test]
fn hostile_names_and_settings_are_typed_errors() {
    let e = "lorenz97".parse::<SystemName>().unwrap_err();
    assert!(matches!(&e, Error::UnknownName { name, .. } if name == "lorenz97"));
    assert!(e.to_string().contains("lorenz97") && e.to_string().contains("henon"));
    let e = "median".parse::<Normalisation>().unwrap_err();
    assert!(e.to_string().contains("median"));
    let t = Mat::from_fn(10, 1, |i, _| i as f64);
    let e = valid_prediction_time(t.as_ref(), t.as_ref(), -1.0, 1.0, None).unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidParameter {
            name: "threshold",
            ..
        }
    ));
    let short = Mat::<f64>::zeros(9, 1);
    assert!(valid_prediction_time(short.as_ref(), t.as_ref(), 0.5, 1.0, None).is_err());
    assert!(SystemName::Mso(3).series(10).unwrap().len() == 10);
    // Absurd lengths are refused before allocating.
    for name in [
        SystemName::MackeyGlass,
        SystemName::Lorenz,
        SystemName::Lorenz96,
        SystemName::KuramotoSivashinsky,
        SystemName::Henon,
        SystemName::Mso(2),
    ] {
        assert!(name.generate(usize::MAX / 4).is_err(), "{name}");
    }
}
