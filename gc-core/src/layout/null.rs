//! The null collector's object layout, defined once: the heap never frees, so the header
//! holds only kind, type and size, and objects are 8-byte aligned.

use super::{GcBumpLayout, GcLayouts};
use crate::VMGcHeader;
use std::mem::{offset_of, size_of};

/// The header of every object of a null heap.
///
/// ```text
/// 0   kind word   VMGcKind bits
/// 4   type index
/// 8   size        the object's size in bytes, a multiple of the alignment
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct NullHeader {
    /// Kind and type.
    pub header: VMGcHeader,
    /// The object's size in bytes.
    pub size: u32,
}

/// An `externref` object: the header, then the id of its host data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct NullExternRef {
    /// The object header.
    pub header: NullHeader,
    /// The `ExternRefHostDataId` as a raw `u32`.
    pub host_data: u32,
}

impl NullHeader {
    /// Offset of the object's size.
    pub const SIZE_OFFSET: u32 = offset_of!(NullHeader, size) as u32;
    /// Size of the header: the first field's offset.
    pub const SIZE: u32 = size_of::<NullHeader>() as u32;
    /// Alignment of every object: 8, so that 64-bit fields are aligned.
    pub const ALIGN: u32 = 8;
    /// Where the bump cursor (`next`, then `limit`) lies: the first 8 bytes, below the
    /// first object.
    pub const CURSOR_OFFSET: u32 = 0;
}

/// The object layouts of null heaps. Compiled code allocates every object of up to
/// `MAX_STRUCT_SIZE` bytes inline: the whole free space is one bump region.
pub const NULL_LAYOUTS: GcLayouts = GcLayouts {
    header_size: NullHeader::SIZE,
    object_align: NullHeader::ALIGN,
    ref_count_offset: None,
    externref_host_data_offset: offset_of!(NullExternRef, host_data) as u32,
    externref_size: size_of::<NullExternRef>().next_multiple_of(NullHeader::ALIGN as usize) as u32,
    bump: Some(GcBumpLayout {
        cursor_offset: NullHeader::CURSOR_OFFSET,
        new_object_kind_bits: 0,
        size_offset: Some(NullHeader::SIZE_OFFSET),
        max_object_size: GcLayouts::MAX_STRUCT_SIZE,
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_pinned_to_the_repr_c_types() {
        assert_eq!((NullHeader::SIZE_OFFSET, NullHeader::SIZE), (8, 12));
        assert_eq!(
            (
                NULL_LAYOUTS.externref_host_data_offset,
                NULL_LAYOUTS.externref_size
            ),
            (12, 16)
        );
        assert_eq!(NULL_LAYOUTS.validate(), Ok(()));
    }
}
