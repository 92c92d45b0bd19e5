//! The values of `static let` variables: one slot per declaration of the program, numbered by
//! the compiler, holding a value word and its type's descriptor once the declaration has run.
//!
//! A slot is set the first time its declaration runs (`keel_static_is_set` tells the compiled
//! code whether to evaluate the initializer) and by every assignment of the variable; every
//! read of the variable reads the slot, so all calls of a function, recursive ones included,
//! see one value. The slots are per thread, like the output buffers: a JIT program runs on a
//! thread of its own, and [`clear`] empties them when a program starts and when it finishes
//! (releasing the heap values, before the leak check counts what is still live).
//!
//! What this module does not do: know which declaration a slot belongs to, or initialize it.

use core::cell::{Cell, RefCell};

use crate::desc::{desc_is_heap, TypeDesc};
use crate::object::{release_word, retain_word};
use crate::prelude::*;

/// One slot: the value word and its type, once set (also the REPL's, `session`).
#[derive(Copy, Clone)]
pub(crate) struct Slot {
    pub(crate) word: i64,
    pub(crate) desc: *const TypeDesc,
}

impl Slot {
    /// The slot's value, a new reference for a heap value.
    ///
    /// # Safety
    /// A heap value in the slot must still be live (the slot owns a reference to it), of the
    /// type of its descriptor.
    pub(crate) unsafe fn new_reference(self) -> i64 {
        // SAFETY: forwarded from the caller.
        unsafe {
            if desc_is_heap(self.desc) {
                retain_word(self.word);
            }
        }
        self.word
    }

    /// Drops the slot's reference to its value.
    ///
    /// # Safety
    /// The slot must own a reference to its value, of the type of its descriptor.
    pub(crate) unsafe fn release(self) {
        // SAFETY: forwarded from the caller.
        unsafe {
            if desc_is_heap(self.desc) {
                release_word(self.word);
            }
        }
    }
}

crate::per_thread! {
    static SLOTS: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
    /// [`clear`], once a slot has been set: reached through here, `clear` (and the freeing of
    /// values it needs) is not part of a freestanding executable whose program has no statics.
    static CLEAR: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// Whether slot `slot` has been set (1) or not (0).
#[no_mangle]
pub extern "C" fn keel_static_is_set(slot: i64) -> i64 {
    SLOTS.with(|slots| {
        let slots = slots.borrow();
        i64::from(usize::try_from(slot).is_ok_and(|s| slots.get(s).is_some_and(Option::is_some)))
    })
}

/// The value in slot `slot` (a new reference for a heap value); 0 if it is not set, which
/// compiled code never asks for.
///
/// # Safety
/// A heap value in the slot must still be live (the slot owns a reference to it).
#[no_mangle]
pub unsafe extern "C" fn keel_static_get(slot: i64) -> i64 {
    let found = SLOTS.with(|slots| {
        let slots = slots.borrow();
        usize::try_from(slot)
            .ok()
            .and_then(|s| slots.get(s).copied().flatten())
    });
    // SAFETY: the slot's descriptor is the compiler's (or the VM's) for its type, and a heap
    // word is a live object the slot owns.
    found.map_or(0, |slot| unsafe { slot.new_reference() })
}

/// Sets slot `slot` to `word` (consumed), of the type `desc`, releasing the value it held.
///
/// # Safety
/// `desc` must be a descriptor that outlives the program's run, and `word` a value of its type
/// owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn keel_static_set(slot: i64, word: i64, desc: *const TypeDesc) {
    let Ok(index) = usize::try_from(slot) else {
        return;
    };
    CLEAR.with(|hook| hook.set(Some(clear)));
    let old = SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        if slots.len() <= index {
            slots.resize(index + 1, None);
        }
        slots[index].replace(Slot { word, desc })
    });
    // Released after the table is let go of: freeing a value runs no Keel code, but keeps the
    // borrow short anyway.
    if let Some(old) = old {
        // SAFETY: the slot owned a reference to its value, of its descriptor's type.
        unsafe { old.release() };
    }
}

/// [`clear`], if a slot was ever set on this thread (nothing to do otherwise).
pub fn clear_if_set() {
    // Read as the machine stores it, not as the optimizer could prove it (whole-program LTO
    // sees the one value ever stored and would call `clear` directly, linking it in).
    // SAFETY: the cell holds a valid `Option<fn()>`, read on its own thread.
    let hook = CLEAR.with(|hook| unsafe { core::ptr::read_volatile(hook.as_ptr()) });
    if let Some(clear) = hook {
        clear();
    }
}

/// Empties every slot, releasing the heap values they hold.
pub fn clear() {
    let slots = SLOTS.with(|slots| core::mem::take(&mut *slots.borrow_mut()));
    for slot in slots.into_iter().flatten() {
        // SAFETY: each slot owned a reference to its value, of its descriptor's type.
        unsafe { slot.release() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desc::INT_DESC;

    #[test]
    fn slots_are_set_read_and_cleared() {
        clear();
        assert_eq!(keel_static_is_set(3), 0);
        // SAFETY: ints are not heap values; the descriptor is static.
        unsafe {
            keel_static_set(3, 42, &INT_DESC);
            assert_eq!(keel_static_is_set(3), 1);
            assert_eq!(keel_static_is_set(2), 0);
            assert_eq!(keel_static_get(3), 42);
            keel_static_set(3, 7, &INT_DESC);
            assert_eq!(keel_static_get(3), 7);
        }
        clear();
        assert_eq!(keel_static_is_set(3), 0);
        assert_eq!(keel_static_is_set(-1), 0);
    }
}
