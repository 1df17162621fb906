//! `RecGroupBuilder`: host-built struct and array types that refer to each other.

use crate::runtime::registry::RELATIVE;
use crate::types::{CompositeType, FieldType, Finality, HeapType, SubType};
use crate::{ArrayType, Engine, StructType};
use anyhow::{Result, bail};

/// Builds one rec group of struct and array types whose fields may refer to members of the
/// group, as a module's `(rec ...)` does; a group with the same members, finality and
/// supertypes as a module's is the same group, member for member.
///
/// ```
/// # use engine::{Engine, FieldType, Finality, GroupType, RecGroupBuilder, RefType, StorageType, Store, StructRef, Val, ValType};
/// let engine = Engine::default();
/// // (rec (type $tree (struct (field i32) (field (ref null $forest))))
/// //      (type $forest (array (mut (ref null $tree)))))
/// let tree = RecGroupBuilder::struct_member(0);
/// let forest = RecGroupBuilder::array_member(1);
/// let field = |mutable, h| FieldType { storage: StorageType::Val(ValType::Ref(RefType::new(true, h))), mutable };
/// let i32_field = FieldType { storage: StorageType::Val(ValType::I32), mutable: false };
/// let group = RecGroupBuilder::new(&engine)
///     .add_struct(Finality::Final, None, [i32_field, field(false, forest)])
///     .add_array(Finality::Final, None, field(true, tree))
///     .build()?;
/// let [GroupType::Struct(tree), GroupType::Array(_forest)] = &group[..] else { unreachable!() };
/// let mut store = Store::new(&engine, ());
/// let leaf = StructRef::new(&mut store, tree, &[Val::I32(1), Val::AnyRef(None)])?;
/// assert_eq!(leaf.field(&mut store, 0)?.i32(), Some(1));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct RecGroupBuilder {
    engine: Engine,
    members: Vec<SubType>,
}

/// A member of a built rec group.
#[derive(Clone, Debug)]
pub enum GroupType {
    /// A struct type.
    Struct(StructType),
    /// An array type.
    Array(ArrayType),
}

impl RecGroupBuilder {
    /// An empty group for `engine`.
    pub fn new(engine: &Engine) -> RecGroupBuilder {
        RecGroupBuilder {
            engine: engine.clone(),
            members: Vec::new(),
        }
    }

    /// The struct type that is member `index` of the group being built, for the field
    /// types of its members (meaningless outside them).
    pub fn struct_member(index: u32) -> HeapType {
        HeapType::ConcreteStruct(RELATIVE | index)
    }

    /// The array type that is member `index` of the group being built, for the field types
    /// of its members (meaningless outside them).
    pub fn array_member(index: u32) -> HeapType {
        HeapType::ConcreteArray(RELATIVE | index)
    }

    /// Adds a struct type; its supertype, if any, must be a registered type outside the
    /// group.
    pub fn add_struct(
        &mut self,
        finality: Finality,
        supertype: Option<&StructType>,
        fields: impl IntoIterator<Item = FieldType>,
    ) -> &mut Self {
        self.members.push(SubType {
            is_final: finality == Finality::Final,
            supertype: supertype.map(StructType::index),
            composite: CompositeType::Struct(fields.into_iter().collect()),
        });
        self
    }

    /// Adds an array type; its supertype, if any, must be a registered type outside the
    /// group.
    pub fn add_array(
        &mut self,
        finality: Finality,
        supertype: Option<&ArrayType>,
        elem: FieldType,
    ) -> &mut Self {
        self.members.push(SubType {
            is_final: finality == Finality::Final,
            supertype: supertype.map(ArrayType::index),
            composite: CompositeType::Array(elem),
        });
        self
    }

    /// Registers the group: its members' types, in the order added. Fails if a field names
    /// a member that does not exist or is of the other kind, or a member does not match its
    /// supertype.
    pub fn build(&self) -> Result<Vec<GroupType>> {
        if self.members.is_empty() {
            bail!("a rec group needs at least one type");
        }
        let base = self
            .engine
            .registry()
            .register_host_rec_group(self.members.clone())?;
        Ok(self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let index = base + i as u32;
                match m.composite {
                    CompositeType::Struct(_) => GroupType::Struct(
                        StructType::from_index(&self.engine, index).expect("just registered"),
                    ),
                    _ => GroupType::Array(
                        ArrayType::from_index(&self.engine, index).expect("just registered"),
                    ),
                }
            })
            .collect())
    }
}
