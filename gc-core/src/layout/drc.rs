//! The deferred-reference-counting collector's object layout, defined once: the heap
//! (`gc-heap-drc`) lays objects out by these types and the compiler (`gc-compiler`) reads
//! the offsets from [`DRC_LAYOUTS`].

use super::{GcBumpLayout, GcLayouts};
use crate::VMGcHeader;
use std::mem::{align_of, offset_of, size_of};

/// The header of every DRC object. Its alignment is every object's alignment.
///
/// ```text
/// 0   kind word   VMGcKind bits | collector bits (`IN_ZCT`, `YOUNG`, `LOGGED`, the heap's own)
/// 4   type index
/// 8   ref count   references from old objects, tables, globals, segments, host handles
/// 12  size        the object's size in bytes, a multiple of the alignment
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct DrcHeader {
    /// Kind and type.
    pub header: VMGcHeader,
    /// The reference count.
    pub ref_count: u32,
    /// The object's size in bytes.
    pub size: u32,
}

/// An `externref` object: the header, then the id of its host data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct DrcExternRef {
    /// The object header.
    pub header: DrcHeader,
    /// The `ExternRefHostDataId` as a raw `u32`.
    pub host_data: u32,
}

impl DrcHeader {
    /// Offset of the reference count.
    pub const REF_COUNT_OFFSET: u32 = offset_of!(DrcHeader, ref_count) as u32;
    /// Offset of the object's size.
    pub const SIZE_OFFSET: u32 = offset_of!(DrcHeader, size) as u32;
    /// Size of the header: the first field's offset.
    pub const SIZE: u32 = size_of::<DrcHeader>() as u32;
    /// Alignment of every object.
    pub const ALIGN: u32 = align_of::<DrcHeader>() as u32;
    /// Collector bit of the kind word: the object is in the zero-count table.
    pub const IN_ZCT: u32 = 1;
    /// Collector bit of the kind word: the object is young. Every new struct, array and
    /// exception is (compiled code sets it when it allocates); the references in a young
    /// object's fields are not counted, so stores into it are plain stores. A young
    /// collection promotes the young objects it reaches (clears the bit and counts their
    /// fields) and frees the rest without visiting them.
    pub const YOUNG: u32 = 8;
    /// Collector bit of the kind word: a young object whose count is not zero (something
    /// counted holds it: an old object, a table, a global, a segment or a host handle) and
    /// which is in the heap's young log (or its barrier log, on the way there), the young
    /// collection's roots. The barrier that counts a reference to a young object without
    /// it sets it and appends the object to the barrier log.
    pub const LOGGED: u32 = 16;
    /// Where the bump cursor (`next`, then `limit`) lies, from the heap base: inside the
    /// first object slot, which is never allocated (index 0 is null).
    pub const CURSOR_OFFSET: u32 = 0;
    /// Where the barrier log's cursor (`next`, then `limit`, heap offsets of `u32` entries)
    /// lies, beside the bump cursor. Barriers append to the log inline, without a runtime
    /// call, while `next + 4 <= limit`:
    /// - a young object counted for the first time, its kind word given `LOGGED`: the
    ///   entry is the reference;
    /// - an old object whose count reached zero and whose kind word lacked `IN_ZCT`, now
    ///   given it: the entry is the reference with `LOG_ZCT_TAG` set.
    ///
    /// A full log (or an empty one, `next == limit`: a heap too small for a log) sends the
    /// barrier to the runtime, which moves the entries to the young log and the zero-count
    /// table and resets the cursor.
    pub const LOG_CURSOR_OFFSET: u32 = 8;
    /// Tag of a barrier log entry naming a zero-count object (object references are
    /// aligned, so their low bits are free).
    pub const LOG_ZCT_TAG: u32 = 2;
    /// The largest object compiled code bump-allocates inline.
    pub const BUMP_MAX: u32 = 512;
}

/// The object layouts of DRC heaps.
pub const DRC_LAYOUTS: GcLayouts = GcLayouts {
    header_size: DrcHeader::SIZE,
    object_align: DrcHeader::ALIGN,
    ref_count_offset: Some(DrcHeader::REF_COUNT_OFFSET),
    externref_host_data_offset: offset_of!(DrcExternRef, host_data) as u32,
    externref_size: size_of::<DrcExternRef>() as u32,
    bump: Some(GcBumpLayout {
        cursor_offset: DrcHeader::CURSOR_OFFSET,
        new_object_kind_bits: DrcHeader::YOUNG,
        size_offset: Some(DrcHeader::SIZE_OFFSET),
        max_object_size: DrcHeader::BUMP_MAX,
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_pinned_to_the_repr_c_types() {
        assert_eq!(DrcHeader::REF_COUNT_OFFSET, 8);
        assert_eq!(DrcHeader::SIZE_OFFSET, 12);
        assert_eq!((DrcHeader::SIZE, DrcHeader::ALIGN), (16, 16));
        assert_eq!(offset_of!(DrcHeader, header), 0);
        assert_eq!(
            (
                DRC_LAYOUTS.externref_host_data_offset,
                DRC_LAYOUTS.externref_size
            ),
            (16, 32)
        );
        assert_eq!(DRC_LAYOUTS.validate(), Ok(()));
    }
}
