//! The memory of small fixed-size objects (structs, tuples, enum values): per-thread free lists
//! by size, carved from chunks of the system allocator.
//!
//! A program that builds and drops many small values (binary trees, lists of enum values) spends
//! most of its time in `malloc` and `free` otherwise. Here a block of a size class is one pop off
//! its free list (or a bump of the current chunk), and freeing it one push: no locking, no
//! headers, no coalescing. Sizes are multiples of 8 bytes up to [`MAX_POOLED`]; larger objects,
//! and arrays (which grow with `realloc`), use the system allocator. Strings of up to
//! `MAX_POOLED` bytes come from here too (`object::alloc_string_memory`).
//!
//! Chunks are never given back to the system while the process runs, so a block freed on another
//! thread than the one it came from (nothing in Keel does that, but the runtime does not rely on
//! it) simply joins that thread's list. When a thread ends, its free lists and the rest of its
//! chunk go to a process-wide reserve, which the next thread that needs memory takes over: the
//! memory held is bounded by what the threads alive at once used at their peak, however many
//! programs run one after the other in one process (tests, the JIT). Every chunk's first word
//! links it to the chunk made before it, from a process-wide head: the chunks stay reachable
//! from a root, so a leak checker (valgrind, the suite's memcheck pass) sees memory the pool
//! holds, not memory lost through pointers into the middle of a chunk.
//!
//! What this module does not do: count objects (see `object`, which counts every allocation,
//! pooled or not) or know what the blocks hold.

use crate::host::Lock;
use crate::prelude::*;
use alloc::alloc::{alloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::fault::out_of_memory;
use crate::layout::OBJECT_ALIGN;

/// The largest block, in bytes, served from the pool (a struct of 30 fields).
pub const MAX_POOLED: usize = 256;

/// Block sizes are multiples of this.
const GRAIN: usize = 8;

/// One free list per size: class `n` holds blocks of `n * GRAIN` bytes.
const CLASSES: usize = MAX_POOLED / GRAIN + 1;

/// The size of the chunks blocks are carved from.
const CHUNK_SIZE: usize = 256 * 1024;

const _: () =
    assert!(GRAIN >= core::mem::size_of::<*mut u8>() && GRAIN.is_multiple_of(OBJECT_ALIGN));

/// A thread's pool: the head of each class's free list (each free block's first word points
/// to the next), and the unused rest of its current chunk.
struct Pool {
    free: [*mut u8; CLASSES],
    next: *mut u8,
    end: *mut u8,
}

impl Pool {
    const EMPTY: Pool = Pool {
        free: [null_mut(); CLASSES],
        next: null_mut(),
        end: null_mut(),
    };
}

/// A pool handed over by an ended thread: its addresses stay valid (chunks are never freed),
/// and only the thread that takes it over uses them.
struct Reserve(Pool);

// SAFETY: a reserved pool is only memory addresses; it is moved to exactly one thread (under
// the mutex), which then owns the blocks as its own.
unsafe impl Send for Reserve {}

static RESERVE: Lock<Vec<Reserve>> = Lock::new(Vec::new());

/// The newest chunk; each chunk's first word holds the one made before it (null for the
/// first). Only ever pushed to: chunks live as long as the process.
static CHUNKS: AtomicPtr<u8> = AtomicPtr::new(null_mut());

/// The bytes at the start of a chunk that link it to the previous one.
const CHUNK_HEADER: usize = GRAIN;

crate::per_thread! {
    static POOL: UnsafeCell<Pool> = const { UnsafeCell::new(Pool::EMPTY) };
}

// A freestanding executable has one thread, which never ends before the process.
#[cfg(not(feature = "freestanding"))]
std::thread_local! {
    /// Registered on a thread's first chunk: at thread end, hands its pool to the reserve.
    static HANDOVER: Handover = const { Handover };
}

#[cfg(not(feature = "freestanding"))]
struct Handover;

#[cfg(not(feature = "freestanding"))]
impl Drop for Handover {
    fn drop(&mut self) {
        let pool = POOL.with(|pool| {
            // SAFETY: the pool is only touched by this thread, and not re-entrantly.
            unsafe { core::mem::replace(&mut *pool.get(), Pool::EMPTY) }
        });
        if pool.next.is_null() && pool.free.iter().all(|head| head.is_null()) {
            return;
        }
        RESERVE.with(|reserve| reserve.push(Reserve(pool)));
    }
}

/// The size class of a block of `size` bytes, if the pool serves it.
#[inline]
pub fn class_of(size: usize) -> Option<usize> {
    if size <= MAX_POOLED {
        Some(size.div_ceil(GRAIN))
    } else {
        None
    }
}

/// A block of `class * GRAIN` bytes (contents undefined), aligned to [`OBJECT_ALIGN`].
#[inline]
pub fn alloc_block(class: usize) -> *mut u8 {
    debug_assert!(class > 0 && class < CLASSES);
    POOL.with(|pool| {
        // SAFETY: the pool is only touched by this thread, and not re-entrantly (nothing here
        // calls out while holding the reference).
        let pool = unsafe { &mut *pool.get() };
        let head = pool.free[class];
        if !head.is_null() {
            // SAFETY: a free block's first word holds the next free block of its class.
            pool.free[class] = unsafe { *head.cast::<*mut u8>() };
            return head;
        }
        let size = class * GRAIN;
        if (pool.end as usize) - (pool.next as usize) >= size {
            let block = pool.next;
            // SAFETY: `size` bytes from `next` lie inside the current chunk.
            pool.next = unsafe { block.add(size) };
            return block;
        }
        refill(pool, size)
    })
}

/// Gives back a block of class `class` from [`alloc_block`].
///
/// # Safety
/// `block` must come from `alloc_block(class)` and not be used afterwards.
#[inline]
pub unsafe fn free_block(block: *mut u8, class: usize) {
    debug_assert!(class > 0 && class < CLASSES);
    POOL.with(|pool| {
        // SAFETY: as in `alloc_block`; the caller gives up `block`, which has room for a pointer.
        unsafe {
            let pool = &mut *pool.get();
            *block.cast::<*mut u8>() = pool.free[class];
            pool.free[class] = block;
        }
    });
}

/// The slow path of [`alloc_block`]: takes over a reserved pool or starts a new chunk, then
/// serves `size` bytes.
#[cold]
#[inline(never)]
fn refill(pool: &mut Pool, size: usize) -> *mut u8 {
    // Registers the handover (once per thread; nothing when the thread is already ending).
    #[cfg(not(feature = "freestanding"))]
    let _ = HANDOVER.try_with(|_| ());
    let class = size / GRAIN;
    let reserved = RESERVE.with(|reserve| reserve.pop());
    if let Some(Reserve(reserved)) = reserved {
        adopt(pool, reserved);
        let head = pool.free[class];
        if !head.is_null() {
            // SAFETY: as in `alloc_block`.
            pool.free[class] = unsafe { *head.cast::<*mut u8>() };
            return head;
        }
        if (pool.end as usize) - (pool.next as usize) >= size {
            let block = pool.next;
            // SAFETY: as in `alloc_block`.
            pool.next = unsafe { block.add(size) };
            return block;
        }
    }
    // What is left of the current chunk goes to the free lists of the sizes it fits.
    retire_rest(pool);
    let layout = Layout::from_size_align(CHUNK_SIZE, OBJECT_ALIGN)
        .unwrap_or_else(|_| out_of_memory(CHUNK_SIZE));
    // SAFETY: the layout's size is not zero.
    let chunk = unsafe { alloc(layout) };
    if chunk.is_null() {
        out_of_memory(CHUNK_SIZE);
    }
    link_chunk(chunk);
    // SAFETY: `CHUNK_HEADER + size <= CHUNK_HEADER + MAX_POOLED < CHUNK_SIZE`.
    unsafe {
        let block = chunk.add(CHUNK_HEADER);
        pool.next = block.add(size);
        pool.end = chunk.add(CHUNK_SIZE);
        block
    }
}

/// Makes `chunk` (fresh, at least [`CHUNK_HEADER`] bytes) the head of the process's chunk
/// list, its first word pointing to the previous head.
fn link_chunk(chunk: *mut u8) {
    let mut previous = CHUNKS.load(Ordering::Relaxed);
    loop {
        // SAFETY: the chunk's first word is its header, which nothing else uses.
        unsafe { *chunk.cast::<*mut u8>() = previous };
        match CHUNKS.compare_exchange_weak(previous, chunk, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return,
            Err(current) => previous = current,
        }
    }
}

/// Merges the reserved pool `other` into `pool`: takes over its chunk when `pool` has none
/// (else carves the rest of `other`'s into its lists), and its free lists (whole where `pool`'s
/// are empty, else block by block).
fn adopt(pool: &mut Pool, mut other: Pool) {
    if pool.next.is_null() {
        pool.next = other.next;
        pool.end = other.end;
    } else {
        retire_rest(&mut other);
    }
    for (class, &head) in other.free.iter().enumerate() {
        let mut block = head;
        while !block.is_null() {
            if pool.free[class].is_null() {
                pool.free[class] = block;
                break;
            }
            // SAFETY: a free block's first word holds the next one; `block` moves to `pool`.
            unsafe {
                let next = *block.cast::<*mut u8>();
                *block.cast::<*mut u8>() = pool.free[class];
                pool.free[class] = block;
                block = next;
            }
        }
    }
}

/// Puts what is left of `pool`'s current chunk on its free lists, as blocks of the largest size
/// that fits, and forgets the chunk.
fn retire_rest(pool: &mut Pool) {
    let mut left = (pool.end as usize) - (pool.next as usize);
    while left >= GRAIN {
        let class = (left / GRAIN).min(CLASSES - 1);
        let block = pool.next;
        // SAFETY: `class * GRAIN <= left` bytes from `next` lie inside the chunk.
        unsafe {
            *block.cast::<*mut u8>() = pool.free[class];
            pool.free[class] = block;
            pool.next = block.add(class * GRAIN);
        }
        left -= class * GRAIN;
    }
    pool.next = null_mut();
    pool.end = null_mut();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_by_class() {
        let class = class_of(40).unwrap();
        let a = alloc_block(class);
        let b = alloc_block(class);
        assert_ne!(a, b);
        assert_eq!(a as usize % OBJECT_ALIGN, 0);
        // SAFETY: both blocks came from this class and are not used again.
        unsafe {
            free_block(a, class);
            assert_eq!(alloc_block(class), a);
            free_block(b, class);
        }
        assert_eq!(class_of(MAX_POOLED + 1), None);
        assert_eq!(class_of(16), Some(2));
    }

    #[test]
    fn every_chunk_is_reachable_from_the_chunk_list() {
        let class = class_of(MAX_POOLED).unwrap();
        // More than a chunk's worth, so at least one new chunk is made here.
        let blocks: Vec<*mut u8> = (0..CHUNK_SIZE / MAX_POOLED + 1)
            .map(|_| alloc_block(class))
            .collect();
        for &block in &blocks {
            let mut chunk = CHUNKS.load(Ordering::Acquire);
            let mut found = false;
            while !chunk.is_null() {
                let start = chunk as usize;
                if (start + CHUNK_HEADER..start + CHUNK_SIZE).contains(&(block as usize)) {
                    found = true;
                    break;
                }
                // SAFETY: a chunk's first word links to the previous chunk.
                chunk = unsafe { *chunk.cast::<*mut u8>() };
            }
            assert!(found, "block {block:?} lies in no listed chunk");
        }
        for block in blocks {
            // SAFETY: each block came from this class and is not used again.
            unsafe { free_block(block, class) };
        }
    }

    /// The blocks on `pool`'s list of `class`, in order.
    fn list(pool: &Pool, class: usize) -> Vec<*mut u8> {
        let mut blocks = Vec::new();
        let mut block = pool.free[class];
        while !block.is_null() {
            blocks.push(block);
            // SAFETY: the test's lists hold blocks of its own buffer.
            block = unsafe { *block.cast::<*mut u8>() };
        }
        blocks
    }

    #[test]
    fn adopting_a_reserve_keeps_every_block() {
        let mut memory = vec![0u64; 64];
        let base = memory.as_mut_ptr().cast::<u8>();
        // SAFETY: every address below lies inside `memory`, which outlives the pools.
        unsafe {
            let mut other = Pool::EMPTY;
            other.free[2] = base;
            *base.cast::<*mut u8>() = base.add(16);
            *base.add(16).cast::<*mut u8>() = null_mut();
            other.next = base.add(64);
            other.end = base.add(64 + 40);
            let mut pool = Pool::EMPTY;
            pool.free[2] = base.add(32);
            *base.add(32).cast::<*mut u8>() = null_mut();
            pool.next = base.add(200);
            pool.end = base.add(208);
            adopt(&mut pool, other);
            // The lists merged; the other chunk's rest became one block of 40 bytes.
            assert_eq!(list(&pool, 2).len(), 3);
            assert_eq!(list(&pool, 5), vec![base.add(64)]);
            assert_eq!(pool.next, base.add(200));
            retire_rest(&mut pool);
            assert_eq!(list(&pool, 1), vec![base.add(200)]);
            assert!(pool.next.is_null() && pool.end.is_null());
        }
    }
}
