//! `Tag` and `TagType`: exception tags, which name what an exception carries.
//!
//! A tag's identity is its index in the store that owns it: an instance's `VMContext`
//! holds the identity of every tag it defines or imports, and an exception object records
//! the identity of the tag it was thrown with, so a handler matches by comparing the two
//! (an imported tag is the exporter's, so aliases match).

use crate::Engine;
use crate::store::{AsContext, AsContextMut, StoreId};
use crate::types::FuncType;
use anyhow::Result;

/// The type of a tag: the function type whose parameters are the exception's payload (its
/// results are always empty). Equal types are the same function type of the same engine.
#[derive(Clone, Debug)]
pub struct TagType {
    engine: Engine,
    ty: FuncType,
    /// The engine-wide canonical index of `ty`.
    index: u32,
}

impl PartialEq for TagType {
    fn eq(&self, other: &TagType) -> bool {
        self.index == other.index && Engine::same(&self.engine, &other.engine)
    }
}

impl Eq for TagType {}

impl std::hash::Hash for TagType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state);
    }
}

impl TagType {
    /// The tag type with payload `ty`'s parameters, registered with `engine`. Fails if `ty`
    /// has results.
    pub fn new(engine: &Engine, ty: FuncType) -> Result<TagType> {
        if !ty.results().is_empty() {
            anyhow::bail!("a tag's function type has no results, got {ty}");
        }
        let index = engine.registry().register_func_type(&ty);
        Ok(TagType {
            engine: engine.clone(),
            ty,
            index,
        })
    }

    /// The tag type whose function type has canonical index `index` in `engine`.
    pub(crate) fn from_canonical(engine: &Engine, index: u32) -> TagType {
        TagType {
            engine: engine.clone(),
            ty: engine.registry().func_type(index),
            index,
        }
    }

    /// The function type: its parameters are the payload.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// The payload types.
    pub fn payload(&self) -> &[crate::ValType] {
        self.ty.params()
    }

    /// The canonical index of the function type.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }
}

impl std::fmt::Display for TagType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tag {}", self.ty)
    }
}

/// A tag owned by a store. Two handles are the same tag if they compare equal; a tag a
/// module imports is the exporter's.
///
/// ```
/// use engine::{Engine, FuncType, Instance, Module, Store, Tag, TagType, ValType};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let ty = TagType::new(&engine, FuncType::new([ValType::I32], []))?;
/// let tag = Tag::new(&mut store, &ty)?;
/// let module = Module::new(&engine, r#"(module (tag (export "t") (import "host" "oops") (param i32)))"#)?;
/// let instance = Instance::new(&mut store, &module, &[tag.into()])?;
/// assert_eq!(instance.get_tag(&store, "t"), Some(tag));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    store: StoreId,
    /// The tag's index in its store, which is its identity.
    pub(crate) index: u32,
}

/// A tag's entry in its store.
#[derive(Debug)]
pub(crate) struct TagData {
    pub ty: TagType,
}

impl Tag {
    /// A new tag of type `ty` in `store`.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        if !Engine::same(&opaque.engine, &ty.engine) {
            anyhow::bail!("tag type of a different engine");
        }
        Ok(Tag {
            store: opaque.id,
            index: opaque.new_tag(ty.clone()),
        })
    }

    pub(crate) fn from_index(store: StoreId, index: u32) -> Tag {
        Tag { store, index }
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.tags[self.index as usize].ty.clone()
    }
}

impl crate::store::StoreOpaque {
    /// Adds a tag of type `ty`; returns its identity.
    pub(crate) fn new_tag(&mut self, ty: TagType) -> u32 {
        let index = u32::try_from(self.tags.len()).expect("fewer than 2^32 tags");
        self.tags.push(TagData { ty });
        index
    }
}
