//! Precompiled modules: what `Module::serialize` writes and `Module::deserialize` reads.
//!
//! An artifact is a magic number, then (postcard-encoded) this engine's version and
//! configuration fingerprint, the module's binary, the canonical type indices its code was
//! compiled against, and the code image. Loading refuses another version, another
//! configuration or another machine's code, and bounds-checks the image's metadata; it
//! cannot tell tampered code from good code, which is why `Module::deserialize` is
//! `unsafe`.

use super::code_memory::CodeImage;
use crate::Engine;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The first bytes of every artifact.
const MAGIC: &[u8; 8] = b"\0gcwasm\x01";
/// The contract between compiled code and the runtime that the version number does not
/// capture during development: bump it whenever the `VMContext` layout, the builtins'
/// signatures or the heap memory compiled code touches (cursors, barrier log) change, so
/// that artifacts of an older build are refused instead of misread. Part of the
/// fingerprint.
const ABI: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Artifact {
    version: String,
    fingerprint: String,
    wasm: Vec<u8>,
    type_ids: Vec<u32>,
    image: CodeImage,
}

/// A loaded artifact's parts.
pub(crate) struct Loaded {
    /// The module's binary, parsed again on load (types are registered with the engine).
    pub wasm: Vec<u8>,
    /// The canonical type indices the code embeds.
    pub type_ids: Vec<u32>,
    pub image: CodeImage,
}

/// What must be equal for code to be reused: everything that shapes the generated code
/// (features, collector and its layouts, fuel and epoch checks, optimisation level, GC
/// heap bounds checks) and the target machine with its detected CPU features.
fn fingerprint(engine: &Engine) -> String {
    let c = engine.config();
    let isa = engine.isa();
    let isa_flags: Vec<String> = isa.isa_flags().iter().map(|v| v.to_string()).collect();
    format!(
        "abi={ABI} features={:?} collector={} layouts={:?} fuel={} epoch={} opt={} inline={} \
         gc_index_space={} gc_max={} gc_stress={} target={} flags=[{}] isa=[{}]",
        c.features,
        engine.gc_runtime().name(),
        engine.gc_runtime().layouts(),
        c.consume_fuel,
        c.epoch_interruption,
        c.opt_level_name(),
        c.inlining,
        c.gc_heap_reserve_index_space,
        c.gc_heap_max_size,
        c.gc_stress,
        isa.triple(),
        isa.flags(),
        isa_flags.join(" "),
    )
}

/// The artifact for a module of `engine`.
pub(crate) fn encode(
    engine: &Engine,
    wasm: &[u8],
    type_ids: &[u32],
    image: CodeImage,
) -> Result<Vec<u8>> {
    let artifact = Artifact {
        version: env!("CARGO_PKG_VERSION").to_string(),
        fingerprint: fingerprint(engine),
        wasm: wasm.to_vec(),
        type_ids: type_ids.to_vec(),
        image,
    };
    let mut out = MAGIC.to_vec();
    out.extend(postcard::to_allocvec(&artifact).context("failed to encode the module")?);
    Ok(out)
}

/// Reads an artifact made by `encode` for an engine configured like `engine`.
pub(crate) fn decode(engine: &Engine, bytes: &[u8]) -> Result<Loaded> {
    let Some(body) = bytes.strip_prefix(MAGIC) else {
        bail!("not a precompiled module of this engine (bad magic number)");
    };
    let artifact: Artifact = postcard::from_bytes(body).context("corrupt precompiled module")?;
    if artifact.version != env!("CARGO_PKG_VERSION") {
        bail!(
            "precompiled by engine version {}, this is {}",
            artifact.version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let expected = fingerprint(engine);
    if artifact.fingerprint != expected {
        bail!(
            "precompiled for another configuration or machine:\n  module: {}\n  engine: {expected}",
            artifact.fingerprint
        );
    }
    artifact.image.check()?;
    Ok(Loaded {
        wasm: artifact.wasm,
        type_ids: artifact.type_ids,
        image: artifact.image,
    })
}
