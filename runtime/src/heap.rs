//! The heap of a freestanding executable (no C library, so no `malloc`): memory from `mmap`,
//! handed out by size class, for a process with one thread.
//!
//! - **Small blocks** (up to [`LARGEST_CLASS`] bytes) come in size classes: multiples of 16
//!   bytes up to 256, then four classes per doubling. Each class has a free list (a freed
//!   block's first word points to the next); a class with an empty list takes a new block from
//!   the current chunk, a [`CHUNK_BYTES`] mapping that is only committed as it is touched. A
//!   block never moves to another class and chunks are never unmapped: the heap holds what the
//!   program used at its peak, per class, like `malloc` arenas do.
//! - **Large blocks** are mappings of their own, grown in place or moved by `mremap` (no copy)
//!   when reallocated, so a growing array or string stays linear. A freed one is kept for reuse
//!   (at most [`KEPT_MAPPINGS`] of them, [`KEPT_BYTES`] together, the oldest unmapped first):
//!   a program that frees a big array and makes another of about its size, as a loop around
//!   `array_fill` does, then writes to pages that are already there instead of taking a page
//!   fault (and the kernel's zeroing) for every 4 KiB of it. A kept mapping serves a block of up
//!   to its size and at least half of it, its tail unmapped.
//!
//! `GlobalAlloc` passes the block's size and alignment back on free, so blocks need no header.
//! Alignments up to 16 are those of every class; up to a page, large blocks'.
//!
//! What this module does not do: lock (the process has one thread), return chunks to the
//! system, or report running out of memory (it returns null; `allocator` makes that a fault).
//! Heap objects of Keel values are allocated through here via Rust's allocation API, and small
//! structs through `pool` on top of it.

use core::cell::UnsafeCell;
use core::ptr::null_mut;

use crate::sys;

/// The largest block a size class serves; larger ones are mappings of their own.
pub const LARGEST_CLASS: usize = 32 * 1024;

/// The size of the mappings small blocks are carved from.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Classes 1..=16 are 16, 32, ... 256 bytes; then four per doubling up to [`LARGEST_CLASS`].
const SMALL_STEP: usize = 16;
const SMALL_CLASSES: usize = 256 / SMALL_STEP;
const CLASSES: usize = 1 + SMALL_CLASSES + 4 * 7;

/// The page size mappings are rounded to (Linux's smallest).
const PAGE: usize = 4096;

/// How many freed large blocks' mappings the heap keeps for reuse.
pub const KEPT_MAPPINGS: usize = 4;

/// The most bytes the kept mappings hold together.
pub const KEPT_BYTES: usize = 256 << 20;

/// The class serving `size` bytes (`0 < size <= LARGEST_CLASS`) and that class's block size.
fn class_of(size: usize) -> (usize, usize) {
    if size <= 256 {
        let class = size.div_ceil(SMALL_STEP).max(1);
        return (class, class * SMALL_STEP);
    }
    // size in (2^k, 2^(k+1)] with 8 <= k <= 14, in steps of 2^(k-2).
    let k = (usize::BITS - 1 - (size - 1).leading_zeros()) as usize;
    let step = 1 << (k - 2);
    let sub = (size - 1 - (1 << k)) / step;
    (
        1 + SMALL_CLASSES + (k - 8) * 4 + sub,
        (1 << k) + (sub + 1) * step,
    )
}

/// The heap's state.
struct State {
    free: [*mut u8; CLASSES],
    next: *mut u8,
    end: *mut u8,
    /// Mappings of freed large blocks (address, bytes), oldest first; `kept_len` are in use.
    kept: [(*mut u8, usize); KEPT_MAPPINGS],
    kept_len: usize,
    /// The bytes of the kept mappings together.
    kept_bytes: usize,
}

impl State {
    /// A kept mapping of `bytes` (a multiple of the page size) bytes, taken from the kept ones:
    /// the smallest that holds them and is at most twice as long, cut to `bytes`.
    fn take_kept(&mut self, bytes: usize) -> Option<*mut u8> {
        let best = (0..self.kept_len)
            .filter(|&i| (bytes..=bytes.saturating_mul(2)).contains(&self.kept[i].1))
            .min_by_key(|&i| self.kept[i].1)?;
        let (address, len) = self.remove_kept(best);
        if len > bytes {
            // SAFETY: the tail past `bytes` is part of this mapping, which nothing uses.
            unsafe { sys::unmap(address.add(bytes).cast(), len - bytes) };
        }
        Some(address)
    }

    /// Keeps the mapping of a freed large block (`bytes` long) for reuse, unmapping the oldest
    /// kept ones to make room, or unmaps it when it alone is over the budget.
    fn keep(&mut self, address: *mut u8, bytes: usize) {
        if bytes > KEPT_BYTES {
            // SAFETY: the block is a whole mapping of this size, and freed.
            unsafe { sys::unmap(address.cast(), bytes) };
            return;
        }
        while self.kept_len == KEPT_MAPPINGS || self.kept_bytes + bytes > KEPT_BYTES {
            self.unmap_oldest();
        }
        self.kept[self.kept_len] = (address, bytes);
        self.kept_len += 1;
        self.kept_bytes += bytes;
    }

    /// Unmaps the oldest kept mapping (there must be one).
    fn unmap_oldest(&mut self) {
        let (address, len) = self.remove_kept(0);
        // SAFETY: a kept mapping is whole, of this size, and used by nothing.
        unsafe { sys::unmap(address.cast(), len) };
    }

    /// Takes kept mapping `i` (address, bytes) out of the list, keeping the others in order.
    fn remove_kept(&mut self, i: usize) -> (*mut u8, usize) {
        let kept = self.kept[i];
        self.kept.copy_within(i + 1..self.kept_len, i);
        self.kept_len -= 1;
        self.kept_bytes -= kept.1;
        kept
    }
}

/// A heap (see the module doc). Its methods must not be called from two threads at once.
pub struct Heap {
    state: UnsafeCell<State>,
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl Heap {
    pub const fn new() -> Heap {
        Heap {
            state: UnsafeCell::new(State {
                free: [null_mut(); CLASSES],
                next: null_mut(),
                end: null_mut(),
                kept: [(null_mut(), 0); KEPT_MAPPINGS],
                kept_len: 0,
                kept_bytes: 0,
            }),
        }
    }

    /// A block of `size` bytes aligned to `align` (a power of two), or null when memory is
    /// exhausted (or `align` exceeds a page).
    ///
    /// # Safety
    /// No other call on this heap may be running; `size` must not be 0.
    pub unsafe fn alloc(&self, size: usize, align: usize) -> *mut u8 {
        // SAFETY: the caller guarantees no other call runs, so this is the only reference.
        let state = unsafe { &mut *self.state.get() };
        if size > LARGEST_CLASS || align > SMALL_STEP {
            return map_large(state, size, align);
        }
        let (class, block) = class_of(size);
        let head = state.free[class];
        if !head.is_null() {
            // SAFETY: a free block's first word holds the next free block of its class.
            state.free[class] = unsafe { *head.cast::<*mut u8>() };
            return head;
        }
        if (state.end as usize) - (state.next as usize) < block && !new_chunk(state) {
            return null_mut();
        }
        let found = state.next;
        // SAFETY: `block` bytes from `next` lie inside the current chunk.
        state.next = unsafe { found.add(block) };
        found
    }

    /// Frees a block from [`Heap::alloc`] of `size` bytes and alignment `align`.
    ///
    /// # Safety
    /// As for `alloc`; `ptr` must be a live block of this heap allocated with `size`, `align`.
    pub unsafe fn free(&self, ptr: *mut u8, size: usize, align: usize) {
        // SAFETY: as in `alloc`.
        let state = unsafe { &mut *self.state.get() };
        if size > LARGEST_CLASS || align > SMALL_STEP {
            // A large block is a mapping of its own, of this rounded size.
            state.keep(ptr, large_bytes(size));
            return;
        }
        let (class, _) = class_of(size);
        // SAFETY: the block is free now, and at least a word long.
        unsafe { *ptr.cast::<*mut u8>() = state.free[class] };
        state.free[class] = ptr;
    }

    /// Moves the block to one of `new_size` bytes (keeping the first bytes of both), or returns
    /// null, the block unchanged, when memory is exhausted.
    ///
    /// # Safety
    /// As for `free`; `new_size` must not be 0.
    pub unsafe fn realloc(
        &self,
        ptr: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        let small = |n: usize| n <= LARGEST_CLASS && align <= SMALL_STEP;
        if small(size) && small(new_size) && class_of(size).0 == class_of(new_size).0 {
            return ptr;
        }
        if !small(size) && !small(new_size) {
            // SAFETY: the block is one whole mapping of this rounded size.
            return unsafe { sys::remap(ptr.cast(), large_bytes(size), large_bytes(new_size)) }
                .map_or(null_mut(), |moved| moved.cast());
        }
        // SAFETY: forwarded from the caller.
        let moved = unsafe { self.alloc(new_size, align) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size, and are distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, moved, size.min(new_size));
                self.free(ptr, size, align);
            }
        }
        moved
    }
}

/// The bytes of the mapping of a large block of `size` bytes.
fn large_bytes(size: usize) -> usize {
    size.checked_next_multiple_of(PAGE).unwrap_or(usize::MAX)
}

/// A mapping of its own for a block of `size` bytes (page aligned): a kept one, else a new one
/// (after unmapping the kept ones, if the system is out of memory), or null.
fn map_large(state: &mut State, size: usize, align: usize) -> *mut u8 {
    if align > PAGE || size > isize::MAX as usize {
        return null_mut();
    }
    let bytes = large_bytes(size);
    if let Some(kept) = state.take_kept(bytes) {
        return kept;
    }
    loop {
        if let Some(mapping) = sys::map(bytes, sys::PROT_READ_WRITE, 0) {
            return mapping.cast();
        }
        if state.kept_len == 0 {
            return null_mut();
        }
        while state.kept_len > 0 {
            state.unmap_oldest();
        }
    }
}

/// Starts a new chunk (what is left of the old one is abandoned: at most a block's size),
/// returning false when the system has no more memory.
fn new_chunk(state: &mut State) -> bool {
    match sys::map(CHUNK_BYTES, sys::PROT_READ_WRITE, sys::MAP_NORESERVE) {
        Some(chunk) => {
            state.next = chunk.cast();
            // SAFETY: the mapping is CHUNK_BYTES long.
            state.end = unsafe { state.next.add(CHUNK_BYTES) };
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_size_once_and_hold_it() {
        let mut last = (0, 0);
        for size in 1..=LARGEST_CLASS {
            let (class, block) = class_of(size);
            assert!(block >= size && block % SMALL_STEP == 0, "{size}: {block}");
            assert!(class < CLASSES);
            assert!(class >= last.0);
            if class == last.0 {
                assert_eq!(block, last.1);
            }
            last = (class, block);
        }
        assert_eq!(class_of(LARGEST_CLASS), (CLASSES - 1, LARGEST_CLASS));
        assert_eq!(class_of(257), (17, 320));
    }

    #[test]
    fn blocks_are_reused_and_keep_their_bytes() {
        let heap = Heap::new();
        // SAFETY: the heap is used by this thread only; sizes are not zero.
        unsafe {
            let a = heap.alloc(24, 8);
            let b = heap.alloc(24, 8);
            assert_ne!(a, b);
            assert_eq!(a as usize % 16, 0);
            a.write_bytes(7, 24);
            heap.free(b, 24, 8);
            assert_eq!(heap.alloc(30, 8), b);
            let grown = heap.realloc(a, 24, 8, 100_000);
            assert_eq!(*grown.add(23), 7);
            let big = heap.realloc(grown, 100_000, 8, 10_000_000);
            assert_eq!(*big.add(23), 7);
            *big.add(9_999_999) = 1;
            let shrunk = heap.realloc(big, 10_000_000, 8, 40);
            assert_eq!(*shrunk.add(23), 7);
            heap.free(shrunk, 40, 8);
            let aligned = heap.alloc(64, 4096);
            assert_eq!(aligned as usize % 4096, 0);
            heap.free(aligned, 64, 4096);
            assert!(heap.alloc(64, 8192).is_null());
            assert!(heap.alloc(usize::MAX / 2, 8).is_null());
        }
    }

    #[test]
    fn freed_large_blocks_are_reused_within_the_budget() {
        let heap = Heap::new();
        // SAFETY: as above.
        unsafe {
            let a = heap.alloc(1_000_000, 8);
            *a.add(999_999) = 5;
            heap.free(a, 1_000_000, 8);
            // The same size, and a smaller one of at least half, reuse the mapping; a block
            // over twice as small does not.
            let b = heap.alloc(1_000_000, 8);
            assert_eq!(b, a);
            heap.free(b, 1_000_000, 8);
            let c = heap.alloc(600_000, 8);
            assert_eq!(c, a);
            *c.add(599_999) = 1;
            heap.free(c, 600_000, 8);
            let d = heap.alloc(100_000, 8);
            assert_ne!(d, a);
            heap.free(d, 100_000, 8);
            // A block larger than any kept mapping gets a new one.
            let e = heap.alloc(2_000_000, 8);
            e.write_bytes(3, 2_000_000);
            heap.free(e, 2_000_000, 8);
            let state = &*heap.state.get();
            assert!(state.kept_len <= KEPT_MAPPINGS);
            assert_eq!(
                state.kept_bytes,
                state.kept[..state.kept_len]
                    .iter()
                    .map(|k| k.1)
                    .sum::<usize>()
            );
            // Over the budget on its own: unmapped at once.
            let huge = heap.alloc(KEPT_BYTES + 1, 8);
            assert!(!huge.is_null());
            heap.free(huge, KEPT_BYTES + 1, 8);
            assert!((*heap.state.get()).kept_bytes <= KEPT_BYTES);
            // More than KEPT_MAPPINGS freed: the oldest go.
            let blocks: Vec<_> = (0..KEPT_MAPPINGS + 2)
                .map(|i| heap.alloc(40_000 * (i + 1), 8))
                .collect();
            for (i, &block) in blocks.iter().enumerate() {
                heap.free(block, 40_000 * (i + 1), 8);
            }
            let state = &*heap.state.get();
            assert_eq!(state.kept_len, KEPT_MAPPINGS);
            assert_eq!(
                state.kept[KEPT_MAPPINGS - 1].1,
                large_bytes(40_000 * (KEPT_MAPPINGS + 2))
            );
        }
    }

    #[test]
    fn many_blocks_span_chunks() {
        let heap = Heap::new();
        let mut blocks = Vec::new();
        // SAFETY: as above.
        unsafe {
            for i in 0..20_000usize {
                let size = 1 + i % 2000;
                let block = heap.alloc(size, 8);
                block.write_bytes((i % 251) as u8, size);
                blocks.push((block, size, i));
            }
            for &(block, size, i) in &blocks {
                assert_eq!(*block.add(size - 1), (i % 251) as u8);
                heap.free(block, size, 8);
            }
        }
    }
}
