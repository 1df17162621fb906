//! GC roots: `GcRootsList` collects pointers to the slots that hold references the
//! collector must treat as live, `GcRoot` reads and (for a moving collector) updates one.

use crate::VMGcRef;
use std::ptr::NonNull;

/// One root: a slot holding a raw `VMGcRef` (never null when the list is built).
#[derive(Debug)]
pub struct GcRoot {
    slot: NonNull<u32>,
    on_wasm_stack: bool,
}

// SAFETY: a root is only a pointer; the list's `unsafe` constructors make the caller
// guarantee the slot stays valid and unaliased while the collection runs.
unsafe impl Send for GcRoot {}

impl GcRoot {
    /// Whether the root is in a Wasm frame (found by stack-map walking) rather than a
    /// global, table or host handle.
    pub fn is_on_wasm_stack(&self) -> bool {
        self.on_wasm_stack
    }

    /// The reference in the slot.
    pub fn get(&self) -> VMGcRef {
        // SAFETY: `GcRootsList::add_*` require the slot to be valid for reads and writes
        // for as long as the list is used.
        let raw = unsafe { self.slot.as_ptr().read_unaligned() };
        VMGcRef::from_raw(raw).expect("roots are non-null")
    }

    /// Replaces the reference in the slot (a moving collector updates roots this way).
    pub fn set(&mut self, r: VMGcRef) {
        // SAFETY: as in `get`.
        unsafe { self.slot.as_ptr().write_unaligned(r.as_raw()) }
    }
}

/// The roots of one collection.
#[derive(Debug, Default)]
pub struct GcRootsList {
    roots: Vec<GcRoot>,
}

impl GcRootsList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a slot in a Wasm frame.
    ///
    /// # Safety
    /// `slot` must point to a `u32` holding a non-null raw `VMGcRef`, valid for reads and
    /// writes and not otherwise accessed until this list is cleared or dropped.
    pub unsafe fn add_wasm_stack_root(&mut self, slot: NonNull<u32>) {
        self.roots.push(GcRoot {
            slot,
            on_wasm_stack: true,
        });
    }

    /// Adds a slot outside Wasm frames (a global, table element or host handle).
    ///
    /// # Safety
    /// As for [`GcRootsList::add_wasm_stack_root`].
    pub unsafe fn add_root(&mut self, slot: NonNull<u32>) {
        self.roots.push(GcRoot {
            slot,
            on_wasm_stack: false,
        });
    }

    /// Iterates over the roots.
    pub fn iter(&mut self) -> GcRootsIter<'_> {
        GcRootsIter {
            inner: self.roots.iter_mut(),
        }
    }

    /// The number of roots.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are no roots.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Removes every root.
    pub fn clear(&mut self) {
        self.roots.clear();
    }
}

/// Iterator over a [`GcRootsList`].
#[derive(Debug)]
pub struct GcRootsIter<'a> {
    inner: std::slice::IterMut<'a, GcRoot>,
}

impl<'a> Iterator for GcRootsIter<'a> {
    type Item = &'a mut GcRoot;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_read_and_update_their_slots() {
        let mut stack_slot = 16u32;
        let mut global_slot = 32u32;
        let mut list = GcRootsList::new();
        // SAFETY: both slots outlive the list and are not touched while it is used.
        unsafe {
            list.add_wasm_stack_root(NonNull::from(&mut stack_slot));
            list.add_root(NonNull::from(&mut global_slot));
        }
        let mut seen = Vec::new();
        for root in list.iter() {
            seen.push((root.get().as_raw(), root.is_on_wasm_stack()));
            let moved = VMGcRef::from_raw(root.get().as_raw() + 48).unwrap();
            root.set(moved);
        }
        assert_eq!(seen, [(16, true), (32, false)]);
        drop(list);
        assert_eq!((stack_slot, global_slot), (64, 80));
    }
}
