//! Linear memories: one up-front reservation per memory, made accessible as it grows.
//!
//! The reservation covers 4 GiB (every 32-bit address) plus 4 GiB (every 32-bit static
//! offset) plus a guard page, so compiled code needs no bounds checks: any access beyond the
//! accessible length lands on inaccessible pages and faults, and the fault handler turns it
//! into `Trap::MemoryOutOfBounds`. The base never moves.
//!
//! Reservations are interchangeable, so a process-wide pool keeps up to
//! `POOLED_RESERVATIONS` of those that dropped memories release, made inaccessible again
//! and their pages discarded (they read as zero when next made accessible): a store per
//! request then maps no new address space for its memories.

use super::VMMemoryDefinition;
use crate::limits::ResourceLimiter;
use crate::types::MemoryType;
use anyhow::{Result, anyhow, bail};

/// Size of a Wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;
/// The most bytes a memory of type `ty` may have here: every 32-bit address, or for a
/// 64-bit memory (whose accesses are bounds-checked) the reservation but its guard.
fn capacity(ty: &MemoryType) -> u64 {
    if ty.is_64() {
        (RESERVATION - WASM_PAGE_SIZE) as u64
    } else {
        1 << 32
    }
}

/// `capacity` in pages of `ty`.
fn capacity_pages(ty: &MemoryType) -> u64 {
    capacity(ty) >> ty.page_size_log2()
}

/// The granule of memory protection (the smallest system page size this runs on).
const OS_PAGE: usize = 4096;
/// Bytes reserved per memory.
const RESERVATION: usize = (8 << 30) + WASM_PAGE_SIZE;

/// Reservations kept for new memories, at most.
const POOLED_RESERVATIONS: usize = 64;

/// Released reservations (base addresses), inaccessible and discarded.
static RESERVATIONS: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// A reservation of `RESERVATION` inaccessible bytes: from the pool, or newly mapped.
fn reserve() -> Result<*mut u8> {
    let pooled = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    if let Some(base) = pooled {
        return Ok(base as *mut u8);
    }
    // SAFETY: an anonymous, private, inaccessible mapping has no preconditions.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            RESERVATION,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        bail!("failed to reserve address space for a linear memory");
    }
    Ok(base.cast())
}

/// Gives back the reservation at `base`, whose first `accessible` bytes are read-write:
/// to the pool, emptied, if it has room (and emptying works), else to the system.
///
/// # Safety
/// `base` must be a reservation from `reserve` that nothing uses any more.
unsafe fn release(base: *mut u8, accessible: usize) {
    let mut pool = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < POOLED_RESERVATIONS {
        // SAFETY: per the contract the pages are this reservation's and unused; discarding
        // the pages of a private anonymous mapping makes them read as zero, and the
        // reservation becomes inaccessible again, as `reserve` hands it out.
        let emptied = unsafe {
            libc::madvise(base.cast(), accessible, libc::MADV_DONTNEED) == 0
                && libc::mprotect(base.cast(), accessible, libc::PROT_NONE) == 0
        };
        if emptied {
            pool.push(base as usize);
            return;
        }
    }
    drop(pool);
    // SAFETY: unmaps exactly the reservation; per the contract nothing uses it.
    unsafe {
        libc::munmap(base.cast(), RESERVATION);
    }
}

/// A linear memory owned by a store.
#[derive(Debug)]
pub(crate) struct LinearMemory {
    /// What compiled code reads; its address is stable because memories are boxed.
    pub def: VMMemoryDefinition,
    ty: MemoryType,
}

// SAFETY: the memory is only accessed through its store, which is `Send` only as a whole.
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    /// Reserves and initialises a memory of type `ty`, if `limiter` allows its minimum.
    pub(crate) fn new(
        ty: MemoryType,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<LinearMemory> {
        if !matches!(ty.page_size_log2(), 0 | 16) {
            bail!("invalid custom page size: pages are 1 byte or 64 KiB");
        }
        if ty.minimum() > ty.max_pages() {
            bail!("memory size must be at most {} pages", ty.max_pages());
        }
        if ty.minimum() > capacity_pages(&ty) {
            bail!(
                "memory minimum size of {} pages exceeds this engine's limit of {} bytes",
                ty.minimum(),
                capacity(&ty)
            );
        }
        if let Some(limiter) = limiter {
            let bytes = (ty.minimum() << ty.page_size_log2()) as usize;
            let max = ty.maximum().map(|m| {
                usize::try_from(
                    m.checked_shl(u32::from(ty.page_size_log2()))
                        .unwrap_or(u64::MAX),
                )
                .unwrap_or(usize::MAX)
            });
            if !limiter.memory_growing(0, bytes, max)? {
                bail!(
                    "memory minimum size of {} pages exceeds memory limits (resource limit)",
                    ty.minimum()
                );
            }
        }
        let base = reserve()?;
        // From here on, dropping `memory` gives the reservation back.
        let mut memory = LinearMemory {
            def: VMMemoryDefinition {
                base,
                current_length: 0,
            },
            ty,
        };
        if memory.grow(ty.minimum(), None)?.is_none() {
            bail!("failed to allocate the initial pages of a linear memory");
        }
        Ok(memory)
    }

    /// The memory's type, with its current size as minimum.
    pub(crate) fn ty(&self) -> MemoryType {
        let ty = if self.ty.is_64() {
            MemoryType::new64(self.pages(), self.ty.maximum())
        } else {
            MemoryType::new(self.pages() as u32, self.ty.maximum().map(|m| m as u32))
        };
        ty.with_page_size_log2(self.ty.page_size_log2())
    }

    /// The current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.def.current_length as u64) >> self.ty.page_size_log2()
    }

    /// Grows by `delta` pages if `limiter` allows; returns the old size in pages, or
    /// `None` if refused, if the memory's maximum (or the address space, or this engine's
    /// `capacity`) would be exceeded or the system refuses. `Err` is the limiter's.
    pub(crate) fn grow(
        &mut self,
        delta: u64,
        mut limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let old = self.pages();
        let log2 = self.ty.page_size_log2();
        let max = self
            .ty
            .maximum()
            .unwrap_or(u64::MAX)
            .min(self.ty.max_pages())
            .min(capacity_pages(&self.ty));
        let bytes = |pages: u64| usize::try_from(pages.saturating_mul(self.ty.page_size()));
        let new = old.saturating_add(delta);
        if let Some(limiter) = limiter.as_deref_mut()
            && delta > 0
        {
            let desired = bytes(new).unwrap_or(usize::MAX);
            let declared = self.ty.maximum().map(|m| {
                usize::try_from(m.checked_shl(u32::from(log2)).unwrap_or(u64::MAX))
                    .unwrap_or(usize::MAX)
            });
            if !limiter.memory_growing(self.def.current_length, desired, declared)? {
                return Ok(None);
            }
        }
        let fail = |limiter: Option<&mut dyn ResourceLimiter>, err: anyhow::Error| {
            limiter.map_or(Ok(()), |l| l.memory_grow_failed(err))
        };
        if new > max {
            fail(
                limiter,
                anyhow!("memory maximum size of {max} pages exceeded"),
            )?;
            return Ok(None);
        }
        if delta == 0 {
            return Ok(Some(old));
        }
        let old_len = self.def.current_length;
        let new_len = (new << log2) as usize;
        // With one-byte pages the lengths need not be page-aligned: make whole system pages
        // accessible (compiled code checks such memories' bounds explicitly).
        let from = old_len - old_len % OS_PAGE;
        let to = new_len.next_multiple_of(OS_PAGE);
        // SAFETY: `[from, to)` lies within the reservation (`to` is at most `capacity`)
        // made in `new`, which this memory owns; no Rust reference covers those pages.
        let rc = unsafe {
            libc::mprotect(
                self.def.base.add(from).cast(),
                to - from,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            fail(limiter, anyhow!("failed to make memory accessible: {err}"))?;
            return Ok(None);
        }
        self.def.current_length = new_len;
        Ok(Some(old))
    }

    /// The accessible bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + current_length)` is mapped read-write and owned by `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The accessible bytes, mutably.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: the reservation is this memory's, from `reserve`; no references remain.
        unsafe { release(self.def.base, self.def.current_length) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_within_maximum_and_zero_fills() {
        let mut m = LinearMemory::new(MemoryType::new(1, Some(3)), None).unwrap();
        assert_eq!(m.pages(), 1);
        assert!(m.data().iter().all(|&b| b == 0));
        m.data_mut()[WASM_PAGE_SIZE - 1] = 7;
        assert_eq!(m.grow(2, None).unwrap(), Some(1));
        assert_eq!(m.data()[WASM_PAGE_SIZE - 1], 7);
        assert_eq!(m.data().len(), 3 * WASM_PAGE_SIZE);
        assert_eq!(m.grow(1, None).unwrap(), None);
        assert_eq!(m.grow(0, None).unwrap(), Some(3));
    }

    #[test]
    fn released_reservations_come_back_zeroed() {
        // Other tests share the pool, so only what a reused reservation looks like is
        // checked, not which one comes back.
        for _ in 0..3 {
            let mut m = LinearMemory::new(MemoryType::new(2, None), None).unwrap();
            assert!(m.data().iter().all(|&b| b == 0), "zeroed");
            m.data_mut().fill(0xa5);
            assert_eq!(
                m.data().len(),
                2 * WASM_PAGE_SIZE,
                "only the minimum is accessible"
            );
        }
    }

    #[test]
    fn rejects_more_than_4gib() {
        assert!(LinearMemory::new(MemoryType::new(65537, None), None).is_err());
        let mut m = LinearMemory::new(MemoryType::new(0, None), None).unwrap();
        assert_eq!(m.grow(65537, None).unwrap(), None);
        assert_eq!(m.grow(u64::MAX, None).unwrap(), None);
    }
}
