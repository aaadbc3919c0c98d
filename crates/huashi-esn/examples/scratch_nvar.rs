use huashi_esn::nvar::protocol::LorenzProtocol;
use huashi_esn::nvar::NvarConfig;
fn main() {
    let p = LorenzProtocol::default();
    let s = p.series(5.0).unwrap();
    println!("{:?}", (s[(200, 0)], s[(200, 1)], s[(200, 2)], s.nrows()));
    let c = NvarConfig::default();
    let r = p.report(&c).unwrap();
    println!(
        "{:.4e} ± {:.3e} {:?}",
        r.mean,
        r.std_error,
        r.trials
            .iter()
            .map(|t| (t.test_nrmse * 1e4).round() / 1e4)
            .collect::<Vec<_>>()
    );
}
