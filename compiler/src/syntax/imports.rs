//! A program of several files as the checker sees it: one tree.
//!
//! Finding and reading the files a program imports is I/O, done by the driver
//! (`driver::loader`), which parses each file once at its place in the program's span space
//! (`diag::SourceMap`). What is left is pure and here: [`join`] makes one [`File`] of the parsed
//! files, the items of all of them and the top-level statements of the main file only (a
//! statement in an imported file is `E0603`, once per file); [`refuse_uses`] reports the `use`s
//! of a program compiled from text alone, which has no directory to import from (`E0605`).

use super::ast::{File, Item, StmtKind};
use crate::diag::Diagnostic;

/// One file made of a program's parsed files, the main file first and the others in the order
/// they were loaded: every item of every file, and the main file's top-level statements in
/// their place among its items. The `use`s are left out: the loader has followed them.
pub fn join(files: Vec<File>, diags: &mut Vec<Diagnostic>) -> File {
    let mut files = files.into_iter();
    let mut program = File {
        items: files.next().map(|main| main.items).unwrap_or_default(),
        uses: Vec::new(),
    };
    for file in files {
        let mut reported = false;
        for item in file.items {
            match item {
                // A statement that did not parse is reported already.
                Item::Stmt(stmt) if matches!(stmt.kind, StmtKind::Error) => {}
                Item::Stmt(stmt) => {
                    if !reported {
                        reported = true;
                        diags.push(
                            Diagnostic::new(
                                "E0603",
                                stmt.span,
                                "a statement at the top level of an imported file",
                            )
                            .label("only the main file's top-level statements run")
                            .note(
                                "an imported file holds items only (`fn`, `struct`, `enum`, \
                                 `type`, `impl`, `trait`, `const`, `use`): move the statement \
                                 into a function, or into the main file",
                            ),
                        );
                    }
                }
                item => program.items.push(item),
            }
        }
    }
    program
}

/// Reports every `use` of `file`, a program given as text rather than as a file on disk: there
/// is no directory its paths could be relative to.
pub fn refuse_uses(file: &File, diags: &mut Vec<Diagnostic>) {
    for decl in &file.uses {
        diags.push(
            Diagnostic::new(
                "E0605",
                decl.span,
                format!(
                    "cannot import `{}`: this program was given as text, not as a file on disk",
                    decl.path
                ),
            )
            .label("imports need a file on disk")
            .note("`keel run`, `build`, `check` and `emit` follow imports, relative to the importing file"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_source_at;

    fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.code).collect()
    }

    #[test]
    fn items_of_every_file_and_statements_of_the_main_one() {
        let mut diags = Vec::new();
        let main = parse_source_at("use \"a.kl\";\nfn f() {}\nf();\n", 0, &mut diags);
        assert_eq!(main.uses.len(), 1);
        assert_eq!(main.uses[0].path, "a.kl");
        assert_eq!(main.uses[0].span.range(), 4..10);
        let lib = parse_source_at("fn g() {}\nprintln(1);\nprintln(2);\n", 100, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let joined = join(vec![main, lib], &mut diags);
        let kinds: Vec<&str> = (joined.items.iter())
            .map(|item| match item {
                Item::Fn(decl) => decl.name.name.as_str(),
                Item::Stmt(_) => "stmt",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["f", "stmt", "g"]);
        // One diagnostic for the imported file's statements, at the first, in its place.
        assert_eq!(codes(&diags), ["E0603"]);
        assert_eq!(diags[0].span.range(), 110..121);
    }

    #[test]
    fn uses_of_a_text_are_refused() {
        let mut diags = Vec::new();
        let file = parse_source_at("use \"a.kl\";\nuse \"b.rz\";\n", 0, &mut diags);
        refuse_uses(&file, &mut diags);
        assert_eq!(codes(&diags), ["E0605", "E0605"]);
        assert!(diags[1].message.contains("`b.rz`"), "{}", diags[1].message);
    }

    #[test]
    fn malformed_uses() {
        let cases: [(&str, &[&str], usize); 6] = [
            ("use lib;", &["E0604"], 0),
            ("use 1;", &["E0604"], 0),
            // Without its `;`, the declaration stands.
            ("use \"a.kl\"", &["E0201"], 1),
            ("use \"a\\q.kl\";", &["E0103"], 0),
            ("use \"a.kl;\n", &["E0102"], 0),
            ("fn f() { use \"a.kl\"; }", &["E0604"], 0),
        ];
        for (text, expected, uses) in cases {
            let mut diags = Vec::new();
            let file = parse_source_at(text, 7, &mut diags);
            assert_eq!(codes(&diags), expected, "{text}");
            assert_eq!(file.uses.len(), uses, "{text}");
            // Spans are in the program's span space, after the base.
            assert!(diags.iter().all(|d| d.span.start >= 7), "{text}: {diags:?}");
        }
    }
}
