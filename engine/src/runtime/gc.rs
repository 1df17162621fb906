//! The store's side of garbage collection: its heap and host-data table, the queue of
//! references released by dropped host handles, and collections (roots from Wasm frames,
//! globals, tables and element segments).

use crate::limits::ResourceLimiter;
use crate::store::StoreOpaque;
use crate::trap::Trap;
use anyhow::{Result, bail};
use gc_core::{
    ExternRefHostDataTable, GcArrayLayout, GcHeap, GcHeapConfig, GcRootsList, GcStructLayout,
    VMGcKind, VMGcRef,
};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Host handles dropped since the last drain, as raw references to release. Shared with
/// every handle (a `Drop` cannot reach the heap); the length is readable without locking.
pub(crate) type DroppedRefs = Arc<DroppedQueue>;

/// The queue behind [`DroppedRefs`].
#[derive(Debug, Default)]
pub(crate) struct DroppedQueue {
    refs: Mutex<Vec<u32>>,
    len: AtomicUsize,
}

impl DroppedQueue {
    /// Queues `raw` for release.
    pub(crate) fn push(&self, raw: u32) {
        let mut refs = self.refs.lock().unwrap_or_else(|e| e.into_inner());
        refs.push(raw);
        self.len.store(refs.len(), Ordering::Relaxed);
    }

    /// Takes everything queued.
    fn take(&self) -> Vec<u32> {
        let mut refs = self.refs.lock().unwrap_or_else(|e| e.into_inner());
        self.len.store(0, Ordering::Relaxed);
        std::mem::take(&mut *refs)
    }

    /// How many are queued (possibly stale by a few; used only as a trigger).
    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

/// What a new array holds, as elements' stored forms.
pub(crate) enum ArrayInit<'a> {
    /// Every element the same (zero: as allocated).
    Fill(u128),
    /// One value per element.
    Elems(&'a [u128]),
}

/// The GC heap's capacity grows by at least this much at a time.
const GC_HEAP_GROWTH_GRANULE: usize = 64 << 10;

/// Drained once this many dropped host handles are waiting.
const DROPPED_LIMIT: usize = 4096;

/// A store's GC state.
pub(crate) struct StoreGc {
    /// Taken back by `Drop`, which returns it to the engine's pool.
    pub heap: ManuallyDrop<Box<dyn GcHeap>>,
    pub host_data: ExternRefHostDataTable,
    /// References whose host handles were dropped (a `Drop` impl cannot reach the heap).
    pub dropped: DroppedRefs,
    /// Collect at every opportunity.
    pub stress: bool,
    /// Where an exception keeps its tag's identity (`gc_layout::exn_tag_offset`).
    pub exn_tag_offset: u32,
    /// Collections run so far.
    pub collections: u64,
    /// Debug builds: objects `check_counts` may walk before it runs again.
    check_credit: usize,
    /// The engine, whose pool takes the heap back.
    engine: crate::Engine,
    /// Why the store has no real heap (`UnavailableHeap`), if it has none.
    pub unavailable: Option<String>,
    /// Array layouts by canonical type, copied from the registry on first use: builtins
    /// look one up per call, without the registry's lock.
    array_layouts: Vec<Option<GcArrayLayout>>,
}

impl Drop for StoreGc {
    fn drop(&mut self) {
        // SAFETY: `heap` is not used again: the store is being dropped.
        let heap = unsafe { ManuallyDrop::take(&mut self.heap) };
        if self.unavailable.is_none() {
            self.engine.recycle_gc_heap(heap);
        }
    }
}

impl StoreGc {
    /// The GC state of a new store, with a heap from the engine's pool or a new one; an
    /// error if the heap cannot be reserved.
    pub(crate) fn new(engine: &crate::Engine) -> Result<StoreGc> {
        let heap = match engine.pooled_gc_heap() {
            Some(heap) => heap,
            None => {
                let config = GcHeapConfig {
                    max_size: engine.config().gc_heap_max_size,
                    initial_size: GcHeapConfig::default().initial_size,
                    stress: engine.config().gc_stress,
                    reserve_index_space: engine.config().gc_heap_reserve_index_space,
                };
                engine.gc_runtime().new_gc_heap(&config)?
            }
        };
        Ok(Self::with_heap(engine, heap, None))
    }

    /// As [`new`](Self::new), but if the heap cannot be reserved, the store gets an
    /// [`UnavailableHeap`](super::unavailable_heap::UnavailableHeap): it runs code that
    /// allocates nothing, and every allocation fails saying why.
    pub(crate) fn new_or_unavailable(engine: &crate::Engine) -> StoreGc {
        Self::new(engine).unwrap_or_else(|err| {
            let why = format!("{err:#}");
            log::warn!("store without a GC heap: {why}");
            let heap = Box::new(super::unavailable_heap::UnavailableHeap::new());
            Self::with_heap(engine, heap, Some(why))
        })
    }

    fn with_heap(
        engine: &crate::Engine,
        heap: Box<dyn GcHeap>,
        unavailable: Option<String>,
    ) -> StoreGc {
        StoreGc {
            heap: ManuallyDrop::new(heap),
            host_data: ExternRefHostDataTable::default(),
            dropped: Arc::default(),
            stress: engine.config().gc_stress,
            exn_tag_offset: crate::runtime::gc_layout::exn_tag_offset(
                engine.gc_runtime().layouts(),
            ),
            collections: 0,
            check_credit: 0,
            engine: engine.clone(),
            unavailable,
            array_layouts: Vec::new(),
        }
    }

    /// Releases the references of dropped host handles.
    pub(crate) fn drain_dropped(&mut self) {
        for r in self
            .dropped
            .take()
            .into_iter()
            .filter_map(VMGcRef::from_raw)
        {
            self.heap.drop_gc_ref(r);
        }
    }

    fn dropped_len(&self) -> usize {
        self.dropped.len()
    }
}

impl StoreOpaque {
    /// Collects if the heap asks for it (or in stress mode).
    pub(crate) fn maybe_gc(&mut self) {
        if self.gc.stress || self.gc.heap.needs_gc() || self.gc.dropped_len() >= DROPPED_LIMIT {
            self.gc_now();
        }
    }

    /// Runs a complete collection, cycles included (for explicit requests).
    pub(crate) fn gc_full(&mut self) {
        self.gc.heap.request_full_collection();
        self.gc_now();
    }

    /// Runs a collection.
    ///
    /// Must be called from host code: either with no Wasm running in this store, or from a
    /// host function or builtin whose exit frame compiled code recorded.
    pub(crate) fn gc_now(&mut self) {
        self.gc.drain_dropped();
        let mut roots = GcRootsList::new();
        // SAFETY: Wasm code of this store is suspended in a host call (or not running), so
        // its frames and the slots the walk finds stay put until the collection ends.
        unsafe { crate::traphandlers::wasm_stack_roots(&self.vm, &mut roots) };
        if self.gc.heap.needs_non_stack_roots() {
            self.add_non_stack_roots(&mut roots);
        }
        log::debug!(
            "gc: {} roots, {} live objects",
            roots.len(),
            self.gc.heap.live_objects()
        );
        let StoreGc {
            heap, host_data, ..
        } = &mut self.gc;
        heap.gc(roots.iter(), host_data).collect();
        drop(roots);
        self.gc.collections += 1;
        if cfg!(debug_assertions) {
            self.check_counts();
        }
    }

    /// Debug builds: has the heap check its counts against what globals, tables and
    /// segments hold (`GcHeap::check_counts`), amortised like the heap's own check: after
    /// every collection while little is live, then about once per `live / 1024`.
    fn check_counts(&mut self) {
        self.gc.check_credit += 1024;
        if self.gc.check_credit < self.gc.heap.live_objects() {
            return;
        }
        self.gc.check_credit = 0;
        let mut roots = GcRootsList::new();
        self.add_non_stack_roots(&mut roots);
        let slots: Vec<u32> = roots.iter().map(|r| r.get().as_raw()).collect();
        drop(roots);
        self.gc.heap.check_counts(&slots);
    }

    /// Adds the GC references held by globals, tables and passive element segments.
    fn add_non_stack_roots(&mut self, roots: &mut GcRootsList) {
        for g in &mut self.globals {
            if g.ty.content().is_gc_ref() && g.def.value.get_u32() != 0 {
                let slot = NonNull::from(&mut g.def.value).cast::<u32>();
                // SAFETY: the global outlives the collection and nothing else touches it.
                unsafe { roots.add_root(slot) };
            }
        }
        for t in &mut self.tables {
            for slot in t.gc_slots() {
                // SAFETY: as for globals; the low 32 bits of a little-endian element hold
                // the reference.
                unsafe { roots.add_root(NonNull::from(slot).cast::<u32>()) };
            }
        }
        for inst in &mut self.instances {
            let segments = inst
                .elems
                .iter_mut()
                .zip(&inst.elem_is_gc)
                .filter(|(_, gc)| **gc);
            for (values, _) in segments {
                for v in values
                    .iter_mut()
                    .flat_map(|v| v.iter_mut())
                    .filter(|v| **v != 0)
                {
                    // SAFETY: as for globals.
                    unsafe { roots.add_root(NonNull::from(v).cast::<u32>()) };
                }
            }
        }
    }
}

/// Object access and allocation shared by builtins and constant-expression evaluation.
impl StoreOpaque {
    /// Makes sure the heap knows how to trace objects of canonical type `ty`: structs and
    /// arrays of that type, or exceptions of a tag of that (function) type.
    pub(crate) fn register_gc_type(&mut self, ty: u32) {
        if !self.gc.heap.has_type(ty) {
            let trace = self.engine.registry().gc_trace(ty);
            self.gc.heap.register_type(ty, trace);
        }
    }

    /// The layout of array type `ty` (from a store-local copy of the registry's).
    pub(crate) fn array_layout(&mut self, ty: u32) -> GcArrayLayout {
        let i = ty as usize;
        if let Some(Some(layout)) = self.gc.array_layouts.get(i) {
            return *layout;
        }
        let layout = self.engine.registry().array_layout(ty);
        if self.gc.array_layouts.len() <= i {
            self.gc.array_layouts.resize(i + 1, None);
        }
        self.gc.array_layouts[i] = Some(layout);
        layout
    }

    /// Allocates a zeroed object of registered type `ty`, `size` bytes, making room as
    /// [`alloc_gc`](Self::alloc_gc) does.
    pub(crate) fn alloc_gc_object(
        &mut self,
        limiter: Option<&mut dyn ResourceLimiter>,
        kind: gc_core::VMGcKind,
        ty: u32,
        size: u32,
        may_collect: bool,
    ) -> Result<VMGcRef> {
        self.alloc_gc(limiter, size, may_collect, |heap| {
            heap.alloc_object(kind, ty, size)
        })
    }

    /// Allocates `size` bytes with `alloc`, making room if the heap is full: first by
    /// raising the heap's capacity (as far as the limiter allows), then, if `may_collect`,
    /// by a full collection, cyclic garbage included.
    ///
    /// Fails with [`Trap::AllocationTooLarge`] if no heap of this engine could hold `size`
    /// bytes, with [`Trap::GcHeapOutOfMemory`] if there is no room even so, and with the
    /// limiter's error if it gives one.
    pub(crate) fn alloc_gc(
        &mut self,
        mut limiter: Option<&mut dyn ResourceLimiter>,
        size: u32,
        may_collect: bool,
        mut alloc: impl FnMut(&mut dyn GcHeap) -> Result<Option<VMGcRef>>,
    ) -> Result<VMGcRef> {
        if let Some(why) = &self.gc.unavailable {
            bail!("cannot allocate a GC object: this store has no GC heap ({why})");
        }
        if size as usize > self.gc.heap.max_capacity() {
            bail!(Trap::AllocationTooLarge);
        }
        if let Some(r) = alloc(&mut **self.gc.heap)? {
            return Ok(r);
        }
        while self.grow_gc_heap(&mut limiter, size as usize)? {
            if let Some(r) = alloc(&mut **self.gc.heap)? {
                return Ok(r);
            }
        }
        if may_collect {
            log::debug!("gc: heap full for a {size}-byte object; collecting everything");
            self.gc_full();
            if let Some(r) = alloc(&mut **self.gc.heap)? {
                return Ok(r);
            }
        }
        bail!(Trap::GcHeapOutOfMemory)
    }

    /// Raises the heap's capacity to make room for `size` more bytes: doubling it if the
    /// limiter allows, else by just enough. False if the heap is at its maximum or the
    /// limiter refuses.
    fn grow_gc_heap(
        &mut self,
        limiter: &mut Option<&mut dyn ResourceLimiter>,
        size: usize,
    ) -> Result<bool> {
        let heap = &mut self.gc.heap;
        let (current, max) = (heap.capacity(), heap.max_capacity());
        if current >= max {
            return Ok(false);
        }
        let enough = current
            .saturating_add(size.next_multiple_of(GC_HEAP_GROWTH_GRANULE))
            .min(max);
        let doubled = current.saturating_mul(2).clamp(enough, max);
        for desired in [doubled, enough] {
            let allowed = match limiter {
                Some(l) => l.gc_heap_growing(current, desired, max)?,
                None => true,
            };
            if allowed {
                log::debug!("gc: heap capacity {current} -> {desired} bytes");
                heap.grow_capacity(desired);
                return Ok(true);
            }
            if desired == enough {
                break;
            }
        }
        Ok(false)
    }

    /// Writes `bits` (the field's stored form: a function reference as its table index)
    /// as a field of `kind` at `offset` of object `r`. A reference goes through the heap's
    /// write barrier (`GcHeap::write_field_gc_ref`).
    pub(crate) fn write_gc_field(
        &mut self,
        r: VMGcRef,
        offset: u32,
        kind: gc_core::GcFieldKind,
        bits: u128,
    ) {
        let heap = &mut self.gc.heap;
        if kind == gc_core::GcFieldKind::GcRef {
            heap.write_field_gc_ref(r, offset, VMGcRef::from_raw(bits as u32));
            return;
        }
        let size = kind.size();
        let bytes = bits.to_le_bytes();
        heap.object_bytes_mut(r, offset, size)
            .copy_from_slice(&bytes[..size as usize]);
    }

    /// Writes `bits` (an element's stored form) into elements `[from, from + len)` of array
    /// `r`, laid out as `layout`; the heap panics if they lie outside the object. References
    /// pay the barrier per element in an old array; other elements are filled as bytes.
    pub(crate) fn fill_gc_array(
        &mut self,
        r: VMGcRef,
        layout: &gc_core::GcArrayLayout,
        from: u32,
        len: u32,
        bits: u128,
    ) {
        let size = layout.elem.size();
        let at = |i: u32| {
            u32::try_from(u64::from(layout.elems_offset) + u64::from(i) * u64::from(size))
                .expect("an array lies within the heap")
        };
        // A young array's references are not counted: they fill like numbers.
        if layout.elem == gc_core::GcFieldKind::GcRef && self.gc.heap.fields_are_counted(r) {
            for i in from..from + len {
                self.write_gc_field(r, at(i), layout.elem, bits);
            }
            return;
        }
        let pattern = &bits.to_le_bytes()[..size as usize];
        let bytes = self
            .gc
            .heap
            .object_bytes_mut(r, at(from), at(from + len) - at(from));
        if pattern.iter().all(|&b| b == pattern[0]) {
            bytes.fill(pattern[0]);
        } else {
            for elem in bytes.chunks_exact_mut(size as usize) {
                elem.copy_from_slice(pattern);
            }
        }
    }

    /// Reads a field of `kind` at `offset` of object `r` in its stored form.
    pub(crate) fn read_gc_field(
        &self,
        r: VMGcRef,
        offset: u32,
        kind: gc_core::GcFieldKind,
    ) -> u128 {
        let bytes = self.gc.heap.object_bytes(r, offset, kind.size());
        let mut buf = [0u8; 16];
        buf[..bytes.len()].copy_from_slice(bytes);
        u128::from_le_bytes(buf)
    }

    /// The stored form of raw value `raw` for a field of `kind`: function references are
    /// interned into the store's table.
    pub(crate) fn gc_field_bits(&mut self, kind: gc_core::GcFieldKind, raw: u128) -> u128 {
        match kind {
            gc_core::GcFieldKind::FuncRef => {
                u128::from(self.func_table.intern(raw as usize, &mut self.vm))
            }
            _ => raw,
        }
    }

    /// Reads the field of type `field` at `offset` of object `r` as a host value: packed
    /// integers zero-extended to `i32`, references as new counted handles.
    pub(crate) fn read_field_val(
        &mut self,
        r: VMGcRef,
        offset: u32,
        field: &crate::types::FieldType,
    ) -> crate::Val {
        use crate::types::StorageType;
        let kind = crate::runtime::gc_layout::field_kind(field);
        let bits = self.read_gc_field(r, offset, kind);
        match field.storage {
            StorageType::I8 => crate::Val::I32(i32::from(bits as u8)),
            StorageType::I16 => crate::Val::I32(i32::from(bits as u16)),
            StorageType::Val(ty) => {
                let bits = match kind {
                    gc_core::GcFieldKind::FuncRef => self.func_table.get(bits as u32) as u128,
                    _ => bits,
                };
                crate::Val::from_raw(self, crate::vm::ValRaw::from_u128(bits), &ty)
            }
        }
    }

    /// Checks `value` against `field` and writes it at `offset` of object `r` (packed
    /// fields keep the low bits of an `i32`); a reference is counted and the old one
    /// released.
    pub(crate) fn write_field_val(
        &mut self,
        r: VMGcRef,
        offset: u32,
        field: &crate::types::FieldType,
        value: &crate::Val,
    ) -> Result<()> {
        let bits = self.field_bits(field, value)?;
        self.write_gc_field(
            r,
            offset,
            crate::runtime::gc_layout::field_kind(field),
            bits,
        );
        Ok(())
    }

    /// Builds a struct of canonical type `ty` from its fields' stored forms
    /// ([`gc_field_bits`](Self::gc_field_bits)). With [`new_array`](Self::new_array) and
    /// [`new_exn`](Self::new_exn), the one way the runtime builds objects: constant
    /// expressions, the host API and builtins all come here (compiled code allocates inline
    /// and writes fields itself, with the `GcAlloc` builtin as its slow path). Collects
    /// first if the heap asks, and again if it is full: references among `fields` must be
    /// counted by their owner.
    pub(crate) fn new_struct(
        &mut self,
        limiter: Option<&mut dyn ResourceLimiter>,
        ty: u32,
        fields: &[u128],
    ) -> Result<VMGcRef> {
        let layout = self.engine.registry().struct_layout(ty);
        self.build_object(
            limiter,
            VMGcKind::StructRef,
            ty,
            &layout,
            fields.iter().copied(),
        )
    }

    /// Builds an exception of tag identity `tag`, whose type is function type `ty`, from
    /// its payload's stored forms; as [`new_struct`](Self::new_struct).
    pub(crate) fn new_exn(
        &mut self,
        limiter: Option<&mut dyn ResourceLimiter>,
        ty: u32,
        tag: u32,
        payload: &[u128],
    ) -> Result<VMGcRef> {
        let layout = self.engine.registry().exn_layout(ty);
        let fields = std::iter::once(u128::from(tag)).chain(payload.iter().copied());
        self.build_object(limiter, VMGcKind::ExnRef, ty, &layout, fields)
    }

    fn build_object(
        &mut self,
        limiter: Option<&mut dyn ResourceLimiter>,
        kind: VMGcKind,
        ty: u32,
        layout: &GcStructLayout,
        fields: impl Iterator<Item = u128>,
    ) -> Result<VMGcRef> {
        // Host-built types reach the heap here; a module's are registered when it is
        // instantiated.
        self.register_gc_type(ty);
        self.maybe_gc();
        let r = self.alloc_gc_object(limiter, kind, ty, layout.size, true)?;
        for (&(offset, kind), bits) in layout.fields.iter().zip(fields) {
            // The new object is zeroed already.
            if bits != 0 {
                self.write_gc_field(r, offset, kind, bits);
            }
        }
        Ok(r)
    }

    /// Builds an array of canonical type `ty` with `len` elements holding `init` (stored
    /// forms); as [`new_struct`](Self::new_struct). Fails with
    /// [`Trap::AllocationTooLarge`] if no heap could hold it.
    pub(crate) fn new_array(
        &mut self,
        limiter: Option<&mut dyn ResourceLimiter>,
        ty: u32,
        len: u32,
        init: ArrayInit<'_>,
    ) -> Result<VMGcRef> {
        let layout = self.array_layout(ty);
        let size = layout.size(len).ok_or(Trap::AllocationTooLarge)?;
        self.register_gc_type(ty);
        self.maybe_gc();
        let r = self.alloc_gc_object(limiter, VMGcKind::ArrayRef, ty, size, true)?;
        self.gc
            .heap
            .object_bytes_mut(r, layout.length_offset, 4)
            .copy_from_slice(&len.to_le_bytes());
        match init {
            ArrayInit::Fill(0) => {}
            ArrayInit::Fill(bits) => self.fill_gc_array(r, &layout, 0, len, bits),
            ArrayInit::Elems(elems) => {
                debug_assert_eq!(elems.len(), len as usize);
                for (i, &bits) in (0..).zip(elems) {
                    self.fill_gc_array(r, &layout, i, 1, bits);
                }
            }
        }
        Ok(r)
    }

    /// The stored form of host value `value` for a field of type `field`, checked against
    /// it (packed fields keep the low bits of an `i32`).
    pub(crate) fn field_bits(
        &mut self,
        field: &crate::types::FieldType,
        value: &crate::Val,
    ) -> Result<u128> {
        use crate::types::StorageType;
        Ok(match (field.storage, value) {
            (StorageType::I8 | StorageType::I16, crate::Val::I32(v)) => u128::from(*v as u32),
            (StorageType::I8 | StorageType::I16, _) => {
                bail!("type mismatch: a packed field takes an i32, got {value:?}")
            }
            (StorageType::Val(ty), _) => {
                let raw = value.to_raw(self, &ty)?;
                self.gc_field_bits(crate::runtime::gc_layout::field_kind(field), raw.get_u128())
            }
        })
    }

    /// The element type and layout of array type `ty`; panics for other types (a corrupt
    /// header or a caller's bug).
    pub(crate) fn array_type(&self, ty: u32) -> (crate::types::FieldType, gc_core::GcArrayLayout) {
        match self.engine.registry().sub_type(ty).composite {
            crate::types::CompositeType::Array(elem) => {
                (elem, self.engine.registry().array_layout(ty))
            }
            other => panic!("array type expected, got {other:?}"),
        }
    }

    /// The length of array `r`, laid out as `layout`.
    pub(crate) fn array_len(&self, r: VMGcRef, layout: &gc_core::GcArrayLayout) -> u32 {
        let bytes = self.gc.heap.object_bytes(r, layout.length_offset, 4);
        u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }
}
