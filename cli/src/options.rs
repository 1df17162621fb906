//! Engine options shared by the subcommands.

use anyhow::{Result, bail};
use engine::{Collector, Config, WasmFeatures};

/// How to configure the engine.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineOptions {
    /// Wasm options, comma-separated `NAME[=y|n]` or `NAME=VALUE`: the proposals `gc`,
    /// `exceptions`, `legacy-exceptions`, `tail-call`, `function-references`,
    /// `multi-memory`, `extended-const`, `simd`, `relaxed-simd`, `memory64`,
    /// `wide-arithmetic`, `custom-page-sizes`; `fuel=N` (units of fuel for the run).
    #[arg(short = 'W', value_name = "OPT[,OPT...]")]
    pub wasm: Vec<String>,
    /// The garbage collector: `drc` (default) or `null` (never frees).
    #[arg(long, value_name = "NAME", default_value = "drc")]
    pub collector: Collector,
    /// Collect garbage at every opportunity (to expose missing roots in tests).
    #[arg(long)]
    pub gc_stress: bool,
    /// Do not inline tiny leaf functions at their calls.
    #[arg(long)]
    pub no_inlining: bool,
}

/// What `-W` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WasmOptions {
    /// Proposals turned on (`true`) or off.
    pub features: Vec<(WasmFeatures, bool)>,
    /// Legacy exception handling.
    pub legacy_exceptions: Option<bool>,
    /// Fuel for the run.
    pub fuel: Option<u64>,
}

impl EngineOptions {
    /// The `-W` options, parsed.
    pub fn wasm_options(&self) -> Result<WasmOptions> {
        let mut out = WasmOptions::default();
        for opt in self.wasm.iter().flat_map(|w| w.split(',')) {
            let (name, value) = opt.split_once('=').unwrap_or((opt, "y"));
            let flag = || match value {
                "y" | "yes" | "true" => Ok(true),
                "n" | "no" | "false" => Ok(false),
                _ => bail!("-W {name}: expected y or n, got `{value}`"),
            };
            let feature = match name {
                "gc" => WasmFeatures::GC,
                "exceptions" => WasmFeatures::EXCEPTIONS,
                "tail-call" => WasmFeatures::TAIL_CALL,
                "function-references" => WasmFeatures::FUNCTION_REFERENCES,
                "multi-memory" => WasmFeatures::MULTI_MEMORY,
                "extended-const" => WasmFeatures::EXTENDED_CONST,
                "simd" => WasmFeatures::SIMD,
                "relaxed-simd" => WasmFeatures::RELAXED_SIMD,
                "memory64" => WasmFeatures::MEMORY64,
                "wide-arithmetic" => WasmFeatures::WIDE_ARITHMETIC,
                "custom-page-sizes" => WasmFeatures::CUSTOM_PAGE_SIZES,
                "legacy-exceptions" => {
                    out.legacy_exceptions = Some(flag()?);
                    continue;
                }
                "fuel" => {
                    let fuel = value.parse().map_err(|e| {
                        anyhow::anyhow!("-W fuel: expected a number, got `{value}`: {e}")
                    })?;
                    out.fuel = Some(fuel);
                    continue;
                }
                _ => bail!("unknown -W option `{name}`"),
            };
            out.features.push((feature, flag()?));
        }
        Ok(out)
    }

    /// The engine configuration these options describe.
    pub fn config(&self) -> Result<Config> {
        let wasm = self.wasm_options()?;
        let mut config = Config::new();
        config
            .collector(self.collector)
            .gc_stress(self.gc_stress)
            .inlining(!self.no_inlining);
        let mut features = config.features();
        for (feature, on) in wasm.features {
            features.set(feature, on);
        }
        config.wasm_features(features);
        if let Some(on) = wasm.legacy_exceptions {
            config.wasm_legacy_exceptions(on);
        }
        config.consume_fuel(wasm.fuel.is_some());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(wasm: &[&str]) -> EngineOptions {
        EngineOptions {
            wasm: wasm.iter().map(|s| s.to_string()).collect(),
            collector: Collector::Drc,
            gc_stress: false,
            no_inlining: false,
        }
    }

    #[test]
    fn wasm_options_parse_like_wasmtime() {
        let w = options(&["gc=n,tail-call", "fuel=100", "legacy-exceptions=y"])
            .wasm_options()
            .unwrap();
        assert_eq!(
            w.features,
            [(WasmFeatures::GC, false), (WasmFeatures::TAIL_CALL, true)]
        );
        assert_eq!((w.fuel, w.legacy_exceptions), (Some(100), Some(true)));
        assert!(options(&["threads"]).wasm_options().is_err());
        assert_eq!(
            options(&["simd=n,memory64"])
                .wasm_options()
                .unwrap()
                .features,
            [(WasmFeatures::SIMD, false), (WasmFeatures::MEMORY64, true)]
        );
        assert!(options(&["gc=maybe"]).wasm_options().is_err());
        assert!(options(&["fuel=lots"]).wasm_options().is_err());
        let config = options(&["gc=n"]).config().unwrap();
        assert!(!config.features().contains(WasmFeatures::GC));
    }
}
