//! `VMGcHeader` and `VMGcKind`: the first eight bytes of every GC object.

/// What kind of object a header describes. The kinds form a hierarchy encoded in the high
/// bits so that "is `a` a subtype of `b`" is one AND and one compare:
/// `a as u32 & b as u32 == b as u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum VMGcKind {
    /// A host reference (`externref`).
    ExternRef = 0b0100_0000 << 24,
    /// Any internal reference (`anyref`).
    AnyRef = 0b1000_0000 << 24,
    /// A comparable internal reference (`eqref`).
    EqRef = 0b1010_0000 << 24,
    /// A struct.
    StructRef = 0b1011_0000 << 24,
    /// An array.
    ArrayRef = 0b1010_1000 << 24,
    /// An exception (`exnref`): a tag identity and a payload. Its bits are a subset of no
    /// other kind's, and no other kind's are a subset of its.
    ExnRef = 0b0001_1000 << 24,
}

impl VMGcKind {
    /// Bits of the header's first word that hold the kind.
    pub const MASK: u32 = 0b1111_1000 << 24;
    /// Bits of the header's first word available to the collector.
    pub const RESERVED_MASK: u32 = !Self::MASK;

    /// Every kind.
    pub const ALL: [VMGcKind; 6] = [
        VMGcKind::ExternRef,
        VMGcKind::AnyRef,
        VMGcKind::EqRef,
        VMGcKind::StructRef,
        VMGcKind::ArrayRef,
        VMGcKind::ExnRef,
    ];

    /// The kind encoded in `word`'s kind bits, if any.
    pub fn from_word(word: u32) -> Option<VMGcKind> {
        let bits = word & Self::MASK;
        Self::ALL.into_iter().find(|k| *k as u32 == bits)
    }

    /// Whether `self` is `other` or one of its subkinds.
    pub fn matches(self, other: VMGcKind) -> bool {
        (self as u32) & (other as u32) == other as u32
    }
}

/// The header at the start of every GC object: kind (plus collector bits) and the engine's
/// canonical type index (or `u32::MAX` for objects without a Wasm type, like `externref`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct VMGcHeader {
    kind: u32,
    ty: u32,
}

impl VMGcHeader {
    /// Offset of the kind word.
    pub const KIND_OFFSET: u32 = 0;
    /// Offset of the type index.
    pub const TYPE_OFFSET: u32 = 4;
    /// Size of the header.
    pub const SIZE: u32 = 8;
    /// The type index of objects without a Wasm type.
    pub const NO_TYPE: u32 = u32::MAX;

    /// A header of `kind` with type index `ty`.
    pub fn new(kind: VMGcKind, ty: u32) -> Self {
        VMGcHeader {
            kind: kind as u32,
            ty,
        }
    }

    /// The kind, if the kind bits are valid.
    pub fn kind(&self) -> Option<VMGcKind> {
        VMGcKind::from_word(self.kind)
    }

    /// The type index.
    pub fn ty(&self) -> u32 {
        self.ty
    }

    /// The collector-reserved bits of the kind word.
    pub fn reserved_bits(&self) -> u32 {
        self.kind & VMGcKind::RESERVED_MASK
    }

    /// Sets the collector-reserved bits (bits outside `RESERVED_MASK` are ignored).
    pub fn set_reserved_bits(&mut self, bits: u32) {
        self.kind = (self.kind & VMGcKind::MASK) | (bits & VMGcKind::RESERVED_MASK);
    }

    /// The header as its two raw words.
    pub fn to_words(self) -> [u32; 2] {
        [self.kind, self.ty]
    }

    /// A header from its two raw words (not validated; see `kind`).
    pub fn from_words(words: [u32; 2]) -> Self {
        VMGcHeader {
            kind: words[0],
            ty: words[1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_constants() {
        assert_eq!(size_of::<VMGcHeader>() as u32, VMGcHeader::SIZE);
        assert_eq!(offset_of!(VMGcHeader, kind) as u32, VMGcHeader::KIND_OFFSET);
        assert_eq!(offset_of!(VMGcHeader, ty) as u32, VMGcHeader::TYPE_OFFSET);
    }

    #[test]
    fn kind_subtyping_is_one_and() {
        use VMGcKind::*;
        assert!(StructRef.matches(EqRef));
        assert!(ArrayRef.matches(EqRef));
        assert!(EqRef.matches(AnyRef));
        assert!(StructRef.matches(AnyRef));
        assert!(!StructRef.matches(ArrayRef));
        assert!(!ArrayRef.matches(StructRef));
        assert!(!ExternRef.matches(AnyRef));
        assert!(!AnyRef.matches(EqRef));
        assert!(!ExnRef.matches(AnyRef));
        assert!(!ExnRef.matches(ExternRef));
        for k in VMGcKind::ALL.into_iter().filter(|&k| k != ExnRef) {
            assert!(!k.matches(ExnRef) && !ExnRef.matches(k), "{k:?}");
        }
        for k in VMGcKind::ALL {
            assert!(k.matches(k));
            assert_eq!(VMGcKind::from_word(k as u32 | 0x1234), Some(k));
        }
        assert_eq!(VMGcKind::from_word(0), None);
    }

    #[test]
    fn reserved_bits_do_not_touch_the_kind() {
        let mut h = VMGcHeader::new(VMGcKind::ExternRef, VMGcHeader::NO_TYPE);
        h.set_reserved_bits(u32::MAX);
        assert_eq!(h.kind(), Some(VMGcKind::ExternRef));
        assert_eq!(h.reserved_bits(), VMGcKind::RESERVED_MASK);
    }
}
