//! `InstanceData`: an instance's runtime state, and its `VMContext` allocation.

use super::{LinearMemory, TableData, VMFuncRef, VMOffsets, VMStoreContext, header};
use crate::module::Module;
use std::alloc::Layout;

/// A global owned by a store.
#[derive(Debug)]
pub(crate) struct GlobalData {
    /// The storage compiled code reads and writes; stable because globals are boxed.
    pub def: super::VMGlobalDefinition,
    pub ty: crate::types::GlobalType,
}

/// An instance: its module, its `VMContext`, and what libcalls need to reach.
#[derive(Debug)]
pub(crate) struct InstanceData {
    pub module: Module,
    /// This instance's position in its store's instance list (set when it joins the store).
    pub store_index: usize,
    vmctx: *mut u8,
    layout: Layout,
    offsets: VMOffsets,
    /// Store indices of the instance's memories, tables and globals (imported and defined).
    pub memory_ids: Vec<usize>,
    pub table_ids: Vec<usize>,
    pub global_ids: Vec<usize>,
    /// The store identities of the instance's tags (imported and defined).
    pub tag_ids: Vec<u32>,
    /// Direct pointers to the same memories and tables, for libcalls.
    pub memories: Vec<*mut LinearMemory>,
    pub tables: Vec<*mut TableData>,
    /// Passive element segments' values; `None` once dropped.
    pub elems: Vec<Option<Box<[usize]>>>,
    /// Whether each element segment holds GC references (counted while it is alive).
    pub elem_is_gc: Vec<bool>,

    /// Whether each data segment has been dropped.
    pub dropped_data: Vec<bool>,
}

// SAFETY: the raw pointers point into the owning store, which moves between threads whole.
unsafe impl Send for InstanceData {}

impl InstanceData {
    /// Allocates a zeroed `VMContext` for `module`, with its header filled in. The back
    /// pointer to `InstanceData` is written by `set_self_pointer` once boxed.
    pub(crate) fn new(
        module: Module,
        vm_store: *mut VMStoreContext,
        builtins: *const usize,
    ) -> InstanceData {
        let offsets = module.info().offsets();
        let layout = Layout::from_size_align(offsets.size() as usize, 16).expect("valid layout");
        // SAFETY: the layout's size is at least the header size, so non-zero.
        let vmctx = unsafe { std::alloc::alloc_zeroed(layout) };
        if vmctx.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let data = InstanceData {
            elems: Vec::new(),
            elem_is_gc: Vec::new(),
            dropped_data: vec![false; module.info().data.len()],
            module,
            store_index: usize::MAX,
            vmctx,
            layout,
            offsets,
            memory_ids: Vec::new(),
            table_ids: Vec::new(),
            global_ids: Vec::new(),
            tag_ids: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
        };
        data.write(header::STORE as u32, vm_store as usize);
        data.write(header::BUILTINS as u32, builtins as usize);
        data.write(
            header::TYPE_IDS as u32,
            data.module.info().type_ids.as_ptr() as usize,
        );
        // The module (which owns the segments' bytes) lives as long as the instance.
        for (i, segment) in (0..).zip(&data.module.info().data) {
            data.write(data.offsets.data(i), segment.bytes.as_ptr() as usize);
            data.write(data.offsets.data(i) + 8, segment.bytes.len());
        }
        data
    }

    /// Drops data segment `i` (`data.drop`, or an active segment once applied): its bytes
    /// read as empty from then on, to builtins and compiled code alike.
    pub(crate) fn drop_data(&mut self, i: usize) {
        self.dropped_data[i] = true;
        self.write(self.offsets.data(i as u32) + 8, 0);
    }

    fn write(&self, offset: u32, value: usize) {
        assert!(offset as usize + 8 <= self.layout.size());
        // SAFETY: in bounds (checked above) and 8-aligned (all pointer slots are).
        unsafe { self.vmctx.add(offset as usize).cast::<usize>().write(value) }
    }

    /// Records where this `InstanceData` lives, for libcalls.
    pub(crate) fn set_self_pointer(&mut self) {
        let me = self as *mut InstanceData as usize;
        self.write(header::INSTANCE as u32, me);
    }

    /// The `VMContext` pointer compiled code receives.
    pub(crate) fn vmctx(&self) -> *mut u8 {
        self.vmctx
    }

    pub(crate) fn set_memory(&self, i: u32, def: *mut super::VMMemoryDefinition) {
        self.write(self.offsets.memory(i), def as usize);
    }

    pub(crate) fn set_table(&self, i: u32, def: *mut super::VMTableDefinition) {
        self.write(self.offsets.table(i), def as usize);
    }

    pub(crate) fn set_global(&self, i: u32, def: *mut super::VMGlobalDefinition) {
        self.write(self.offsets.global(i), def as usize);
    }

    /// Adds the next tag, whose identity in the store is `id`.
    pub(crate) fn push_tag(&mut self, id: u32) {
        let i = self.tag_ids.len() as u32;
        assert!(i < self.offsets.num_tags);
        let offset = self.offsets.tag(i) as usize;
        assert!(offset + 4 <= self.layout.size());
        // SAFETY: in bounds (checked above) and 4-aligned (the slots follow 24-byte
        // function references from an 8-aligned offset).
        unsafe { self.vmctx.add(offset).cast::<u32>().write(id) }
        self.tag_ids.push(id);
    }

    /// Pointer to function `i`'s `VMFuncRef` inside the `VMContext`.
    pub(crate) fn funcref(&self, i: u32) -> *mut VMFuncRef {
        assert!(i < self.offsets.num_funcs);
        // SAFETY: in bounds of the allocation by the assertion and the layout.
        unsafe { self.vmctx.add(self.offsets.funcref(i) as usize).cast() }
    }

    /// Drops passive element segment `i` (`elem.drop`), releasing its references.
    pub(crate) fn drop_elem(&mut self, i: usize, heap: &mut dyn gc_core::GcHeap) {
        if let Some(values) = self.elems[i].take()
            && self.elem_is_gc[i]
        {
            for r in values
                .iter()
                .filter_map(|&v| gc_core::VMGcRef::from_raw(v as u32))
            {
                heap.drop_gc_ref(r);
            }
        }
    }

    pub(crate) fn set_funcref(&self, i: u32, f: VMFuncRef) {
        // SAFETY: `funcref` checks bounds; the slot is properly aligned (8) and ours.
        unsafe { self.funcref(i).write(f) }
    }
}

impl Drop for InstanceData {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.vmctx, self.layout) }
    }
}
