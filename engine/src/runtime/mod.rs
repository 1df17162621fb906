//! The store's internals, beneath the embedding API: its GC state and object builder
//! (`gc`), the engine's type registry with each type's GC layout (`registry`, from the rules
//! in `gc_layout`), the counted roots behind host handles (`rooted`), instantiation
//! (`instantiate`), constant-expression evaluation (`const_eval`), and the stand-in heap
//! of a store whose heap could not be reserved (`unavailable_heap`).

pub(crate) mod const_eval;
pub(crate) mod gc;
pub(crate) mod gc_layout;
pub(crate) mod instantiate;
pub(crate) mod registry;
pub(crate) mod rooted;
mod unavailable_heap;
