//! The engine-wide type registry: canonical indices for function types, shared by every
//! module of an engine so that signatures compare by one integer compare.
//!
//! Function types are interned structurally. (Iso-recursive rec groups of the GC proposal
//! will be interned as whole groups here; until then a type's canonical index is its
//! structural identity.)

use crate::types::FuncType;
use std::collections::HashMap;
use std::sync::RwLock;

/// An engine-wide canonical type index.
pub type VMSharedTypeIndex = u32;

/// Interns function types.
#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    types: Vec<FuncType>,
    index: HashMap<FuncType, VMSharedTypeIndex>,
}

impl TypeRegistry {
    /// The canonical index of `ty`, registering it if new.
    pub(crate) fn register(&self, ty: &FuncType) -> VMSharedTypeIndex {
        if let Some(&i) = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .index
            .get(ty)
        {
            return i;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = inner.index.get(ty) {
            return i;
        }
        let i = inner.types.len() as VMSharedTypeIndex;
        inner.types.push(ty.clone());
        inner.index.insert(ty.clone(), i);
        i
    }

    /// The type with canonical index `index`.
    pub(crate) fn func_type(&self, index: VMSharedTypeIndex) -> FuncType {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).types[index as usize].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ValType;

    #[test]
    fn equal_types_share_an_index() {
        let r = TypeRegistry::default();
        let a = r.register(&FuncType::new([ValType::I32], []));
        let b = r.register(&FuncType::new([ValType::I64], []));
        assert_ne!(a, b);
        assert_eq!(r.register(&FuncType::new([ValType::I32], [])), a);
        assert_eq!(r.func_type(b).params(), &[ValType::I64]);
    }
}
