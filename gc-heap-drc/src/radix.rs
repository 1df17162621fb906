//! A radix sort for the heap's address-ordered lists (freed blocks, young ranges, kept
//! objects): their keys are heap offsets below a known limit, so a least-significant-digit
//! radix sort takes a few linear passes where a comparison sort costs `n log n`.

/// The allocation granule: offsets are multiples of it, so its bits need no pass.
const GRANULE: u32 = gc_core::DRC_LAYOUTS.object_align;

/// Sorts `words` by their high halves, heap offsets below `limit` (the low halves ride
/// along, in no particular order among equal offsets), 11 bits per pass: two passes for a
/// heap of up to 64 MiB. `scratch` is working space.
pub(crate) fn sort_by_high_half(words: &mut Vec<u64>, scratch: &mut Vec<u64>, limit: u32) {
    const DIGIT: u32 = 11;
    if words.len() < 256 {
        words.sort_unstable();
        return;
    }
    let low = 32 + GRANULE.trailing_zeros();
    let end = low + (32 - (limit / GRANULE).leading_zeros());
    scratch.clear();
    scratch.resize(words.len(), 0);
    let mut shift = low;
    while shift < end {
        let digit = |w: u64| ((w >> shift) & ((1 << DIGIT) - 1)) as usize;
        let mut counts = [0usize; 1 << DIGIT];
        for &w in words.iter() {
            counts[digit(w)] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &w in words.iter() {
            let d = digit(w);
            scratch[counts[d]] = w;
            counts[d] += 1;
        }
        std::mem::swap(words, scratch);
        shift += DIGIT;
    }
}

/// Sorts `pairs` by their first element, a heap offset below `limit`, through the radix
/// sort (`words` is working space).
pub(crate) fn sort_pairs(pairs: &mut [(u32, u32)], words: &mut Vec<u64>, limit: u32) {
    words.clear();
    words.extend(
        pairs
            .iter()
            .map(|&(a, b)| (u64::from(a) << 32) | u64::from(b)),
    );
    let mut scratch = Vec::new();
    sort_by_high_half(words, &mut scratch, limit);
    for (pair, &w) in pairs.iter_mut().zip(words.iter()) {
        *pair = ((w >> 32) as u32, w as u32);
    }
}

/// Sorts heap offsets below `limit` through the radix sort (`words` is working space).
pub(crate) fn sort_offsets(offsets: &mut [u32], words: &mut Vec<u64>, limit: u32) {
    words.clear();
    words.extend(offsets.iter().map(|&o| u64::from(o) << 32));
    let mut scratch = Vec::new();
    sort_by_high_half(words, &mut scratch, limit);
    for (o, &w) in offsets.iter_mut().zip(words.iter()) {
        *o = (w >> 32) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random granule-aligned offsets below `limit`.
    fn offsets(n: usize, limit: u32) -> Vec<u32> {
        let mut state = 1u32;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1103515245).wrapping_add(12345);
                (state >> 4) % (limit / GRANULE) * GRANULE
            })
            .collect()
    }

    #[test]
    fn sorts_by_offset_for_every_heap_size() {
        for limit in [
            1 << 12,
            1 << 20,
            1 << 26,
            1 << 31,
            u32::MAX / GRANULE * GRANULE,
        ] {
            let starts = offsets(5000, limit);
            let mut words: Vec<u64> = starts
                .iter()
                .enumerate()
                .map(|(i, &s)| (u64::from(s) << 32) | i as u64)
                .collect();
            let mut expected = words.clone();
            sort_by_high_half(&mut words, &mut Vec::new(), limit);
            assert!(words.windows(2).all(|w| w[0] >> 32 <= w[1] >> 32), "sorted");
            expected.sort_unstable();
            words.sort_unstable();
            assert_eq!(words, expected, "the same words");
        }
    }

    #[test]
    fn sorts_pairs_and_offsets() {
        let limit = 1 << 24;
        let mut pairs: Vec<(u32, u32)> = offsets(1000, limit)
            .into_iter()
            .map(|s| (s, s + 16))
            .collect();
        let mut expected = pairs.clone();
        expected.sort_unstable();
        sort_pairs(&mut pairs, &mut Vec::new(), limit);
        assert_eq!(pairs, expected);
        let mut plain = offsets(1000, limit);
        let mut expected = plain.clone();
        expected.sort_unstable();
        sort_offsets(&mut plain, &mut Vec::new(), limit);
        assert_eq!(plain, expected);
    }
}
