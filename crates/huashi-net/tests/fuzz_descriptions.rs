//! `fuzz_descriptions`: a proptest-driven fuzz target for the description
//! parser (TOML and JSON) and the analysis. Arbitrary text, arbitrary bytes
//! and mutated valid descriptions (the files in `descriptions/` and every
//! zoo network) go through `Network::from_toml` / `from_json`, then
//! `analyse` at hostile input sizes, every node's receptive field, the summary,
//! `to_json` and `Model::compile` (which allocates no tensor). Nothing may
//! panic; errors are fine.
//!
//! Cases per strategy: `HUASHI_FUZZ_CASES` (default 5000: about 5 s in
//! release on two cores; 20000 take about 18 s). Failures are not persisted to files; a crash
//! found becomes a test in `hostile.rs` or below.

use huashi_net::{zoo, Model, Network};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Numbers that break careless arithmetic.
const HOSTILE: [&str; 14] = [
    "0",
    "1",
    "-1",
    "2",
    "65536",
    "4294967296",
    "1000000000000",
    "9007199254740993",
    "4611686018427387904",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "1e308",
    "5.0",
];

fn cases() -> u32 {
    huashi_io::testing::fuzz_cases(5000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// The valid descriptions mutations start from: (text, is JSON).
fn seeds() -> Vec<(String, bool)> {
    let mut out = vec![
        (
            include_str!("../descriptions/small_cnn.toml").to_string(),
            false,
        ),
        (
            include_str!("../descriptions/two_branch.json").to_string(),
            true,
        ),
    ];
    for name in zoo::names() {
        let net = zoo::by_name(name).unwrap();
        out.push((net.to_json(), true));
        if let Ok(text) = toml::to_string(&net) {
            out.push((text, false));
        }
    }
    out
}

/// Everything a description goes through; must not panic. Whether it
/// parsed.
fn exercise(text: &str, json: bool) -> bool {
    let parsed = if json {
        Network::from_json(text)
    } else {
        Network::from_toml(text)
    };
    let Ok(net) = parsed else { return false };
    let _ = net.to_json();
    let mut inputs = vec![
        [1, 1, 1],
        [3, 1 << 32, 1 << 32],
        [usize::MAX, 2, 2],
        [1, 7, usize::MAX],
    ];
    inputs.extend(net.input_shape);
    for input in inputs {
        let Ok(analysis) = net.analyse(input) else {
            continue;
        };
        for node in &analysis.nodes {
            let _ = analysis.receptive_field(&node.name);
            let _ = node.output.numel();
        }
        for (batch, depth) in [(1, None), (usize::MAX, Some(1)), (3, Some(2))] {
            let options = huashi_net::SummaryOptions {
                batch,
                depth,
                ..Default::default()
            };
            let _ = huashi_net::Summary::build(&net, &analysis, options);
        }
        let _ = Model::compile(&net, input);
    }
    true
}

/// Runs `check` on every case of `strategy`, and fails unless at least a
/// twentieth of the cases parsed (so the fuzzing reaches the analysis).
fn run_deep<S: Strategy>(strategy: S, check: impl Fn(S::Value) -> bool) {
    let parsed = std::sync::atomic::AtomicU32::new(0);
    runner()
        .run(&strategy, |value| {
            if check(value) {
                parsed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let parsed = parsed.into_inner();
    eprintln!("{parsed} of {} cases parsed", cases());
    assert!(parsed >= cases() / 20, "only {parsed} cases parsed");
}

/// One edit of `text`: replace a number with a hostile one, delete or
/// duplicate a span, or insert a character.
fn mutate(text: &str, edit: (u8, usize, usize, usize, char)) -> String {
    let (kind, a, b, pick, ch) = edit;
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    let (i, j) = {
        let (x, y) = (a % n, b % n);
        (x.min(y), x.max(y).min(x.min(y) + 64))
    };
    let s = |r: std::ops::Range<usize>| {
        chars[r.start.min(chars.len())..r.end.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    match kind % 4 {
        0 => replace_number(&chars, i, HOSTILE[pick % HOSTILE.len()]),
        1 => s(0..i) + &s(j..chars.len()),
        2 => s(0..j) + &s(i..chars.len()),
        _ => s(0..i) + &ch.to_string() + &s(i..chars.len()),
    }
}

/// Replaces the first number token (digits not part of a name) at or
/// after `from` by `number`.
fn replace_number(chars: &[char], from: usize, number: &str) -> String {
    let in_name = |k: usize| chars[k].is_alphanumeric() || chars[k] == '_';
    let starts = |k: usize| chars[k].is_ascii_digit() && (k == 0 || !in_name(k - 1));
    let Some(start) = (from..chars.len()).find(|&k| starts(k)) else {
        return chars.iter().collect();
    };
    let end = (start..chars.len())
        .find(|&k| !chars[k].is_ascii_digit())
        .unwrap_or(chars.len());
    let mut out: String = chars[..start].iter().collect();
    out += number;
    out.extend(&chars[end..]);
    out
}

#[test]
fn fuzz_descriptions_arbitrary_text() {
    runner()
        .run(&(any::<String>(), any::<bool>()), |(text, json)| {
            exercise(&text, json);
            Ok(())
        })
        .unwrap();
    runner()
        .run(
            &(prop::collection::vec(any::<u8>(), 0..512), any::<bool>()),
            |(bytes, json)| {
                exercise(&String::from_utf8_lossy(&bytes), json);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn fuzz_descriptions_mutated() {
    let seeds = seeds();
    let edit = (
        any::<u8>(),
        any::<usize>(),
        any::<usize>(),
        any::<usize>(),
        any::<char>(),
    );
    let strategy = (0..seeds.len(), prop::collection::vec(edit, 1..4));
    run_deep(strategy, |(seed, edits)| {
        let (text, json) = &seeds[seed];
        let mutated = edits.into_iter().fold(text.clone(), |t, e| mutate(&t, e));
        exercise(&mutated, *json)
    });
}

#[test]
fn fuzz_descriptions_hostile_numbers_in_every_field() {
    let seeds = seeds();
    let strategy = (
        0..seeds.len(),
        prop::collection::vec((any::<usize>(), 0..HOSTILE.len()), 1..4),
    );
    run_deep(strategy, |(seed, edits)| {
        let (text, json) = &seeds[seed];
        let mut chars: Vec<char> = text.chars().collect();
        for (at, number) in edits {
            let replaced = replace_number(&chars, at % chars.len().max(1), HOSTILE[number]);
            chars = replaced.chars().collect();
        }
        exercise(&chars.iter().collect::<String>(), *json)
    });
}

#[test]
fn the_seeds_parse_and_analyse() {
    for (text, json) in seeds() {
        let net = if json {
            Network::from_json(&text)
        } else {
            Network::from_toml(&text)
        };
        let net = net.unwrap_or_else(|e| panic!("{e}\n{text}"));
        if net.input_shape.is_some() {
            net.analyse_default().unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
