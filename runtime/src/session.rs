//! The values a REPL session keeps from one entry to the next (`keel repl`): numbered slots, each
//! holding a value word and its type's descriptor.
//!
//! Each entry of a session is a program of its own. The REPL numbers the session's variables;
//! an entry's program starts by reading the ones it uses ([`keel_session_get`]) and ends by
//! writing back every top-level variable it has ([`keel_session_set`]), so the next entry sees
//! them. Unlike `static let` slots (`statics`), these survive the end of a program, and they are
//! process-wide rather than per thread: the JIT runs each entry on a thread of its own.
//!
//! The REPL keeps every entry's compiled code alive for the whole session, so the descriptors a
//! slot points to (and the code of a closure) stay valid.
//!
//! What this module does not do: know the names or types of the variables (the REPL does).

use crate::prelude::*;

use crate::desc::TypeDesc;
use crate::host::Lock;
use crate::statics::Slot;

/// The slots, by number.
struct Slots(Vec<Option<Slot>>);

// SAFETY: the slots hold words and descriptor pointers that only Keel code (run on one thread at
// a time, one entry after another) and the REPL use; the mutex orders their uses.
unsafe impl Send for Slots {}

static SLOTS: Lock<Slots> = Lock::new(Slots(Vec::new()));

fn with_slots<R>(work: impl FnOnce(&mut Vec<Option<Slot>>) -> R) -> R {
    SLOTS.with(|slots| work(&mut slots.0))
}

/// The value in slot `slot` (a new reference for a heap value); 0 if it is not set, which
/// compiled code never asks for.
///
/// # Safety
/// A heap value in the slot must still be live (the slot owns a reference to it).
#[no_mangle]
pub unsafe extern "C" fn keel_session_get(slot: i64) -> i64 {
    let found = with_slots(|slots| {
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
/// `desc` must be a descriptor that outlives the session, and `word` a value of its type owned
/// by the caller.
#[no_mangle]
pub unsafe extern "C" fn keel_session_set(slot: i64, word: i64, desc: *const TypeDesc) {
    let Ok(index) = usize::try_from(slot) else {
        return;
    };
    let old = with_slots(|slots| {
        if slots.len() <= index {
            slots.resize(index + 1, None);
        }
        slots[index].replace(Slot { word, desc })
    });
    if let Some(old) = old {
        // SAFETY: the slot owned a reference to its value, of its descriptor's type.
        unsafe { old.release() };
    }
}

/// The text of the value in slot `slot` as it shows inside an array (strings quoted), if the
/// slot is set.
///
/// # Safety
/// A heap value in the slot must still be live, and its descriptor valid.
pub unsafe fn text_of(slot: usize) -> Option<String> {
    let Slot { word, desc } = with_slots(|slots| slots.get(slot).copied().flatten())?;
    let mut text = Vec::new();
    // SAFETY: forwarded from the caller.
    unsafe { crate::value::write_value(&mut text, word, desc) };
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// Empties slot `slot`, releasing its value.
///
/// # Safety
/// A heap value in the slot must still be live.
pub unsafe fn clear(slot: usize) {
    let old = with_slots(|slots| slots.get_mut(slot).and_then(Option::take));
    if let Some(old) = old {
        // SAFETY: forwarded from the caller.
        unsafe { old.release() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desc::{INT_DESC, STRING_DESC};

    #[test]
    fn slots_keep_values_and_show_them() {
        // SAFETY: the values are an int and a live string owned by the slot.
        unsafe {
            keel_session_set(40, 7, &INT_DESC);
            assert_eq!(keel_session_get(40), 7);
            assert_eq!(text_of(40).as_deref(), Some("7"));
            let text = crate::string::new_string(b"a\"b");
            keel_session_set(41, text as i64, &STRING_DESC);
            assert_eq!(text_of(41).as_deref(), Some("\"a\\\"b\""));
            let again = keel_session_get(41);
            crate::object::release_word(again);
            clear(41);
            assert_eq!(text_of(41), None);
            clear(40);
            assert_eq!(keel_session_get(40), 0);
        }
    }
}
