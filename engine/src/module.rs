//! `Module`: a validated, compiled Wasm module, ready to instantiate. Parsing and
//! validation are `environ`'s.

use crate::Engine;
use crate::compile::{CodeMemory, compile_module};
use crate::environ::{ModuleInfo, parse};
use crate::types::ExternType;
use anyhow::{Context, Result};
use std::sync::Arc;

/// A compiled WebAssembly module. Cheap to clone.
///
/// ```
/// use engine::{Engine, Module};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (import "env" "log" (func (param i32)))
///     (memory (export "memory") 1))"#)?;
/// let imports: Vec<String> = module.imports().map(|i| format!("{}::{}", i.module, i.name)).collect();
/// assert_eq!(imports, ["env::log"]);
/// assert_eq!(module.exports().next().unwrap().name, "memory");
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    engine: Engine,
    info: ModuleInfo,
    code: CodeMemory,
    /// The binary, kept for `serialize`.
    wasm: Box<[u8]>,
}

// SAFETY: the code memory is immutable after compilation; the rest is plain data.
unsafe impl Send for ModuleInner {}
// SAFETY: as above.
unsafe impl Sync for ModuleInner {}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .finish_non_exhaustive()
    }
}

/// An import a module declares.
#[derive(Clone, Debug)]
pub struct ImportType {
    /// The module name.
    pub module: String,
    /// The item name.
    pub name: String,
    /// The expected type.
    pub ty: ExternType,
}

/// An export a module declares.
#[derive(Clone, Debug)]
pub struct ExportType {
    /// The export name.
    pub name: String,
    /// Its type.
    pub ty: ExternType,
}

impl Module {
    /// Compiles a module from its binary or text (`.wat`) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let binary = to_binary(bytes.as_ref())?;
        Module::from_binary(engine, &binary)
    }

    /// Checks that `bytes` (binary or text) is a valid module for `engine`'s features,
    /// without compiling it: the error is the first problem found, with its offset.
    pub fn validate(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<()> {
        let binary = to_binary(bytes.as_ref())?;
        parse(engine, &binary).map(drop)
    }

    /// Compiles the module in the file at `path` (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        Module::new(engine, bytes)
            .with_context(|| format!("failed to compile `{}`", path.display()))
    }

    /// The Cranelift IR the translator produces for each defined function of `wasm` (binary
    /// or text), with tiny leaf functions inlined ([`Config::inlining`](crate::Config::inlining)),
    /// before Cranelift's optimisations: for inspecting code generation and for snapshot
    /// tests of barriers and calls.
    pub fn clif(engine: &Engine, wasm: impl AsRef<[u8]>) -> Result<Vec<String>> {
        let binary = to_binary(wasm.as_ref())?;
        let info = parse(engine, &binary)?;
        crate::compile::translate_to_clif(engine, &info, &binary)
    }

    /// Compiles a module from its binary form.
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Module> {
        let info = parse(engine, wasm)?;
        let code = compile_module(engine, &info, wasm).context("failed to compile module")?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                code,
                wasm: wasm.into(),
            }),
        })
    }

    /// The module as a precompiled artifact, which [`Module::deserialize`] loads without
    /// compiling into any engine of this version configured like this one, on a machine
    /// with the same CPU features.
    ///
    /// ```
    /// # use engine::{Engine, Module};
    /// let engine = Engine::default();
    /// let bytes = engine.precompile_module("(module (func (export \"f\")))")?;
    /// // SAFETY: the bytes were just made by this engine.
    /// let module = unsafe { Module::deserialize(&engine, &bytes)? };
    /// assert!(module.exports().any(|e| e.name == "f"));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn serialize(&self) -> Result<Vec<u8>> {
        crate::compile::artifact::encode(
            &self.inner.engine,
            &self.inner.wasm,
            &self.inner.info.type_ids,
            self.inner.code.image(),
        )
    }

    /// Loads a module from what [`Module::serialize`] or
    /// [`Engine::precompile_module`] wrote. Bytes from another engine version,
    /// configuration or machine are refused with an error, and so are bytes whose
    /// metadata points outside their code.
    ///
    /// The module's binary, which the artifact carries, is validated again and its types
    /// registered with `engine`. If they receive other engine-wide indices than when the
    /// code was compiled (the engine already held other types), the code, which embeds
    /// them, is compiled afresh instead of loaded.
    ///
    /// # Safety
    /// The machine code in `bytes` is run as it is: it must come from `serialize` (or
    /// `precompile_module`) of this engine version, unmodified. Loading untrusted bytes
    /// lets them run arbitrary code in this process.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let loaded = crate::compile::artifact::decode(engine, bytes.as_ref())?;
        let info = parse(engine, &loaded.wasm)?;
        let code = if info.type_ids == loaded.type_ids
            && loaded.image.function_count() == info.bodies.len()
        {
            CodeMemory::load(loaded.image, crate::compile::code_names(&info))?
        } else {
            log::info!("precompiled module: type indices differ in this engine; compiling");
            compile_module(engine, &info, &loaded.wasm).context("failed to compile module")?
        };
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                code,
                wasm: loaded.wasm.into(),
            }),
        })
    }

    /// [`Module::deserialize`] of the file at `path`.
    ///
    /// # Safety
    /// As for [`Module::deserialize`]: the file must be trusted.
    pub unsafe fn deserialize_file(
        engine: &Engine,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        // SAFETY: the caller vouches for the file.
        unsafe { Module::deserialize(engine, bytes) }
            .with_context(|| format!("failed to load `{}`", path.display()))
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    /// The imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType> + '_ {
        self.inner.info.imports.iter().map(|i| ImportType {
            module: i.module.clone(),
            name: i.name.clone(),
            ty: i.ty.clone(),
        })
    }

    /// The exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType> + '_ {
        self.inner.info.exports.iter().map(|(name, e)| ExportType {
            name: name.clone(),
            ty: self.inner.info.entity_type(&self.inner.engine, *e),
        })
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// The code of defined function `def_index`.
    pub(crate) fn function_code(&self, def_index: u32) -> *const u8 {
        self.inner.code.function(def_index as usize)
    }
}

/// `bytes` as a binary module: text (`.wat`) is converted, binary passed through.
fn to_binary(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    Ok(if bytes.starts_with(b"\0asm") {
        std::borrow::Cow::Borrowed(bytes)
    } else {
        std::borrow::Cow::Owned(wat::parse_bytes(bytes)?.into_owned())
    })
}
