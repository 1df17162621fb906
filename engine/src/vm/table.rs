//! Tables: growable arrays of pointer-sized reference elements.

use super::VMTableDefinition;
use crate::types::TableType;
use anyhow::{Result, bail};

/// The largest table this engine creates, in elements.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table owned by a store.
#[derive(Debug)]
pub(crate) struct TableData {
    /// What compiled code reads; its address is stable because tables are boxed.
    pub def: VMTableDefinition,
    elements: Vec<usize>,
    ty: TableType,
}

// SAFETY: elements are raw references into the same store; the table moves with it.
unsafe impl Send for TableData {}

impl TableData {
    /// A table of type `ty` filled with `init`.
    pub(crate) fn new(ty: TableType, init: usize) -> Result<TableData> {
        if u64::from(ty.minimum()) > MAX_TABLE_ELEMENTS {
            bail!("table of {} elements is larger than this engine allows", ty.minimum());
        }
        let mut t = TableData {
            def: VMTableDefinition { base: std::ptr::null_mut(), current_elements: 0 },
            elements: vec![init; ty.minimum() as usize],
            ty,
        };
        t.sync();
        Ok(t)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len();
    }

    /// The type, with the current size as minimum.
    pub(crate) fn ty(&self) -> TableType {
        TableType::new(*self.ty.element(), self.elements.len() as u32, self.ty.maximum())
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
    pub(crate) fn set(&mut self, i: u64, v: usize) -> bool {
        match usize::try_from(i).ok().and_then(|i| self.elements.get_mut(i)) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        }
    }

    /// Grows by `delta` elements set to `init`; the old size, or `None` past the maximum.
    pub(crate) fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        let max = self.ty.maximum().map_or(u64::from(u32::MAX), u64::from);
        if new > max || new > MAX_TABLE_ELEMENTS {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// Fills `[dst, dst + len)` with `v`; `false` (nothing written) if out of bounds.
    pub(crate) fn fill(&mut self, dst: u64, v: usize, len: u64) -> bool {
        match range(dst, len, self.size()) {
            Some(r) => {
                self.elements[r].fill(v);
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
    pub(crate) fn write(&mut self, dst: u64, src: &[usize]) -> bool {
        match range(dst, src.len() as u64, self.size()) {
            Some(r) => {
                self.elements[r].copy_from_slice(src);
                true
            }
            None => false,
        }
    }

    /// `table.copy` within this table.
    pub(crate) fn copy_within(&mut self, dst: u64, src: u64, len: u64) -> bool {
        let size = self.size();
        match (range(dst, len, size), range(src, len, size)) {
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
    (end <= size).then(|| start as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::RefType;

    #[test]
    fn bounds_are_checked_and_grow_respects_maximum() {
        let mut t = TableData::new(TableType::new(RefType::FUNCREF, 2, Some(3)), 0).unwrap();
        assert!(t.set(1, 5));
        assert!(!t.set(2, 5));
        assert_eq!(t.grow(1, 9), Some(2));
        assert_eq!(t.get(2), Some(9));
        assert_eq!(t.grow(1, 0), None);
        assert!(!t.fill(2, 1, 2));
        assert!(t.fill(3, 1, 0));
        assert!(!t.fill(4, 1, 0));
        assert!(t.copy_within(0, 1, 2));
        assert_eq!(t.slice(0, 3), Some(&[5, 9, 9][..]));
        assert_eq!(t.def.current_elements, 3);
    }
}
