//! `FuncRefTable`: the store's table of function references that GC objects point at by
//! index, so that the GC heap holds no host pointers. Entry 0 is null; each `VMFuncRef` is
//! interned once.

use super::VMStoreContext;
use std::collections::HashMap;

/// Function references by index.
#[derive(Debug)]
pub(crate) struct FuncRefTable {
    ptrs: Vec<usize>,
    index: HashMap<usize, u32>,
}

impl Default for FuncRefTable {
    fn default() -> Self {
        FuncRefTable {
            ptrs: vec![0],
            index: HashMap::new(),
        }
    }
}

impl FuncRefTable {
    /// The index of `funcref` (a `VMFuncRef` address, 0 for null), adding it if new.
    pub(crate) fn intern(&mut self, funcref: usize, vm: &mut VMStoreContext) -> u32 {
        if funcref == 0 {
            return 0;
        }
        if let Some(&i) = self.index.get(&funcref) {
            return i;
        }
        let i = u32::try_from(self.ptrs.len()).expect("fewer than 2^32 function references");
        self.ptrs.push(funcref);
        self.index.insert(funcref, i);
        self.sync(vm);
        i
    }

    /// The function reference at index `i` (0, null, for index 0); panics on an index the
    /// table never handed out (a corrupt heap).
    pub(crate) fn get(&self, i: u32) -> usize {
        *self
            .ptrs
            .get(i as usize)
            .unwrap_or_else(|| panic!("function reference index {i} out of bounds"))
    }

    /// Publishes the table's address and length to compiled code.
    pub(crate) fn sync(&self, vm: &mut VMStoreContext) {
        vm.func_table_base = self.ptrs.as_ptr();
        vm.func_table_len = self.ptrs.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_null_is_zero() {
        let mut vm = VMStoreContext::default();
        let mut t = FuncRefTable::default();
        t.sync(&mut vm);
        assert_eq!(vm.func_table_len, 1);
        assert_eq!(t.intern(0, &mut vm), 0);
        let a = t.intern(0x1000, &mut vm);
        let b = t.intern(0x2000, &mut vm);
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.intern(0x1000, &mut vm), 1);
        // Compiled code reads entries through the published base and length.
        // SAFETY: `func_table_base` points at `func_table_len` entries of the live table.
        let entries = unsafe { std::slice::from_raw_parts(vm.func_table_base, vm.func_table_len) };
        assert_eq!(entries, [0, 0x1000, 0x2000]);
        assert_eq!(vm.func_table_len, 3);
    }
}
