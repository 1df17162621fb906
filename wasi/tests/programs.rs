//! The C and WAT programs in `programs/` (sources, and `.wasm` builds that
//! `scripts/build-wasi-programs.sh` remakes),
//! run through `add_to_linker` with in-memory stdio: files, directories, arguments,
//! environment, clocks, exit statuses, stdin, sandbox escapes, and a Wasm GC program.

mod common;

use anyhow::Result;
use engine::{Config, Engine, Linker, Module, Store};
use std::path::{Path, PathBuf};
use wasi::{ReadPipe, WasiCtx, WasiCtxBuilder, WritePipe};

/// What a run came to.
struct Run {
    status: Result<i32>,
    stdout: String,
    stderr: String,
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

/// Runs `name` with what `setup` adds to a context that has `name` as `argv[0]`, the
/// given stdin, and in-memory stdout and stderr.
fn run_with(
    config: &Config,
    name: &str,
    stdin: &str,
    setup: impl FnOnce(&mut WasiCtxBuilder) -> Result<()>,
) -> Run {
    let engine = Engine::new(config).unwrap();
    let module = Module::from_file(&engine, program(name)).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    let stdout = WritePipe::new_in_memory();
    let stderr = WritePipe::new_in_memory();
    let mut b = WasiCtxBuilder::new();
    b.arg(name)
        .unwrap()
        .stdin(ReadPipe::from(stdin))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    setup(&mut b).unwrap();
    let mut store = Store::new(&engine, b.build());
    let status = common::run_start(&linker, &mut store, &module);
    drop(store);
    Run {
        status,
        stdout: common::text(stdout),
        stderr: common::text(stderr),
    }
}

fn run(name: &str, stdin: &str, setup: impl FnOnce(&mut WasiCtxBuilder) -> Result<()>) -> Run {
    run_with(&Config::default(), name, stdin, setup)
}

/// A fresh empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasi-programs-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn files_and_directories_under_a_preopen() {
    let dir = scratch("files");
    for guest in ["/", "."] {
        let r = run("files.wasm", "", |b| {
            b.preopened_dir(&dir, guest)?;
            Ok(())
        });
        assert_eq!(r.status.unwrap(), 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(
            r.stdout,
            "write, seek, pread, pwrite, truncate: ok\nappend: Hello!!\n\
             rename, link, symlink, readlink: ok\nreaddir: b.txt c.txt link sub\n\
             unlink, rmdir: ok\n"
        );
        // The program removed everything it made.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
    // Without a preopen, every path fails (the first `mkdir`).
    let r = run("files.wasm", "", |_| Ok(()));
    assert_eq!(r.status.unwrap(), 1);
    assert!(r.stdout.starts_with("FAILED"), "{}", r.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sandbox_escapes_fail_and_touch_nothing() {
    let base = scratch("sandbox");
    let root = base.join("root");
    std::fs::create_dir_all(root.join("inside")).unwrap();
    std::fs::write(base.join("outside"), "secret").unwrap();
    std::os::unix::fs::symlink("..", root.join("escape")).unwrap();
    let before = listing(&base);
    let r = run("sandbox.wasm", "", |b| {
        b.preopened_dir(&root, "/")?;
        Ok(())
    });
    assert_eq!(r.status.unwrap(), 0, "{}", r.stdout);
    assert!(r.stdout.ends_with("escapes: 0\n"), "{}", r.stdout);
    let blocked = r.stdout.lines().filter(|l| l.contains("blocked")).count();
    assert_eq!(blocked, 12, "{}", r.stdout);
    assert!(!r.stdout.contains("ESCAPED"), "{}", r.stdout);
    // Nothing outside the preopen changed, and nothing was left inside it.
    assert_eq!(listing(&base), before);
    assert_eq!(
        std::fs::read_to_string(base.join("outside")).unwrap(),
        "secret"
    );
    std::fs::remove_dir_all(&base).unwrap();
}

/// Every path under `dir` (not following symlinks), sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            out.push(e.path());
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn arguments_and_environment() {
    let r = run("args_env.wasm", "", |b| {
        b.args(["one", "two words", ""])?
            .env("GREETING", "hello")?
            .env("EMPTY", "")?;
        Ok(())
    });
    assert_eq!(r.status.unwrap(), 0);
    assert_eq!(
        r.stdout,
        "argc=4\narg 1: one\narg 2: two words\narg 3: \n\
         env: GREETING=hello\nenv: EMPTY=\nGREETING=hello\n"
    );
    let r = run("args_env.wasm", "", |_| Ok(()));
    assert_eq!(r.stdout, "argc=1\nGREETING=(unset)\n");
}

#[test]
fn clocks_and_sleep() {
    let r = run("clocks.wasm", "", |_| Ok(()));
    assert_eq!(r.status.unwrap(), 0, "{}", r.stdout);
    assert_eq!(r.stdout, "clocks: ok\n");
}

#[test]
fn exit_statuses() {
    for status in [0, 1, 42, 125] {
        let r = run("exit.wasm", "", |b| {
            b.arg(&status.to_string())?;
            Ok(())
        });
        // Output written before `exit` is flushed, and the status is the program's.
        assert_eq!(r.stdout, format!("exiting with {status}\n"));
        assert_eq!(r.status.unwrap(), status);
    }
    // Preview 1 statuses stop at 125; beyond is an error of the run, not a crash.
    let r = run("exit.wasm", "", |b| {
        b.arg("200")?;
        Ok(())
    });
    let err = r.status.unwrap_err();
    assert!(format!("{err:#}").contains("exit status"), "{err:#}");
}

#[test]
fn stdin_is_read_to_its_end() {
    let r = run("wc.wasm", "one two\nthree\n\n four", |_| Ok(()));
    assert_eq!(r.status.unwrap(), 0);
    assert_eq!(r.stdout, "3 4 20\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn a_gc_program_reads_its_input_through_wasi() {
    let input = "the cat and the dog\nand the bird\n";
    let expected = "and 2\nbird 1\ncat 1\ndog 1\nthe 3\nwords: 8 distinct: 5\n";
    let r = run("wordfreq.wat", input, |_| Ok(()));
    assert_eq!(r.status.unwrap(), 0);
    assert_eq!(r.stdout, expected);
    // The same under a collector that collects at every opportunity, on a larger input.
    let mut config = Config::default();
    config.gc_stress(true);
    let r = run_with(&config, "wordfreq.wat", input, |_| Ok(()));
    assert_eq!(r.stdout, expected);
    let big: String = (0..20_000).map(|i| format!("w{} ", i % 1000)).collect();
    let r = run_with(&config, "wordfreq.wat", &big, |_| Ok(()));
    assert_eq!(r.status.unwrap(), 0);
    assert!(
        r.stdout.ends_with("words: 20000 distinct: 1000\n"),
        "{}",
        &r.stdout[r.stdout.len() - 60..]
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with(" 20")).count(),
        1000
    );
}
