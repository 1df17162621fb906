//! Instantiation: import checks (with subtyping and limits), allocation of the instance's
//! memories, tables, globals and tags, constant expressions, active segments in order (a
//! failure leaves earlier writes, as the spec says) and the start function.

use crate::environ::SegmentMode;
use crate::externals::Extern;
use crate::limits::{ResourceLimiter, reborrow};
use crate::module::Module;
use crate::runtime::const_eval::eval;
use crate::store::{AsContext, StoreOpaque};
use crate::trap::Trap;
use crate::types::{ExternType, Mutability};
use crate::vm::{GlobalData, InstanceData, LinearMemory, TableData, VMFuncRef, VMGlobalDefinition};
use anyhow::{Result, bail};

fn limits_match(actual: (u64, Option<u64>), expected: (u64, Option<u64>)) -> bool {
    actual.0 >= expected.0
        && match expected.1 {
            None => true,
            Some(emax) => actual.1.is_some_and(|amax| amax <= emax),
        }
}

pub(crate) fn check_imports(
    opaque: &StoreOpaque,
    module: &Module,
    imports: &[Extern],
) -> Result<()> {
    let info = module.info();
    if imports.len() != info.imports.len() {
        bail!(
            "expected {} imports, got {}",
            info.imports.len(),
            imports.len()
        );
    }
    for (import, ext) in info.imports.iter().zip(imports) {
        let ok = match (&import.ty, ext) {
            (ExternType::Func(_), Extern::Func(f)) => {
                opaque.check(f.store_id());
                let expected = info.type_ids[info.funcs[import.index as usize] as usize];
                // SAFETY: a `Func` of this store points at a live `VMFuncRef`.
                let actual = unsafe { (*(f.raw() as *const VMFuncRef)).type_index };
                opaque.engine.registry().is_subtype(actual, expected)
            }
            (ExternType::Global(expected), Extern::Global(g)) => {
                let actual = g.ty(StoreRef(opaque));
                actual.mutability() == expected.mutability()
                    && match expected.mutability() {
                        Mutability::Var => actual.content() == expected.content(),
                        Mutability::Const => opaque
                            .engine
                            .registry()
                            .val_matches(actual.content(), expected.content()),
                    }
            }
            (ExternType::Table(expected), Extern::Table(t)) => {
                let actual = t.ty(StoreRef(opaque));
                actual.element() == expected.element()
                    && actual.is_64() == expected.is_64()
                    && limits_match(
                        (actual.minimum(), actual.maximum()),
                        (expected.minimum(), expected.maximum()),
                    )
            }
            (ExternType::Tag(expected), Extern::Tag(t)) => {
                opaque.check(t.store_id());
                // Tag types match only if equal.
                opaque.tags[t.index as usize].ty == *expected
            }
            (ExternType::Memory(expected), Extern::Memory(m)) => {
                let actual = m.ty(StoreRef(opaque));
                actual.page_size_log2() == expected.page_size_log2()
                    && actual.is_64() == expected.is_64()
                    && limits_match(
                        (actual.minimum(), actual.maximum()),
                        (expected.minimum(), expected.maximum()),
                    )
            }
            _ => false,
        };
        if !ok {
            bail!(
                "incompatible import type for `{}::{}`: expected {}, got {:?}",
                import.module,
                import.name,
                import.ty,
                ext
            );
        }
    }
    Ok(())
}

/// Lends an `AsContext` view of a bare `StoreOpaque` to the handle methods.
struct StoreRef<'a>(&'a StoreOpaque);

impl AsContext for StoreRef<'_> {
    type Data = ();
    fn as_context(&self) -> crate::StoreContext<'_, ()> {
        // SAFETY: `StoreInner<T>` is `repr(C)` with the opaque part first, and the handle
        // methods given this context only read `opaque`, never `data`.
        crate::StoreContext(unsafe {
            &*(self.0 as *const StoreOpaque).cast::<crate::store::StoreInner<()>>()
        })
    }
}

/// Fails unless the store may hold `more` more of something it holds `held` of, at most
/// `limit` (a count from the resource limiter).
pub(crate) fn check_count(what: &str, held: usize, more: usize, limit: usize) -> Result<()> {
    if held.saturating_add(more) > limit {
        bail!("resource limit exceeded: {what} count too high at {limit}");
    }
    Ok(())
}

/// Creates the instance's runtime state and initialises it; returns its store index.
pub(crate) fn instantiate(
    opaque: &mut StoreOpaque,
    mut limiter: Option<&mut dyn ResourceLimiter>,
    module: &Module,
    imports: &[Extern],
) -> Result<usize> {
    let info = module.info();
    let defined_memories = &info.memories[info.num_imported_memories as usize..];
    let defined_tables = &info.tables[info.num_imported_tables as usize..];
    check_count("instance", opaque.instances.len(), 1, opaque.instance_limit)?;
    check_count(
        "table",
        opaque.tables.len(),
        defined_tables.len(),
        opaque.table_limit,
    )?;
    check_count(
        "memory",
        opaque.memories.len(),
        defined_memories.len(),
        opaque.memory_limit,
    )?;
    // Compiled code allocates objects inline, without telling the heap their types: the
    // heap learns every type of the module (function types for the exceptions of their
    // tags) before any of its code runs.
    for &ty in &info.type_ids {
        opaque.register_gc_type(ty);
    }
    let builtins = opaque.engine.builtins();
    let mut data = Box::new(InstanceData::new(module.clone(), &mut *opaque.vm, builtins));
    data.set_self_pointer();

    // Imports.
    for (import, ext) in info.imports.iter().zip(imports) {
        match *ext {
            Extern::Func(f) => {
                // SAFETY: a `Func` of this store points at a live `VMFuncRef`.
                let src = unsafe { &*(f.raw() as *const VMFuncRef) };
                data.set_funcref(
                    import.index,
                    VMFuncRef::new(src.wasm_call, src.vmctx, src.type_index),
                );
            }
            Extern::Global(g) => data.global_ids.push(g.index),
            Extern::Table(t) => data.table_ids.push(t.index),
            Extern::Memory(m) => data.memory_ids.push(m.index),
            Extern::Tag(t) => data.push_tag(t.index),
        }
    }
    // Defined tags: each a new identity.
    for i in info.num_imported_tags..info.tags.len() as u32 {
        let id = opaque.new_tag(info.tag_type(&opaque.engine, i));
        data.push_tag(id);
    }

    // Defined functions.
    for i in info.num_imported_funcs..info.funcs.len() as u32 {
        let code = module.function_code(i - info.num_imported_funcs);
        let type_index = info.type_ids[info.funcs[i as usize] as usize];
        data.set_funcref(i, VMFuncRef::new(code, data.vmctx(), type_index));
    }

    // Defined memories and tables (tables are filled with their initial value below). All
    // are created before any joins the store, so a failure (too large, out of address
    // space) leaves nothing behind.
    let memories = defined_memories
        .iter()
        .map(|ty| LinearMemory::new(*ty, reborrow(&mut limiter)).map(Box::new))
        .collect::<Result<Vec<_>>>()?;
    let tables = defined_tables
        .iter()
        .map(|(ty, _)| {
            TableData::new(*ty, 0, &mut **opaque.gc.heap, reborrow(&mut limiter)).map(Box::new)
        })
        .collect::<Result<Vec<_>>>()?;
    for memory in memories {
        opaque.memories.push(memory);
        data.memory_ids.push(opaque.memories.len() - 1);
    }
    for table in tables {
        opaque.tables.push(table);
        data.table_ids.push(opaque.tables.len() - 1);
    }
    for (i, &id) in data.memory_ids.iter().enumerate() {
        let m = &mut *opaque.memories[id];
        data.set_memory(i as u32, &mut m.def);
        data.memories.push(m as *mut LinearMemory);
    }
    for (i, &id) in data.table_ids.iter().enumerate() {
        let t = &mut *opaque.tables[id];
        data.set_table(i as u32, &mut t.def);
        data.tables.push(t as *mut TableData);
    }
    for (i, &id) in data.global_ids.iter().enumerate() {
        data.set_global(i as u32, &mut opaque.globals[id].def);
    }

    // Defined globals, in order: each may read the ones before it.
    for (i, (ty, init)) in info
        .globals
        .iter()
        .enumerate()
        .skip(info.num_imported_globals as usize)
    {
        let init = init.as_ref().expect("defined globals have initialisers");
        // SAFETY: `data` is this instance, boxed, and not in the store's list yet.
        let value = unsafe { eval(opaque, reborrow(&mut limiter), &*data, init)? };
        // The global keeps the value's count.
        opaque.globals.push(Box::new(GlobalData {
            def: VMGlobalDefinition {
                value: value.into_counted_raw(),
            },
            ty: *ty,
        }));
        let id = opaque.globals.len() - 1;
        data.global_ids.push(id);
        data.set_global(i as u32, &mut opaque.globals[id].def);
    }

    // Table initial values.
    for (i, (_, init)) in info
        .tables
        .iter()
        .enumerate()
        .skip(info.num_imported_tables as usize)
    {
        if let Some(init) = init {
            // SAFETY: as for globals.
            let value = unsafe { eval(opaque, reborrow(&mut limiter), &*data, init)? };
            let table = &mut opaque.tables[data.table_ids[i]];
            let size = table.size();
            table.fill(0, value.raw.get_u64() as usize, size, &mut **opaque.gc.heap);
            value.release(opaque);
        }
    }

    // Element segments: passive ones are kept for `table.init`, active ones applied now.
    // Passive segments keep their items' counts; active ones are evaluated when applied.
    let mut elems: Vec<Option<Box<[usize]>>> = Vec::with_capacity(info.elems.len());
    for seg in &info.elems {
        elems.push(match seg.mode {
            SegmentMode::Passive => {
                // SAFETY: as for globals.
                match unsafe { eval_items(opaque, reborrow(&mut limiter), &*data, seg) } {
                    Ok(values) => Some(values.into_boxed_slice()),
                    Err(err) => {
                        // The instance is abandoned: what earlier segments hold goes back.
                        for (seg, values) in info.elems.iter().zip(&elems) {
                            release_items(opaque, seg, values.as_deref().unwrap_or(&[]));
                        }
                        return Err(err);
                    }
                }
            }
            SegmentMode::Declared | SegmentMode::Active { .. } => None,
        });
    }
    data.elems = elems;
    data.elem_is_gc = info.elems.iter().map(|s| s.gc).collect();

    // The instance joins the store now: active segments may make its functions reachable
    // from imported tables even if a later segment fails.
    let index = opaque.instances.len();
    data.store_index = index;
    opaque.instances.push(data);
    for seg in &info.elems {
        if let SegmentMode::Active {
            index: table,
            offset,
        } = &seg.mode
        {
            let data: *const InstanceData = &*opaque.instances[index];
            // SAFETY: the instance is boxed apart from the store's other state and `eval`
            // never touches the store's instance list.
            let (offset, values, table) = unsafe {
                let offset = eval(opaque, reborrow(&mut limiter), data, offset)?.raw;
                let values = eval_items(opaque, reborrow(&mut limiter), data, seg)?;
                (offset, values, (&(*data).tables)[*table as usize])
            };
            // SAFETY: the table pointer was set from a live, boxed table of this store,
            // a separate allocation from the heap borrowed next to it.
            let table = unsafe { &mut *table };
            // A 64-bit table's offsets are i64s.
            let offset = if table.ty().is_64() {
                offset.get_u64()
            } else {
                u64::from(offset.get_u32())
            };
            let written = table.write(offset, &values, &mut **opaque.gc.heap);
            // The table counted what it took; the items' own counts go back.
            release_items(opaque, seg, &values);
            if !written {
                bail!(Trap::TableOutOfBounds);
            }
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let SegmentMode::Active {
            index: memory,
            offset,
        } = &seg.mode
        {
            let data: *const InstanceData = &*opaque.instances[index];
            // SAFETY: as for element segments above.
            let offset = unsafe { eval(opaque, reborrow(&mut limiter), data, offset)? }.raw;
            // SAFETY: as for element segments above.
            let memory: *mut LinearMemory = unsafe { (&(*data).memories)[*memory as usize] };
            // SAFETY: the memory pointer was set from a live, boxed memory of this store.
            let memory = unsafe { &mut *memory };
            // A 64-bit memory's offsets are i64s.
            let offset = if memory.ty().is_64() {
                usize::try_from(offset.get_u64()).unwrap_or(usize::MAX)
            } else {
                offset.get_u32() as usize
            };
            let bytes = memory.data_mut();
            match offset.checked_add(seg.bytes.len()) {
                Some(end) if end <= bytes.len() => bytes[offset..end].copy_from_slice(&seg.bytes),
                _ => bail!(Trap::MemoryOutOfBounds),
            }
            // An applied active segment is dropped at once, even if a later one fails.
            opaque.instances[index].drop_data(i);
        }
    }
    Ok(index)
}

/// Evaluates the items of element segment `seg`: pointer-sized table elements, each GC
/// reference among them owning one count.
///
/// # Safety
/// As for [`eval`].
unsafe fn eval_items(
    opaque: &mut StoreOpaque,
    mut limiter: Option<&mut dyn ResourceLimiter>,
    data: *const InstanceData,
    seg: &crate::environ::ElemSegment,
) -> Result<Vec<usize>> {
    let mut values = Vec::with_capacity(seg.items.len());
    for item in &seg.items {
        // SAFETY: per the contract.
        match unsafe { eval(opaque, reborrow(&mut limiter), data, item) } {
            Ok(v) => values.push(v.into_counted_raw().get_u64() as usize),
            Err(err) => {
                release_items(opaque, seg, &values);
                return Err(err);
            }
        }
    }
    Ok(values)
}

/// Gives back the counts `values`, items of `seg`, own.
fn release_items(opaque: &mut StoreOpaque, seg: &crate::environ::ElemSegment, values: &[usize]) {
    if seg.gc {
        for r in values
            .iter()
            .filter_map(|&v| gc_core::VMGcRef::from_raw(v as u32))
        {
            opaque.gc.heap.drop_gc_ref(r);
        }
    }
}
