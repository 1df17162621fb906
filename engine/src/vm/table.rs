//! Tables: growable arrays of pointer-sized reference elements.

use super::VMTableDefinition;
use crate::limits::ResourceLimiter;
use crate::types::{HeapType, TableType};
use anyhow::{Result, anyhow, bail};
use gc_core::{GcHeap, VMGcRef};

/// The largest table this engine creates, in elements.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table owned by a store.
#[derive(Debug)]
pub(crate) struct TableData {
    /// What compiled code reads; its address is stable because tables are boxed.
    pub def: VMTableDefinition,
    elements: Vec<usize>,
    ty: TableType,
    /// Whether elements are GC references (counted, so every write pays the barrier).
    gc: bool,
}

/// Stores `new` into `slot`, counting GC references when `gc` is set.
fn store(slot: &mut usize, new: usize, gc: bool, heap: &mut dyn GcHeap) {
    if gc {
        if let Some(r) = VMGcRef::from_raw(new as u32) {
            heap.clone_gc_ref(&r);
        }
        if let Some(old) = VMGcRef::from_raw(*slot as u32) {
            heap.drop_gc_ref(old);
        }
    }
    *slot = new;
}

// SAFETY: elements are raw references into the same store; the table moves with it.
unsafe impl Send for TableData {}

impl TableData {
    /// A table of type `ty` filled with `init`, if `limiter` allows its minimum.
    pub(crate) fn new(
        ty: TableType,
        init: usize,
        heap: &mut dyn GcHeap,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<TableData> {
        if ty.minimum() > MAX_TABLE_ELEMENTS {
            bail!(
                "table of {} elements is larger than this engine allows",
                ty.minimum()
            );
        }
        if let Some(limiter) = limiter {
            let max = ty
                .maximum()
                .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
            if !limiter.table_growing(0, ty.minimum() as usize, max)? {
                bail!(
                    "table minimum size of {} elements exceeds table limits (resource limit)",
                    ty.minimum()
                );
            }
        }
        let gc = ty.element().heap_type().top() != HeapType::Func;
        let mut t = TableData {
            def: VMTableDefinition {
                base: std::ptr::null_mut(),
                current_elements: 0,
            },
            elements: vec![0; ty.minimum() as usize],
            ty,
            gc,
        };
        if init != 0 {
            // A null-filled table stays lazily zeroed: large empty tables cost no memory.
            let size = t.size();
            t.fill(0, init, size, heap);
        }
        t.sync();
        Ok(t)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len();
    }

    /// The slots holding GC references, for the collector's root list.
    pub(crate) fn gc_slots(&mut self) -> impl Iterator<Item = &mut usize> {
        let gc = self.gc;
        self.elements.iter_mut().filter(move |e| gc && **e != 0)
    }

    /// The type, with the current size as minimum.
    pub(crate) fn ty(&self) -> TableType {
        self.ty.with_minimum(self.elements.len() as u64)
    }

    /// The number of elements.
    pub(crate) fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// Element `i`, if in bounds.
    pub(crate) fn get(&self, i: u64) -> Option<usize> {
        self.elements.get(usize::try_from(i).ok()?).copied()
    }

    /// Sets element `i`; `false` if out of bounds.
    pub(crate) fn set(&mut self, i: u64, v: usize, heap: &mut dyn GcHeap) -> bool {
        let gc = self.gc;
        match usize::try_from(i)
            .ok()
            .and_then(|i| self.elements.get_mut(i))
        {
            Some(slot) => {
                store(slot, v, gc, heap);
                true
            }
            None => false,
        }
    }

    /// Grows by `delta` elements set to `init` if `limiter` allows; the old size, or
    /// `None` if refused or past the maximum. `Err` is the limiter's.
    pub(crate) fn grow(
        &mut self,
        delta: u64,
        init: usize,
        heap: &mut dyn GcHeap,
        mut limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let old = self.size();
        let new = old.saturating_add(delta);
        if let Some(limiter) = limiter.as_deref_mut()
            && delta > 0
        {
            let desired = usize::try_from(new).unwrap_or(usize::MAX);
            let max = self
                .ty
                .maximum()
                .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
            if !limiter.table_growing(old as usize, desired, max)? {
                return Ok(None);
            }
        }
        let index_max = if self.ty.is_64() {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let max = self.ty.maximum().map_or(index_max, |m| m.min(index_max));
        if new > max || new > MAX_TABLE_ELEMENTS {
            if let Some(limiter) = limiter {
                limiter.table_grow_failed(anyhow!(
                    "table of {old} elements cannot grow by {delta} (maximum {})",
                    max.min(MAX_TABLE_ELEMENTS)
                ))?;
            }
            return Ok(None);
        }
        self.elements.resize(new as usize, 0);
        self.sync();
        self.fill(old, init, delta, heap);
        Ok(Some(old))
    }

    /// Fills `[dst, dst + len)` with `v`; `false` (nothing written) if out of bounds.
    pub(crate) fn fill(&mut self, dst: u64, v: usize, len: u64, heap: &mut dyn GcHeap) -> bool {
        let gc = self.gc;
        match range(dst, len, self.size()) {
            Some(r) => {
                for slot in &mut self.elements[r] {
                    store(slot, v, gc, heap);
                }
                true
            }
            None => false,
        }
    }

    /// The elements in `[start, start + len)`, if in bounds.
    pub(crate) fn slice(&self, start: u64, len: u64) -> Option<&[usize]> {
        range(start, len, self.size()).map(|r| &self.elements[r])
    }

    /// Copies `src` into `[dst, dst + src.len())`; `false` if out of bounds.
    pub(crate) fn write(&mut self, dst: u64, src: &[usize], heap: &mut dyn GcHeap) -> bool {
        let gc = self.gc;
        match range(dst, src.len() as u64, self.size()) {
            Some(r) => {
                for (slot, &v) in self.elements[r].iter_mut().zip(src) {
                    store(slot, v, gc, heap);
                }
                true
            }
            None => false,
        }
    }

    /// `table.copy` within this table.
    pub(crate) fn copy_within(
        &mut self,
        dst: u64,
        src: u64,
        len: u64,
        heap: &mut dyn GcHeap,
    ) -> bool {
        let size = self.size();
        match (range(dst, len, size), range(src, len, size)) {
            (Some(_), Some(s)) if self.gc => {
                let values = self.elements[s].to_vec();
                self.write(dst, &values, heap)
            }
            (Some(d), Some(s)) => {
                self.elements.copy_within(s, d.start);
                true
            }
            _ => false,
        }
    }
}

/// `[start, start + len)` as a range if it lies within `size`.
pub(crate) fn range(start: u64, len: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size).then_some(start as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::RefType;

    /// A small heap of the default collector, the DRC.
    fn heap() -> Box<dyn GcHeap> {
        let config = gc_core::GcHeapConfig {
            max_size: 1 << 16,
            ..Default::default()
        };
        crate::Engine::default()
            .gc_runtime()
            .new_gc_heap(&config)
            .unwrap()
    }

    /// The reference count of DRC object `r`, from its header.
    fn ref_count(heap: &dyn GcHeap, r: gc_core::VMGcRef) -> u32 {
        let offset = gc_core::DrcHeader::REF_COUNT_OFFSET;
        u32::from_le_bytes(heap.object_bytes(r, offset, 4).try_into().unwrap())
    }

    #[test]
    fn bounds_are_checked_and_grow_respects_maximum() {
        let h = &mut *heap();
        let mut t =
            TableData::new(TableType::new(RefType::FUNCREF, 2, Some(3)), 0, h, None).unwrap();
        assert!(t.set(1, 5, h));
        assert!(!t.set(2, 5, h));
        assert_eq!(t.grow(1, 9, h, None).unwrap(), Some(2));
        assert_eq!(t.get(2), Some(9));
        assert_eq!(t.grow(1, 0, h, None).unwrap(), None);
        assert!(!t.fill(2, 1, 2, h));
        assert!(t.fill(3, 1, 0, h));
        assert!(!t.fill(4, 1, 0, h));
        assert!(t.copy_within(0, 1, 2, h));
        assert_eq!(t.slice(0, 3), Some(&[5, 9, 9][..]));
        assert_eq!(t.def.current_elements, 3);
    }

    #[test]
    fn gc_tables_count_their_references() {
        let mut host = gc_core::ExternRefHostDataTable::default();
        let drc = &mut *heap();
        let r = drc
            .alloc_externref(host.alloc(Box::new(())))
            .unwrap()
            .unwrap();
        let raw = r.as_raw() as usize;
        let ty = TableType::new(RefType::EXTERNREF, 4, None);
        let mut t = TableData::new(ty, raw, drc, None).unwrap();
        assert_eq!(ref_count(drc, r), 4);
        assert!(t.fill(0, 0, 3, drc));
        assert_eq!(ref_count(drc, r), 1);
        assert!(t.copy_within(0, 3, 1, drc));
        assert_eq!(ref_count(drc, r), 2);
        assert_eq!(t.grow(2, raw, drc, None).unwrap(), Some(4));
        assert_eq!(ref_count(drc, r), 4);
        assert!(t.set(5, 0, drc));
        assert!(t.set(5, 0, drc));
        assert_eq!(ref_count(drc, r), 3);
        assert_eq!(t.gc_slots().count(), 3);
    }
}
