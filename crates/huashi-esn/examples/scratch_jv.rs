use huashi_esn::classify::{japanese_vowels, over_seeds, ClassifyConfig, Pooling};
fn main() {
    let (train, test) = japanese_vowels().unwrap();
    let args: Vec<String> = std::env::args().collect();
    let seeds: usize = args[1].parse().unwrap();
    let first: u64 = args[2].parse().unwrap();
    let cands = [
        (0.9, 0.3, 0.05, 1.0),
        (0.9, 0.3, 0.05, 3.0),
        (0.5, 0.3, 0.1, 3.0),
        (0.9, 0.3, 0.03, 1.0),
        (0.9, 0.3, 0.05, 0.3),
        (1.1, 0.3, 0.05, 1.0),
        (0.9, 0.2, 0.05, 1.0),
        (0.9, 0.4, 0.05, 1.0),
    ];
    for (sr, leak, isc, ridge) in cands {
        let mut c = ClassifyConfig {
            pooling: Pooling::Last,
            ..ClassifyConfig::default()
        };
        c.reservoir.spectral_radius = sr;
        c.reservoir.leak = leak;
        c.reservoir.input_scaling = isc;
        c.reservoir.ridge = ridge;
        c.reservoir.seed = first;
        let s = over_seeds(&c, &train, &test, seeds).unwrap();
        let wrong: Vec<usize> = s.runs.iter().map(|r| r.total - r.correct).collect();
        println!("{:.4} ± {:.4} min {:.4} sr{sr} lr{leak} is{isc} r{ridge} wrong {wrong:?} fit {:.1}ms test {:.1}ms", s.mean, s.ci95, s.min, 1e3*s.fit_seconds, 1e3*s.test_seconds);
    }
}
