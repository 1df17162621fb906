//! The engine-wide type registry: canonical indices for defined types, shared by every module
//! of an engine, so that type identity is one integer compare.
//!
//! Types are interned a whole rec group at a time (iso-recursive equivalence): a group's key
//! is its list of subtypes with references to members of the same group written relative to
//! the group (`RELATIVE | i`) and references to earlier groups written as their canonical
//! indices. Two groups with equal keys are the same group; its members get consecutive
//! canonical indices. Each type also records its supertype chain, from the root down to
//! itself, so "is `a` a subtype of `b`" is `chain(a)[depth(b)] == b`: one bounds check and
//! one load.
//!
//! Each type's GC layout (a struct's field offsets, an array's element layout, and for a
//! function type the layout of exceptions whose tag has that type) is computed once, when
//! the type is registered, for the engine's collector.
//!
//! Registered types live as long as the engine.

use crate::types::{CompositeType, FuncType, HeapType, RefType, SubType, ValType};
use gc_core::{GcArrayLayout, GcFieldKind, GcLayouts, GcStructLayout, GcTypeTrace};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// An engine-wide canonical type index.
pub type VMSharedTypeIndex = u32;

/// Marks an index in a rec-group key as relative to the group.
pub(crate) const RELATIVE: u32 = 1 << 31;

/// Interns rec groups and answers subtyping questions.
#[derive(Debug)]
pub(crate) struct TypeRegistry {
    inner: RwLock<Inner>,
    /// The collector's layout rules.
    layouts: GcLayouts,
}

#[derive(Debug, Default)]
struct Inner {
    types: Vec<TypeInfo>,
    groups: HashMap<Box<[SubType]>, VMSharedTypeIndex>,
}

#[derive(Debug)]
struct TypeInfo {
    ty: SubType,
    /// Supertypes from the root down to the type itself.
    chain: Box<[VMSharedTypeIndex]>,
    layout: TypeLayout,
}

/// Where a type's objects keep their fields.
#[derive(Clone, Debug)]
enum TypeLayout {
    Struct(Arc<GcStructLayout>),
    Array(GcArrayLayout),
    /// A function type: the layout of exceptions thrown with a tag of this type.
    Func {
        exn: Arc<GcStructLayout>,
    },
}

impl TypeLayout {
    fn of(layouts: &GcLayouts, composite: &CompositeType) -> TypeLayout {
        use crate::runtime::gc_layout::{array_layout, exn_layout, struct_layout};
        match composite {
            CompositeType::Struct(fields) => {
                TypeLayout::Struct(Arc::new(struct_layout(layouts, fields)))
            }
            CompositeType::Array(elem) => TypeLayout::Array(array_layout(layouts, elem)),
            CompositeType::Func(f) => TypeLayout::Func {
                exn: Arc::new(exn_layout(layouts, f.params())),
            },
        }
    }
}

impl TypeRegistry {
    /// An empty registry laying GC types out by `layouts`.
    pub(crate) fn new(layouts: GcLayouts) -> TypeRegistry {
        TypeRegistry {
            inner: RwLock::default(),
            layouts,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Interns the rec group whose key is `key` (see the module docs) and returns the
    /// canonical index of its first member; the others follow consecutively.
    pub(crate) fn register_rec_group(&self, key: Vec<SubType>) -> VMSharedTypeIndex {
        if let Some(&base) = self.read().groups.get(key.as_slice()) {
            return base;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&base) = inner.groups.get(key.as_slice()) {
            return base;
        }
        let base = inner.types.len() as VMSharedTypeIndex;
        let resolve = |i: u32| {
            if i & RELATIVE != 0 {
                base + (i & !RELATIVE)
            } else {
                i
            }
        };
        for (i, member) in key.iter().enumerate() {
            let ty = SubType {
                is_final: member.is_final,
                supertype: member.supertype.map(resolve),
                composite: member.composite.map_index(&resolve),
            };
            let index = base + i as u32;
            let mut chain = match ty.supertype {
                Some(s) => inner.types[s as usize].chain.to_vec(),
                None => Vec::new(),
            };
            chain.push(index);
            let layout = TypeLayout::of(&self.layouts, &ty.composite);
            inner.types.push(TypeInfo {
                ty,
                chain: chain.into(),
                layout,
            });
        }
        inner.groups.insert(key.into(), base);
        base
    }

    /// The canonical index of a function type on its own (a final, single-type rec group),
    /// as host functions declare.
    pub(crate) fn register_func_type(&self, ty: &FuncType) -> VMSharedTypeIndex {
        self.register_rec_group(vec![SubType {
            is_final: true,
            supertype: None,
            composite: CompositeType::Func(ty.clone()),
        }])
    }

    /// Registers `composite` (a struct or array type built by the host) in its own rec
    /// group, final or not, with `supertype` if given. Checks that each concrete reference
    /// in it names a registered type of the right kind, and that the supertype is a
    /// registered, non-final type of the same kind that `composite` matches (a struct may
    /// add fields; immutable fields may narrow their types, mutable ones keep them).
    pub(crate) fn register_host_gc_type(
        &self,
        composite: CompositeType,
        supertype: Option<VMSharedTypeIndex>,
        is_final: bool,
    ) -> anyhow::Result<VMSharedTypeIndex> {
        self.register_host_rec_group(vec![SubType {
            is_final,
            supertype,
            composite,
        }])
    }

    /// Whether a type of shape `sub` may declare a supertype of shape `sup`, with
    /// `val_matches` deciding subtyping between value types.
    fn composite_matches(
        sub: &CompositeType,
        sup: &CompositeType,
        val_matches: &dyn Fn(&ValType, &ValType) -> bool,
    ) -> bool {
        use crate::types::{FieldType, StorageType};
        let field = |a: &FieldType, b: &FieldType| {
            a.mutable == b.mutable
                && match (a.storage, b.storage) {
                    (StorageType::Val(x), StorageType::Val(y)) if !a.mutable => val_matches(&x, &y),
                    (x, y) => x == y,
                }
        };
        match (sub, sup) {
            (CompositeType::Struct(a), CompositeType::Struct(b)) => {
                a.len() >= b.len() && a.iter().zip(b.iter()).all(|(x, y)| field(x, y))
            }
            (CompositeType::Array(a), CompositeType::Array(b)) => field(a, b),
            _ => false,
        }
    }

    /// Registers host-built struct and array types that may refer to each other as one
    /// rec group. In field types, `ConcreteStruct(RELATIVE | i)` / `ConcreteArray(RELATIVE
    /// | i)` name member `i`. Supertypes must be registered types outside the group; each
    /// is checked as in `register_host_gc_type`, with members' own references resolved
    /// through the supertypes they declare. Returns the first member's canonical index.
    pub(crate) fn register_host_rec_group(
        &self,
        members: Vec<SubType>,
    ) -> anyhow::Result<VMSharedTypeIndex> {
        use crate::types::StorageType;
        let n = members.len() as u32;
        let is_struct = |c: &CompositeType| matches!(c, CompositeType::Struct(_));
        for (i, m) in members.iter().enumerate() {
            let fields: &[crate::types::FieldType] = match &m.composite {
                CompositeType::Struct(fields) => fields,
                CompositeType::Array(elem) => std::slice::from_ref(elem),
                CompositeType::Func(_) => anyhow::bail!("member {i}: not a struct or array type"),
            };
            for field in fields {
                let StorageType::Val(ValType::Ref(r)) = field.storage else {
                    continue;
                };
                let Some(idx) = r.heap_type().concrete_index() else {
                    continue;
                };
                if idx & RELATIVE == 0 {
                    self.check_registered(r.heap_type())?;
                    continue;
                }
                let j = idx & !RELATIVE;
                let kind_ok = j < n
                    && match r.heap_type() {
                        HeapType::ConcreteStruct(_) => is_struct(&members[j as usize].composite),
                        HeapType::ConcreteArray(_) => {
                            matches!(members[j as usize].composite, CompositeType::Array(_))
                        }
                        _ => false,
                    };
                if !kind_ok {
                    anyhow::bail!(
                        "member {i}: a field refers to member {j}, which is not of that kind"
                    );
                }
            }
        }
        let supers: Vec<Option<u32>> = members.iter().map(|m| m.supertype).collect();
        for (i, m) in members.iter().enumerate() {
            let Some(sup) = m.supertype else { continue };
            if sup & RELATIVE != 0 {
                anyhow::bail!("member {i}: a supertype inside the group is not supported");
            }
            let Some(parent) = self.try_sub_type(sup) else {
                anyhow::bail!("member {i}: supertype ${sup} is not a registered type");
            };
            if parent.is_final {
                anyhow::bail!("member {i}: supertype ${sup} is final");
            }
            let matches = |a: &ValType, b: &ValType| self.val_matches_in_group(a, b, &supers);
            if !Self::composite_matches(&m.composite, &parent.composite, &matches) {
                anyhow::bail!("member {i} does not match its supertype ${sup}");
            }
        }
        Ok(self.register_rec_group(members))
    }

    /// Fails unless concrete heap type `h` names a registered type of its kind.
    fn check_registered(&self, h: &HeapType) -> anyhow::Result<()> {
        let i = h.concrete_index().expect("a concrete type");
        let ok = self.read().types.get(i as usize).is_some_and(|t| {
            matches!(
                (h, &t.ty.composite),
                (HeapType::ConcreteFunc(_), CompositeType::Func(_))
                    | (HeapType::ConcreteStruct(_), CompositeType::Struct(_))
                    | (HeapType::ConcreteArray(_), CompositeType::Array(_))
            )
        });
        if !ok {
            anyhow::bail!("field type refers to {h}, not a registered type");
        }
        Ok(())
    }

    /// `val_matches` where concrete indices with `RELATIVE` name members of a group being
    /// registered, whose declared (outside) supertypes are `supers`.
    fn val_matches_in_group(&self, a: &ValType, b: &ValType, supers: &[Option<u32>]) -> bool {
        let (ValType::Ref(a), ValType::Ref(b)) = (a, b) else {
            return a == b;
        };
        if a.is_nullable() && !b.is_nullable() {
            return false;
        }
        let member = |h: &HeapType| h.concrete_index().filter(|i| i & RELATIVE != 0);
        let abstract_of = |h: &HeapType| match h {
            HeapType::ConcreteStruct(_) => HeapType::Struct,
            HeapType::ConcreteArray(_) => HeapType::Array,
            other => *other,
        };
        let (ha, hb) = (a.heap_type(), b.heap_type());
        match (member(ha), member(hb)) {
            (Some(x), Some(y)) => x == y,
            // A member is below an outside concrete type through its declared supertype.
            (Some(x), None) if hb.concrete_index().is_some() => supers[(x & !RELATIVE) as usize]
                .is_some_and(|s| self.heap_matches(&ha.map_index(&|_| s), hb)),
            (Some(_), None) => self.heap_matches(&abstract_of(ha), hb),
            // Only the bottom type is below a new member.
            (None, Some(_)) => *ha == HeapType::None,
            (None, None) => self.heap_matches(ha, hb),
        }
    }

    /// The defined type with canonical index `index`, if there is one.
    pub(crate) fn try_sub_type(&self, index: VMSharedTypeIndex) -> Option<SubType> {
        self.read().types.get(index as usize).map(|t| t.ty.clone())
    }

    /// The defined type with canonical index `index`.
    pub(crate) fn sub_type(&self, index: VMSharedTypeIndex) -> SubType {
        self.read().types[index as usize].ty.clone()
    }

    /// The function type with canonical index `index`. Panics for struct and array types.
    /// The layout of struct type `index`; panics for other types.
    pub(crate) fn struct_layout(&self, index: VMSharedTypeIndex) -> Arc<GcStructLayout> {
        match &self.read().types[index as usize].layout {
            TypeLayout::Struct(l) => l.clone(),
            other => panic!("type {index} is not a struct type: {other:?}"),
        }
    }

    /// The layout of array type `index`; panics for other types.
    pub(crate) fn array_layout(&self, index: VMSharedTypeIndex) -> GcArrayLayout {
        match &self.read().types[index as usize].layout {
            TypeLayout::Array(l) => *l,
            other => panic!("type {index} is not an array type: {other:?}"),
        }
    }

    /// The layout of exceptions whose tag has function type `index`; panics for other types.
    pub(crate) fn exn_layout(&self, index: VMSharedTypeIndex) -> Arc<GcStructLayout> {
        match &self.read().types[index as usize].layout {
            TypeLayout::Func { exn } => exn.clone(),
            other => panic!("type {index} is not a function type: {other:?}"),
        }
    }

    /// How the collector finds the references in objects of type `index`: structs and
    /// arrays of that type, or for a function type, exceptions of a tag of that type.
    pub(crate) fn gc_trace(&self, index: VMSharedTypeIndex) -> GcTypeTrace {
        match &self.read().types[index as usize].layout {
            TypeLayout::Struct(l) | TypeLayout::Func { exn: l } => GcTypeTrace::Struct {
                gc_ref_offsets: l.gc_ref_offsets().collect(),
            },
            TypeLayout::Array(layout) => GcTypeTrace::Array {
                elems_are_gc_refs: layout.elem == GcFieldKind::GcRef,
                layout: *layout,
            },
        }
    }

    pub(crate) fn func_type(&self, index: VMSharedTypeIndex) -> FuncType {
        match &self.read().types[index as usize].ty.composite {
            CompositeType::Func(f) => f.clone(),
            other => panic!("type {index} is not a function type: {other:?}"),
        }
    }

    /// Whether type `a` is `b` or one of its declared subtypes.
    pub(crate) fn is_subtype(&self, a: VMSharedTypeIndex, b: VMSharedTypeIndex) -> bool {
        if a == b {
            return true;
        }
        let inner = self.read();
        let depth = inner.types[b as usize].chain.len() - 1;
        inner.types[a as usize].chain.get(depth) == Some(&b)
    }

    /// Whether heap type `a` is a subtype of `b`.
    pub(crate) fn heap_matches(&self, a: &HeapType, b: &HeapType) -> bool {
        use HeapType::*;
        match (a, b) {
            _ if a == b => true,
            (ConcreteFunc(x), ConcreteFunc(y))
            | (ConcreteStruct(x), ConcreteStruct(y))
            | (ConcreteArray(x), ConcreteArray(y)) => self.is_subtype(*x, *y),
            (ConcreteFunc(_) | NoFunc, Func) | (NoFunc, ConcreteFunc(_)) => true,
            (NoExtern, Extern) | (NoExn, Exn) => true,
            (None, b) => b.top() == Any,
            (I31 | Struct | Array | ConcreteStruct(_) | ConcreteArray(_) | Eq, Any) => true,
            (I31 | Struct | Array | ConcreteStruct(_) | ConcreteArray(_), Eq) => true,
            (ConcreteStruct(_), Struct) | (ConcreteArray(_), Array) => true,
            _ => false,
        }
    }

    /// Whether reference type `a` is a subtype of `b`.
    pub(crate) fn ref_matches(&self, a: &RefType, b: &RefType) -> bool {
        (!a.is_nullable() || b.is_nullable()) && self.heap_matches(a.heap_type(), b.heap_type())
    }

    /// Whether value type `a` is a subtype of `b`.
    pub(crate) fn val_matches(&self, a: &ValType, b: &ValType) -> bool {
        match (a, b) {
            (ValType::Ref(a), ValType::Ref(b)) => self.ref_matches(a, b),
            _ => a == b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(params: &[ValType], results: &[ValType]) -> CompositeType {
        CompositeType::Func(FuncType::new(
            params.iter().copied(),
            results.iter().copied(),
        ))
    }

    fn sub(composite: CompositeType, supertype: Option<u32>, is_final: bool) -> SubType {
        SubType {
            is_final,
            supertype,
            composite,
        }
    }

    #[test]
    fn equal_groups_share_indices() {
        let r = TypeRegistry::new(gc_core::DRC_LAYOUTS);
        let a = r.register_func_type(&FuncType::new([ValType::I32], []));
        let b = r.register_func_type(&FuncType::new([ValType::I64], []));
        assert_ne!(a, b);
        assert_eq!(r.register_func_type(&FuncType::new([ValType::I32], [])), a);
        assert_eq!(r.func_type(b).params(), &[ValType::I64]);
    }

    #[test]
    fn recursive_groups_are_equal_only_structurally() {
        let r = TypeRegistry::new(gc_core::DRC_LAYOUTS);
        // (rec (type $a (func (param (ref $b)))) (type $b (func (param (ref $a)))))
        let refto = |i| ValType::Ref(RefType::new(false, HeapType::ConcreteFunc(RELATIVE | i)));
        let group = || {
            vec![
                sub(func(&[refto(1)], &[]), None, true),
                sub(func(&[refto(0)], &[]), None, true),
            ]
        };
        let base = r.register_rec_group(group());
        assert_eq!(r.register_rec_group(group()), base);
        // Its members point at each other by canonical index.
        let a = r.func_type(base);
        assert_eq!(
            a.params(),
            &[ValType::Ref(RefType::new(
                false,
                HeapType::ConcreteFunc(base + 1)
            ))]
        );
        // A group with the members swapped differs only in order, which matters.
        let swapped = vec![
            sub(func(&[refto(1)], &[]), None, false),
            sub(func(&[refto(0)], &[]), None, true),
        ];
        assert_ne!(r.register_rec_group(swapped), base);
    }

    #[test]
    fn subtyping_follows_declared_chains() {
        let r = TypeRegistry::new(gc_core::DRC_LAYOUTS);
        let root = r.register_rec_group(vec![sub(func(&[], &[]), None, false)]);
        let mid = r.register_rec_group(vec![sub(func(&[], &[]), Some(root), false)]);
        let leaf = r.register_rec_group(vec![sub(func(&[], &[]), Some(mid), true)]);
        let other = r.register_rec_group(vec![sub(func(&[], &[]), None, true)]);
        assert!(r.is_subtype(leaf, root));
        assert!(r.is_subtype(leaf, mid));
        assert!(r.is_subtype(mid, root));
        assert!(!r.is_subtype(root, mid));
        assert!(!r.is_subtype(other, root));
        assert!(!r.is_subtype(leaf, other));
        let (f, nf) = (HeapType::ConcreteFunc(leaf), HeapType::NoFunc);
        assert!(r.heap_matches(&f, &HeapType::Func));
        assert!(r.heap_matches(&nf, &f));
        assert!(!r.heap_matches(&f, &HeapType::Any));
        assert!(r.heap_matches(&HeapType::ConcreteStruct(0), &HeapType::Eq));
        assert!(r.heap_matches(&HeapType::None, &HeapType::I31));
        assert!(!r.heap_matches(&HeapType::None, &HeapType::Func));
        let nullable = RefType::new(true, f);
        assert!(!r.ref_matches(&nullable, &RefType::new(false, HeapType::Func)));
        assert!(r.ref_matches(&RefType::new(false, f), &RefType::FUNCREF));
    }
}
