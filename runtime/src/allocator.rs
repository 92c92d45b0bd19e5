//! The global allocator of every program: the system's, except that running out of memory is
//! Keel's out-of-memory fault (`out of memory: cannot allocate N bytes`, status 1) instead of
//! Rust's abort.
//!
//! Heap objects check their own allocations (`object`), but the runtime also allocates through
//! Rust's collections (the VM's registers, formatted messages, split strings), and Rust answers
//! a failed allocation by aborting the process with SIGABRT. Since this crate is linked into
//! native executables and into `keel` alike, installing the allocator here makes every backend,
//! and the compiler, end the same way when memory runs out.
//!
//! What this module does not do: count or pool allocations (the system allocator does all the
//! work).

use std::alloc::{GlobalAlloc, Layout, System};

use crate::fault::out_of_memory;

/// The system allocator, with allocation failure reported as a fault.
pub struct FaultingAllocator;

// SAFETY: every method forwards to `System` with the same arguments, and never returns null
// (it ends the process instead), which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for FaultingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            out_of_memory(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ptr.is_null() {
            out_of_memory(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            out_of_memory(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: FaultingAllocator = FaultingAllocator;
