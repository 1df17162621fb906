//! The official WASI test suite's preview 1 programs (`wasi-testsuite/`, C and
//! AssemblyScript): each runs on a fresh copy of its directory, and its exit status, stdout
//! and stderr are compared with its JSON file's.

mod common;

use anyhow::{Context, Result, bail};
use engine::{Engine, Linker, Module, Store};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use wasi::{ReadPipe, WasiCtx, WasiCtxBuilder, WritePipe};

const SUITES: &[&str] = &["c", "assemblyscript"];

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi-testsuite/tests");
    let mut trials = Vec::new();
    for suite in SUITES {
        let dir = root.join(suite).join("testsuite/wasm32-wasip1");
        let mut programs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the test suite is checked in")
            .map(|e| e.expect("readable").path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        programs.sort();
        for wasm in programs {
            let name = format!("{suite}/{}", wasm.file_stem().unwrap().to_string_lossy());
            trials.push(Trial::test(name, move || {
                run(&wasm).map_err(|e| Failed::from(format!("{e:#}")))
            }));
        }
    }
    assert_eq!(trials.len(), 26, "the suite has 26 programs");
    libtest_mimic::run(&args, trials).exit();
}

/// What a test's JSON file asks for.
#[derive(Default)]
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

fn spec(wasm: &Path) -> Result<Spec> {
    let json = wasm.with_extension("json");
    let mut spec = Spec::default();
    if !json.exists() {
        return Ok(spec);
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)
        .with_context(|| format!("{}", json.display()))?;
    let string = |v: &serde_json::Value| v.as_str().map(str::to_string).context("a string");
    for (key, value) in v.as_object().context("an object")? {
        match key.as_str() {
            "args" => {
                for a in value.as_array().context("args: an array")? {
                    spec.args.push(string(a)?);
                }
            }
            "env" => {
                for (k, v) in value.as_object().context("env: an object")? {
                    spec.env.push((k.clone(), string(v)?));
                }
            }
            "root" => spec.root = Some(string(value)?),
            "exit_code" => spec.exit_code = value.as_i64().context("exit_code: a number")? as i32,
            "stdout" => spec.stdout = Some(string(value)?),
            "stderr" => spec.stderr = Some(string(value)?),
            other => bail!("{}: unknown key `{other}`", json.display()),
        }
    }
    Ok(spec)
}

fn run(wasm: &Path) -> Result<()> {
    let spec = spec(wasm)?;
    let engine = Engine::default();
    let module = Module::from_file(&engine, wasm)?;
    let mut linker = Linker::<WasiCtx>::new(&engine);
    wasi::add_to_linker(&mut linker, |cx| cx)?;

    let stdout = WritePipe::new_in_memory();
    let stderr = WritePipe::new_in_memory();
    let mut b = WasiCtxBuilder::new();
    b.arg(&wasm.file_name().unwrap().to_string_lossy())?
        .args(&spec.args)?
        .stdin(ReadPipe::from(""))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (k, v) in &spec.env {
        b.env(k, v)?;
    }
    // A fresh copy of the test's directory: the programs write into it.
    let scratch = std::env::temp_dir().join(format!(
        "wasi-testsuite-{}-{}",
        std::process::id(),
        wasm.file_stem().unwrap().to_string_lossy()
    ));
    if let Some(root) = &spec.root {
        let _ = std::fs::remove_dir_all(&scratch);
        copy_dir(&wasm.parent().unwrap().join(root), &scratch)?;
        b.preopened_dir(&scratch, "/")?;
    }
    let mut store = Store::new(&engine, b.build());
    let status = common::run_start(&linker, &mut store, &module);
    drop(store);
    if spec.root.is_some() {
        std::fs::remove_dir_all(&scratch)?;
    }
    let out = common::text(stdout);
    let err = common::text(stderr);
    let status = status.with_context(|| format!("stdout: {out:?}\nstderr: {err:?}"))?;
    if status != spec.exit_code {
        bail!(
            "exit status {status}, expected {}\nstdout: {out:?}\nstderr: {err:?}",
            spec.exit_code
        );
    }
    if let Some(expected) = spec.stdout.as_ref().filter(|e| **e != out) {
        bail!("stdout {out:?}, expected {expected:?}");
    }
    if let Some(expected) = spec.stderr.as_ref().filter(|e| **e != err) {
        bail!("stderr {err:?}, expected {expected:?}");
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
