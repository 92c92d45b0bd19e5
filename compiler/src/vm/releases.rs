//! Which registers a recovered fault releases: the IR's release lists
//! (`crate::ir::fault_releases`) in terms of where the planned bytecode keeps each value.
//!
//! IR local `n` is register `n`, with two exceptions that `plan` introduces within a block:
//! - an argument written in place (`Dest::Argument(k)`) sits in the outgoing-argument slot `k`
//!   from its definition until its call, so a fault in between releases that slot;
//! - an element or field taken in place (`InstPlan::take_in_place`) stays in its container, and
//!   the take's local only borrows it until the skipped set-back, so a fault in between releases
//!   nothing for it: releasing the container (if the fault releases it) frees it.
//!
//! What this module does not do: emit anything (`compile` records the lists in the fault-site
//! table, `interp` releases them while it unwinds).

use super::bytecode::Reg;
use super::plan::{Dest, InstPlan};
use crate::ir::{Inst, Local, Operand};

/// The stretches of one block where a local's value is not in its register.
#[derive(Debug, Default)]
pub(super) struct BlockReleases {
    /// `(from, to, local)`: strictly between instructions `from` and `to`, `local` borrows.
    borrowed: Vec<(usize, usize, Local)>,
    /// `(from, to, local, k)`: strictly between `from` and `to`, `local` is in argument slot `k`.
    in_arguments: Vec<(usize, usize, Local, usize)>,
}

impl BlockReleases {
    /// The stretches of the block whose kept instructions are `insts`, planned as `plans`.
    pub(super) fn of(insts: &[Inst], plans: &[InstPlan]) -> BlockReleases {
        let mut found = BlockReleases::default();
        for (i, (inst, plan)) in insts.iter().zip(plans).enumerate() {
            if plan.skip {
                continue;
            }
            if let Some(Dest::Argument(k)) = plan.dest {
                let call = (i + 1..insts.len()).find(|&c| matches!(insts[c], Inst::Call { .. }));
                if let Some(call) = call {
                    if let Inst::Call { args, .. } = &insts[call] {
                        if let Some(&Operand::Local(local)) = args.get(k) {
                            found.in_arguments.push((i, call, local, k));
                        }
                    }
                }
            }
            if plan.take_in_place {
                let taken = match *inst {
                    Inst::ArrayTake { dst, .. } | Inst::FieldTake { dst, .. } => dst,
                    _ => continue,
                };
                let set_back = (i + 1..insts.len()).find(|&j| {
                    plans[j].skip
                        && matches!(
                            insts[j],
                            Inst::ArraySet { value: Operand::Local(v), .. }
                                | Inst::FieldSet { value: Operand::Local(v), .. }
                                if v == taken
                        )
                });
                if let Some(set_back) = set_back {
                    found.borrowed.push((i, set_back, taken));
                }
            }
        }
        found
    }

    /// The registers holding the references `locals` (the release list of instruction `index`)
    /// name, given where the argument slots are.
    pub(super) fn registers(
        &self,
        locals: &[Local],
        index: usize,
        argument: impl Fn(usize) -> Reg,
    ) -> Vec<Reg> {
        let within = |from: usize, to: usize| from < index && index < to;
        locals
            .iter()
            .filter_map(|&local| {
                if self
                    .borrowed
                    .iter()
                    .any(|&(from, to, l)| l == local && within(from, to))
                {
                    return None;
                }
                let slot = self
                    .in_arguments
                    .iter()
                    .find(|&&(from, to, l, _)| l == local && within(from, to));
                Some(match slot {
                    Some(&(_, _, _, k)) => argument(k),
                    None => Reg(local.0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::SourceFile;

    /// The listing line of the first instruction whose mnemonic is `mnemonic` in `program`.
    fn line_of(source: &str, mnemonic: &str) -> String {
        let program = crate::sema::compile(&SourceFile::new("t.kl", source))
            .unwrap_or_else(|d| panic!("{d:#?}"));
        let listing = crate::vm::disassemble(&crate::vm::compile(&program));
        listing
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(mnemonic))
            .unwrap_or_else(|| panic!("no {mnemonic} in\n{listing}"))
            .to_string()
    }

    #[test]
    fn an_argument_written_in_place_is_released_from_its_slot() {
        // `s + "?"` goes straight into the first argument slot of `combine` (r8, after the five
        // locals, two scratch registers and the constant 10's register), and the division
        // between it and the call may fault.
        let line = line_of(
            "fn combine(string a, int n) -> int { return len(a) + n; }
             fn f(string s, int d) -> int { return combine(s + \"?\", 10 / d); }
             live { println(f(\"x\", live_retries())); }",
            "div_int",
        );
        assert!(line.ends_with("releases (r8)"), "{line}");
    }

    #[test]
    fn an_element_updated_in_place_is_left_to_its_container() {
        // `t.tags` stays in `t` (r2) while `t.tags[d] = "x"` may fault: only `t` is released.
        let line = line_of(
            "struct Box { string label, [string] tags, }
             fn f(Box b, int d) -> int { let t = b; t.tags[d] = \"x\"; return len(t.tags); }
             live { println(f(new Box { label: \"l\", tags: [\"a\"] }, 5 - live_retries())); }",
            "array_set_rc",
        );
        assert!(line.ends_with("releases (r2)"), "{line}");
    }
}
