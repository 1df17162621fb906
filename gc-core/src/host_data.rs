//! `ExternRefHostDataTable`: host values behind `externref`s live here, never in the heap.

use std::any::Any;

/// Identifies an entry of an [`ExternRefHostDataTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct ExternRefHostDataId(u32);

impl ExternRefHostDataId {
    /// The raw id, as stored in an `externref` object.
    pub fn as_raw(self) -> u32 {
        self.0
    }

    /// An id from its raw form.
    pub fn from_raw(raw: u32) -> Self {
        ExternRefHostDataId(raw)
    }
}

/// A slab of host values, each owned by exactly one `externref` object.
#[derive(Default)]
pub struct ExternRefHostDataTable {
    slots: Vec<Option<Box<dyn Any + Send + Sync>>>,
    free: Vec<u32>,
}

impl std::fmt::Debug for ExternRefHostDataTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternRefHostDataTable")
            .field("live", &self.len())
            .finish()
    }
}

impl ExternRefHostDataTable {
    /// Stores `value`, returning its id.
    pub fn alloc(&mut self, value: Box<dyn Any + Send + Sync>) -> ExternRefHostDataId {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(value);
                ExternRefHostDataId(i)
            }
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 host values");
                self.slots.push(Some(value));
                ExternRefHostDataId(i)
            }
        }
    }

    /// Drops the value with `id`. Panics if there is none: freeing twice is a collector bug.
    pub fn dealloc(&mut self, id: ExternRefHostDataId) {
        let slot = self
            .slots
            .get_mut(id.0 as usize)
            .expect("host data id in range");
        let value = slot.take().expect("host data freed exactly once");
        self.free.push(id.0);
        drop(value);
    }

    /// The value with `id`. Panics if there is none.
    pub fn get(&self, id: ExternRefHostDataId) -> &(dyn Any + Send + Sync) {
        self.slots
            .get(id.0 as usize)
            .and_then(|s| s.as_deref())
            .expect("live host data id")
    }

    /// The value with `id`, mutably. Panics if there is none.
    pub fn get_mut(&mut self, id: ExternRefHostDataId) -> &mut (dyn Any + Send + Sync) {
        self.slots
            .get_mut(id.0 as usize)
            .and_then(|s| s.as_deref_mut())
            .expect("live host data id")
    }

    /// The number of live values.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether there are no live values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountDrops(Arc<AtomicUsize>);
    impl Drop for CountDrops {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn values_drop_once_and_slots_are_reused() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut t = ExternRefHostDataTable::default();
        let a = t.alloc(Box::new(CountDrops(drops.clone())));
        let b = t.alloc(Box::new(7u32));
        assert_eq!(t.get(b).downcast_ref::<u32>(), Some(&7));
        t.dealloc(a);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let c = t.alloc(Box::new(8u32));
        assert_eq!(c, a);
        assert_eq!(t.len(), 2);
        drop(t);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    #[should_panic(expected = "exactly once")]
    fn double_free_panics() {
        let mut t = ExternRefHostDataTable::default();
        let a = t.alloc(Box::new(1u8));
        t.dealloc(a);
        t.dealloc(a);
    }
}
