//! Object layouts: every offset compiled code uses to reach into GC objects. The rules
//! (`GcLayouts`, struct and array layouts) are here, and so is each collector's header
//! (`drc`, `null`), defined once as a `#[repr(C)]` type that both the heap and the compiler
//! import.

mod drc;
mod null;

pub use drc::{DRC_LAYOUTS, DrcExternRef, DrcHeader};
pub use null::{NULL_LAYOUTS, NullExternRef, NullHeader};

use crate::VMGcHeader;

/// The layout facts a collector publishes for compiled code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcLayouts {
    /// Size of the collector's object header (at least `VMGcHeader::SIZE`).
    pub header_size: u32,
    /// Alignment of every object, a power of two.
    pub object_align: u32,
    /// Offset of the 32-bit reference count within the header, for reference-counting
    /// collectors.
    pub ref_count_offset: Option<u32>,
    /// Offset of the host-data id within an `externref` object.
    pub externref_host_data_offset: u32,
    /// Size of an `externref` object.
    pub externref_size: u32,
    /// Inline allocation by compiled code, if the collector offers it.
    pub bump: Option<GcBumpLayout>,
}

/// The contract under which compiled code allocates objects itself, by bumping a cursor the
/// heap keeps in its own first bytes (below the first object, where no reference points).
///
/// At `base + cursor_offset` lies the u32 `next`, and 4 bytes later the u32 `limit`. The
/// bytes in `[next, limit)` are zero and `next` is aligned to `object_align`. Compiled code
/// may allocate an object of `size` bytes (a multiple of `object_align`, at most
/// `max_object_size`) when `next + size <= limit`: it stores `next + size` as the new
/// `next`, and writes the header: the kind word (the object's `VMGcKind` bits OR-ed with
/// `new_object_kind_bits`), the type index, and the size at `size_offset` if there is one.
/// Every other byte of the object stays zero. When the object does not fit, compiled code
/// calls the runtime, which refills the region or collects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcBumpLayout {
    /// Offset of `next` from the heap base; `limit` follows it.
    pub cursor_offset: u32,
    /// Collector bits of the kind word of a new object.
    pub new_object_kind_bits: u32,
    /// Offset of the object's u32 size in its header, for collectors that record it.
    pub size_offset: Option<u32>,
    /// The largest object compiled code may allocate inline.
    pub max_object_size: u32,
}

impl GcLayouts {
    /// The reservation that makes every `VMGcRef` plus any header or struct-field offset fall
    /// inside the heap: 4 GiB plus [`GcLayouts::MAX_STRUCT_SIZE`]. (Array elements can lie
    /// further out, so compiled code bounds-checks them against the heap bound.)
    pub fn index_space_reservation(&self) -> usize {
        (1usize << 32) + Self::MAX_STRUCT_SIZE as usize
    }

    /// The largest struct object: Wasm allows at most 10,000 fields of at most 16 bytes, so
    /// 1 MiB covers every struct type with room to spare.
    pub const MAX_STRUCT_SIZE: u32 = 1 << 20;
    /// Checks the invariants compiled code relies on.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.header_size < VMGcHeader::SIZE {
            return Err("header smaller than VMGcHeader");
        }
        if !self.object_align.is_power_of_two() || self.object_align < 2 {
            return Err("object alignment must be a power of two of at least 2 (i31 tag bit)");
        }
        if let Some(rc) = self.ref_count_offset
            && (rc < VMGcHeader::SIZE || rc + 4 > self.header_size)
        {
            return Err("reference count must lie in the header, after VMGcHeader");
        }
        if self.externref_host_data_offset + 4 > self.externref_size {
            return Err("host data id must lie within the externref object");
        }
        if let Some(bump) = self.bump {
            if bump.cursor_offset % 4 != 0 || bump.cursor_offset + 8 > self.object_align {
                return Err("bump cursor must lie aligned below the first object");
            }
            if bump.new_object_kind_bits & crate::VMGcKind::MASK != 0 {
                return Err("bump kind bits must be collector-reserved bits");
            }
            if bump
                .size_offset
                .is_some_and(|s| s < VMGcHeader::SIZE || s + 4 > self.header_size)
            {
                return Err("bump size word must lie in the header, after VMGcHeader");
            }
            if bump.max_object_size > Self::MAX_STRUCT_SIZE {
                return Err("bump objects must be at most MAX_STRUCT_SIZE");
            }
        }
        Ok(())
    }
}

/// How a struct field or array element is stored in a GC object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GcFieldKind {
    /// A packed 8-bit integer.
    I8,
    /// A packed 16-bit integer.
    I16,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
    /// A 32-bit float.
    F32,
    /// A 64-bit float.
    F64,
    /// A 128-bit vector.
    V128,
    /// A reference into the GC heap (a `VMGcRef`, 32 bits), counted by the collector.
    GcRef,
    /// A function reference: a 32-bit index into the store's function-reference table, so
    /// that the heap holds no host pointers.
    FuncRef,
}

impl GcFieldKind {
    /// Bytes the value occupies; also its alignment within the object.
    pub fn size(self) -> u32 {
        match self {
            GcFieldKind::I8 => 1,
            GcFieldKind::I16 => 2,
            GcFieldKind::I32 | GcFieldKind::F32 | GcFieldKind::GcRef | GcFieldKind::FuncRef => 4,
            GcFieldKind::I64 | GcFieldKind::F64 => 8,
            GcFieldKind::V128 => 16,
        }
    }
}

/// Where a struct type's fields live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcStructLayout {
    /// The object's size in bytes (before rounding to the object alignment).
    pub size: u32,
    /// Each field's offset and kind, in declaration order.
    pub fields: Vec<(u32, GcFieldKind)>,
}

impl GcStructLayout {
    /// Offsets of the fields holding GC references.
    pub fn gc_ref_offsets(&self) -> impl Iterator<Item = u32> + '_ {
        self.fields
            .iter()
            .filter(|(_, k)| *k == GcFieldKind::GcRef)
            .map(|(o, _)| *o)
    }
}

/// Where an array type's length and elements live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcArrayLayout {
    /// Offset of the 32-bit length.
    pub length_offset: u32,
    /// Offset of element 0.
    pub elems_offset: u32,
    /// The element kind; elements are `elem.size()` bytes apart.
    pub elem: GcFieldKind,
}

impl GcArrayLayout {
    /// The size of an array of `len` elements, or `None` if it exceeds `u32`.
    pub fn size(&self, len: u32) -> Option<u32> {
        len.checked_mul(self.elem.size())?
            .checked_add(self.elems_offset)
    }
}

/// What a collector needs to find the references inside objects of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcTypeTrace {
    /// A struct: the offsets of its GC-reference fields.
    Struct {
        /// Offsets of GC-reference fields.
        gc_ref_offsets: Box<[u32]>,
    },
    /// An array: whether its elements are GC references, and where they are.
    Array {
        /// Whether elements are GC references.
        elems_are_gc_refs: bool,
        /// The layout.
        layout: GcArrayLayout,
    },
}

impl GcLayouts {
    /// The layout of a struct with fields of `kinds`: each field aligned to its size, after
    /// the header, in declaration order.
    pub fn struct_layout(&self, kinds: &[GcFieldKind]) -> GcStructLayout {
        let mut offset = self.header_size;
        let mut fields = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            offset = offset.next_multiple_of(kind.size());
            fields.push((offset, kind));
            offset += kind.size();
        }
        GcStructLayout {
            size: offset,
            fields,
        }
    }

    /// The offset of every array's 32-bit length: right after the header.
    pub fn array_length_offset(&self) -> u32 {
        self.header_size
    }

    /// The layout of an array of `elem`: the length right after the header, then the
    /// elements, aligned to their size.
    pub fn array_layout(&self, elem: GcFieldKind) -> GcArrayLayout {
        let length_offset = self.array_length_offset();
        let elems_offset = (length_offset + 4).next_multiple_of(elem.size());
        GcArrayLayout {
            length_offset,
            elems_offset,
            elem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Consistent layouts to vary: the DRC collector's.
    const GOOD: GcLayouts = DRC_LAYOUTS;

    #[test]
    fn validation_accepts_consistent_layouts_and_names_the_problem_otherwise() {
        assert_eq!(GOOD.validate(), Ok(()));
        let bad = |f: fn(&mut GcLayouts)| {
            let mut l = GOOD;
            f(&mut l);
            l.validate().unwrap_err()
        };
        assert!(bad(|l| l.header_size = 4).contains("header"));
        assert!(bad(|l| l.object_align = 12).contains("power of two"));
        assert!(bad(|l| l.object_align = 1).contains("power of two"));
        assert!(bad(|l| l.ref_count_offset = Some(4)).contains("reference count"));
        assert!(bad(|l| l.ref_count_offset = Some(14)).contains("reference count"));
        assert!(bad(|l| l.externref_host_data_offset = 30).contains("host data"));
        let bad_bump = |f: fn(&mut GcBumpLayout)| {
            let mut l = GOOD;
            f(l.bump.as_mut().unwrap());
            l.validate().unwrap_err()
        };
        assert!(bad_bump(|b| b.cursor_offset = 12).contains("cursor"));
        assert!(bad_bump(|b| b.new_object_kind_bits = 1 << 31).contains("kind bits"));
        assert!(bad_bump(|b| b.size_offset = Some(4)).contains("size word"));
        assert!(bad_bump(|b| b.max_object_size = u32::MAX).contains("MAX_STRUCT_SIZE"));
    }

    #[test]
    fn struct_fields_are_aligned_in_declaration_order() {
        use GcFieldKind::*;
        let l = GOOD.struct_layout(&[I8, I32, I8, I64, GcRef, I16]);
        let offsets: Vec<u32> = l.fields.iter().map(|f| f.0).collect();
        assert_eq!(offsets, [16, 20, 24, 32, 40, 44]);
        assert_eq!(l.size, 46);
        assert_eq!(l.gc_ref_offsets().collect::<Vec<_>>(), [40]);
        assert_eq!(GOOD.struct_layout(&[]).size, 16);
    }

    #[test]
    fn array_elements_follow_the_length() {
        let bytes = GOOD.array_layout(GcFieldKind::I8);
        assert_eq!((bytes.length_offset, bytes.elems_offset), (16, 20));
        assert_eq!(bytes.size(3), Some(23));
        let wide = GOOD.array_layout(GcFieldKind::F64);
        assert_eq!(wide.elems_offset, 24);
        assert_eq!(wide.size(u32::MAX), None, "overflow is reported");
    }

    #[test]
    fn index_space_reservation_covers_every_reference_and_a_header() {
        assert_eq!(GOOD.index_space_reservation(), (1 << 32) + (1 << 20));
        let widest = GOOD.struct_layout(&[GcFieldKind::V128; 10_000]);
        assert!(widest.size <= GcLayouts::MAX_STRUCT_SIZE);
    }
}
