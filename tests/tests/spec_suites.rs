//! The official spec suites, run through the spec runner's library, normally and in GC
//! stress mode: every directive must pass except those listed (with a reason) in
//! `spec-runner/known-failures.txt`, and none may be skipped. Also the legacy
//! exception-handling scripts of `tests/wast/legacy-exceptions`, which the testsuite lacks.

use engine::Collector;
use spec_runner::{KnownFailures, RunOptions, embedded_suite, run_script, suite_features};

/// Runs every script of embedded suite `name` and returns the number of directives that
/// passed, panicking with every unexpected failure or skip.
fn run_suite(name: &str, gc_stress: bool) -> usize {
    run_suite_with(name, gc_stress, false, Collector::Drc)
}

/// As `run_suite`, with fuel metering and epoch interruption compiled in (and never
/// triggered) if `interruptible`, and with `collector`.
fn run_suite_with(name: &str, gc_stress: bool, interruptible: bool, collector: Collector) -> usize {
    let name = name.to_owned();
    // Deep recursion in the suites needs more stack than a test thread has.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let known = KnownFailures::checked_in().expect("known-failures.txt parses");
            let options = RunOptions {
                gc_stress,
                collector,
                features: suite_features(&name),
                timeout: interruptible.then(|| std::time::Duration::from_secs(3600)),
                fuel: interruptible.then_some(u64::MAX / 2),
                ..RunOptions::default()
            };
            let mut passed = 0;
            let mut problems = Vec::new();
            for (trial, text) in embedded_suite(&name).expect("embedded suite") {
                let report = run_script(&trial, text, &options);
                let counts = report.counts();
                passed += counts.passed;
                if let Some(reason) = known.reason(&trial) {
                    if report.is_success() {
                        problems.push(format!("{trial}: listed as failing ({reason}) but passed"));
                    }
                    continue;
                }
                if counts.skipped > 0 {
                    problems.push(format!("{trial}: {} skipped", counts.skipped));
                }
                if let Err(message) = report.check_known_directives(&known.directives(&trial)) {
                    problems.push(message);
                }
            }
            assert!(
                problems.is_empty(),
                "{name} (gc_stress: {gc_stress}, collector: {collector:?}):\n{}",
                problems.join("\n")
            );
            passed
        })
        .expect("spawn")
        .join()
        .expect("suite runner panicked")
}

#[test]
fn wasm_v1() {
    assert!(run_suite("wasm-v1", false) > 19_000);
}

#[test]
fn wasm_v2() {
    assert!(run_suite("wasm-v2", false) > 27_000);
}

#[test]
fn reference_types() {
    assert!(run_suite("reference-types", false) > 9_000);
}

#[test]
fn wasm_v2_gc_stress() {
    assert!(run_suite("wasm-v2", true) > 27_000);
}

#[test]
fn reference_types_gc_stress() {
    assert!(run_suite("reference-types", true) > 9_000);
}

#[test]
fn wasm_v3() {
    assert!(run_suite("wasm-v3", false) > 21_000);
}

#[test]
fn wasm_v3_with_fuel_and_epochs() {
    assert!(run_suite_with("wasm-v3", false, true, Collector::Drc) > 21_000);
}

#[test]
fn gc_proposal_with_fuel_and_epochs_gc_stress() {
    assert!(run_suite_with("gc", true, true, Collector::Drc) > 750);
}

#[test]
fn wasm_v3_gc_stress() {
    assert!(run_suite("wasm-v3", true) > 21_000);
}

#[test]
fn function_references_and_tail_calls() {
    assert!(run_suite("function-references", false) > 1_800);
    assert!(run_suite("tail-call", false) > 100);
}

#[test]
fn function_references_and_tail_calls_gc_stress() {
    assert!(run_suite("function-references", true) > 1_800);
    assert!(run_suite("tail-call", true) > 100);
}

#[test]
fn other_merged_proposals() {
    for suite in [
        "bulk-memory",
        "extended-const",
        "multi-memory",
        "multi-value",
        "wide-arithmetic",
        "custom-page-sizes",
        "memory64",
        "relaxed-simd",
    ] {
        assert!(run_suite(suite, false) > 70, "{suite}");
    }
}

#[test]
fn simd() {
    assert!(run_suite("simd", false) > 25_000);
}

#[test]
fn simd_and_memory64_gc_stress() {
    for suite in ["simd", "memory64"] {
        assert!(run_suite(suite, true) > 1_000, "{suite}");
    }
}

#[test]
fn exception_handling() {
    assert!(run_suite("exceptions", false) > 100);
}

#[test]
fn exception_handling_gc_stress() {
    assert!(run_suite("exceptions", true) > 100);
}

#[test]
fn gc_proposal() {
    assert!(run_suite("gc", false) > 750);
}

#[test]
fn gc_proposal_gc_stress() {
    assert!(run_suite("gc", true) > 750);
}

/// The null collector never frees: the GC and exception suites fit in its heap.
#[test]
fn gc_and_exceptions_under_the_null_collector() {
    assert!(run_suite_with("gc", false, false, Collector::Null) > 750);
    assert!(run_suite_with("gc", true, false, Collector::Null) > 750);
    assert!(run_suite_with("exceptions", false, false, Collector::Null) > 100);
}

/// The legacy exception-handling scripts of `tests/wast/legacy-exceptions` (the pinned
/// testsuite has none), with their names and texts.
fn legacy_exception_scripts() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wast/legacy-exceptions");
    let files = spec_runner::wast_files(&dir).expect("the legacy exception scripts");
    assert!(files.len() >= 5, "{files:?}");
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable script");
            (path.display().to_string(), text)
        })
        .collect()
}

/// Runs the legacy exception-handling scripts with `options` and returns the directives
/// that passed, panicking on any failure or skip.
fn run_legacy_exceptions(options: &RunOptions) -> usize {
    let mut passed = 0;
    for (name, text) in legacy_exception_scripts() {
        let report = run_script(&name, &text, options);
        let counts = report.counts();
        assert!(
            counts.failed == 0 && counts.skipped == 0,
            "{}",
            report.failure_message()
        );
        passed += counts.passed;
    }
    passed
}

#[test]
fn legacy_exception_handling() {
    let options = RunOptions {
        legacy_exceptions: true,
        ..RunOptions::default()
    };
    assert!(run_legacy_exceptions(&options) >= 45);
}

#[test]
fn legacy_exception_handling_gc_stress_with_fuel() {
    let options = RunOptions {
        legacy_exceptions: true,
        gc_stress: true,
        fuel: Some(u64::MAX / 2),
        ..RunOptions::default()
    };
    assert!(run_legacy_exceptions(&options) >= 45);
}

/// Runs the repository's script `tests/wast/{name}` normally and in GC stress mode: no
/// directive may fail or be skipped, and at least `min_passed` must run.
fn repository_script(name: &str, min_passed: usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("wast")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the script");
    for gc_stress in [false, true] {
        let options = RunOptions {
            gc_stress,
            ..RunOptions::default()
        };
        let report = run_script(&path.display().to_string(), &text, &options);
        let counts = report.counts();
        assert!(
            counts.failed == 0 && counts.skipped == 0,
            "{}",
            report.failure_message()
        );
        assert!(counts.passed >= min_passed, "{} passed", counts.passed);
    }
}

/// The repository's table64 script (the pinned testsuite has none).
#[test]
fn table64_script() {
    repository_script("table64/table64.wast", 35);
}

/// The repository's script for numeric `array.copy` and `array.new_data`, which compiled
/// code does inline.
#[test]
fn inline_bulk_array_script() {
    repository_script("gc/array_bulk_inline.wast", 42);
}

/// The repository's script for the null checks the translator leaves out after a `br_if`
/// on `ref.is_null`, and those it must keep.
#[test]
fn null_check_script() {
    repository_script("gc/null_checks.wast", 10);
}

/// Legacy exception handling is off by default: every module using it fails validation.
#[test]
fn legacy_exception_handling_is_off_by_default() {
    let text = "(module (tag $e) (func (export \"f\") try throw $e catch_all end))";
    let engine = engine::Engine::default();
    let err = engine::Module::new(&engine, text).expect_err("legacy try rejected");
    assert!(
        format!("{err:#}").contains("legacy_exceptions feature required"),
        "{err:#}"
    );

    let mut config = engine::Config::new();
    config.wasm_legacy_exceptions(true);
    let engine = engine::Engine::new(&config).expect("engine");
    engine::Module::new(&engine, text).expect("legacy try accepted when enabled");

    // Each script fails at its first module without the flag.
    for (name, text) in legacy_exception_scripts() {
        let report = run_script(&name, &text, &RunOptions::default());
        assert!(report.counts().failed > 0, "{name} passed without the flag");
    }
}
