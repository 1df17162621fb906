//! Object layouts: every offset compiled code uses to reach into GC objects, defined once
//! by the collector and read by the compiler.

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
}

impl GcLayouts {
    /// The reservation that makes every `VMGcRef` plus a full header fall inside the heap.
    pub fn index_space_reservation(&self) -> usize {
        (1usize << 32) + self.header_size as usize
    }
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: GcLayouts = GcLayouts {
        header_size: 16,
        object_align: 16,
        ref_count_offset: Some(8),
        externref_host_data_offset: 16,
        externref_size: 32,
    };

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
    }

    #[test]
    fn index_space_reservation_covers_every_reference_and_a_header() {
        assert_eq!(GOOD.index_space_reservation(), (1 << 32) + 16);
    }
}
