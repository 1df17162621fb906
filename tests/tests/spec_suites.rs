//! The official spec suites, run through the spec runner's library: every directive must
//! pass, none may be skipped.

use spec_runner::{RunOptions, embedded_suite, run_script};

/// Runs every script of embedded suite `name`, returning (passed, failed, skipped) totals
/// and the failure messages.
fn run_suite(name: &str, options: RunOptions) -> ((usize, usize, usize), Vec<String>) {
    let name = name.to_owned();
    // Deep recursion in the suites needs more stack than a test thread has.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut totals = (0, 0, 0);
            let mut failures = Vec::new();
            for (trial, text) in embedded_suite(&name).expect("embedded suite") {
                let report = run_script(&trial, text, &options);
                let c = report.counts();
                totals.0 += c.passed;
                totals.1 += c.failed;
                totals.2 += c.skipped;
                if c.failed > 0 || c.skipped > 0 {
                    failures.push(format!("{trial}: {c:?}"));
                }
            }
            (totals, failures)
        })
        .expect("spawn")
        .join()
        .expect("suite runner panicked")
}

#[test]
fn wasm_v1_passes_completely() {
    let ((passed, failed, skipped), failures) = run_suite("wasm-v1", RunOptions::default());
    assert!(failures.is_empty(), "failing scripts: {failures:#?}");
    assert_eq!((failed, skipped), (0, 0));
    assert!(passed > 19_000, "only {passed} directives ran");
}
