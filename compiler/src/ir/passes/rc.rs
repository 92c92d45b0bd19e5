//! Reference counting: makes every heap value's ownership explicit, Perceus style.
//!
//! Lowering produces IR that uses heap values (strings, arrays, structs) freely. This pass adds
//! the `Retain`s and `Release`s that make each reference owned by exactly one local at a time:
//!
//! - an operand an instruction *consumes* (see `ir::Inst` and `RtFunc::sig().owned`) is retained
//!   first only if its local is still live afterwards; on its last use the value simply moves;
//! - a local whose value dies without being consumed (its last use borrows it, or it is never
//!   used at all) is released right after that point, or on the control-flow edge where it stops
//!   being live (critical edges are split for that);
//! - an instruction that reads a local it also overwrites (`s = trim(s)`) writes a temporary
//!   first, so the old value can be released before the local takes the new one;
//! - an instruction that consumes a local twice, or consumes and borrows it, gets retained
//!   temporaries for the extra uses, so no runtime function sees one object as both.
//!
//! Liveness is the usual backward data-flow over heap locals, with a block's fault handler counted
//! as one more successor: whatever the recovery block of a `live` block reads (its snapshots,
//! the variables the retried body reads) stays owned throughout the body. No release is put on a
//! handler edge: what a fault must release depends on the instruction that faults, and
//! `ir::fault_releases` derives those lists from this pass's output for the backends, which
//! emit them off the happy path (docs/faults.md).
//! The pass runs once per function after lowering; it changes no instruction's meaning and adds
//! no faults.

use crate::ir::{Block, BlockId, Function, Inst, Local, LocalInfo, Operand, Term};

/// Adds reference counting to `func`.
pub fn insert_rc(func: &mut Function) {
    // A closure's borrowed object is not the function's to count.
    let heap = func.owned_heap();
    if !heap.iter().any(|&h| h) {
        return;
    }
    let n = func.locals.len();
    let liveness = Liveness::compute(func, &heap);
    let mut extra_locals: Vec<LocalInfo> = Vec::new();
    let mut new_blocks: Vec<Block> = Vec::with_capacity(func.blocks.len());
    // The heap locals live at the current point of the block being rewritten; all false
    // between blocks.
    let mut live = vec![false; n];
    for (b, block) in func.blocks.iter().enumerate() {
        let mut rewriter = BlockRewriter {
            heap: &heap,
            locals: &func.locals,
            extra: &mut extra_locals,
            base: n,
        };
        for &x in &liveness.live_out[b] {
            live[x as usize] = true;
        }
        new_blocks.push(rewriter.rewrite(block, &mut live));
        // Only the live-out locals and the locals the block mentions can have been set.
        for &x in &liveness.live_out[b] {
            live[x as usize] = false;
        }
        let mut clear = |op: &Operand| {
            if let Operand::Local(l) = op {
                live[l.0 as usize] = false;
            }
        };
        for inst in &block.insts {
            inst.for_each_use(&mut clear);
            if let Some(d) = inst.def() {
                clear(&Operand::Local(d));
            }
        }
        block.term.operand().into_iter().for_each(&mut clear);
    }
    func.locals.extend(extra_locals);
    func.blocks = new_blocks;

    // Parameters never used at all die at the entry.
    let entry_dead: Vec<Inst> = (0..func.param_count as usize)
        .filter(|&p| heap[p] && !liveness.is_live_in(0, p))
        .map(|p| Inst::Release {
            value: Local(p as u32),
        })
        .collect();
    release_on_edges(func, &liveness);
    if !entry_dead.is_empty() {
        let entry = &mut func.blocks[0];
        let mut insts = entry_dead;
        insts.append(&mut entry.insts);
        entry.insts = insts;
    }
}

/// Live heap locals at each block's start and end, each list in increasing order; a block's
/// fault handler counts as one of its successors. Also used on the IR this pass produced, where
/// a heap local is live exactly when it owns a reference (`ir::fault_releases`).
///
/// Computed one local at a time, backwards from the blocks that read it before assigning it, so
/// the cost is the size of the result rather than blocks × locals.
pub(crate) struct Liveness {
    pub(crate) live_in: Vec<Vec<u32>>,
    pub(crate) live_out: Vec<Vec<u32>>,
}

impl Liveness {
    /// The liveness of the locals `heap` marks in `func`.
    pub(crate) fn compute(func: &Function, heap: &[bool]) -> Liveness {
        let n = func.locals.len();
        let blocks = func.blocks.len();
        // For each heap local, the blocks that read it before any assignment in the block
        // ("gen") and the blocks that assign it ("kill"), each block once.
        let mut gen: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut kill: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut preds: Vec<Vec<u32>> = vec![Vec::new(); blocks];
        for (b, block) in func.blocks.iter().enumerate() {
            let b = b as u32;
            let mut read = |local: usize, kill: &[Vec<u32>]| {
                if kill[local].last() != Some(&b) && gen[local].last() != Some(&b) {
                    gen[local].push(b);
                }
            };
            for inst in &block.insts {
                for (local, _) in heap_uses(inst, heap) {
                    read(local, &kill);
                }
                if let Some(d) = inst.def() {
                    let d = d.0 as usize;
                    if heap[d] && kill[d].last() != Some(&b) {
                        kill[d].push(b);
                    }
                }
            }
            for (local, _) in term_uses(&block.term, heap) {
                read(local, &kill);
            }
            // The handler counts as a successor.
            for succ in block.successors() {
                preds[succ.0 as usize].push(b);
            }
        }

        let mut live_in: Vec<Vec<u32>> = vec![Vec::new(); blocks];
        let mut live_out: Vec<Vec<u32>> = vec![Vec::new(); blocks];
        // Per-block marks, stamped with the local being analysed (plus one): no resets needed.
        let (mut killed, mut is_in, mut is_out) =
            (vec![0u32; blocks], vec![0u32; blocks], vec![0u32; blocks]);
        let mut work = Vec::new();
        for x in (0..n).filter(|&x| heap[x]) {
            let stamp = x as u32 + 1;
            for &b in &kill[x] {
                killed[b as usize] = stamp;
            }
            for &b in &gen[x] {
                is_in[b as usize] = stamp;
                work.push(b);
            }
            while let Some(b) = work.pop() {
                live_in[b as usize].push(x as u32);
                for &p in &preds[b as usize] {
                    let p = p as usize;
                    if is_out[p] != stamp {
                        is_out[p] = stamp;
                        live_out[p].push(x as u32);
                    }
                    if is_in[p] != stamp && killed[p] != stamp {
                        is_in[p] = stamp;
                        work.push(p as u32);
                    }
                }
            }
        }
        Liveness { live_in, live_out }
    }

    /// Whether heap local `x` is live at the start of block `b`.
    pub(crate) fn is_live_in(&self, b: usize, x: usize) -> bool {
        self.live_in[b].binary_search(&(x as u32)).is_ok()
    }
}

/// For each operand position (in `for_each_use` order), whether the instruction consumes it.
fn consumes(inst: &Inst) -> Vec<bool> {
    match inst {
        Inst::Copy { .. } => vec![true],
        Inst::Call { args, .. } => vec![true; args.len()],
        // The function value is borrowed, the arguments (and the site text) consumed.
        Inst::CallIndirect { args, .. } => {
            let callee = crate::ir::StructDef::callee_position(args.len());
            (0..args.len()).map(|k| k != callee).collect()
        }
        Inst::CallRt { func, .. } => func.sig().owned.to_vec(),
        Inst::NewArray { items, .. } => vec![true; items.len()],
        Inst::NewStruct { fields, .. } => vec![true; fields.len()],
        // Container (borrowed and kept), index, value (consumed).
        Inst::ArraySet { .. } => vec![false, false, true],
        Inst::FieldSet { .. } => vec![false, true],
        _ => Vec::new(),
    }
}

/// The heap locals an instruction reads: (local, consumed), in order.
pub(crate) fn heap_uses(inst: &Inst, heap: &[bool]) -> Vec<(usize, bool)> {
    heap_uses_at(inst, heap)
        .into_iter()
        .map(|(x, _, c)| (x, c))
        .collect()
}

fn heap_uses_at(inst: &Inst, heap: &[bool]) -> Vec<(usize, usize, bool)> {
    let owned = consumes(inst);
    let mut uses = Vec::new();
    let mut position = 0;
    inst.for_each_use(|op| {
        if let Operand::Local(l) = op {
            if heap[l.0 as usize] {
                uses.push((
                    l.0 as usize,
                    position,
                    owned.get(position).copied().unwrap_or(false),
                ));
            }
        }
        position += 1;
    });
    uses
}

fn term_uses(term: &Term, heap: &[bool]) -> Vec<(usize, bool)> {
    match term {
        Term::Return(Some(Operand::Local(l))) if heap[l.0 as usize] => vec![(l.0 as usize, true)],
        _ => Vec::new(),
    }
}

/// Rewrites one block, walking it backwards from its live-out set.
struct BlockRewriter<'a> {
    heap: &'a [bool],
    locals: &'a [LocalInfo],
    extra: &'a mut Vec<LocalInfo>,
    /// Number of locals before this pass (new temporaries are numbered from here).
    base: usize,
}

impl BlockRewriter<'_> {
    fn temp_like(&mut self, local: usize) -> Local {
        let ty = if local < self.base {
            self.locals[local].ty
        } else {
            self.extra[local - self.base].ty
        };
        self.extra.push(LocalInfo { ty, name: None });
        Local((self.base + self.extra.len() - 1) as u32)
    }

    /// Rewrites `block`, given the heap locals live at its end in `live` (which ends up holding
    /// those live at its start).
    fn rewrite(&mut self, block: &Block, live: &mut [bool]) -> Block {
        // Output in reverse, flipped at the end.
        let mut out: Vec<Inst> = Vec::new();
        let term = block.term.clone();
        // The terminator: a returned local moves out; nothing is live after a return.
        let mut pre_term = Vec::new();
        if let Term::Return(Some(Operand::Local(l))) = &term {
            let x = l.0 as usize;
            if self.heap[x] && live[x] {
                pre_term.push(Inst::Retain { value: *l });
            }
        }
        for (x, _) in term_uses(&term, self.heap) {
            live[x] = true;
        }
        for inst in block.insts.iter().rev() {
            let (pre, inst, post) = self.instruction(inst, live);
            out.extend(post.into_iter().rev());
            out.push(inst);
            out.extend(pre.into_iter().rev());
        }
        out.reverse();
        out.extend(pre_term);
        Block {
            insts: out,
            term,
            handler: block.handler,
        }
    }

    /// Rewrites one instruction given the heap locals live after it, updating `live` to those
    /// live before it. Returns the instructions to put before, the instruction, and after.
    fn instruction(&mut self, inst: &Inst, live: &mut [bool]) -> (Vec<Inst>, Inst, Vec<Inst>) {
        let mut pre = Vec::new();
        let mut post = Vec::new();
        let mut inst = inst.clone();
        // Operand positions, taken before step 1 replaces some operands by new temporaries
        // (which `heap` does not cover).
        let uses_at = heap_uses_at(&inst, self.heap);
        let uses: Vec<(usize, bool)> = uses_at.iter().map(|&(x, _, c)| (x, c)).collect();
        let def = inst.def().map(|d| d.0 as usize).filter(|&d| self.heap[d]);

        // 1. Split extra consuming uses into retained temporaries.
        let mut consumed_once: Vec<usize> = Vec::new();
        let mut borrowed: Vec<usize> = Vec::new();
        for &(x, _) in &uses {
            if consumed_once.contains(&x) || borrowed.contains(&x) {
                continue;
            }
            let consumes = uses.iter().filter(|&&(y, c)| y == x && c).count();
            let borrows = uses.iter().filter(|&&(y, c)| y == x && !c).count();
            let keep = if borrows > 0 { 0 } else { 1 };
            if consumes > keep {
                // Replace all but `keep` consuming occurrences with retained copies.
                let positions: Vec<usize> = uses_at
                    .iter()
                    .filter(|&&(y, _, c)| y == x && c)
                    .map(|&(_, p, _)| p)
                    .take(consumes - keep)
                    .collect();
                for p in positions {
                    let t = self.temp_like(x);
                    pre.push(Inst::Copy {
                        dst: t,
                        src: Operand::Local(Local(x as u32)),
                    });
                    pre.push(Inst::Retain { value: t });
                    set_operand_at(&mut inst, p, Operand::Local(t));
                }
            }
            if borrows > 0 {
                borrowed.push(x);
            } else if consumes > 0 {
                consumed_once.push(x);
            }
        }

        // 2. Consumed once: move, or retain if still needed afterwards.
        for &x in &consumed_once {
            let live_after = live[x] && def != Some(x);
            if live_after {
                pre.push(Inst::Retain {
                    value: Local(x as u32),
                });
            }
        }

        // 3. Borrowed and dead afterwards: release after (through a temporary when the
        //    instruction also overwrites the local).
        let mut renamed = None;
        for &x in &borrowed {
            let dies = !live[x] || def == Some(x);
            if !dies {
                continue;
            }
            if def == Some(x) {
                let t = self.temp_like(x);
                inst.set_def(t);
                renamed = Some(t);
                post.push(Inst::Release {
                    value: Local(x as u32),
                });
                post.push(Inst::Copy {
                    dst: Local(x as u32),
                    src: Operand::Local(t),
                });
            } else {
                post.push(Inst::Release {
                    value: Local(x as u32),
                });
            }
        }

        // 4. A result nobody reads.
        if let Some(d) = def {
            if !live[d] {
                match renamed {
                    // The copy back into `d` would be dead: drop the temporary instead.
                    Some(t) => {
                        post.retain(|i| !matches!(i, Inst::Copy { .. }));
                        post.push(Inst::Release { value: t });
                    }
                    None => post.push(Inst::Release {
                        value: Local(d as u32),
                    }),
                }
            }
        }

        // 5. Liveness before the instruction.
        if let Some(d) = def {
            live[d] = false;
        }
        for &(x, _) in &uses {
            live[x] = true;
        }
        (pre, inst, post)
    }
}

/// Replaces the operand at a consuming position (only value operands are ever replaced).
fn set_operand_at(inst: &mut Inst, position: usize, value: Operand) {
    match inst {
        Inst::Copy { src, .. } if position == 0 => *src = value,
        Inst::Call { args, .. } | Inst::CallIndirect { args, .. } | Inst::CallRt { args, .. } => {
            args[position] = value
        }
        Inst::NewArray { items, .. } => items[position] = value,
        Inst::NewStruct { fields, .. } => fields[position] = value,
        Inst::ArraySet { value: v, .. } if position == 2 => *v = value,
        Inst::FieldSet { value: v, .. } if position == 1 => *v = value,
        _ => unreachable!("only consumed value operands are replaced"),
    }
}

/// Releases locals on the edges where they stop being live, splitting critical edges.
fn release_on_edges(func: &mut Function, liveness: &Liveness) {
    let original = func.blocks.len();
    let mut preds = vec![0usize; original];
    for block in &func.blocks {
        for s in block.term.successors() {
            preds[s.0 as usize] += 1;
        }
    }
    let mut at_start: Vec<Vec<Inst>> = vec![Vec::new(); original];
    for p in 0..original {
        let succs = func.blocks[p].term.successors();
        for (edge, s) in succs.iter().enumerate() {
            let s_index = s.0 as usize;
            let dying: Vec<Inst> = liveness.live_out[p]
                .iter()
                .filter(|&&x| !liveness.is_live_in(s_index, x as usize))
                .map(|&x| Inst::Release { value: Local(x) })
                .collect();
            if dying.is_empty() {
                continue;
            }
            if preds[s_index] == 1 {
                at_start[s_index].extend(dying);
            } else if succs.len() == 1 {
                func.blocks[p].insts.extend(dying);
            } else {
                let split = BlockId(func.blocks.len() as u32);
                func.blocks.push(Block::new(dying, Term::Jump(*s)));
                retarget(&mut func.blocks[p].term, edge, split);
            }
        }
    }
    for (b, mut releases) in at_start.into_iter().enumerate() {
        if !releases.is_empty() {
            releases.append(&mut func.blocks[b].insts);
            func.blocks[b].insts = releases;
        }
    }
}

/// Points successor number `edge` of a terminator at `to`.
fn retarget(term: &mut Term, edge: usize, to: BlockId) {
    match term {
        Term::Jump(b) => *b = to,
        Term::Branch {
            then_to, else_to, ..
        } => {
            if edge == 0 {
                *then_to = to;
            } else {
                *else_to = to;
            }
        }
        Term::Return(_) | Term::Exit(_) | Term::Unwind => {}
    }
}
