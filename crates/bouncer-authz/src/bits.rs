//! Fixed-stride bitsets in one flat arena: every permission set (or role
//! set) of a snapshot is `stride` words at some offset, so tests are a
//! slice index and a mask — no allocation, no pointer chasing.

/// An arena of equal-width bitsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitArena {
    words: Vec<u64>,
    stride: usize,
}

/// A handle to one bitset in an arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetId(u32);

impl BitArena {
    /// An arena of sets wide enough for `bits` members.
    pub(crate) fn new(bits: usize) -> Self {
        Self {
            words: Vec::new(),
            stride: bits.div_ceil(64).max(1),
        }
    }

    /// Allocates an empty set.
    pub(crate) fn alloc(&mut self) -> SetId {
        let id = SetId(u32::try_from(self.words.len() / self.stride).unwrap_or(u32::MAX));
        self.words.extend(std::iter::repeat_n(0, self.stride));
        id
    }

    fn range(&self, id: SetId) -> std::ops::Range<usize> {
        let start = id.0 as usize * self.stride;
        start..start + self.stride
    }

    /// The words of a set.
    pub(crate) fn words(&self, id: SetId) -> &[u64] {
        self.words.get(self.range(id)).unwrap_or(&[])
    }

    /// `id |= other` (other given as words, e.g. from another arena of the
    /// same width).
    pub(crate) fn union_words(&mut self, id: SetId, other: &[u64]) {
        let r = self.range(id);
        if let Some(ws) = self.words.get_mut(r) {
            for (w, o) in ws.iter_mut().zip(other) {
                *w |= *o;
            }
        }
    }

    /// Whether bit `bit` of `id` is set.
    pub(crate) fn contains(&self, id: SetId, bit: usize) -> bool {
        self.words(id)
            .get(bit / 64)
            .is_some_and(|w| w & (1u64 << (bit % 64)) != 0)
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_independent() {
        let mut a = BitArena::new(130);
        let x = a.alloc();
        let y = a.alloc();
        a.union_words(x, &[1, 0, 2]);
        a.union_words(y, &[0, 1]);
        assert!(a.contains(x, 0) && a.contains(x, 129) && !a.contains(x, 64));
        assert!(a.contains(y, 64) && !a.contains(y, 0));
        assert!(!a.contains(y, 10_000), "out of range is false, not a panic");
        let yw = a.words(y).to_vec();
        a.union_words(x, &yw);
        assert!(a.contains(x, 64));
    }
}
