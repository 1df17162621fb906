//! Running one `.wast` script: parse it, then execute its directives in order against one
//! store and one linker, recording an [`Outcome`] per directive.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use engine::{Config, Engine, Instance, Linker, Module, Store, Trap, UpdateDeadline, Val};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

use crate::report::{Location, Outcome, ScriptReport};
use crate::spectest;
use crate::values::{
    COMPONENTS, STACK_SWITCHING, THREADS, Unsupported, arg_to_val, check_ret_supported,
    display_rets, display_vals, match_ret,
};

/// How to run scripts.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run the engine in GC stress mode ([`engine::Config::gc_stress`]).
    pub gc_stress: bool,
    /// The garbage collector ([`engine::Config::collector`]).
    pub collector: engine::Collector,
    /// Do not inline tiny leaf functions ([`engine::Config::inlining`]).
    pub no_inlining: bool,
    /// The Wasm features to validate with; `None` for the engine's defaults. The embedded
    /// suites of older spec versions need theirs ([`suite_features`](crate::suite_features)).
    pub features: Option<engine::WasmFeatures>,
    /// Record the expected and actual error messages of `assert_invalid`, `assert_malformed`
    /// and `assert_unlinkable` as [notes](crate::DirectiveReport::note).
    pub verbose: bool,
    /// Stop the script once it has run this long: Wasm code is interrupted at its next
    /// function entry or loop header (epoch interruption), the directive running fails, and
    /// every directive after it fails as not run. `None`: no limit.
    pub timeout: Option<Duration>,
    /// Give every directive this much fuel ([`engine::Config::consume_fuel`]); a directive
    /// that uses it up traps with "all fuel consumed by WebAssembly". `None`: unmetered.
    pub fuel: Option<u64>,
    /// Accept legacy exception handling ([`engine::Config::wasm_legacy_exceptions`]).
    pub legacy_exceptions: bool,
    /// `assert_trap` accepts only the engine's own trap messages, not the wordings other
    /// engines' suites use for the same trap (`trap_aliases.rs`).
    pub strict_messages: bool,
}

/// The error a script's Wasm code stops with once its `--timeout` has passed.
#[derive(Debug)]
struct TimedOut(Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the script timed out after {} s", self.0.as_secs_f64())
    }
}

impl std::error::Error for TimedOut {}

/// Advances an engine's epoch every few milliseconds until dropped, so a store's deadline
/// callback gets to look at the clock.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    const PERIOD: Duration = Duration::from_millis(10);

    fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("spec-runner epoch ticker".to_owned())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Self::PERIOD);
                        engine.increment_epoch();
                    }
                })
                .ok()
        };
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs the `.wast` script `text` and reports every directive's outcome.
///
/// `name` is used as the path in failure messages. The script gets its own engine, store and
/// linker, with the `spectest` module defined. A script that fails to parse yields one failed
/// directive at the parse error's location. A panic inside a directive is caught and recorded
/// as that directive's failure; the script goes on.
pub fn run_script(name: &str, text: &str, options: &RunOptions) -> ScriptReport {
    let mut report = ScriptReport::new(name);

    let mut lexer = Lexer::new(text);
    // Some spec scripts (names.wast) deliberately contain bidirectional-text characters.
    lexer.allow_confusing_unicode(true);
    let parse_error = |report: &mut ScriptReport, err: wast::Error| {
        report.record(
            Location::of_span(err.span(), text),
            "parse",
            Outcome::Failed(format!("expected a script, got error: {}", err.message())),
            None,
        );
    };
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(err) => {
            parse_error(&mut report, err);
            return report;
        }
    };
    let wast = match parser::parse::<Wast<'_>>(&buf) {
        Ok(wast) => wast,
        Err(err) => {
            parse_error(&mut report, err);
            return report;
        }
    };

    let mut runner = match Runner::new(options) {
        Ok((runner, spectest_error)) => {
            if let Some(err) = spectest_error {
                report.record(
                    Location::START,
                    "spectest",
                    Outcome::Failed(format!(
                        "expected the spectest module to be defined, got error: {err:#}"
                    )),
                    None,
                );
            }
            runner
        }
        Err(err) => {
            report.record(
                Location::START,
                "engine",
                Outcome::Failed(format!("expected an engine, got error: {err:#}")),
                None,
            );
            return report;
        }
    };

    runner.run_all(wast.directives, text, &mut report);
    report
}

/// The keyword a directive is written with, for messages.
fn directive_kind(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Why a directive did not pass.
#[derive(Clone, Debug)]
enum Fail {
    /// The directive failed; the message reads `expected ..., got ...`.
    Failed(String),
    /// The directive needs a missing engine feature; the reason names it.
    Skipped(String),
}

impl Fail {
    /// What a later directive that depends on this one's result (an instance, a definition)
    /// reports: a failure points back at `what` at `at`; a skip stays a skip.
    fn dependent(&self, what: &str, at: Location) -> Fail {
        match self {
            Fail::Failed(_) => Fail::Failed(format!(
                "expected {what}, got none: the {what} at {at} failed"
            )),
            Fail::Skipped(reason) => Fail::Skipped(reason.clone()),
        }
    }
}

impl From<Unsupported> for Fail {
    fn from(Unsupported(reason): Unsupported) -> Fail {
        Fail::Skipped(reason.to_owned())
    }
}

fn fail(message: impl Into<String>) -> Fail {
    Fail::Failed(message.into())
}

/// A successful execution of an action.
enum Done {
    /// A function returned, or a global was read.
    Returned(Vec<Val>),
    /// A module (`assert_trap (module ...)`) instantiated.
    Instantiated,
}

impl Done {
    fn into_values(self) -> Vec<Val> {
        match self {
            Done::Returned(vals) => vals,
            Done::Instantiated => Vec::new(),
        }
    }
}

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Done::Returned(vals) => write!(f, "results {}", display_vals(vals)),
            Done::Instantiated => f.write_str("a successful instantiation"),
        }
    }
}

/// The state one script's directives share.
struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module, or why there is none.
    current: Result<Instance, Fail>,
    /// Instances of modules with a `$name`, or why the named module did not instantiate.
    instances: HashMap<String, Result<Instance, Fail>>,
    /// `module definition`s by `$name` (`None` for an unnamed one), or why they failed.
    definitions: HashMap<Option<String>, Result<Module, Fail>>,
    verbose: bool,
    /// The current directive's note for `--verbose`.
    note: Option<String>,
    /// When the script must stop (`RunOptions::timeout`), and what advances the epoch so
    /// that running Wasm notices.
    deadline: Option<(Instant, Duration)>,
    _ticker: Option<Ticker>,
    /// Fuel each directive gets.
    fuel: Option<u64>,
    /// `RunOptions::strict_messages`.
    strict_messages: bool,
}

impl Runner {
    /// A runner with a fresh engine, store and linker. A failure to define `spectest` is
    /// returned beside the runner: scripts that do not import it can still run.
    fn new(options: &RunOptions) -> anyhow::Result<(Runner, Option<anyhow::Error>)> {
        let mut config = Config::new();
        config.gc_stress(options.gc_stress);
        config.collector(options.collector);
        config.inlining(!options.no_inlining);
        config.epoch_interruption(options.timeout.is_some());
        config.consume_fuel(options.fuel.is_some());
        if let Some(features) = options.features {
            config.wasm_features(features);
        }
        if options.legacy_exceptions {
            config.wasm_legacy_exceptions(true);
        }
        let engine = Engine::new(&config).context("failed to create the engine")?;
        let mut store = Store::new(&engine, ());
        let deadline = options.timeout.map(|t| (Instant::now() + t, t));
        if let Some((at, timeout)) = deadline {
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |_| {
                if Instant::now() >= at {
                    Err(TimedOut(timeout).into())
                } else {
                    Ok(UpdateDeadline::Continue(1))
                }
            });
        }
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        let spectest_error = spectest::define(&mut linker, &mut store).err();
        let runner = Runner {
            store,
            linker,
            current: Err(fail(
                "expected a module, got none: no module instantiated yet",
            )),
            instances: HashMap::new(),
            definitions: HashMap::new(),
            verbose: options.verbose,
            note: None,
            _ticker: deadline.map(|_| Ticker::start(&engine)),
            deadline,
            fuel: options.fuel,
            strict_messages: options.strict_messages,
            engine,
        };
        Ok((runner, spectest_error))
    }

    /// Runs `directives` in order, recording each outcome in `report`. A panic is caught and
    /// recorded as the directive's failure.
    fn run_all(
        &mut self,
        directives: Vec<WastDirective<'_>>,
        text: &str,
        report: &mut ScriptReport,
    ) {
        let mut timed_out: Option<Location> = None;
        for directive in directives {
            let at = Location::of_span(directive.span(), text);
            let kind = directive_kind(&directive);
            if let Some(stopped) = timed_out {
                let message =
                    format!("expected to run, got none: the script timed out at {stopped}");
                report.record(at, kind, Outcome::Failed(message), None);
                continue;
            }
            log::debug!("{}:{at}: {kind}", report.name);
            self.note = None;
            if let Some(fuel) = self.fuel {
                self.store.set_fuel(fuel).expect("fuel is configured");
            }
            let result = panic::catch_unwind(AssertUnwindSafe(|| self.run(directive, at)));
            let mut outcome = match result {
                Ok(Ok(())) => Outcome::Passed,
                Ok(Err(Fail::Failed(message))) => Outcome::Failed(message),
                Ok(Err(Fail::Skipped(reason))) => Outcome::Skipped(reason),
                Err(payload) => Outcome::Failed(format!(
                    "expected no panic, got panic: {}",
                    panic_message(payload.as_ref())
                )),
            };
            if let Some((deadline, timeout)) = self.deadline
                && Instant::now() >= deadline
            {
                // Whatever the directive reported, the script's time is up.
                timed_out = Some(at);
                if !matches!(outcome, Outcome::Failed(_)) {
                    outcome = Outcome::Failed(format!(
                        "expected to finish in time, got: {}",
                        TimedOut(timeout)
                    ));
                }
            }
            report.record(at, kind, outcome, self.note.take());
        }
    }

    fn run(&mut self, directive: WastDirective<'_>, at: Location) -> Result<(), Fail> {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_owned());
                let result = self
                    .compile(&mut module)
                    .and_then(|module| self.instantiate_module(&module));
                self.set_current(name, result, at)
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_owned());
                let result = self.compile(&mut module);
                let outcome = result.as_ref().map(|_| ()).map_err(Fail::clone);
                let stored = result.map_err(|f| f.dependent("module definition", at));
                self.definitions.insert(name, stored);
                outcome
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let key = module.map(|id| id.name().to_owned());
                let result = match self.definitions.get(&key) {
                    Some(Ok(module)) => {
                        let module = module.clone();
                        self.instantiate_module(&module)
                    }
                    Some(Err(f)) => Err(f.clone()),
                    None => Err(fail(format!(
                        "expected a module definition {}, got none",
                        show_name(module)
                    ))),
                };
                let name = instance.map(|id| id.name().to_owned());
                self.set_current(name, result, at)
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .map_err(|e| {
                        fail(format!(
                            "expected to register \"{name}\", got error: {}",
                            engine::error_report(&e)
                        ))
                    })?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(()),
                Err(e) => Err(fail(format!(
                    "expected success, got error: {}",
                    engine::error_report(&e)
                ))),
            },
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => {
                for expected in &results {
                    check_ret_supported(expected)?;
                }
                let vals = match self.execute(&mut exec)? {
                    Ok(done) => done.into_values(),
                    Err(e) => {
                        return Err(fail(format!(
                            "expected {}, got error: {}",
                            display_rets(&results),
                            engine::error_report(&e)
                        )));
                    }
                };
                if vals.len() != results.len() {
                    return Err(fail(format!(
                        "expected {}, got {}",
                        display_rets(&results),
                        display_vals(&vals)
                    )));
                }
                for (i, (actual, expected)) in vals.iter().zip(&results).enumerate() {
                    match_ret(&self.store, actual, expected).map_err(|m| {
                        if results.len() == 1 {
                            fail(m)
                        } else {
                            fail(format!("result {i}: {m}"))
                        }
                    })?;
                }
                Ok(())
            }
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => {
                let result = self.execute(&mut exec)?;
                expect_trap(result, message, self.strict_messages)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = self.invoke(&call)?.map(Done::Returned);
                expect_trap(result, message, self.strict_messages)
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.expect_compile_error(&mut module, message),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let module = self.compile_wat(&mut module)?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Ok(_) => Err(fail(format!(
                        "expected link error \"{message}\", got a successful instantiation"
                    ))),
                    Err(e) if find_trap(&e).is_some() => Err(fail(format!(
                        "expected link error \"{message}\", got trap: {}",
                        engine::error_report(&e)
                    ))),
                    Err(e) => {
                        self.set_note(message, &engine::error_report(&e));
                        Ok(())
                    }
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => Err(Fail::Skipped(
                "custom section validation not supported".to_owned(),
            )),
            WastDirective::AssertException { mut exec, .. } => match self.execute(&mut exec)? {
                Err(e) if e.downcast_ref::<engine::ThrownException>().is_some() => Ok(()),
                Err(e) => Err(fail(format!(
                    "expected an uncaught exception, got error: {}",
                    engine::error_report(&e)
                ))),
                Ok(done) => Err(fail(format!("expected an uncaught exception, got {done}"))),
            },
            WastDirective::AssertSuspension { .. } => {
                Err(Fail::Skipped(STACK_SWITCHING.to_owned()))
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Err(Fail::Skipped(THREADS.to_owned()))
            }
        }
    }

    /// Makes `result` the current instance (and `$name`'s, if named); returns the directive's
    /// own outcome.
    fn set_current(
        &mut self,
        name: Option<String>,
        result: Result<Instance, Fail>,
        at: Location,
    ) -> Result<(), Fail> {
        let (stored, outcome) = match result {
            Ok(instance) => (Ok(instance), Ok(())),
            Err(f) => (Err(f.dependent("module", at)), Err(f)),
        };
        if let Some(name) = name {
            self.instances.insert(name, stored.clone());
        }
        self.current = stored;
        outcome
    }

    /// The instance `module` names, or the current one.
    fn instance(&self, module: Option<Id<'_>>) -> Result<Instance, Fail> {
        match module {
            None => self.current.clone(),
            Some(id) => self.instances.get(id.name()).cloned().unwrap_or_else(|| {
                Err(fail(format!(
                    "expected an instance {}, got none",
                    show_name(module)
                )))
            }),
        }
    }

    /// Encodes and compiles a module; failing either is a failure.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, Fail> {
        let bytes = encode(module)?.map_err(|e| {
            fail(format!(
                "expected a module, got text format error: {}",
                e.message()
            ))
        })?;
        self.compile_bytes(&bytes)
    }

    fn compile_wat(&self, module: &mut Wat<'_>) -> Result<Module, Fail> {
        if let Wat::Component(_) = module {
            return Err(Fail::Skipped(COMPONENTS.to_owned()));
        }
        let bytes = module.encode().map_err(|e| {
            fail(format!(
                "expected a module, got text format error: {}",
                e.message()
            ))
        })?;
        self.compile_bytes(&bytes)
    }

    /// Compiles binary bytes. `wast` has already encoded every module form to binary, so this
    /// uses `Module::from_binary`: `Module::new` would read bytes without the `\0asm` magic
    /// (e.g. `(module binary "")`, which must be malformed) as text.
    fn compile_bytes(&self, bytes: &[u8]) -> Result<Module, Fail> {
        Module::from_binary(&self.engine, bytes).map_err(|e| {
            fail(format!(
                "expected a valid module, got error: {}",
                engine::error_report(&e)
            ))
        })
    }

    fn instantiate_module(&mut self, module: &Module) -> Result<Instance, Fail> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(|e| {
                fail(format!(
                    "expected an instance, got error: {}",
                    engine::error_report(&e)
                ))
            })
    }

    /// Runs an action. The outer `Result` is the runner's (missing export, unsupported
    /// argument); the inner one is the engine's (a trap, a link error).
    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<anyhow::Result<Done>, Fail> {
        match exec {
            WastExecute::Invoke(invoke) => Ok(self.invoke(invoke)?.map(Done::Returned)),
            WastExecute::Wat(module) => {
                let module = self.compile_wat(module)?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .map(|_| Done::Instantiated))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(*module)?;
                let global = instance.get_global(&self.store, global).ok_or_else(|| {
                    fail(format!(
                        "expected an exported global \"{global}\", got none"
                    ))
                })?;
                Ok(Ok(Done::Returned(vec![global.get(&mut self.store)])))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<anyhow::Result<Vec<Val>>, Fail> {
        let instance = self.instance(invoke.module)?;
        let func = instance.get_func(&self.store, invoke.name).ok_or_else(|| {
            fail(format!(
                "expected an exported function \"{}\", got none",
                invoke.name
            ))
        })?;
        let args = invoke
            .args
            .iter()
            .zip(
                func.ty(&self.store)
                    .params()
                    .iter()
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .map(|(arg, ty)| arg_to_val(&mut self.store, arg, ty))
            .collect::<Result<Vec<_>, _>>()?;
        let mut results = vec![Val::null_func_ref(); func.ty(&self.store).results().len()];
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    /// `assert_invalid` / `assert_malformed`: the module must fail to encode (text that does not
    /// parse is malformed) or to compile. The message need not match; `--verbose` shows both.
    fn expect_compile_error(
        &mut self,
        module: &mut QuoteWat<'_>,
        message: &str,
    ) -> Result<(), Fail> {
        let actual = match encode(module)? {
            Err(e) => format!("text format error: {}", e.message()),
            Ok(bytes) => match Module::from_binary(&self.engine, &bytes) {
                Ok(_) => {
                    return Err(fail(format!(
                        "expected error \"{message}\", got a module that compiled"
                    )));
                }
                Err(e) => engine::error_report(&e),
            },
        };
        self.set_note(message, &actual);
        Ok(())
    }

    fn set_note(&mut self, expected: &str, actual: &str) {
        if self.verbose {
            self.note = Some(format!("expected message \"{expected}\", got \"{actual}\""));
        }
    }
}

/// Encodes a module to bytes. The outer `Result` skips components; the inner one is the text
/// format's error (a `quote` module that does not parse, a name that does not resolve).
fn encode(module: &mut QuoteWat<'_>) -> Result<Result<Vec<u8>, wast::Error>, Fail> {
    match module {
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) => {
            Err(Fail::Skipped(COMPONENTS.to_owned()))
        }
        QuoteWat::QuoteModule(..) | QuoteWat::Wat(Wat::Module(_)) => Ok(module.encode()),
    }
}

/// The [`Trap`] an engine error carries, if any.
fn find_trap(err: &anyhow::Error) -> Option<&Trap> {
    err.downcast_ref::<Trap>()
        .or_else(|| err.chain().find_map(|e| e.downcast_ref::<Trap>()))
}

/// `assert_trap` / `assert_exhaustion`: the action must fail with a [`Trap`], and the trap's
/// message (or another message in the error chain, or unless `strict` one of the trap's
/// other wordings in `trap_aliases`) must contain `expected`, or `expected` must be the
/// trap's message followed by a detail the reference interpreter adds (the spec suites
/// write `uninitialized element 7`, naming the index, where the trap is `uninitialized
/// element`).
fn expect_trap(result: anyhow::Result<Done>, expected: &str, strict: bool) -> Result<(), Fail> {
    let err = match result {
        Ok(done) => return Err(fail(format!("expected trap \"{expected}\", got {done}"))),
        Err(err) => err,
    };
    let Some(trap) = find_trap(&err) else {
        return Err(fail(format!(
            "expected trap \"{expected}\", got non-trap error: {err:#}"
        )));
    };
    let message = trap.to_string();
    let with_detail = expected
        .strip_prefix(message.as_str())
        .is_some_and(|rest| rest.starts_with(' '));
    let alias = !strict
        && crate::trap_aliases::aliases(*trap)
            .iter()
            .any(|a| a.contains(expected));
    if message.contains(expected)
        || with_detail
        || alias
        || err.chain().any(|e| e.to_string().contains(expected))
    {
        Ok(())
    } else {
        Err(fail(format!(
            "expected trap \"{expected}\", got trap \"{trap}\""
        )))
    }
}

fn show_name(id: Option<Id<'_>>) -> String {
    match id {
        Some(id) => format!("${}", id.name()),
        None => "(unnamed)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> ScriptReport {
        run_script("test.wast", text, &RunOptions::default())
    }

    #[test]
    fn trap_messages_may_carry_a_detail() {
        let err =
            || -> anyhow::Result<Done> { Err(anyhow::Error::new(Trap::UninitializedElement)) };
        for strict in [false, true] {
            assert!(expect_trap(err(), "uninitialized element 7", strict).is_ok());
            assert!(expect_trap(err(), "uninitialized element", strict).is_ok());
            assert!(expect_trap(err(), "uninitialized elements", strict).is_err());
            assert!(expect_trap(err(), "undefined element", strict).is_err());
        }
    }

    #[test]
    fn parse_error_is_one_failure_with_location() {
        let report = run("(module)\n  (assert_return (invoke \"f\") (i32.const))");
        assert_eq!(report.directives.len(), 1);
        assert_eq!(report.failed(), 1);
        let d = &report.directives[0];
        assert_eq!(d.kind, "parse");
        assert_eq!(d.location.line, 2);
        assert!(
            report.failure_message().starts_with("test.wast:2:"),
            "{}",
            report.failure_message()
        );
    }

    fn outcomes(report: &ScriptReport) -> Vec<(usize, &'static str, char)> {
        report
            .directives
            .iter()
            .map(|d| {
                let c = match d.outcome {
                    Outcome::Passed => 'p',
                    Outcome::Failed(_) => 'F',
                    Outcome::Skipped(_) => 's',
                };
                (d.location.line, d.kind, c)
            })
            .collect()
    }

    /// Every outcome kind, on a script that needs nothing but i32 arithmetic from the engine.
    #[test]
    fn counts_each_directive() {
        let script = r#"(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 1) (i32.const 1)) "integer divide by zero")
(invoke "add" (i32.const 0) (i32.const 0))
(assert_return (invoke "add" (ref.null cont) (i32.const 0)) (i32.const 0))
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected token")
(assert_malformed (module (func (result i32) (i32.const 0))) "not malformed")
(assert_exception (invoke "add" (i32.const 0) (i32.const 0)))
(assert_return (invoke "missing"))
(module (func (export "f") (result i32) (i64.const 0)))
(assert_return (invoke "f") (i32.const 0))
"#;
        let report = run(script);
        assert_eq!(
            outcomes(&report),
            [
                (1, "module", 'p'),
                (4, "assert_return", 'p'),
                (5, "assert_return", 'F'),
                (6, "assert_trap", 'p'),
                (7, "assert_trap", 'F'),
                (8, "invoke", 'p'),
                (9, "assert_return", 's'),
                (10, "assert_invalid", 'p'),
                (11, "assert_malformed", 'p'),
                (12, "assert_malformed", 'F'),
                (13, "assert_exception", 'F'),
                (14, "assert_return", 'F'),
                (15, "module", 'F'),
                (16, "assert_return", 'F'),
            ]
        );
        assert_eq!(
            (report.passed(), report.failed(), report.skipped()),
            (6, 7, 1)
        );
        let message = report.failure_message();
        let lines: Vec<&str> = message
            .lines()
            .filter(|l| l.starts_with("test.wast"))
            .collect();
        assert_eq!(lines.len(), 7, "{message}");
        assert_eq!(
            lines[0],
            "test.wast:5:2: assert_return: expected i32:4, got i32:3"
        );
        assert_eq!(
            lines[1],
            "test.wast:7:2: assert_trap: expected trap \"integer divide by zero\", got results [i32:1]"
        );
        assert!(lines[2].starts_with("test.wast:12:2: assert_malformed: expected error"));
        assert_eq!(
            lines[3],
            "test.wast:13:2: assert_exception: expected an uncaught exception, got results [i32:0]"
        );
        assert!(
            lines[6].ends_with("the module at 15:2 failed"),
            "{}",
            lines[6]
        );
        let skipped = &report.directives[6].outcome;
        assert_eq!(
            skipped,
            &Outcome::Skipped("stack switching not supported yet".to_owned())
        );
    }

    /// Named modules, `register`, `get`, `module definition`/`instance` and `spectest`.
    #[test]
    fn modules_and_linking() {
        let script = r#"(module $m
  (global (export "g") i32 (i32.const 5))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
(register "m" $m)
(module
  (import "m" "add" (func $add (param i32 i32) (result i32)))
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (func (export "add3") (param i32) (result i32)
    (call $print (local.get 0))
    (call $add (local.get 0) (i32.const 3)))
  (func (export "g666") (result i32) (global.get $g)))
(assert_return (invoke "add3" (i32.const 4)) (i32.const 7))
(assert_return (invoke "g666") (i32.const 666))
(assert_return (invoke $m "add" (i32.const 4) (i32.const 4)) (i32.const 8))
(assert_return (get $m "g") (i32.const 5))
(assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
(module definition $d (func (export "one") (result i32) (i32.const 1)))
(module instance $i $d)
(assert_return (invoke $i "one") (i32.const 1))
(assert_return (invoke "one") (either (i32.const 0) (i32.const 1)))
"#;
        let report = run(script);
        assert_eq!(report.failure_message(), "");
        assert_eq!(
            (report.passed(), report.failed(), report.skipped()),
            (12, 0, 0)
        );
    }

    #[test]
    fn verbose_records_message_pairs() {
        let script =
            r#"(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")"#;
        let options = RunOptions {
            verbose: true,
            ..RunOptions::default()
        };
        let report = run_script("v.wast", script, &options);
        let note = report.directives[0].note.as_deref().unwrap();
        assert!(
            note.starts_with("expected message \"type mismatch\", got \""),
            "{note}"
        );
        assert!(
            report
                .verbose_message()
                .starts_with("v.wast:1:2: assert_invalid: ")
        );
        assert_eq!(run(script).directives[0].note, None);
    }

    /// Other engines' wordings of a trap pass, unless `strict_messages`.
    #[test]
    fn trap_messages_accept_other_engines_wordings() {
        let script = r#"
            (module (type $s (struct (field i32)))
              (table 1 funcref)
              (func (export "get") (result i32) (struct.get $s 0 (ref.null $s)))
              (func (export "call") (call_indirect (i32.const 5))))
            (assert_trap (invoke "get") "null reference")
            (assert_trap (invoke "call") "out of bounds")
            (assert_trap (invoke "get") "null structure reference")
            (assert_trap (invoke "get") "out of bounds")"#;
        let report = run(script);
        let passed: Vec<bool> = report
            .directives
            .iter()
            .map(|d| matches!(d.outcome, Outcome::Passed))
            .collect();
        assert_eq!(passed, [true, true, true, true, false], "{report:?}");
        let strict = RunOptions {
            strict_messages: true,
            ..RunOptions::default()
        };
        let report = run_script("s.wast", script, &strict);
        let passed: Vec<bool> = report
            .directives
            .iter()
            .map(|d| matches!(d.outcome, Outcome::Passed))
            .collect();
        assert_eq!(passed, [true, false, false, true, false], "{report:?}");
    }

    /// A panic during a directive fails that directive only.
    #[test]
    fn panics_are_caught() {
        let script = r#"(module
  (import "test" "panic" (func $panic))
  (func (export "boom") (call $panic))
  (func (export "ok") (result i32) (i32.const 7)))
(invoke "boom")
(assert_return (invoke "ok") (i32.const 7))
"#;
        let (mut runner, spectest_error) = Runner::new(&RunOptions::default()).unwrap();
        assert!(spectest_error.is_none());
        let func = engine::Func::new(
            &mut runner.store,
            engine::FuncType::new([], []),
            |_, _, _| panic!("host function panicked on purpose"),
        );
        runner
            .linker
            .define(&runner.store, "test", "panic", func)
            .unwrap();
        let buf = ParseBuffer::new(script).unwrap();
        let wast = parser::parse::<Wast<'_>>(&buf).unwrap();
        let mut report = ScriptReport::new("panic.wast");
        runner.run_all(wast.directives, script, &mut report);
        assert_eq!(
            outcomes(&report),
            [
                (1, "module", 'p'),
                (5, "invoke", 'F'),
                (6, "assert_return", 'p')
            ]
        );
        assert_eq!(
            report.failure_message(),
            "panic.wast:5:2: invoke: expected no panic, got panic: host function panicked on purpose\n"
        );
    }

    #[test]
    fn directive_kinds_are_named() {
        let buf = ParseBuffer::new("(module definition $m) (module instance $i $m)").unwrap();
        let wast = parser::parse::<Wast<'_>>(&buf).unwrap();
        let kinds: Vec<_> = wast.directives.iter().map(directive_kind).collect();
        assert_eq!(kinds, ["module definition", "module instance"]);
    }

    #[test]
    fn a_timeout_stops_a_runaway_script_and_fails_the_rest() {
        let script = r#"(module
              (func (export "spin") (loop (br 0)))
              (func (export "one") (result i32) (i32.const 1)))
            (assert_return (invoke "one") (i32.const 1))
            (invoke "spin")
            (assert_return (invoke "one") (i32.const 1))"#;
        let options = RunOptions {
            timeout: Some(Duration::from_millis(300)),
            ..RunOptions::default()
        };
        let started = Instant::now();
        let report = run_script("spin.wast", script, &options);
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(
            outcomes(&report),
            [
                (1, "module", 'p'),
                (4, "assert_return", 'p'),
                (5, "invoke", 'F'),
                (6, "assert_return", 'F')
            ]
        );
        let message = report.failure_message();
        assert!(
            message.contains("the script timed out after 0.3 s"),
            "{message}"
        );
        assert!(
            message.contains("the script timed out at 5:14"),
            "{message}"
        );
    }

    #[test]
    fn fuel_meters_each_directive() {
        let script = r#"(module
              (func (export "count") (param $n i32)
                (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
            (invoke "count" (i32.const 10))
            (invoke "count" (i32.const 10))
            (assert_trap (invoke "count" (i32.const 1000)) "all fuel consumed")"#;
        let options = RunOptions {
            fuel: Some(100),
            ..RunOptions::default()
        };
        let report = run_script("fuel.wast", script, &options);
        assert_eq!(
            outcomes(&report),
            [
                (1, "module", 'p'),
                (4, "invoke", 'p'),
                (5, "invoke", 'p'),
                (6, "assert_trap", 'p')
            ]
        );
    }
}
