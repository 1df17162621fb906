//! Builtins: runtime functions compiled code calls through the engine's builtin table.
//!
//! Each takes the caller's `VMContext` first and reports failure by its return value
//! (0 = trap); compiled code then raises the trap itself, so no Rust frame is ever unwound
//! by a trap. The table holds exit trampolines (see `compile::builtins`), not these
//! functions: each records the calling Wasm frame in the store context first, so a builtin
//! may collect garbage and the collector can walk the frames above it.

use super::InstanceData;
use super::table::range;
use cranelift_codegen::ir::{self, types::*};

macro_rules! builtins {
    ($( $name:ident = $func:ident ( $($pty:ident),* ) $(-> $ret:ident)?; )*) => {
        /// A runtime builtin.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Builtin { $($name,)* }

        impl Builtin {
            /// Every builtin, in table order.
            pub(crate) const ALL: &'static [Builtin] = &[$(Builtin::$name),*];

            /// Position in the table.
            pub(crate) fn index(self) -> usize { self as usize }

            /// IR parameter types (after `vmctx`) and return type.
            pub(crate) fn signature(self) -> (&'static [ir::Type], Option<ir::Type>) {
                match self {
                    $(Builtin::$name => (&[$($pty),*], builtins!(@ret $($ret)?)),)*
                }
            }

            /// The Rust function implementing the builtin (`extern "C"`, `vmctx` first).
            pub(crate) fn address(self) -> *const () {
                match self {
                    $(Builtin::$name => $func as *const (),)*
                }
            }
        }
    };
    (@ret) => { None };
    (@ret $r:ident) => { Some($r) };
}

builtins! {
    MemoryGrow = memory_grow(I32, I32) -> I32;
    MemoryFill = memory_fill(I32, I64, I32, I64) -> I8;
    MemoryCopy = memory_copy(I32, I64, I32, I64, I64) -> I8;
    MemoryInit = memory_init(I32, I32, I64, I32, I32) -> I8;
    DataDrop = data_drop(I32);
    TableGrow = table_grow(I32, I32, I64) -> I32;
    TableFill = table_fill(I32, I32, I64, I32) -> I8;
    TableCopy = table_copy(I32, I32, I32, I32, I32) -> I8;
    TableInit = table_init(I32, I32, I32, I32, I32) -> I8;
    ElemDrop = elem_drop(I32);
        GcRefCountZero = gc_ref_count_zero(I32) -> I8;
    IsSubtype = is_subtype(I32, I32) -> I8;
}

/// The instance whose `VMContext` is `vmctx`.
///
/// # Safety
/// `vmctx` must be the `VMContext` of a live instance whose back pointer is set, and no
/// other reference to that `InstanceData` may be live for `'a`.
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    // SAFETY: per the contract, offset 0 holds a valid `*mut InstanceData`.
    unsafe { &mut **vmctx.cast::<*mut InstanceData>() }
}

extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u32) -> u32 {
    // SAFETY: called by compiled code with its own vmctx; the memory index was validated.
    let memory = unsafe { &mut *instance(vmctx).memories[mem as usize] };
    memory
        .grow(u64::from(delta))
        .map_or(u32::MAX, |old| old as u32)
}

extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u8 {
    // SAFETY: as in `memory_grow`.
    let memory = unsafe { &mut *instance(vmctx).memories[mem as usize] };
    let data = memory.data_mut();
    match range(dst, len, data.len() as u64) {
        Some(r) => {
            data[r].fill(val as u8);
            1
        }
        None => 0,
    }
}

extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    dst: u64,
    src_mem: u32,
    src: u64,
    len: u64,
) -> u8 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    let (d, s) = (
        inst.memories[dst_mem as usize],
        inst.memories[src_mem as usize],
    );
    // SAFETY: both point to live memories; only raw pointers are used when they coincide.
    let (dst_len, src_len) = unsafe { ((*d).def.current_length, (*s).def.current_length) };
    match (
        range(dst, len, dst_len as u64),
        range(src, len, src_len as u64),
    ) {
        (Some(dr), Some(sr)) => {
            // SAFETY: both ranges are within their memories' accessible bytes; `copy`
            // allows overlap.
            unsafe {
                std::ptr::copy(
                    (*s).def.base.add(sr.start),
                    (*d).def.base.add(dr.start),
                    sr.len(),
                )
            };
            1
        }
        _ => 0,
    }
}

extern "C" fn memory_init(vmctx: *mut u8, mem: u32, data: u32, dst: u64, src: u32, len: u32) -> u8 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    let bytes: &[u8] = if inst.dropped_data[data as usize] {
        &[]
    } else {
        &inst.module.info().data[data as usize].bytes
    };
    let Some(sr) = range(u64::from(src), u64::from(len), bytes.len() as u64) else {
        return 0;
    };
    // SAFETY: the memory index was validated.
    let memory = unsafe { &mut *inst.memories[mem as usize] };
    let target = memory.data_mut();
    match range(dst, u64::from(len), target.len() as u64) {
        Some(dr) => {
            target[dr].copy_from_slice(&bytes[sr]);
            1
        }
        None => 0,
    }
}

extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: as in `memory_grow`.
    unsafe { instance(vmctx) }.dropped_data[data as usize] = true;
}

/// The GC heap of the store `inst` belongs to.
///
/// # Safety
/// `inst` must be a live instance of a live store, and no other reference to the store's
/// GC heap may be live for `'a`.
unsafe fn gc_heap<'a>(inst: &InstanceData) -> &'a mut dyn gc_core::GcHeap {
    // SAFETY: per the contract; the heap is boxed separately from the instance.
    unsafe { &mut *(*inst.store).gc.heap }
}

extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u32, init: usize) -> u32 {
    // SAFETY: as in `memory_grow`; the table index was validated.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: tables and the heap are distinct allocations of the live store.
    let (table, heap) = unsafe { (&mut *inst.tables[table as usize], gc_heap(inst)) };
    table
        .grow(u64::from(delta), init, heap)
        .map_or(u32::MAX, |old| old as u32)
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, val: usize, len: u32) -> u8 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let (table, heap) = unsafe { (&mut *inst.tables[table as usize], gc_heap(inst)) };
    u8::from(table.fill(u64::from(dst), val, u64::from(len), heap))
}

extern "C" fn table_copy(vmctx: *mut u8, dt: u32, st: u32, dst: u32, src: u32, len: u32) -> u8 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let heap = unsafe { gc_heap(inst) };
    let (d, s) = (inst.tables[dt as usize], inst.tables[st as usize]);
    let (dst, src, len) = (u64::from(dst), u64::from(src), u64::from(len));
    if d == s {
        // SAFETY: a live table, referenced only here.
        return u8::from(unsafe { &mut *d }.copy_within(dst, src, len, heap));
    }
    // SAFETY: two distinct live tables.
    let (d, s) = unsafe { (&mut *d, &*s) };
    match s.slice(src, len) {
        Some(values) if range(dst, len, d.size()).is_some() => u8::from(d.write(dst, values, heap)),
        _ => 0,
    }
}

extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u8 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let heap = unsafe { gc_heap(inst) };
    let values: &[usize] = inst.elems[elem as usize].as_deref().unwrap_or(&[]);
    let Some(sr) = range(u64::from(src), u64::from(len), values.len() as u64) else {
        return 0;
    };
    // SAFETY: the table index was validated; tables are not part of the instance.
    let table = unsafe { &mut *inst.tables[table as usize] };
    u8::from(table.write(u64::from(dst), &values[sr], heap))
}

extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let heap = unsafe { gc_heap(inst) };
    inst.drop_elem(elem as usize, heap);
}

/// Returns 0 if a host value's `Drop` panicked during a collection: compiled code then
/// raises `Trap::HostError`, and the call that entered Wasm resumes the panic.
extern "C" fn gc_ref_count_zero(vmctx: *mut u8, gc_ref: u32) -> u8 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: the store outlives its instances. Compiled code reached this builtin through
    // an exit trampoline, so a collection here can walk the Wasm frames above.
    let store = unsafe { &mut *inst.store };
    if let Some(r) = gc_core::VMGcRef::from_raw(gc_ref) {
        store.gc.heap.dec_ref_slow_path(r);
    }
    // A collection runs embedders' `Drop`s, which may panic; this frame cannot unwind.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.maybe_gc())) {
        Ok(()) => 1,
        Err(panic) => {
            store.pending_panic = Some(panic);
            0
        }
    }
}

extern "C" fn is_subtype(vmctx: *mut u8, actual: u32, expected: u32) -> u8 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    u8::from(inst.module.engine().registry().is_subtype(actual, expected))
}
