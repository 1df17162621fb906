//! Snapshot tests of the translator's output: each `tests/disas/NAME.wat` is translated to
//! Cranelift IR (before optimisation) and compared with `tests/disas/NAME.clif`.
//! `BLESS=1 cargo test -p engine --test disas` rewrites the snapshots. A first line
//! `;; config: consume_fuel epoch_interruption` turns those settings on for that input.

use engine::{Config, Engine, Module};
use std::path::Path;

#[test]
fn translator_output_matches_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disas");
    let bless = std::env::var_os("BLESS").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/disas")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    let mut mismatches = Vec::new();
    for wat in &inputs {
        let text = std::fs::read_to_string(wat).expect("read input");
        let engine = engine_for(&text);
        let functions =
            Module::clif(&engine, &text).unwrap_or_else(|e| panic!("{}: {e:#}", wat.display()));
        let actual = functions.join("\n");
        let snapshot = wat.with_extension("clif");
        if bless {
            std::fs::write(&snapshot, &actual).expect("write snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if expected != actual {
            mismatches.push(snapshot.display().to_string());
        }
    }
    assert!(
        mismatches.is_empty(),
        "translator output changed for {mismatches:?}; if intended, re-run with BLESS=1"
    );
}

/// An engine with the settings the input's `;; config:` line names.
fn engine_for(text: &str) -> Engine {
    let mut config = Config::new();
    let settings = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(";; config:"))
        .unwrap_or("");
    for setting in settings.split_whitespace() {
        match setting {
            "consume_fuel" => config.consume_fuel(true),
            "epoch_interruption" => config.epoch_interruption(true),
            other => panic!("unknown disas setting `{other}`"),
        };
    }
    Engine::new(&config).expect("engine")
}
