//! The `spec-runner` command line: its own flags, one libtest-mimic trial per script, and the
//! directive totals printed last.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::report::{Counts, Location, ScriptReport};
use crate::script::{RunOptions, panic_message, run_script};
use crate::suite::{KnownFailures, embedded_suite, wast_files};

const USAGE: &str = "\
Usage: spec-runner [--suite NAME]... [OPTIONS] [PATHS...] [LIBTEST-OPTIONS] [FILTER]

Runs WebAssembly spec-test scripts (.wast) against the engine, one test per script.

Options:
  --suite NAME    Run an embedded suite: wasm-v1, wasm-v2, wasm-v3, wasm-latest, or a
                  proposal folder (gc, tail-call, function-references, ...). Repeatable.
  --gc-stress     Run the engine in GC stress mode.
  --no-inlining   Do not inline tiny leaf functions at their calls.
  --collector NAME
                  The garbage collector: drc (the default) or null (never frees).
  --timeout SECS  Stop a script after SECS seconds (default 300; 0 for no limit): its
                  running Wasm is interrupted, that directive and all after it fail.
  --fuel N        Give every directive N units of fuel (one per Wasm instruction); one
                  that uses them up traps with \"all fuel consumed by WebAssembly\".
  --legacy-exceptions
                  Accept legacy exception handling (try, catch, delegate, rethrow).
  --strict-messages
                  assert_trap accepts only the engine's own trap messages, not the
                  wordings other engines' suites use for the same trap.
  --export-js DIR Write each script as DIR/NAME.mjs (and its modules) for node, instead
                  of running it; prints the .mjs paths.
  --verbose       Print skipped directives with their reasons, and the expected and actual
                  messages of assert_invalid, assert_malformed and assert_unlinkable.
  PATHS           .wast files, or directories searched recursively. A positional argument
                  that is not an existing path is the libtest filter: it must match the
                  name of a script to run, or it is an error.

libtest options (--list, --exact, --skip FILTER, --test-threads N, --nocapture, ...) are
passed through. The last line printed is `directives: N passed, M failed, K skipped`.
";

/// Stack size of the thread each script runs on, so deep Wasm recursion has room.
const SCRIPT_STACK_SIZE: usize = 64 << 20;

/// libtest options that take their value as the next argument.
const LIBTEST_OPTIONS_WITH_VALUE: [&str; 6] = [
    "--test-threads",
    "--logfile",
    "--skip",
    "--color",
    "--format",
    "-Z",
];

/// How long a script may run unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The command line, split into our flags and the arguments for libtest-mimic.
#[derive(Debug, PartialEq, Eq)]
struct Cli {
    suites: Vec<String>,
    paths: Vec<PathBuf>,
    /// Positional arguments that are not paths: libtest filters, which must match a trial.
    filters: Vec<String>,
    gc_stress: bool,
    collector: engine::Collector,
    no_inlining: bool,
    verbose: bool,
    timeout: Option<Duration>,
    fuel: Option<u64>,
    legacy_exceptions: bool,
    export_js: Option<PathBuf>,
    strict_messages: bool,
    help: bool,
    /// The program name followed by everything we did not consume.
    libtest: Vec<String>,
}

/// Splits `args` (program name first) into our flags and libtest's. A positional argument is
/// a script path if it exists on disk, and libtest's filter otherwise.
fn parse_args(args: impl IntoIterator<Item = String>) -> anyhow::Result<Cli> {
    let mut args = args.into_iter();
    let mut cli = Cli {
        suites: Vec::new(),
        paths: Vec::new(),
        filters: Vec::new(),
        gc_stress: false,
        collector: engine::Collector::default(),
        no_inlining: false,
        verbose: false,
        timeout: Some(DEFAULT_TIMEOUT),
        fuel: None,
        legacy_exceptions: false,
        export_js: None,
        strict_messages: false,
        help: false,
        libtest: args.next().into_iter().collect(),
    };
    let value = |flag: &str, args: &mut dyn Iterator<Item = String>| -> anyhow::Result<u64> {
        let Some(v) = args.next() else {
            bail!("{flag} needs a number");
        };
        v.parse()
            .map_err(|e| anyhow::anyhow!("{flag} needs a number, got `{v}`: {e}"))
    };
    while let Some(arg) = args.next() {
        if arg == "--suite" {
            let Some(name) = args.next() else {
                bail!("--suite needs a suite name");
            };
            cli.suites.push(name);
        } else if let Some(name) = arg.strip_prefix("--suite=") {
            cli.suites.push(name.to_owned());
        } else if arg == "--gc-stress" {
            cli.gc_stress = true;
        } else if arg == "--no-inlining" {
            cli.no_inlining = true;
        } else if arg == "--collector" {
            let Some(name) = args.next() else {
                bail!("--collector needs a collector name");
            };
            cli.collector = name.parse()?;
        } else if arg == "--timeout" {
            let secs = value("--timeout", &mut args)?;
            cli.timeout = (secs > 0).then(|| Duration::from_secs(secs));
        } else if arg == "--fuel" {
            cli.fuel = Some(value("--fuel", &mut args)?);
        } else if arg == "--legacy-exceptions" {
            cli.legacy_exceptions = true;
        } else if arg == "--strict-messages" {
            cli.strict_messages = true;
        } else if arg == "--export-js" {
            let Some(dir) = args.next() else {
                bail!("--export-js needs a directory");
            };
            cli.export_js = Some(PathBuf::from(dir));
        } else if arg == "--verbose" {
            cli.verbose = true;
        } else if arg == "-h" || arg == "--help" {
            cli.help = true;
            cli.libtest.push(arg);
        } else if LIBTEST_OPTIONS_WITH_VALUE.contains(&arg.as_str()) {
            cli.libtest.push(arg);
            cli.libtest.extend(args.next());
        } else if arg.starts_with('-') {
            cli.libtest.push(arg);
        } else if !Path::new(&arg).exists() {
            cli.filters.push(arg.clone());
            cli.libtest.push(arg);
        } else {
            cli.paths.push(PathBuf::from(arg));
        }
    }
    if cli.suites.is_empty() && cli.paths.is_empty() && !cli.help {
        bail!("nothing to run: give --suite NAME or .wast paths");
    }
    Ok(cli)
}

/// Runs the `spec-runner` command line `args` (program name first) and returns the exit code:
/// non-zero if any trial or any directive outside a known-failure trial failed.
pub fn main_with_args(args: impl IntoIterator<Item = String>) -> ExitCode {
    let cli = match parse_args(args) {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("error: {err:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cli.help {
        println!("{USAGE}\nlibtest options:");
        // Prints libtest's own help and exits the process.
        let _ = Arguments::from_iter(&cli.libtest);
        return ExitCode::SUCCESS;
    }
    if let Some(dir) = &cli.export_js {
        return export(&cli.paths, dir);
    }
    let known = match KnownFailures::checked_in() {
        Ok(known) => known,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        gc_stress: cli.gc_stress,
        collector: cli.collector,
        no_inlining: cli.no_inlining,
        verbose: cli.verbose,
        features: None,
        timeout: cli.timeout,
        fuel: cli.fuel,
        legacy_exceptions: cli.legacy_exceptions,
        strict_messages: cli.strict_messages,
    };
    let totals = Arc::new(Mutex::new(Totals::default()));
    let trials = match trials(&cli, &options, &known, &totals) {
        Ok(trials) => trials,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };

    let args = Arguments::from_iter(&cli.libtest);
    let conclusion = libtest_mimic::run(&args, trials);
    if args.list {
        return ExitCode::SUCCESS;
    }
    let totals = *totals.lock().unwrap_or_else(PoisonError::into_inner);
    if totals.known.failed > 0 {
        println!(
            "({} of the failed directives are in trials listed in known-failures.txt)",
            totals.known.failed
        );
    }
    println!("{}", totals.all);
    if conclusion.has_failed() || totals.all.failed > totals.known.failed {
        ExitCode::from(101)
    } else {
        ExitCode::SUCCESS
    }
}

/// Directive counts over all trials that ran.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    /// Every trial.
    all: Counts,
    /// Trials listed in known-failures.txt (also counted in `all`).
    known: Counts,
}

/// Where a trial's script comes from.
enum Source {
    Embedded(&'static str),
    File(PathBuf),
}

/// One trial per script, suites first, then paths; a script named twice runs once.
fn trials(
    cli: &Cli,
    options: &RunOptions,
    known: &KnownFailures,
    totals: &Arc<Mutex<Totals>>,
) -> anyhow::Result<Vec<Trial>> {
    let mut sources = Vec::new();
    for suite in &cli.suites {
        let features = crate::suite_features(suite);
        for (name, text) in embedded_suite(suite)? {
            sources.push((name, Source::Embedded(text), features));
        }
    }
    for path in &cli.paths {
        for file in wast_files(path)? {
            sources.push((file.display().to_string(), Source::File(file), None));
        }
    }
    let mut seen = std::collections::HashSet::new();
    sources.retain(|(name, _, _)| seen.insert(name.clone()));
    // A filter that matches nothing is most likely a mistyped path.
    for filter in &cli.filters {
        if !sources
            .iter()
            .any(|(name, _, _)| name.contains(filter.as_str()))
        {
            bail!("`{filter}` is neither an existing path nor the name of a script to run");
        }
    }

    Ok(sources
        .into_iter()
        .map(|(name, source, features)| {
            let options = RunOptions {
                features,
                ..options.clone()
            };
            let known_directives = known.directives(&name);
            let known = known.reason(&name).map(str::to_owned);
            let totals = Arc::clone(totals);
            Trial::ignorable_test(name.clone(), move || {
                run_trial(name, source, &options, known, known_directives, &totals)
            })
        })
        .collect())
}

/// Runs one script on its own big-stack thread and turns its report into the trial's result.
fn run_trial(
    name: String,
    source: Source,
    options: &RunOptions,
    known: Option<String>,
    known_directives: std::collections::HashMap<usize, String>,
    totals: &Mutex<Totals>,
) -> Result<Completion, Failed> {
    let report = run_on_big_stack(name, source, options.clone());
    let counts = report.counts();
    let directive_verdict = report.check_known_directives(&known_directives);
    {
        let mut totals = totals.lock().unwrap_or_else(PoisonError::into_inner);
        totals.all += counts;
        if known.is_some() {
            totals.known += counts;
        } else if let Ok(known_failed) = directive_verdict {
            totals.known.failed += known_failed;
        }
    }
    if options.verbose {
        let verbose = report.verbose_message();
        if !verbose.is_empty() {
            print!("{verbose}");
        }
    }
    if known.is_none() && !known_directives.is_empty() {
        return match directive_verdict {
            Ok(_) => Ok(Completion::Completed),
            Err(message) => Err(message.trim_end().into()),
        };
    }
    match (report.is_success(), known) {
        (true, None) => Ok(Completion::Completed),
        (false, None) => Err(report.failure_message().trim_end().into()),
        (false, Some(reason)) => Ok(Completion::ignored_with(format!(
            "known failure ({reason})"
        ))),
        (true, Some(_)) => Err("unexpected pass; remove from known-failures.txt".into()),
    }
}

fn run_on_big_stack(name: String, source: Source, options: RunOptions) -> ScriptReport {
    let script_name = name.clone();
    let spawned = thread::Builder::new()
        .name(format!("script {name}"))
        .stack_size(SCRIPT_STACK_SIZE)
        .spawn(move || match source {
            Source::Embedded(text) => run_script(&script_name, text, &options),
            Source::File(path) => match fs::read_to_string(&path) {
                Ok(text) => run_script(&script_name, &text, &options),
                Err(err) => ScriptReport::single_failure(
                    script_name,
                    Location::START,
                    "read",
                    format!("expected a UTF-8 script file, got error: {err}"),
                ),
            },
        });
    match spawned {
        Ok(handle) => handle.join().unwrap_or_else(|payload| {
            ScriptReport::single_failure(
                name,
                Location::START,
                "script",
                format!(
                    "expected no panic, got panic: {}",
                    panic_message(payload.as_ref())
                ),
            )
        }),
        Err(err) => ScriptReport::single_failure(
            name,
            Location::START,
            "script",
            format!("expected a thread to run on, got error: {err}"),
        ),
    }
}

/// `--export-js DIR`: writes every script under `paths` as a node program.
fn export(paths: &[PathBuf], dir: &Path) -> ExitCode {
    let run = || -> anyhow::Result<()> {
        for path in paths {
            for file in wast_files(path)? {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let js = crate::export_js(&file.display().to_string(), &text, dir)?;
                println!("{}", js.display());
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Cli> {
        parse_args(
            std::iter::once("spec-runner")
                .chain(args.iter().copied())
                .map(str::to_owned),
        )
    }

    #[test]
    fn own_flags_are_stripped() {
        let cli = parse(&[
            "--suite",
            "wasm-v1",
            "--gc-stress",
            "--suite=gc",
            "--no-inlining",
            "--verbose",
            "--test-threads",
            "1",
            "--exact",
            "wasm-v1/i32.wast",
        ])
        .unwrap();
        assert_eq!(cli.suites, ["wasm-v1", "gc"]);
        assert!(cli.gc_stress && cli.no_inlining && cli.verbose && !cli.help);
        assert!(cli.paths.is_empty());
        assert_eq!(
            cli.libtest,
            [
                "spec-runner",
                "--test-threads",
                "1",
                "--exact",
                "wasm-v1/i32.wast"
            ]
        );
        // What we hand on must be acceptable to libtest-mimic.
        let args = Arguments::from_iter(&cli.libtest);
        assert_eq!(args.test_threads, Some(1));
        assert!(args.exact);
        assert_eq!(args.filter.as_deref(), Some("wasm-v1/i32.wast"));
    }

    #[test]
    fn existing_paths_are_scripts() {
        let manifest_dir = env!("CARGO_MANIFEST_DIR");
        let cli = parse(&[manifest_dir, "--skip", manifest_dir, "--list", "i32"]).unwrap();
        assert_eq!(cli.paths, [PathBuf::from(manifest_dir)]);
        assert_eq!(
            cli.libtest,
            ["spec-runner", "--skip", manifest_dir, "--list", "i32"]
        );
        let args = Arguments::from_iter(&cli.libtest);
        assert!(args.list);
        assert_eq!(args.skip, [manifest_dir]);
    }

    #[test]
    fn errors() {
        assert!(parse(&[]).is_err(), "nothing to run");
        assert!(parse(&["--suite"]).is_err(), "missing suite name");
        assert!(parse(&["--help"]).unwrap().help);
        assert!(parse(&["--suite", "gc", "--timeout"]).is_err());
        assert!(parse(&["--suite", "gc", "--fuel", "lots"]).is_err());
    }

    #[test]
    fn timeout_and_fuel() {
        let cli = parse(&["--suite", "gc"]).unwrap();
        assert_eq!((cli.timeout, cli.fuel), (Some(DEFAULT_TIMEOUT), None));
        let cli = parse(&["--suite", "gc", "--collector", "null"]).unwrap();
        assert_eq!(cli.collector, engine::Collector::Null);
        assert!(parse(&["--suite", "gc", "--collector", "copying"]).is_err());
        assert!(parse(&["--suite", "gc", "--collector"]).is_err());
        let cli = parse(&["--suite", "gc", "--timeout", "5", "--fuel", "1000"]).unwrap();
        assert_eq!(
            (cli.timeout, cli.fuel),
            (Some(Duration::from_secs(5)), Some(1000))
        );
        let cli = parse(&["--suite", "gc", "--timeout", "0"]).unwrap();
        assert_eq!(cli.timeout, None);
    }

    #[test]
    fn a_missing_path_is_an_error_not_an_empty_filter() {
        let totals = Arc::new(Mutex::new(Totals::default()));
        let options = RunOptions::default();
        let known = KnownFailures::default();
        let cli = parse(&["--suite", "gc", "/no/such.wast"]).unwrap();
        let err = trials(&cli, &options, &known, &totals).err().unwrap();
        assert!(err.to_string().contains("/no/such.wast"), "{err}");
        // A filter naming a script to run is fine.
        let cli = parse(&["--suite", "gc", "gc/array.wast"]).unwrap();
        assert!(trials(&cli, &options, &known, &totals).is_ok());
    }

    #[test]
    fn unknown_suite_is_an_error() {
        let cli = parse(&["--suite", "nope"]).unwrap();
        let totals = Arc::new(Mutex::new(Totals::default()));
        let err = trials(
            &cli,
            &RunOptions::default(),
            &KnownFailures::default(),
            &totals,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("unknown suite `nope`"));
    }

    #[test]
    fn trials_are_named_and_deduplicated() {
        let cli = parse(&["--suite", "wasm-v1", "--suite", "wasm-v1"]).unwrap();
        let totals = Arc::new(Mutex::new(Totals::default()));
        let trials = trials(
            &cli,
            &RunOptions::default(),
            &KnownFailures::default(),
            &totals,
        )
        .unwrap();
        assert_eq!(trials.len(), embedded_suite("wasm-v1").unwrap().len());
        assert!(trials.iter().any(|t| t.name() == "wasm-v1/i32.wast"));
    }

    #[test]
    fn known_failures_invert_the_verdict() {
        let totals = Mutex::new(Totals::default());
        let run = |text: &'static str, known: Option<&str>| {
            run_trial(
                "t.wast".to_owned(),
                Source::Embedded(text),
                &RunOptions::default(),
                known.map(str::to_owned),
                std::collections::HashMap::new(),
                &totals,
            )
        };
        // A script that does not parse fails without needing the engine.
        let broken = "(assert_return (invoke \"f\") (i32.const))";
        let err = run(broken, None).err().unwrap();
        assert!(err.message().unwrap().starts_with("t.wast:1:"), "{err:?}");
        match run(broken, Some("reason")) {
            Ok(Completion::Ignored { reason }) => {
                assert_eq!(reason.as_deref(), Some("known failure (reason)"));
            }
            _ => panic!("a listed failing trial is a known failure"),
        }
        let fine = "(module)";
        assert!(matches!(run(fine, None), Ok(Completion::Completed)));
        let err = run(fine, Some("reason")).err().unwrap();
        assert_eq!(
            err.message(),
            Some("unexpected pass; remove from known-failures.txt")
        );
        let totals = totals.into_inner().unwrap();
        assert_eq!(totals.all.failed, 2);
        assert_eq!(totals.known.failed, 1);
    }

    #[test]
    fn known_directives_must_fail_and_only_they_may() {
        let totals = Mutex::new(Totals::default());
        let script = "(module (func (export \"f\") (result i32) (i32.const 1)))\n\
                      (assert_return (invoke \"f\") (i32.const 2))\n\
                      (assert_return (invoke \"f\") (i32.const 1))";
        let run = |lines: &[usize]| {
            run_trial(
                "t.wast".to_owned(),
                Source::Embedded(script),
                &RunOptions::default(),
                None,
                lines.iter().map(|&l| (l, "why".to_owned())).collect(),
                &totals,
            )
        };
        assert!(matches!(run(&[2]), Ok(Completion::Completed)));
        let unexpected = run(&[2, 3])
            .err()
            .expect("a listed passing directive fails the trial");
        assert!(format!("{unexpected:?}").contains("unexpected pass"));
        let unlisted = run(&[3])
            .err()
            .expect("an unlisted failure fails the trial");
        assert!(format!("{unlisted:?}").contains("expected i32:2"));
    }
}
