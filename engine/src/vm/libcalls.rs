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
    MemoryGrow = memory_grow(I32, I64) -> I64;
    MemoryFill = memory_fill(I32, I64, I32, I64) -> I8;
    MemoryCopy = memory_copy(I32, I64, I32, I64, I64) -> I8;
    MemoryInit = memory_init(I32, I32, I64, I32, I32) -> I8;
    DataDrop = data_drop(I32);
    TableGrow = table_grow(I32, I64, I64) -> I64;
    TableFill = table_fill(I32, I64, I64, I64) -> I8;
    TableCopy = table_copy(I32, I32, I64, I64, I64) -> I8;
    TableInit = table_init(I32, I32, I64, I32, I32) -> I8;
    ElemDrop = elem_drop(I32);
    GcExternalize = gc_externalize(I32);
    GcBarrierSlowPath = gc_barrier_slow_path(I32, I32);
    IsSubtype = is_subtype(I32, I32) -> I8;
    GcAlloc = gc_alloc(I32, I64, I32) -> I64;
    InternFuncRef = intern_funcref(I64) -> I32;
    ArrayFill = array_fill(I32, I32, I64, I32) -> I32;
    ArrayCopy = array_copy(I32, I32, I32, I32, I32) -> I32;
    ArrayNewElem = array_new_elem(I32, I32, I32, I32) -> I64;
    ArrayInitData = array_init_data(I32, I32, I32, I32, I32) -> I32;
    ArrayInitElem = array_init_elem(I32, I32, I32, I32, I32) -> I32;
    NewEpoch = new_epoch() -> I32;
    ThrowRef = throw_ref(I32);
}

impl Builtin {
    /// Whether compiled code calls this builtin on a cold path of hot code (a loop header's
    /// epoch check, a write barrier whose log is full), through a trampoline that preserves
    /// every register; its result (at most 32 bits) comes back in
    /// `VMStoreContext::builtin_status`.
    pub(crate) fn preserves_all(self) -> bool {
        // `ThrowRef` for another reason: a `try_call` of it must clobber everything on the
        // exceptional edge, which the C convention does not.
        matches!(
            self,
            Builtin::NewEpoch | Builtin::ThrowRef | Builtin::GcBarrierSlowPath
        )
    }
}

/// Why a GC builtin failed: compiled code maps each to its trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum GcStatus {
    Ok = 0,
    /// "out of bounds array access"
    ArrayOutOfBounds = 1,
    /// "allocation size too large": no heap could hold the object
    AllocationTooLarge = 2,
    /// "out of bounds table access" (an element segment)
    TableOutOfBounds = 3,
    /// "out of bounds memory access" (a data segment)
    MemoryOutOfBounds = 4,
    /// A host callback failed: a host value's `Drop` panicked during a collection, or the
    /// resource limiter returned an error. The panic or error is pending in the store;
    /// compiled code raises `Trap::HostError`, which reports it.
    HostError = 5,
    /// "GC heap out of memory": no room even after a full collection and growing the heap.
    OutOfMemory = 6,
}

impl GcStatus {
    /// Every failure, with the trap it raises.
    pub(crate) const TRAPS: [(GcStatus, crate::trap::Trap); 6] = [
        (
            GcStatus::ArrayOutOfBounds,
            crate::trap::Trap::ArrayOutOfBounds,
        ),
        (
            GcStatus::AllocationTooLarge,
            crate::trap::Trap::AllocationTooLarge,
        ),
        (
            GcStatus::TableOutOfBounds,
            crate::trap::Trap::TableOutOfBounds,
        ),
        (
            GcStatus::MemoryOutOfBounds,
            crate::trap::Trap::MemoryOutOfBounds,
        ),
        (GcStatus::HostError, crate::trap::Trap::HostError),
        (GcStatus::OutOfMemory, crate::trap::Trap::GcHeapOutOfMemory),
    ];

    /// The status for a failed allocation: its trap, or `HostError` with any other error
    /// left pending in `store`.
    fn of_error(store: &mut crate::store::StoreOpaque, err: anyhow::Error) -> GcStatus {
        match err.downcast_ref::<crate::trap::Trap>() {
            Some(crate::trap::Trap::AllocationTooLarge) => GcStatus::AllocationTooLarge,
            Some(crate::trap::Trap::GcHeapOutOfMemory) => GcStatus::OutOfMemory,
            _ => {
                store.pending_error = Some(err);
                GcStatus::HostError
            }
        }
    }
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

/// What `memory.grow` and `table.grow` return when the resource limiter failed: compiled
/// code raises `Trap::HostError`, which reports the limiter's error. Otherwise they return
/// the old size, or -1 if the growth was refused.
pub(crate) const GROW_TRAP: i64 = -2;

/// The result of a growth for compiled code (see `GROW_TRAP`); an error is left pending.
fn grow_result(store: &mut crate::store::StoreOpaque, result: anyhow::Result<Option<u64>>) -> i64 {
    match result {
        Ok(Some(old)) => old as i64,
        Ok(None) => -1,
        Err(err) => {
            store.pending_error = Some(err);
            GROW_TRAP
        }
    }
}

extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> i64 {
    // SAFETY: called by compiled code with its own vmctx; the memory index was validated.
    let id = unsafe { instance(vmctx) }.memory_ids[mem as usize];
    // SAFETY: called through an exit trampoline; no other borrow of the store is live.
    unsafe {
        with_store_parts(vmctx, |crate::store::StoreParts { opaque, limiter }| {
            let result = opaque.memories[id].grow(delta, limiter);
            grow_result(opaque, result)
        })
    }
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
    unsafe { instance(vmctx) }.drop_data(data as usize);
}

/// The GC heap of the store `inst` belongs to.
///
/// # Safety
/// `inst` must be a live instance of a live store, and no other reference to the store's
/// GC heap may be live for `'a`.
unsafe fn gc_heap<'a>(inst: &InstanceData) -> &'a mut dyn gc_core::GcHeap {
    // SAFETY: per the contract; the heap is boxed separately from the instance.
    unsafe { &mut **store(inst.vmctx()).gc.heap }
}

extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: usize) -> i64 {
    // SAFETY: as in `memory_grow`; the table index was validated.
    let id = unsafe { instance(vmctx) }.table_ids[table as usize];
    // SAFETY: as in `memory_grow`.
    unsafe {
        with_store_parts(vmctx, |crate::store::StoreParts { opaque, limiter }| {
            let heap = &mut **opaque.gc.heap;
            let result = opaque.tables[id].grow(delta, init, heap, limiter);
            grow_result(opaque, result)
        })
    }
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, val: usize, len: u64) -> u8 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let (table, heap) = unsafe { (&mut *inst.tables[table as usize], gc_heap(inst)) };
    u8::from(table.fill(dst, val, len, heap))
}

extern "C" fn table_copy(vmctx: *mut u8, dt: u32, st: u32, dst: u64, src: u64, len: u64) -> u8 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let heap = unsafe { gc_heap(inst) };
    let (d, s) = (inst.tables[dt as usize], inst.tables[st as usize]);
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
    dst: u64,
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
    u8::from(table.write(dst, &values[sr], heap))
}

extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `table_grow`.
    let heap = unsafe { gc_heap(inst) };
    inst.drop_elem(elem as usize, heap);
}

extern "C" fn gc_externalize(vmctx: *mut u8, gc_ref: u32) {
    // SAFETY: as in `gc_alloc`.
    let store = unsafe { store(vmctx) };
    if let Some(r) = gc_core::VMGcRef::from_raw(gc_ref) {
        store.gc.heap.externalize(r);
    }
}

/// Never collects: it only moves the barrier log's entries, and the two given, to the
/// collector's tables. So compiled code calls it as no safepoint (no stack map, nothing
/// spilled for it) and through a trampoline that preserves every register
/// (`Builtin::preserves_all`). A collection the entries call for runs at the next
/// allocation that leaves compiled code, or the next collection the host asks for.
extern "C" fn gc_barrier_slow_path(vmctx: *mut u8, logged: u32, released: u32) {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: the store outlives its instances.
    let store = unsafe { store(inst.vmctx()) };
    for r in [logged, released]
        .into_iter()
        .filter_map(gc_core::VMGcRef::from_raw)
    {
        store.gc.heap.barrier_slow_path(r);
    }
}

/// Compiled code found the store's epoch deadline passed: runs the store's deadline
/// behaviour and returns `EPOCH_CONTINUE` (the deadline moved), `EPOCH_INTERRUPT`, or
/// `EPOCH_HOST_ERROR` with the callback's error or panic pending.
extern "C" fn new_epoch(vmctx: *mut u8) -> u32 {
    use crate::translate::{EPOCH_CONTINUE, EPOCH_HOST_ERROR, EPOCH_INTERRUPT};
    {
        // SAFETY: as in `gc_alloc`; this borrow ends before the hook's.
        let store = unsafe { store(vmctx) };
        if store.engine.current_epoch() < store.vm.epoch_deadline {
            // The deadline moved since the caller read it.
            return EPOCH_CONTINUE;
        }
    }
    // SAFETY: called through an exit trampoline; no reference to the store is live, and
    // the hook gets the whole store it was made for.
    let result = std::panic::catch_unwind(|| unsafe {
        let (hooks, whole) = store_hooks(vmctx);
        (hooks.new_epoch)(whole)
    });
    // SAFETY: as in `gc_alloc`; the hook's borrow has ended.
    let store = unsafe { store(vmctx) };
    match result {
        Ok(Ok(_)) => EPOCH_CONTINUE,
        Ok(Err(err)) if err.downcast_ref() == Some(&crate::trap::Trap::Interrupt) => {
            EPOCH_INTERRUPT
        }
        Ok(Err(err)) => {
            store.pending_error = Some(err);
            EPOCH_HOST_ERROR
        }
        Err(panic) => {
            store.pending_panic = Some(panic);
            EPOCH_HOST_ERROR
        }
    }
}

/// `throw` and `throw_ref`: throws exception `exn` (non-null, checked by compiled code)
/// from the calling Wasm frame. Never returns: control resumes at the handler that catches
/// it, or the call into Wasm returns it.
extern "C" fn throw_ref(vmctx: *mut u8, exn: u32) {
    let (vm, tag) = {
        // SAFETY: as in `gc_alloc`; this borrow ends before the throw.
        let store = unsafe { store(vmctx) };
        let r = gc_core::VMGcRef::from_raw(exn).expect("compiled code checked for null");
        let vm: *const crate::vm::VMStoreContext = &*store.vm;
        (vm, store.exn_tag(r))
    };
    // SAFETY: called through an exit trampoline that recorded the calling Wasm frame; this
    // frame and the trampoline's own nothing.
    unsafe { crate::traphandlers::throw(vm, exn, tag) }
}

extern "C" fn is_subtype(vmctx: *mut u8, actual: u32, expected: u32) -> u8 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    u8::from(inst.module.engine().registry().is_subtype(actual, expected))
}

/// The store of the instance whose `VMContext` is `vmctx`, borrowed through the pointer
/// the entry into Wasm published (see `VMStoreContext::store`).
///
/// # Safety
/// As for `instance`, called from Wasm; and no other reference to the store may be live
/// for `'a`.
unsafe fn store<'a>(vmctx: *mut u8) -> &'a mut crate::store::StoreOpaque {
    // SAFETY: per the contract, `vmctx` is a live `VMContext`, whose header holds its
    // store's `VMStoreContext`; Wasm is running, so the entry set `store`.
    unsafe {
        let vm = *vmctx
            .add(crate::vm::header::STORE as usize)
            .cast::<*const crate::vm::VMStoreContext>();
        debug_assert!(!(*vm).store.is_null(), "a builtin called outside Wasm");
        &mut *(*vm).store.cast::<crate::store::StoreOpaque>()
    }
}

/// The typed entry points and the whole store (as published by the entry into Wasm) of
/// the instance whose `VMContext` is `vmctx`.
///
/// # Safety
/// As for `store`; the result may be used while no reference to the store is live.
unsafe fn store_hooks(vmctx: *mut u8) -> (crate::store::StoreHooks, *mut u8) {
    // SAFETY: as in `store`; the hooks are plain function pointers read in place, without
    // making a reference to the store.
    unsafe {
        let vm = *vmctx
            .add(crate::vm::header::STORE as usize)
            .cast::<*const crate::vm::VMStoreContext>();
        let whole = (*vm).store;
        debug_assert!(!whole.is_null(), "a builtin called outside Wasm");
        let hooks = std::ptr::addr_of!((*whole.cast::<crate::store::StoreOpaque>()).hooks).read();
        (hooks, whole)
    }
}

/// Runs `f` on the store of the instance whose `VMContext` is `vmctx`, split into its
/// opaque part and its resource limiter (see `store`).
///
/// # Safety
/// As for `store`.
unsafe fn with_store_parts<R>(
    vmctx: *mut u8,
    f: impl FnOnce(crate::store::StoreParts<'_>) -> R,
) -> R {
    let mut f = Some(f);
    let mut out = None;
    // SAFETY: per the contract; `with_parts` is the store's own, given its whole store.
    unsafe {
        let (hooks, whole) = store_hooks(vmctx);
        (hooks.with_parts)(whole, &mut |parts| {
            out = f.take().map(|f| f(parts));
        });
    }
    out.expect("with_parts calls back once")
}

/// A reference and a status packed for compiled code: status in the high 32 bits.
fn packed(r: u32, status: GcStatus) -> u64 {
    u64::from(r) | (u64::from(status as u32) << 32)
}

/// Runs a possibly-collecting step, turning a host `Drop`'s panic into `HostError`.
fn collecting(
    store: &mut crate::store::StoreOpaque,
    f: impl FnOnce(&mut crate::store::StoreOpaque) -> u64,
) -> u64 {
    let store_ptr: *mut crate::store::StoreOpaque = store;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the only use of the store during `f`.
        f(unsafe { &mut *store_ptr })
    })) {
        Ok(v) => v,
        Err(panic) => {
            store.pending_panic = Some(panic);
            packed(0, GcStatus::HostError)
        }
    }
}

/// Allocates an object of canonical type `ty`, `size` bytes, with kind bits `kind`;
/// collects first if the heap asks, and makes room if it is full (see
/// `StoreOpaque::alloc_gc`).
fn alloc(
    opaque: &mut crate::store::StoreOpaque,
    limiter: Option<&mut dyn crate::ResourceLimiter>,
    ty: u32,
    size: u64,
    kind: gc_core::VMGcKind,
) -> u64 {
    let Ok(size) = u32::try_from(size) else {
        return packed(0, GcStatus::AllocationTooLarge);
    };
    collecting(opaque, |store| {
        store.maybe_gc();
        match store.alloc_gc_object(limiter, kind, ty, size, true) {
            Ok(r) => packed(r.as_raw(), GcStatus::Ok),
            Err(err) => packed(0, GcStatus::of_error(store, err)),
        }
    })
}

extern "C" fn gc_alloc(vmctx: *mut u8, ty: u32, size: u64, kind: u32) -> u64 {
    let Some(kind) = gc_core::VMGcKind::from_word(kind) else {
        return packed(0, GcStatus::AllocationTooLarge);
    };
    // SAFETY: called by compiled code through an exit trampoline.
    unsafe { with_store_parts(vmctx, |p| alloc(p.opaque, p.limiter, ty, size, kind)) }
}

extern "C" fn intern_funcref(vmctx: *mut u8, funcref: u64) -> u32 {
    // SAFETY: as in `gc_alloc`.
    let store = unsafe { store(vmctx) };
    store.func_table.intern(funcref as usize, &mut store.vm)
}

/// An array's layout and length.
fn array_info(
    store: &mut crate::store::StoreOpaque,
    r: gc_core::VMGcRef,
) -> (gc_core::GcArrayLayout, u32) {
    let ty = store.gc.heap.header(r).ty();
    let layout = store.array_layout(ty);
    let len = store.array_len(r, &layout);
    (layout, len)
}

/// Writes element `i` of array `r` from its stored form, with the barrier for references.
fn write_elem(
    store: &mut crate::store::StoreOpaque,
    r: gc_core::VMGcRef,
    layout: &gc_core::GcArrayLayout,
    i: u32,
    bits: u128,
) {
    let offset = layout.elems_offset + i * layout.elem.size();
    store.write_gc_field(r, offset, layout.elem, bits);
}

extern "C" fn array_fill(vmctx: *mut u8, array: u32, offset: u32, value: u64, len: u32) -> u32 {
    // SAFETY: as in `gc_alloc`; compiled code checked `array` for null.
    let store = unsafe { store(vmctx) };
    let r = gc_core::VMGcRef::from_raw(array).expect("non-null array");
    let (layout, array_len) = array_info(store, r);
    if range(u64::from(offset), u64::from(len), u64::from(array_len)).is_none() {
        return GcStatus::ArrayOutOfBounds as u32;
    }
    store.fill_gc_array(r, &layout, offset, len, u128::from(value));
    GcStatus::Ok as u32
}

extern "C" fn array_copy(
    vmctx: *mut u8,
    dst: u32,
    dst_off: u32,
    src: u32,
    src_off: u32,
    len: u32,
) -> u32 {
    // SAFETY: as in `array_fill`.
    let store = unsafe { store(vmctx) };
    let (d, s) = (
        gc_core::VMGcRef::from_raw(dst).expect("non-null array"),
        gc_core::VMGcRef::from_raw(src).expect("non-null array"),
    );
    let (dl, dlen) = array_info(store, d);
    let (sl, slen) = array_info(store, s);
    let in_bounds = range(u64::from(dst_off), u64::from(len), u64::from(dlen)).is_some()
        && range(u64::from(src_off), u64::from(len), u64::from(slen)).is_some();
    if !in_bounds {
        return GcStatus::ArrayOutOfBounds as u32;
    }
    if dl.elem == gc_core::GcFieldKind::GcRef {
        copy_gc_refs(store, (d, &dl, dst_off), (s, &sl, src_off), len);
        return GcStatus::Ok as u32;
    }
    // Plain bytes: one memmove inside the heap, also within one array.
    let size = dl.elem.size();
    let byte = |layout: &gc_core::GcArrayLayout, i: u32| layout.elems_offset + i * size;
    let (dst_byte, src_byte) = (byte(&dl, dst_off), byte(&sl, src_off));
    store
        .gc
        .heap
        .copy_object_bytes(d, dst_byte, s, src_byte, len * size);
    GcStatus::Ok as u32
}

/// `array.copy` of `len` references (bounds checked by the caller), counted in bulk unless
/// the destination's elements are not counted (a young array): a chunk at a time, read the sources and the references they replace, write the chunk,
/// then count each new reference and release each old one, skipping elements that do not
/// change. Chunks go backwards when a copy within one array moves elements up, so each
/// source is read before it is overwritten.
fn copy_gc_refs(
    store: &mut crate::store::StoreOpaque,
    (d, dl, dst): (gc_core::VMGcRef, &gc_core::GcArrayLayout, u32),
    (s, sl, src): (gc_core::VMGcRef, &gc_core::GcArrayLayout, u32),
    len: u32,
) {
    const CHUNK: u32 = 1024;
    let mut new = [0u32; CHUNK as usize];
    let mut old = [0u32; CHUNK as usize];
    let backward = d == s && dst > src;
    let chunks = len.div_ceil(CHUNK);
    let heap = &mut store.gc.heap;
    // A young array's elements are not counted: then the copy is all there is.
    let counted = heap.fields_are_counted(d);
    let words = |bytes: &[u8], out: &mut [u32]| {
        for (w, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes(b.try_into().expect("4 bytes"));
        }
    };
    for c in 0..chunks {
        let c = if backward { chunks - 1 - c } else { c };
        let at = c * CHUNK;
        let n = (len - at).min(CHUNK) as usize;
        let (new, old) = (&mut new[..n], &mut old[..n]);
        words(
            heap.object_bytes(s, sl.elems_offset + (src + at) * 4, n as u32 * 4),
            new,
        );
        let dest = heap.object_bytes_mut(d, dl.elems_offset + (dst + at) * 4, n as u32 * 4);
        words(dest, old);
        for (b, w) in dest.chunks_exact_mut(4).zip(new.iter()) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        if !counted {
            continue;
        }
        for (&n, &o) in new.iter().zip(old.iter()).filter(|(n, o)| n != o) {
            if let Some(n) = gc_core::VMGcRef::from_raw(n) {
                heap.clone_gc_ref(&n);
            }
            if let Some(o) = gc_core::VMGcRef::from_raw(o) {
                heap.drop_gc_ref(o);
            }
        }
    }
}

/// The bytes of data segment `data` of the calling instance (empty once dropped).
fn data_bytes(inst: &InstanceData, data: u32) -> &[u8] {
    if inst.dropped_data[data as usize] {
        &[]
    } else {
        &inst.module.info().data[data as usize].bytes
    }
}

/// The bytes of `len` elements of `layout` in `bytes` from byte `offset`, if in bounds:
/// numeric elements are stored little-endian, as data segments encode them.
fn elem_bytes<'a>(
    bytes: &'a [u8],
    offset: u32,
    len: u32,
    layout: &gc_core::GcArrayLayout,
) -> Option<&'a [u8]> {
    let total = u64::from(len) * u64::from(layout.elem.size());
    Some(&bytes[range(u64::from(offset), total, bytes.len() as u64)?])
}

/// Raw values of element segment `elem` of the calling instance, as array elements.
fn elem_values(
    store: &mut crate::store::StoreOpaque,
    inst: &InstanceData,
    elem: u32,
    offset: u32,
    len: u32,
    layout: &gc_core::GcArrayLayout,
) -> Option<Vec<u128>> {
    let values: &[usize] = inst.elems[elem as usize].as_deref().unwrap_or(&[]);
    let r = range(u64::from(offset), u64::from(len), values.len() as u64)?;
    Some(
        values[r]
            .iter()
            .map(|&v| match layout.elem {
                gc_core::GcFieldKind::FuncRef => {
                    u128::from(store.func_table.intern(v, &mut store.vm))
                }
                _ => v as u128,
            })
            .collect(),
    )
}

/// Builds an array of `ty` holding `values` (see `StoreOpaque::new_array`).
fn new_array_from(parts: crate::store::StoreParts<'_>, ty: u32, values: &[u128]) -> u64 {
    let crate::store::StoreParts {
        opaque: store,
        limiter,
    } = parts;
    let Ok(len) = u32::try_from(values.len()) else {
        return packed(0, GcStatus::AllocationTooLarge);
    };
    collecting(store, |store| {
        let init = crate::runtime::gc::ArrayInit::Elems(values);
        match store.new_array(limiter, ty, len, init) {
            Ok(r) => packed(r.as_raw(), GcStatus::Ok),
            Err(err) => packed(0, GcStatus::of_error(store, err)),
        }
    })
}

extern "C" fn array_new_elem(vmctx: *mut u8, ty: u32, elem: u32, offset: u32, len: u32) -> u64 {
    // SAFETY: as in `gc_alloc`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `gc_alloc`.
    unsafe {
        with_store_parts(vmctx, |parts| {
            let layout = parts.opaque.array_layout(ty);
            let Some(values) = elem_values(parts.opaque, inst, elem, offset, len, &layout) else {
                return packed(0, GcStatus::TableOutOfBounds);
            };
            new_array_from(parts, ty, &values)
        })
    }
}

extern "C" fn array_init_data(
    vmctx: *mut u8,
    array: u32,
    dst: u32,
    data: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as in `array_fill`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `array_fill`.
    let store = unsafe { store(vmctx) };
    let r = gc_core::VMGcRef::from_raw(array).expect("non-null array");
    let (layout, array_len) = array_info(store, r);
    if range(u64::from(dst), u64::from(len), u64::from(array_len)).is_none() {
        return GcStatus::ArrayOutOfBounds as u32;
    }
    let Some(bytes) = elem_bytes(data_bytes(inst, data), src, len, &layout) else {
        return GcStatus::MemoryOutOfBounds as u32;
    };
    // Numeric elements: one copy of the bytes.
    let at = layout.elems_offset + dst * layout.elem.size();
    store
        .gc
        .heap
        .object_bytes_mut(r, at, bytes.len() as u32)
        .copy_from_slice(bytes);
    GcStatus::Ok as u32
}

extern "C" fn array_init_elem(
    vmctx: *mut u8,
    array: u32,
    dst: u32,
    elem: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as in `array_fill`.
    let inst = unsafe { instance(vmctx) };
    // SAFETY: as in `array_fill`.
    let store = unsafe { store(vmctx) };
    init_array(store, array, dst, len, |store, layout| {
        elem_values(store, inst, elem, src, len, layout).ok_or(GcStatus::TableOutOfBounds)
    })
}

/// `array.init_data` and `array.init_elem`: checks `[dst, dst + len)` against the length of
/// `array`, then writes the `values` the source gives (or reports its failure).
fn init_array(
    store: &mut crate::store::StoreOpaque,
    array: u32,
    dst: u32,
    len: u32,
    values: impl FnOnce(
        &mut crate::store::StoreOpaque,
        &gc_core::GcArrayLayout,
    ) -> Result<Vec<u128>, GcStatus>,
) -> u32 {
    let r = gc_core::VMGcRef::from_raw(array).expect("non-null array");
    let (layout, array_len) = array_info(store, r);
    if range(u64::from(dst), u64::from(len), u64::from(array_len)).is_none() {
        return GcStatus::ArrayOutOfBounds as u32;
    }
    let values = match values(store, &layout) {
        Ok(values) => values,
        Err(status) => return status as u32,
    };
    for (i, v) in (dst..).zip(values) {
        write_elem(store, r, &layout, i, v);
    }
    GcStatus::Ok as u32
}
