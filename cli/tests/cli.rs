//! The `gcwasm` binary end to end: results, exit statuses and error messages.

use std::process::{Command, Output};

fn gcwasm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcwasm"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to a fresh file named `name` and returns its path.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("gcwasm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const MODULE: &str = r#"(module
  (import "bench" "start" (func $start))
  (import "bench" "now" (func $now (result i64)))
  (type $p (struct (field i32)))
  (func (export "add") (param i32 i32) (result i32)
    (call $start)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "boxed") (param f64) (result f64 i64)
    (drop (struct.new $p (i32.const 1)))
    (local.get 0) (call $now))
  (func $inner (unreachable))
  (func (export "crash") (call $inner)))"#;

#[test]
fn run_invokes_an_export_with_default_imports() {
    let m = file("m.wat", MODULE);
    let o = gcwasm(&[
        "run",
        "--default-values-unknown-imports",
        "--invoke",
        "add",
        &m,
        "2",
        "-5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "-3\n");
    for collector in ["drc", "null"] {
        let o = gcwasm(&[
            "run",
            "--collector",
            collector,
            "--default-values-unknown-imports",
            "--invoke",
            "boxed",
            &m,
            "1.5",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "1.5\n0\n");
    }
}

#[test]
fn run_reports_traps_with_a_backtrace_and_fails() {
    let m = file("trap.wat", MODULE);
    let o = gcwasm(&[
        "run",
        "--default-values-unknown-imports",
        "--invoke",
        "crash",
        &m,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("wasm backtrace"), "{err}");
}

#[test]
fn run_explains_what_is_wrong() {
    let m = file("e.wat", MODULE);
    let cases: [(&[&str], &str); 6] = [
        (&["run", "/nonexistent.wasm"], "failed to read"),
        (
            &["run", "--invoke", "add", &m, "1", "2"],
            "unknown import `bench::start`",
        ),
        (
            &["run", "--default-values-unknown-imports", &m],
            "exports no `_start`",
        ),
        (
            &[
                "run",
                "--default-values-unknown-imports",
                "--invoke",
                "nope",
                &m,
            ],
            "no function `nope`",
        ),
        (
            &[
                "run",
                "--default-values-unknown-imports",
                "--invoke",
                "add",
                &m,
                "1",
            ],
            "takes 2 arguments",
        ),
        (
            &[
                "run",
                "--default-values-unknown-imports",
                "--invoke",
                "add",
                &m,
                "x",
                "1",
            ],
            "not a i32",
        ),
    ];
    for (args, expected) in cases {
        let o = gcwasm(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
    }
    let wasi = file(
        "wasi.wat",
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))"#,
    );
    let o = gcwasm(&["run", &wasi]);
    assert!(
        stderr(&o).contains("WASI is not supported yet"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wast_runs_scripts_like_the_spec_runner() {
    let ok = file(
        "ok.wast",
        r#"(module (type $p (struct (field i32)))
             (func (export "f") (result i32) (struct.get $p 0 (struct.new $p (i32.const 4)))))
           (assert_return (invoke "f") (i32.const 4))"#,
    );
    for extra in [&[][..], &["--collector", "null", "--gc-stress"][..]] {
        let mut args = vec!["wast"];
        args.extend_from_slice(extra);
        args.push(&ok);
        let o = gcwasm(&args);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains("directives: 2 passed, 0 failed, 0 skipped"),
            "{}",
            stdout(&o)
        );
    }
    let bad = file("bad.wast", r#"(module) (assert_return (invoke "missing"))"#);
    let o = gcwasm(&["wast", &bad]);
    assert!(!o.status.success());
    assert!(stdout(&o).contains("1 failed"), "{}", stdout(&o));
}

#[test]
fn version_and_help() {
    let o = gcwasm(&["--version"]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("gcwasm "), "{}", stdout(&o));
    let o = gcwasm(&["run", "--help"]);
    assert!(stdout(&o).contains("--invoke"), "{}", stdout(&o));
    let o = gcwasm(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_readme_example_runs() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fib.wat");
    let o = gcwasm(&["run", "--invoke", "fib", example, "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
}
