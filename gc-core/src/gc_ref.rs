//! `VMGcRef`: a non-null reference into a GC heap.

use std::num::NonZeroU32;

/// A non-null reference to a GC object: a 32-bit index from the heap's base.
///
/// Index 0 is reserved for null, so `Option<VMGcRef>` is 32 bits wide. A reference whose low
/// bit is set is an unboxed `i31ref`, not an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct VMGcRef(NonZeroU32);

impl VMGcRef {
    /// The tag bit that marks an unboxed `i31ref`.
    pub const I31_TAG: u32 = 1;

    /// Wraps a raw index; `None` for the null reference 0.
    pub fn from_raw(raw: u32) -> Option<Self> {
        NonZeroU32::new(raw).map(Self)
    }

    /// The raw 32-bit representation.
    pub fn as_raw(self) -> u32 {
        self.0.get()
    }

    /// Whether this reference is an unboxed `i31ref` rather than a heap index.
    pub fn is_i31(self) -> bool {
        self.as_raw() & Self::I31_TAG != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_none_and_i31_is_tagged() {
        assert!(VMGcRef::from_raw(0).is_none());
        assert!(!VMGcRef::from_raw(16).unwrap().is_i31());
        assert!(VMGcRef::from_raw(3).unwrap().is_i31());
        assert_eq!(std::mem::size_of::<Option<VMGcRef>>(), 4);
    }
}

/// A reference known to point at an `externref` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct VMExternRef(VMGcRef);

impl VMExternRef {
    /// Wraps a reference the caller knows is an `externref` (check with the heap's header).
    pub fn new(r: VMGcRef) -> Self {
        VMExternRef(r)
    }

    /// The underlying reference.
    pub fn as_gc_ref(&self) -> VMGcRef {
        self.0
    }
}
