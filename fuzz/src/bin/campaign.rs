//! A differential campaign: `campaign [--seeds FROM..TO] [--bytes N] [--fuel N]
//! [--gc-stress] [--collector drc|copying] [--no-gc] [--no-exceptions] [--termination N]
//! [--out DIR]`.
//!
//! For every seed, generates a wasm-smith module from `N` seeded bytes, runs it in this
//! engine and in Wasmtime 48, and compares. A divergence is written to `DIR/seed-S.wasm` with
//! a `.txt` beside it; the run goes on. Prints totals every 10,000 seeds and at the end:
//! modules, calls, traps by kind, divergences.

use anyhow::{Context, Result, bail};
use fuzz::{Wasmtime, WasmtimeCollector};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use tests::differential::{CallOutcome, CaseOutcome, Features, Plan, ThisEngine, run_case};
use tests::fuzz::seeded_bytes;

struct Args {
    seeds: std::ops::Range<u64>,
    bytes: usize,
    fuel: Option<u64>,
    gc_stress: bool,
    collector: WasmtimeCollector,
    features: Features,
    out: PathBuf,
}

fn parse() -> Result<Args> {
    let mut args = Args {
        seeds: 0..1_000,
        bytes: 16 << 10,
        fuel: None,
        gc_stress: false,
        collector: WasmtimeCollector::Drc,
        features: Features {
            gc: true,
            exceptions: true,
            termination_fuel: 10_000,
        },
        out: PathBuf::from("findings"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => {
                let v = value()?;
                let (from, to) = v.split_once("..").context("--seeds FROM..TO")?;
                args.seeds = from.parse()?..to.parse()?;
            }
            "--bytes" => args.bytes = value()?.parse()?,
            "--fuel" => args.fuel = Some(value()?.parse()?),
            "--termination" => args.features.termination_fuel = value()?.parse()?,
            "--gc-stress" => args.gc_stress = true,
            "--no-gc" => args.features.gc = false,
            "--no-exceptions" => args.features.exceptions = false,
            "--collector" => {
                args.collector = match value()?.as_str() {
                    "drc" => WasmtimeCollector::Drc,
                    "copying" => WasmtimeCollector::Copying,
                    other => bail!("unknown collector `{other}`"),
                }
            }
            "--out" => args.out = PathBuf::from(value()?),
            other => bail!("unknown argument `{other}`"),
        }
    }
    Ok(args)
}

#[derive(Default)]
struct Totals {
    seeds: u64,
    modules: u64,
    instantiated: u64,
    calls: u64,
    returned: u64,
    outcomes: BTreeMap<String, u64>,
    divergences: u64,
}

impl Totals {
    fn print(&self, started: Instant) {
        println!(
            "{} seeds, {} modules, {} instantiated, {} calls ({} returned), {} divergences, {:.0} s",
            self.seeds,
            self.modules,
            self.instantiated,
            self.calls,
            self.returned,
            self.divergences,
            started.elapsed().as_secs_f64()
        );
        for (k, v) in &self.outcomes {
            println!("  {v:8} {k}");
        }
    }
}

fn main() -> Result<()> {
    let args = parse()?;
    std::fs::create_dir_all(&args.out)?;
    let mut ours = ThisEngine::new(args.gc_stress, args.fuel.is_some())?;
    let mut theirs = Wasmtime::new(args.features, args.collector, args.fuel.is_some())?;
    let mut totals = Totals::default();
    let started = Instant::now();
    println!(
        "seeds {:?}, {} bytes, {:?}, fuel {:?}, gc stress {}, Wasmtime's {:?} collector",
        args.seeds, args.bytes, args.features, args.fuel, args.gc_stress, args.collector
    );
    for seed in args.seeds.clone() {
        totals.seeds += 1;
        let data = seeded_bytes(seed, args.bytes);
        let plan = Plan {
            seed,
            fuel: args.fuel,
        };
        match run_case(&data, args.features, &plan, &mut ours, &mut theirs) {
            CaseOutcome::NoModule => {}
            CaseOutcome::Agreed { left: exec, .. } => {
                totals.modules += 1;
                match &exec.instantiated {
                    Some(Ok(())) => totals.instantiated += 1,
                    Some(Err(t)) => {
                        *totals
                            .outcomes
                            .entry(format!("instantiation {t:?}"))
                            .or_default() += 1
                    }
                    None => *totals.outcomes.entry("rejected".to_owned()).or_default() += 1,
                }
                for (_, outcome) in &exec.calls {
                    totals.calls += 1;
                    let key = match outcome {
                        CallOutcome::Returned { .. } => {
                            totals.returned += 1;
                            continue;
                        }
                        CallOutcome::Trapped(t) => format!("trap {t:?}"),
                        CallOutcome::NotCalled => "not called".to_owned(),
                    };
                    *totals.outcomes.entry(key).or_default() += 1;
                }
            }
            CaseOutcome::Diverged { wasm, divergence } => {
                totals.modules += 1;
                totals.divergences += 1;
                println!("seed {seed}: {divergence}");
                std::fs::write(args.out.join(format!("seed-{seed}.wasm")), &wasm)?;
                std::fs::write(
                    args.out.join(format!("seed-{seed}.txt")),
                    format!("{:?}\nseed {seed}\n{divergence}\n", args.features),
                )?;
            }
        }
        if totals.seeds.is_multiple_of(10_000) {
            totals.print(started);
        }
    }
    totals.print(started);
    Ok(())
}
