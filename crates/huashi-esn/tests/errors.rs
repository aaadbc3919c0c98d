//! Bad inputs give typed errors naming the offending values, never panics.

use huashi_esn::data::{self, CsvTable, Standardizer};
use huashi_esn::metrics::nrmse;
use huashi_esn::tasks::MackeyGlassTask;
use huashi_esn::{
    column, Error, Esn, EsnConfig, FeedbackConfig, InputScaling, Mat, Reservoir, ReservoirConfig,
    RlsConfig, Sequence,
};

fn small() -> EsnConfig {
    let mut c = EsnConfig::new(ReservoirConfig::new(20));
    c.washout = 5;
    c
}

fn series(n: usize) -> Vec<f64> {
    (0..n).map(|t| (t as f64 * 0.2).sin()).collect()
}

#[test]
fn empty_series() {
    assert!(matches!(nrmse(&[], &[]), Err(Error::EmptySeries { .. })));
    assert!(matches!(
        data::supervised(&[], 1),
        Err(Error::EmptySeries { .. })
    ));
    assert!(matches!(
        Standardizer::fit(&[]),
        Err(Error::EmptySeries { .. })
    ));
    assert!(matches!(
        Esn::fit(&small(), &[]),
        Err(Error::EmptySeries { .. })
    ));
    let empty = Mat::<f64>::zeros(0, 1);
    let seq = Sequence::new(empty.as_ref(), empty.as_ref());
    assert!(matches!(
        Esn::fit(&small(), &[seq]),
        Err(Error::EmptySeries {
            what: "training sequence"
        })
    ));
    assert!(matches!(
        CsvTable::parse(""),
        Err(Error::EmptySeries { .. })
    ));
    assert!(matches!(
        CsvTable::parse("a,b\n").unwrap().column_f64("a"),
        Err(Error::EmptySeries { .. })
    ));
}

#[test]
fn nan_and_infinity_are_reported_with_their_index() {
    let err = data::supervised(&[1.0, f64::NAN, 2.0], 1).unwrap_err();
    assert!(matches!(err, Error::NonFinite { index: 1, .. }), "{err}");
    let mut s = series(50);
    s[17] = f64::INFINITY;
    let (x, y) = (column(&s[..49]), column(&s[1..]));
    let err = Esn::fit(&small(), &[Sequence::new(x.as_ref(), y.as_ref())]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFinite {
                what: "inputs",
                index: 17,
                ..
            }
        ),
        "{err}"
    );
    let err = Esn::fit(&small(), &[Sequence::new(y.as_ref(), x.as_ref())]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { index: 16, .. }), "{err}");
    assert!(matches!(
        nrmse(&[f64::NAN], &[1.0]),
        Err(Error::NonFinite {
            what: "prediction",
            index: 0,
            ..
        })
    ));
    let r = Reservoir::new(&ReservoirConfig::new(5), 1, 0).unwrap();
    assert!(matches!(
        r.step(&[0.0; 5], &[f64::NAN]),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn missing_column_missing_value_and_text() {
    let csv = "Date,Close\n1/4/1999,10\n1/5/1999,\n1/6/1999,abc\n";
    let t = CsvTable::parse(csv).unwrap();
    match t.column_f64("Open").unwrap_err() {
        Error::MissingColumn { name, available } => {
            assert_eq!(name, "Open");
            assert_eq!(available, vec!["Date", "Close"]);
        }
        e => panic!("wrong error {e}"),
    }
    let err = t.column_f64("Close").unwrap_err();
    assert!(
        matches!(&err, Error::MissingValue { line: 3, column } if column == "Close"),
        "{err}"
    );
    let t = CsvTable::parse("Date,Close\n1/4/1999,10\n1/6/1999,abc\n").unwrap();
    let err = t.column_f64("Close").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidNumber { line: 3, value, .. } if value == "abc"),
        "{err}"
    );
    assert!(err.to_string().contains("line 3") && err.to_string().contains("Close"));
    let t = CsvTable::parse("Date,Close\n1/4/1999\n").unwrap();
    assert!(matches!(
        t.column_f64("Close"),
        Err(Error::MissingValue { line: 2, .. })
    ));
    assert!(matches!(
        t.column_f64("Date"),
        Err(Error::MissingValue { .. }) | Err(Error::InvalidNumber { .. })
    ));
    assert!(matches!(
        data::sp500().unwrap().column_f64("Price"),
        Err(Error::MissingColumn { .. })
    ));
}

#[test]
fn horizon_longer_than_data() {
    assert!(matches!(
        data::supervised(&[1.0, 2.0, 3.0], 3),
        Err(Error::HorizonTooLong { horizon: 3, len: 3 })
    ));
    assert!(matches!(
        data::supervised(&[1.0, 2.0, 3.0], 0),
        Err(Error::InvalidParameter {
            name: "horizon",
            ..
        })
    ));
    let task = MackeyGlassTask {
        steps: 7_050,
        ..MackeyGlassTask::default()
    };
    assert!(matches!(
        task.run(),
        Err(Error::HorizonTooLong {
            horizon: 7_100,
            len: 7_050
        })
    ));
    let x = column(&series(60));
    let fit = Esn::fit(&small(), &[Sequence::new(x.as_ref(), x.as_ref())]).unwrap();
    assert!(matches!(
        fit.esn.forecast(x.as_ref(), 0),
        Err(Error::InvalidParameter {
            name: "horizon",
            ..
        })
    ));
    assert!(matches!(
        fit.esn.forecast(x.subrows(0, 0), 3),
        Err(Error::EmptySeries { .. })
    ));
}

#[test]
fn washout_longer_than_sequence() {
    let x = column(&series(10));
    let mut c = small();
    c.washout = 10;
    let err = Esn::fit(&c, &[Sequence::new(x.as_ref(), x.as_ref())]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WashoutTooLong {
                washout: 10,
                sequence: 0,
                len: 10
            }
        ),
        "{err}"
    );
}

fn invalid(cfg: ReservoirConfig) -> (&'static str, f64) {
    match Reservoir::new(&cfg, 1, 0).unwrap_err() {
        Error::InvalidParameter { name, value, .. } => (name, value),
        e => panic!("wrong error {e}"),
    }
}

/// One bad value per reservoir hyper-parameter: (edit, name, value).
type Case = (fn(&mut ReservoirConfig), &'static str, f64);

#[test]
fn invalid_hyper_parameters_name_the_value() {
    let cases: [Case; 11] = [
        (|c| c.units = 0, "units", 0.0),
        (|c| c.spectral_radius = -1.0, "spectral_radius", -1.0),
        (|c| c.spectral_radius = 0.0, "spectral_radius", 0.0),
        (|c| c.connectivity = 0.0, "connectivity", 0.0),
        (|c| c.connectivity = 1.5, "connectivity", 1.5),
        (|c| c.input_connectivity = -0.1, "input_connectivity", -0.1),
        (|c| c.leak_rate = 0.0, "leak_rate", 0.0),
        (|c| c.leak_rate = 2.0, "leak_rate", 2.0),
        (|c| c.bias_scaling = -2.0, "bias_scaling", -2.0),
        (|c| c.noise = f64::INFINITY, "noise", f64::INFINITY),
        (
            |c| c.input_scaling = InputScaling::All(-1.0),
            "input_scaling",
            -1.0,
        ),
    ];
    for (edit, name, value) in cases {
        let mut cfg = ReservoirConfig::new(10);
        edit(&mut cfg);
        assert_eq!(invalid(cfg), (name, value));
    }
    let mut nan = ReservoirConfig::new(10);
    nan.spectral_radius = f64::NAN;
    assert_eq!(invalid(nan).0, "spectral_radius");
    let per = ReservoirConfig {
        input_scaling: InputScaling::PerFeature(vec![1.0, 2.0]),
        ..ReservoirConfig::new(10)
    };
    let err = Reservoir::new(&per, 3, 0).unwrap_err();
    assert!(matches!(
        err,
        Error::DimensionMismatch {
            expected: 3,
            found: 2,
            ..
        }
    ));
}

#[test]
fn invalid_esn_and_readout_parameters() {
    let x = column(&series(30));
    let seq = [Sequence::new(x.as_ref(), x.as_ref())];
    let mut c = small();
    c.ridge = -1e-3;
    assert!(matches!(
        Esn::fit(&c, &seq),
        Err(Error::InvalidParameter { name: "ridge", .. })
    ));
    let mut c = small();
    c.feedback = Some(FeedbackConfig {
        connectivity: 0.0,
        ..FeedbackConfig::default()
    });
    assert!(matches!(
        Esn::fit(&c, &seq),
        Err(Error::InvalidParameter {
            name: "feedback.connectivity",
            ..
        })
    ));
    let rls = RlsConfig {
        forgetting: 0.0,
        ..RlsConfig::default()
    };
    let err = Esn::fit_online(
        &small(),
        &rls,
        seq[0],
        huashi_esn::OnlineMode::TeacherForced,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidParameter {
            name: "rls.forgetting",
            ..
        }
    ));
    assert!(matches!(
        Esn::fit(&EsnConfig::deep(vec![]), &seq),
        Err(Error::EmptySeries { .. })
    ));
}

#[test]
fn dimension_mismatches() {
    let x = column(&series(30));
    let two = Mat::<f64>::zeros(29, 2);
    let err = Esn::fit(&small(), &[Sequence::new(x.as_ref(), two.as_ref())]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimensionMismatch {
                what: "target rows",
                ..
            }
        ),
        "{err}"
    );
    let y = Mat::<f64>::zeros(30, 2);
    let fit = Esn::fit(&small(), &[Sequence::new(x.as_ref(), y.as_ref())]).unwrap();
    let mut s = fit.esn.initial_state();
    assert!(matches!(
        fit.esn.generate(&mut s, 5),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        fit.esn.run(&mut s, two.as_ref(), None),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn singular_readout_system() {
    // 30 units but only 10 samples after the washout and no ridge: the
    // normal equations are rank-deficient.
    let x = column(&series(15));
    let mut c = EsnConfig::new(ReservoirConfig::new(30));
    c.washout = 5;
    c.ridge = 0.0;
    let err = Esn::fit(&c, &[Sequence::new(x.as_ref(), x.as_ref())]).unwrap_err();
    assert!(
        matches!(err, Error::SingularSystem { size: 31, .. }),
        "{err}"
    );
    c.ridge = 1e-6;
    assert!(Esn::fit(&c, &[Sequence::new(x.as_ref(), x.as_ref())]).is_ok());
}
