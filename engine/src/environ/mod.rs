//! A module's environment: parsing and validation with wasmparser, gathering each
//! section into `ModuleInfo` (`info.rs`, the parsed form translation and instantiation
//! read) and registering the module's types with the engine.

mod info;

pub(crate) use info::{
    ConstExpr, ConstOp, DataSegment, ElemSegment, EntityIndex, FuncBody, Import, ModuleInfo,
    SegmentMode,
};

use crate::Engine;
use crate::runtime::registry::RELATIVE;
use crate::types::{ExternType, HeapType, SubType, convert};
use anyhow::{Context, Result, anyhow, bail};
use wasmparser::{Parser, Payload, ValidPayload, Validator};

/// Parses and validates `wasm`, gathering its `ModuleInfo` and registering its types.
pub(crate) fn parse(engine: &Engine, wasm: &[u8]) -> Result<ModuleInfo> {
    let mut validator = Validator::new_with_features(engine.config().features);
    let mut info = ModuleInfo::default();
    let mut func_validators = Vec::new();
    info.features = engine.config().features;
    let mut parser = Parser::new(0);
    parser.set_features(info.features);
    for payload in parser.parse_all(wasm) {
        let payload = payload
            .map_err(|e| anyhow!(e))
            .context("failed to parse module")?;
        match validator
            .payload(&payload)
            .map_err(|e| anyhow!(e))
            .context("invalid module")?
        {
            ValidPayload::Func(f, body) => func_validators.push((f, body)),
            ValidPayload::Parser(_) => bail!("nested modules and components are not supported"),
            ValidPayload::Ok | ValidPayload::End(_) => {}
        }
        gather(&mut info, engine, payload)?;
    }
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    for (f, body) in func_validators {
        let mut v = f.into_validator(allocs);
        v.validate(&body)
            .map_err(|e| anyhow!(e))
            .context("invalid module")?;
        allocs = v.into_allocations();
    }
    Ok(info)
}

/// Registers one rec group with the engine and records its members' canonical types.
fn register_rec_group(
    info: &mut ModuleInfo,
    engine: &Engine,
    group: wasmparser::RecGroup,
) -> Result<()> {
    let start = info.types.len() as u32;
    let members: Vec<wasmparser::SubType> = group.into_types().collect();
    let len = members.len() as u32;
    let in_group = |i: u32| (start..start + len).contains(&i);
    // In the key, references to the group's own members are relative (see `registry`).
    let key_canon = |i: u32| -> HeapType {
        if in_group(i) {
            let relative = RELATIVE | (i - start);
            match &members[(i - start) as usize].composite_type.inner {
                wasmparser::CompositeInnerType::Func(_) => HeapType::ConcreteFunc(relative),
                wasmparser::CompositeInnerType::Struct(_) => HeapType::ConcreteStruct(relative),
                _ => HeapType::ConcreteArray(relative),
            }
        } else {
            info.concrete_heap(i)
        }
    };
    let mut key = Vec::with_capacity(members.len());
    for member in &members {
        let supertype = member
            .supertype_idxs
            .first()
            .and_then(|s| s.as_module_index())
            .map(|s| {
                if in_group(s) {
                    RELATIVE | (s - start)
                } else {
                    info.type_ids[s as usize]
                }
            });
        key.push(SubType {
            is_final: member.is_final,
            supertype,
            composite: convert::composite_type(&member.composite_type.inner, &key_canon)?,
        });
    }
    let base = engine.registry().register_rec_group(key);
    for i in 0..len {
        info.type_ids.push(base + i);
        info.types.push(engine.registry().sub_type(base + i));
    }
    Ok(())
}

fn gather(info: &mut ModuleInfo, engine: &Engine, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::TypeSection(reader) => {
            for group in reader {
                register_rec_group(info, engine, group?)?;
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports() {
                let import = import?;
                let (index, ty) = match import.ty {
                    wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                        info.funcs.push(t);
                        info.num_imported_funcs += 1;
                        (
                            info.funcs.len() - 1,
                            ExternType::Func(info.func_type_at(t).clone()),
                        )
                    }
                    wasmparser::TypeRef::Table(t) => {
                        let ty = convert::table_type(&t, &info.canon());
                        info.tables.push((ty, None));
                        info.num_imported_tables += 1;
                        (
                            info.tables.len() - 1,
                            ExternType::Table(info.tables.last().expect("pushed").0),
                        )
                    }
                    wasmparser::TypeRef::Memory(m) => {
                        info.memories.push(convert::memory_type(&m));
                        info.num_imported_memories += 1;
                        (
                            info.memories.len() - 1,
                            ExternType::Memory(convert::memory_type(&m)),
                        )
                    }
                    wasmparser::TypeRef::Global(g) => {
                        let ty = convert::global_type(&g, &info.canon());
                        info.globals.push((ty, None));
                        info.num_imported_globals += 1;
                        (
                            info.globals.len() - 1,
                            ExternType::Global(convert::global_type(&g, &info.canon())),
                        )
                    }
                    wasmparser::TypeRef::Tag(t) => {
                        info.tags.push(t.func_type_idx);
                        info.num_imported_tags += 1;
                        let index = info.tags.len() - 1;
                        (
                            index,
                            info.entity_type(engine, EntityIndex::Tag(index as u32)),
                        )
                    }
                };
                info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    index: index as u32,
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for t in reader {
                info.funcs.push(t?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                let table = table?;
                let init = match table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => Some(ConstExpr::parse(&e)?),
                };
                let ty = convert::table_type(&table.ty, &info.canon());
                info.tables.push((ty, init));
            }
        }
        Payload::MemorySection(reader) => {
            for m in reader {
                let m = m?;
                if m.shared {
                    bail!("shared memories are not supported");
                }
                info.memories.push(convert::memory_type(&m));
            }
        }
        Payload::TagSection(reader) => {
            for tag in reader {
                info.tags.push(tag?.func_type_idx);
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader {
                let g = g?;
                let ty = convert::global_type(&g.ty, &info.canon());
                info.globals
                    .push((ty, Some(ConstExpr::parse(&g.init_expr)?)));
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader {
                let e = e?;
                let index = match e.kind {
                    wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                        EntityIndex::Func(e.index)
                    }
                    wasmparser::ExternalKind::Table => EntityIndex::Table(e.index),
                    wasmparser::ExternalKind::Memory => EntityIndex::Memory(e.index),
                    wasmparser::ExternalKind::Global => EntityIndex::Global(e.index),
                    wasmparser::ExternalKind::Tag => EntityIndex::Tag(e.index),
                };
                info.exports.push((e.name.to_string(), index));
            }
            let mut by_name: Vec<u32> = (0..info.exports.len() as u32).collect();
            by_name.sort_unstable_by(|&a, &b| {
                info.exports[a as usize].0.cmp(&info.exports[b as usize].0)
            });
            info.exports_by_name = by_name;
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(reader) => {
            for elem in reader {
                let elem = elem?;
                let mode = match elem.kind {
                    wasmparser::ElementKind::Passive => SegmentMode::Passive,
                    wasmparser::ElementKind::Declared => SegmentMode::Declared,
                    wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: table_index.unwrap_or(0),
                        offset: ConstExpr::parse(&offset_expr)?,
                    },
                };
                let mut items = Vec::new();
                let mut gc = false;
                match elem.items {
                    wasmparser::ElementItems::Functions(r) => {
                        for f in r {
                            items.push(ConstExpr {
                                ops: vec![ConstOp::RefFunc(f?)],
                            });
                        }
                    }
                    wasmparser::ElementItems::Expressions(ty, r) => {
                        gc = convert::ref_type(ty, &info.canon()).heap_type().top()
                            != crate::types::HeapType::Func;
                        for e in r {
                            items.push(ConstExpr::parse(&e?)?);
                        }
                    }
                }
                info.elems.push(ElemSegment { mode, items, gc });
            }
        }
        Payload::DataSection(reader) => {
            for data in reader {
                let data = data?;
                let mode = match data.kind {
                    wasmparser::DataKind::Passive => SegmentMode::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: memory_index,
                        offset: ConstExpr::parse(&offset_expr)?,
                    },
                };
                info.data.push(DataSegment {
                    mode,
                    bytes: data.data.to_vec(),
                });
            }
        }
        Payload::CodeSectionEntry(body) => {
            let range = body.range();
            info.bodies.push(FuncBody {
                range: range.start as usize..range.end as usize,
            });
        }
        Payload::CustomSection(reader) => {
            if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                // Names are best-effort: a malformed name section is ignored, as the spec
                // requires for custom sections.
                let _ = read_names(info, names);
            }
        }
        _ => {}
    }
    Ok(())
}

fn read_names(info: &mut ModuleInfo, names: wasmparser::NameSectionReader<'_>) -> Result<()> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => info.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.func_names
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}
