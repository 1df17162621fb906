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
        stderr(&o).contains("exports no `_start`, so it is not a WASI command"),
        "{}",
        stderr(&o)
    );
    let unknown = file(
        "unknown.wat",
        r#"(module (import "wasi_snapshot_preview1" "fd_frobnicate" (func))
             (func (export "_start")))"#,
    );
    let o = gcwasm(&["run", &unknown]);
    assert!(
        stderr(&o).contains(
            "`wasi_snapshot_preview1::fd_frobnicate`, which WASI preview 1 does not define"
        ),
        "{}",
        stderr(&o)
    );
    let o = gcwasm(&["run", "--dir", "/nonexistent-dir", &unknown]);
    assert!(
        stderr(&o).contains("failed to open directory `/nonexistent-dir`"),
        "{}",
        stderr(&o)
    );
}

/// A C program of the wasi crate's tests.
fn program(name: &str) -> String {
    format!(
        "{}/../wasi/tests/programs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A fresh directory for one test, with `outside` beside the preopen `root`.
fn sandbox_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gcwasm-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("root/inside")).unwrap();
    std::fs::write(dir.join("outside"), "secret").unwrap();
    dir
}

#[test]
fn run_gives_a_wasi_program_its_directory_arguments_and_status() {
    let dir = sandbox_dir("files");
    let root = dir.join("root");
    // As the README shows it: the current directory preopened as `/`.
    let o = Command::new(env!("CARGO_BIN_EXE_gcwasm"))
        .current_dir(&root)
        .args(["run", "--dir", ".::/", &program("files.wasm"), "a", "b"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).ends_with("unlink, rmdir: ok\n"),
        "{}",
        stdout(&o)
    );
    // Escapes fail with WASI errors and touch nothing.
    std::os::unix::fs::symlink("..", root.join("escape")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gcwasm"))
        .current_dir(&root)
        .args(["run", "--dir", ".::/", &program("sandbox.wasm")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("open ../outside: blocked"), "{out}");
    assert!(out.contains("open /etc/passwd: blocked"), "{out}");
    assert!(out.ends_with("escapes: 0\n"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.join("outside")).unwrap(),
        "secret"
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["outside", "root"]);
    // Arguments, environment and exit status.
    let o = gcwasm(&[
        "run",
        "--env",
        "GREETING=hi",
        &program("args_env.wasm"),
        "x",
        "-y",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = "argc=3\narg 1: x\narg 2: -y\nenv: GREETING=hi\nGREETING=hi\n";
    assert_eq!(stdout(&o), expected);
    let o = gcwasm(&["run", &program("exit.wasm"), "42"]);
    assert_eq!(o.status.code(), Some(42));
    assert_eq!(stdout(&o), "exiting with 42\n");
    std::fs::remove_dir_all(&dir).unwrap();
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

#[test]
fn run_polls_stdio_and_clocks() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gcwasm"))
        .args(["run", &program("poll.wasm")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The program is waiting in poll_oneoff for stdin when the line arrives.
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(stdout(&o), "poll: ok (read 6 bytes)\n");
}

#[test]
fn validate_checks_modules_without_running_them() {
    let good = file("good.wat", MODULE);
    let o = gcwasm(&["validate", &good, &program("files.wasm")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    let bad = file("bad.wat", "(module (func (result i32)))");
    let o = gcwasm(&["validate", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a valid module"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("type mismatch"), "{}", stderr(&o));
    // Features count: GC types are invalid with GC turned off.
    let o = gcwasm(&["validate", "-W", "gc=n", &good]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn compile_then_run_precompiled() {
    let dir = sandbox_dir("precompiled");
    let out = dir.join("args.gcwasm").display().to_string();
    let o = gcwasm(&["compile", &program("args_env.wasm"), "-o", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = gcwasm(&["run", &out, "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--allow-precompiled"), "{}", stderr(&o));
    let o = gcwasm(&["run", "--allow-precompiled", &out, "x"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "argc=2\narg 1: x\nGREETING=(unset)\n");
    // Another configuration refuses it.
    let o = gcwasm(&["run", "--allow-precompiled", "-W", "fuel=1000000", &out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("another configuration"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
