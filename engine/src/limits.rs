//! `ResourceLimiter`: the embedder's say over how much a store may grow, and `StoreLimits`,
//! a ready limiter with fixed ceilings.

use anyhow::Result;

/// Instances a store may hold unless its limiter says otherwise.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// Tables a store may hold unless its limiter says otherwise.
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// Linear memories a store may hold unless its limiter says otherwise.
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store's memories, tables and GC heap may grow, installed with
/// [`Store::limiter`](crate::Store::limiter).
///
/// Every growth asks first: creating a memory or table (at instantiation or from the
/// host), `memory.grow`, `table.grow`, their host equivalents, and raising the GC heap's
/// capacity. Answering `Ok(false)` refuses the growth: `memory.grow` and `table.grow`
/// return -1, instantiation fails, and an allocation that needed the room traps with "GC
/// heap out of memory" once a full collection has not made room either. Answering `Err`
/// makes the operation fail with that error (a trap carrying it, inside Wasm).
///
/// The counts (`instances`, `tables`, `memories`) are read once, when the limiter is
/// installed.
pub trait ResourceLimiter {
    /// Linear memory growth from `current` to `desired` bytes; `maximum` is the memory's
    /// declared maximum, if any.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A growth `memory_growing` allowed failed anyway (past the maximum, or the system
    /// refused); an `Err` turns the failure into a trap.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        log::debug!("memory growth failed: {error:#}");
        Ok(())
    }

    /// Table growth from `current` to `desired` elements; `maximum` is the table's declared
    /// maximum, if any.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A growth `table_growing` allowed failed anyway; an `Err` turns the failure into a
    /// trap.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        log::debug!("table growth failed: {error:#}");
        Ok(())
    }

    /// GC heap growth from `current` to `desired` bytes of capacity; `maximum` is the most
    /// the heap can hold ([`Config::gc_heap_max_size`](crate::Config::gc_heap_max_size)).
    /// Allowed by default.
    fn gc_heap_growing(&mut self, current: usize, desired: usize, maximum: usize) -> Result<bool> {
        let _ = (current, desired, maximum);
        Ok(true)
    }

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most linear memories the store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// Reborrows an optional limiter for one call, leaving it usable afterwards.
pub(crate) fn reborrow<'s>(
    limiter: &'s mut Option<&mut dyn ResourceLimiter>,
) -> Option<&'s mut dyn ResourceLimiter> {
    match limiter {
        Some(l) => Some(&mut **l),
        None => None,
    }
}

/// A [`ResourceLimiter`] with fixed ceilings, built with [`StoreLimitsBuilder`]. Each limit
/// applies to one memory or table at a time (like Wasmtime's), the counts and the GC heap
/// to the whole store.
///
/// ```
/// use engine::{Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder};
/// let engine = Engine::default();
/// let mut store = Store::new(
///     &engine,
///     StoreLimitsBuilder::new().memory_size(1 << 16).build(),
/// );
/// store.limiter(|limits: &mut StoreLimits| limits);
/// let module = Module::new(&engine, "(module (memory 2))")?;
/// let err = Instance::new(&mut store, &module, &[]).unwrap_err();
/// assert!(err.to_string().contains("resource limit"), "{err}");
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    gc_heap_size: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            gc_heap_size: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl StoreLimits {
    /// Allows `desired` within `limit`; beyond it, refuses or (with
    /// `trap_on_grow_failure`) fails with an error naming `what`.
    fn allow(&self, what: &str, desired: usize, limit: Option<usize>) -> Result<bool> {
        match limit {
            Some(limit) if desired > limit => {
                if self.trap_on_grow_failure {
                    anyhow::bail!(
                        "forcing trap: {what} growing to {desired} exceeds the limit of {limit}"
                    )
                }
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    fn failed(&self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error.context("forcing trap when growth fails"))
        } else {
            Ok(())
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        self.allow("memory", desired, self.memory_size)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.failed(error)
    }

    fn table_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        self.allow("table", desired, self.table_elements)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.failed(error)
    }

    fn gc_heap_growing(&mut self, _: usize, desired: usize, _: usize) -> Result<bool> {
        self.allow("GC heap", desired, self.gc_heap_size)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Builds [`StoreLimits`]; every limit not set is unlimited (counts: the defaults above).
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No limits beyond the default counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most bytes the store's GC heap may grow to (its capacity; it never exceeds
    /// [`Config::gc_heap_max_size`](crate::Config::gc_heap_max_size) either).
    pub fn gc_heap_size(mut self, bytes: usize) -> Self {
        self.0.gc_heap_size = Some(bytes);
        self
    }

    /// The most instances the store may hold.
    pub fn instances(mut self, n: usize) -> Self {
        self.0.instances = n;
        self
    }

    /// The most tables the store may hold.
    pub fn tables(mut self, n: usize) -> Self {
        self.0.tables = n;
        self
    }

    /// The most linear memories the store may hold.
    pub fn memories(mut self, n: usize) -> Self {
        self.0.memories = n;
        self
    }

    /// Whether a refused or failed growth traps (fails with an error) instead of returning
    /// -1 from `memory.grow` / `table.grow`. Default off.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_past_their_ceiling_or_fail_when_asked_to() {
        let mut limits = StoreLimitsBuilder::new()
            .memory_size(100)
            .table_elements(10)
            .gc_heap_size(1000)
            .instances(2)
            .build();
        assert!(limits.memory_growing(0, 100, None).unwrap());
        assert!(!limits.memory_growing(0, 101, Some(200)).unwrap());
        assert!(limits.table_growing(5, 10, None).unwrap());
        assert!(!limits.table_growing(5, 11, None).unwrap());
        assert!(!limits.gc_heap_growing(500, 1001, 4000).unwrap());
        assert_eq!(limits.instances(), 2);
        assert_eq!(limits.tables(), DEFAULT_TABLE_LIMIT);
        assert!(limits.memory_grow_failed(anyhow::anyhow!("no")).is_ok());

        let mut trapping = StoreLimitsBuilder::new()
            .memory_size(100)
            .trap_on_grow_failure(true)
            .build();
        let err = trapping.memory_growing(0, 101, None).unwrap_err();
        assert!(
            err.to_string().contains("exceeds the limit of 100"),
            "{err}"
        );
        assert!(trapping.memory_grow_failed(anyhow::anyhow!("no")).is_err());
        assert!(
            trapping.table_growing(0, usize::MAX, None).unwrap(),
            "unset limits allow anything"
        );
    }
}
