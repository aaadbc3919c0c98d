//! Behaviour of reservoirs and ESNs: seeding, pure steps, parallel runs,
//! multi-sequence training, deep ESNs, feedback, closed loop, online readouts.

use huashi_esn::generators::MackeyGlass;
use huashi_esn::metrics::nrmse;
use huashi_esn::{
    column, column_values, Distribution, Esn, EsnConfig, EsnTrainer, FeedbackConfig, InputScaling,
    Mat, OnlineMode, Reservoir, ReservoirConfig, RlsConfig, Sequence,
};

/// Mackey-Glass scaled to roughly [−1, 1].
fn mg(n: usize) -> Vec<f64> {
    MackeyGlass::default()
        .generate(n)
        .unwrap()
        .iter()
        .map(|v| (v - 0.9) / 0.45)
        .collect()
}

fn mg_reservoir(units: usize) -> ReservoirConfig {
    ReservoirConfig {
        units,
        leak_rate: 0.3,
        spectral_radius: 1.25,
        connectivity: 0.05,
        input_scaling: InputScaling::All(0.5),
        input_connectivity: 1.0,
        bias_scaling: 0.2,
        ..ReservoirConfig::default()
    }
}

#[test]
fn one_seed_independent_streams() {
    let base = ReservoirConfig::new(50);
    let a = Reservoir::new(&base, 2, 7).unwrap();
    assert_eq!(
        a,
        Reservoir::new(&base, 2, 7).unwrap(),
        "same seed, same reservoir"
    );
    assert_ne!(a.w(), Reservoir::new(&base, 2, 8).unwrap().w());
    // Changing the input initialiser leaves W and (for the same
    // distribution) the bias untouched, and vice versa.
    let other_input = ReservoirConfig {
        input_scaling: InputScaling::PerFeature(vec![0.3, 2.0]),
        input_connectivity: 0.5,
        ..base.clone()
    };
    let b = Reservoir::new(&other_input, 2, 7).unwrap();
    assert_eq!(a.w(), b.w());
    assert_eq!(a.bias(), b.bias());
    assert_ne!(a.w_in(), b.w_in());
    let other_w = ReservoirConfig {
        weights: Distribution::Uniform,
        connectivity: 0.3,
        spectral_radius: 0.5,
        ..base.clone()
    };
    let c = Reservoir::new(&other_w, 2, 7).unwrap();
    assert_eq!(a.w_in(), c.w_in());
    assert_eq!(a.bias(), c.bias());
    assert_ne!(a.w(), c.w());
    let other_bias = ReservoirConfig {
        bias_scaling: 0.1,
        ..base
    };
    assert_eq!(a.w_in(), Reservoir::new(&other_bias, 2, 7).unwrap().w_in());
}

#[test]
fn input_scaling_per_feature_and_connectivity() {
    let cfg = ReservoirConfig {
        units: 100,
        input_connectivity: 0.2,
        input_scaling: InputScaling::PerFeature(vec![0.5, 3.0]),
        ..ReservoirConfig::default()
    };
    let r = Reservoir::new(&cfg, 2, 1).unwrap();
    let w_in = r.w_in().to_dense();
    for (j, s) in [0.5, 3.0].into_iter().enumerate() {
        let col: Vec<f64> = (0..100)
            .map(|i| w_in[(i, j)])
            .filter(|v| *v != 0.0)
            .collect();
        assert_eq!(col.len(), 20, "feature {j} reaches round(0.2 * 100) units");
        assert!(col.iter().all(|v| v.abs() == s), "Bernoulli weights ±{s}");
    }
    assert_eq!(
        r.w().nnz(),
        100 * 10,
        "each unit has round(0.1 * 100) recurrent inputs"
    );
}

#[test]
fn step_is_pure_and_run_folds_it() {
    let r = Reservoir::new(
        &ReservoirConfig {
            leak_rate: 0.4,
            ..ReservoirConfig::new(40)
        },
        1,
        3,
    )
    .unwrap();
    let x0: Vec<f64> = (0..40).map(|i| (i as f64).sin() * 0.1).collect();
    let a = r.step(&x0, &[0.5]).unwrap();
    assert_eq!(a, r.step(&x0, &[0.5]).unwrap());
    let u = [0.5, -0.2, 0.9];
    let mut state = x0.clone();
    let states = r.run(column(&u).as_ref(), &mut state).unwrap();
    let mut x = x0;
    for (t, ut) in u.iter().enumerate() {
        x = r.step(&x, &[*ut]).unwrap();
        assert_eq!(column_values(states.as_ref().transpose(), t), x);
    }
    assert_eq!(state, x, "run leaves the last state");
    // Reset = the zero state; many sequences in parallel = one by one.
    let seqs: Vec<Mat<f64>> = (0..5)
        .map(|k| column(&[k as f64 * 0.1, 0.3, -0.4, 0.2]))
        .collect();
    let refs: Vec<_> = seqs.iter().map(|m| m.as_ref()).collect();
    let many = r.run_many(&refs).unwrap();
    for (m, s) in many.iter().zip(&seqs) {
        assert_eq!(*m, r.run(s.as_ref(), &mut r.zero_state()).unwrap());
    }
}

#[test]
fn leak_and_identity_activation_follow_the_formula() {
    let cfg = ReservoirConfig {
        units: 8,
        leak_rate: 0.25,
        activation: huashi_esn::Activation::Identity,
        bias_scaling: 0.0,
        ..ReservoirConfig::default()
    };
    let r = Reservoir::new(&cfg, 1, 5).unwrap();
    let x: Vec<f64> = (0..8).map(|i| i as f64 / 8.0).collect();
    let next = r.step(&x, &[2.0]).unwrap();
    let wx = r.w().mul_vec(&x);
    let win = r.w_in().mul_vec(&[2.0]);
    for i in 0..8 {
        let expected = 0.75 * x[i] + 0.25 * (wx[i] + win[i]);
        assert!((next[i] - expected).abs() < 1e-15);
    }
}

#[test]
fn many_sequences_accumulate_like_one_at_a_time() {
    let s = mg(1300);
    let cfg = {
        let mut c = EsnConfig::new(mg_reservoir(60));
        c.washout = 50;
        c
    };
    let parts: Vec<(Mat<f64>, Mat<f64>)> = (0..3)
        .map(|k| {
            (
                column(&s[k * 400..k * 400 + 399]),
                column(&s[k * 400 + 1..k * 400 + 400]),
            )
        })
        .collect();
    let seqs: Vec<Sequence> = parts
        .iter()
        .map(|(x, y)| Sequence::new(x.as_ref(), y.as_ref()))
        .collect();
    let fit = Esn::fit(&cfg, &seqs).unwrap();
    let mut trainer = EsnTrainer::new(&cfg, 1, 1).unwrap();
    for seq in &seqs {
        trainer.add_sequence(*seq).unwrap();
    }
    assert_eq!(trainer.accumulator().samples(), 3 * (399 - 50));
    let esn = trainer.finish().unwrap();
    assert_eq!(
        esn, fit.esn,
        "parallel and sequential accumulation agree exactly"
    );
    assert_eq!(fit.end_states.len(), 3);
    let pred = fit.esn.predict(column(&s[1200..1299]).as_ref()).unwrap();
    let err = nrmse(&column_values(pred.as_ref(), 0)[20..], &s[1221..1300]).unwrap();
    assert!(err < 0.02, "NRMSE {err}");
}

#[test]
fn deep_esn_reads_all_layers_and_forecasts() {
    let s = mg(2600);
    let mut cfg = EsnConfig::deep(vec![
        mg_reservoir(80),
        ReservoirConfig {
            spectral_radius: 0.9,
            ..mg_reservoir(60)
        },
    ]);
    cfg.washout = 100;
    let (x, y) = (column(&s[..2000]), column(&s[1..2001]));
    let fit = Esn::fit(&cfg, &[Sequence::new(x.as_ref(), y.as_ref())]).unwrap();
    assert_eq!(fit.esn.reservoir().state_len(), 140);
    assert_eq!(fit.esn.readout().layout().states, 140);
    assert_eq!(fit.esn.readout().weights().nrows(), 141);
    let w = fit.esn.readout().weights();
    let upper: f64 = (81..141).map(|i| w[(i, 0)].abs()).sum();
    assert!(upper > 0.0, "the readout uses the second layer");
    let mut state = fit.end_states[0].clone();
    let pred = fit
        .esn
        .run(&mut state, column(&s[2000..2599]).as_ref(), None)
        .unwrap();
    let err = nrmse(&column_values(pred.as_ref(), 0), &s[2001..2600]).unwrap();
    assert!(err < 1e-2, "deep one-step NRMSE {err}");
    // Multi-step forecast from a history = warm-up + closed loop.
    let f = fit
        .esn
        .forecast(column(&s[1500..2001]).as_ref(), 30)
        .unwrap();
    let err = nrmse(&column_values(f.as_ref(), 0), &s[2001..2031]).unwrap();
    assert!(err < 0.05, "30-step forecast NRMSE {err}");
}

#[test]
fn feedback_pattern_generator_runs_closed_loop() {
    // No input; a sine is learned through output feedback with teacher
    // forcing, then generated in closed loop (Jaeger 2001).
    let sine: Vec<f64> = (0..1200).map(|t| 0.5 * (t as f64 * 0.2).sin()).collect();
    let mut cfg = EsnConfig::new(ReservoirConfig {
        units: 100,
        spectral_radius: 0.8,
        bias_scaling: 0.0,
        ..ReservoirConfig::default()
    });
    cfg.feedback = Some(FeedbackConfig {
        scaling: 1.0,
        connectivity: 0.5,
        distribution: Distribution::Uniform,
    });
    cfg.washout = 100;
    cfg.ridge = 1e-8;
    let none = Mat::<f64>::zeros(1000, 0);
    let y = column(&sine[..1000]);
    let fit = Esn::fit(&cfg, &[Sequence::new(none.as_ref(), y.as_ref())]).unwrap();
    assert_eq!(fit.esn.inputs(), 0);
    let mut state = fit.end_states[0].clone();
    let gen = fit.esn.generate(&mut state, 200).unwrap();
    let err = nrmse(&column_values(gen.as_ref(), 0), &sine[1000..1200]).unwrap();
    assert!(err < 0.05, "closed-loop sine NRMSE {err}");
}

#[test]
fn online_rls_learns_one_step_prediction() {
    let s = mg(3000);
    let mut cfg = EsnConfig::new(mg_reservoir(60));
    cfg.washout = 100;
    let (x, y) = (column(&s[..2500]), column(&s[1..2501]));
    let rls = RlsConfig {
        delta: 1e-4,
        forgetting: 1.0,
    };
    let fit = Esn::fit_online(
        &cfg,
        &rls,
        Sequence::new(x.as_ref(), y.as_ref()),
        OnlineMode::TeacherForced,
    )
    .unwrap();
    assert_eq!(fit.errors.len(), 2400);
    let mut state = fit.end_state.clone();
    let pred = fit
        .esn
        .run(&mut state, column(&s[2500..2999]).as_ref(), None)
        .unwrap();
    let err = nrmse(&column_values(pred.as_ref(), 0), &s[2501..3000]).unwrap();
    assert!(err < 0.02, "RLS one-step NRMSE {err}");
}

#[test]
fn force_learns_a_sine_generator() {
    // FORCE (Sussillo & Abbott 2009): a chaotic reservoir (ρ = 1.5) learns a
    // sine with its own output fed back, then generates it in closed loop.
    let sine: Vec<f64> = (0..2800).map(|t| 0.5 * (t as f64 * 0.2).sin()).collect();
    let mut cfg = EsnConfig::new(ReservoirConfig {
        units: 100,
        spectral_radius: 1.5,
        bias_scaling: 0.0,
        ..ReservoirConfig::default()
    });
    cfg.feedback = Some(FeedbackConfig {
        scaling: 1.0,
        connectivity: 1.0,
        distribution: Distribution::Uniform,
    });
    cfg.washout = 50;
    let none = Mat::<f64>::zeros(2500, 0);
    let y = column(&sine[..2500]);
    let fit = Esn::fit_online(
        &cfg,
        &RlsConfig {
            delta: 1.0,
            forgetting: 1.0,
        },
        Sequence::new(none.as_ref(), y.as_ref()),
        OnlineMode::Force,
    )
    .unwrap();
    let late: f64 = fit.errors[fit.errors.len() - 200..]
        .iter()
        .fold(0.0, |a, b| a.max(*b));
    assert!(late < 0.02, "FORCE a-priori error at the end {late}");
    let mut state = fit.end_state.clone();
    let gen = fit.esn.generate(&mut state, 300).unwrap();
    let err = nrmse(&column_values(gen.as_ref(), 0), &sine[2500..2800]).unwrap();
    assert!(err < 0.05, "FORCE closed-loop NRMSE {err}");
}

#[test]
fn state_noise_is_seeded_and_only_in_training() {
    let s = mg(600);
    let (x, y) = (column(&s[..599]), column(&s[1..]));
    let seq = [Sequence::new(x.as_ref(), y.as_ref())];
    let mut cfg = EsnConfig::new(ReservoirConfig {
        noise: 1e-3,
        ..mg_reservoir(40)
    });
    cfg.washout = 50;
    let a = Esn::fit(&cfg, &seq).unwrap().esn;
    assert_eq!(
        a,
        Esn::fit(&cfg, &seq).unwrap().esn,
        "noise is reproducible"
    );
    cfg.layers[0].noise = 0.0;
    let b = Esn::fit(&cfg, &seq).unwrap().esn;
    assert_ne!(a.readout(), b.readout());
    assert_eq!(a.reservoir().layers()[0].w(), b.reservoir().layers()[0].w());
    assert_eq!(
        a.predict(x.as_ref()).unwrap(),
        a.predict(x.as_ref()).unwrap(),
        "prediction is noise-free"
    );
}

#[test]
fn direct_input_connections_enter_the_readout() {
    let s = mg(500);
    let (x, y) = (column(&s[..499]), column(&s[1..]));
    let mut cfg = EsnConfig::new(mg_reservoir(30));
    cfg.input_to_readout = true;
    cfg.washout = 20;
    let esn = Esn::fit(&cfg, &[Sequence::new(x.as_ref(), y.as_ref())])
        .unwrap()
        .esn;
    let layout = esn.readout().layout();
    assert_eq!(
        (layout.bias, layout.inputs, layout.states, layout.len()),
        (true, 1, 30, 32)
    );
}

/// `fit_and_run` gives exactly `fit` followed by `run` from the end state:
/// single and deep reservoirs, a run long enough to be pipelined, direct
/// input to the readout, and the feedback fallback.
#[test]
fn fit_and_run_matches_fit_then_run() {
    let s = mg(3400);
    let (x, y) = (column(&s[..2600]), column(&s[1..2601]));
    let test_in = column(&s[2600..3399]);
    let mut single = EsnConfig::new(mg_reservoir(120));
    single.washout = 100;
    let mut deep = EsnConfig::deep(vec![mg_reservoir(60), mg_reservoir(40)]);
    deep.washout = 50;
    let mut direct = single.clone();
    direct.input_to_readout = true;
    let mut fb = single.clone();
    fb.feedback = Some(FeedbackConfig {
        scaling: 0.1,
        connectivity: 0.5,
        distribution: Distribution::Uniform,
    });
    // Short training too: its sums are added on this thread, not pipelined.
    let (x_short, y_short) = (column(&s[2000..2600]), column(&s[2001..2601]));
    let cases = [
        (single.clone(), &x, &y),
        (deep, &x, &y),
        (direct, &x, &y),
        (fb, &x, &y),
        (single, &x_short, &y_short),
    ];
    for (cfg, x, y) in cases {
        let train = Sequence::new(x.as_ref(), y.as_ref());
        let fit = Esn::fit(&cfg, &[train]).unwrap();
        let mut end = fit.end_states[0].clone();
        let want = fit.esn.run(&mut end, test_in.as_ref(), None).unwrap();
        let (both, got) = Esn::fit_and_run(&cfg, train, test_in.as_ref()).unwrap();
        assert_eq!(got, want);
        assert_eq!(both.esn.readout(), fit.esn.readout());
        assert_eq!(both.end_states[0], fit.end_states[0]);
    }
    // Inputs of the wrong width are an error, not a panic.
    let mut cfg = EsnConfig::new(mg_reservoir(30));
    cfg.washout = 10;
    let wide = Mat::<f64>::zeros(5, 2);
    let train = Sequence::new(x.as_ref(), y.as_ref());
    assert!(Esn::fit_and_run(&cfg, train, wide.as_ref()).is_err());
}

#[test]
fn training_sums_equal_those_of_independently_run_states() {
    // Long enough for the pipelined accumulation (blocks written in place
    // by the reservoir step); deep, with direct input and a washout.
    let s = mg(1400);
    let mut cfg = EsnConfig::deep(vec![mg_reservoir(40), mg_reservoir(30)]);
    cfg.washout = 60;
    cfg.input_to_readout = true;
    let (x, y) = (column(&s[..1300]), column(&s[1..1301]));
    let mut trainer = EsnTrainer::new(&cfg, 1, 1).unwrap();
    trainer
        .add_sequence(Sequence::new(x.as_ref(), y.as_ref()))
        .unwrap();
    let stack = trainer.reservoir();
    let mut state = vec![0.0; stack.state_len()];
    let states = stack.run(x.as_ref(), None, &mut state, None).unwrap();
    let (t, n) = (1300 - 60, stack.state_len());
    let phi = Mat::from_fn(t, 2 + n, |i, j| match j {
        0 => 1.0,
        1 => x[(60 + i, 0)],
        _ => states[(60 + i, j - 2)],
    });
    let mut expected = huashi_esn::Ridge::new(2 + n, 1);
    expected
        .add(phi.as_ref(), y.as_ref().subrows(60, t))
        .unwrap();
    let got = trainer.accumulator();
    assert_eq!(got.samples(), expected.samples());
    let (a, b) = (got.xtx(), expected.xtx());
    for i in 0..2 + n {
        for j in 0..2 + n {
            let e = b[(i, j)];
            assert!(
                (a[(i, j)] - e).abs() <= 1e-12 * (1.0 + e.abs()),
                "({i}, {j})"
            );
        }
        let e = expected.xty()[(i, 0)];
        assert!(
            (got.xty()[(i, 0)] - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "row {i} of ΦᵀY"
        );
    }
}
