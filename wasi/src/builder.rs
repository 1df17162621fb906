//! `WasiCtxBuilder`: what a WASI program sees of the world.

use anyhow::{Context, Result};
use std::path::Path;
use wasi_common::{WasiCtx, WasiFile};

/// Builds a [`WasiCtx`]: arguments (the first is the program name), environment, stdio
/// and preopened directories. By default a program gets no arguments, no environment,
/// empty stdin, stdout and stderr that discard, and no directories.
pub struct WasiCtxBuilder {
    inner: wasi_common::sync::WasiCtxBuilder,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// A builder for a program that sees nothing.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            inner: wasi_common::sync::WasiCtxBuilder::new(),
        }
    }

    /// Appends one argument (the first is the program's name, `argv[0]`).
    pub fn arg(&mut self, arg: &str) -> Result<&mut Self> {
        self.inner
            .arg(arg)
            .with_context(|| format!("argument `{arg}`"))?;
        Ok(self)
    }

    /// Appends arguments.
    pub fn args<S: AsRef<str>>(&mut self, args: impl IntoIterator<Item = S>) -> Result<&mut Self> {
        for a in args {
            self.arg(a.as_ref())?;
        }
        Ok(self)
    }

    /// Sets environment variable `key` to `value`.
    pub fn env(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        self.inner
            .env(key, value)
            .with_context(|| format!("environment variable `{key}`"))?;
        Ok(self)
    }

    /// Passes on this process's whole environment.
    pub fn inherit_env(&mut self) -> Result<&mut Self> {
        self.inner
            .inherit_env()
            .context("inheriting the environment")?;
        Ok(self)
    }

    /// The program's stdin, for example a [`ReadPipe`](crate::ReadPipe) over bytes.
    pub fn stdin(&mut self, file: impl WasiFile + 'static) -> &mut Self {
        self.inner.stdin(Box::new(file));
        self
    }

    /// The program's stdout, for example a [`WritePipe`](crate::WritePipe) in memory.
    pub fn stdout(&mut self, file: impl WasiFile + 'static) -> &mut Self {
        self.inner.stdout(Box::new(file));
        self
    }

    /// The program's stderr.
    pub fn stderr(&mut self, file: impl WasiFile + 'static) -> &mut Self {
        self.inner.stderr(Box::new(file));
        self
    }

    /// This process's stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inner.inherit_stdio();
        self
    }

    /// Gives the program the host directory `host` as guest path `guest`. Everything the
    /// program opens through it resolves beneath `host`: `..`, absolute paths and symlinks
    /// that would lead out fail with a WASI error.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl AsRef<Path>,
    ) -> Result<&mut Self> {
        let host = host.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .with_context(|| format!("failed to open directory `{}`", host.display()))?;
        self.inner.preopened_dir(dir, guest.as_ref()).map_err(|e| {
            anyhow::anyhow!(
                "failed to preopen `{}` as `{}`: {e}",
                host.display(),
                guest.as_ref().display()
            )
        })?;
        Ok(self)
    }

    /// The context. The builder is left empty.
    pub fn build(&mut self) -> WasiCtx {
        std::mem::take(self).inner.build()
    }
}
