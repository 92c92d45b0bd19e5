//! Loading a program from disk: its main file and every file it imports, each read and parsed
//! once.
//!
//! A file is parsed as soon as it is read, at its place in the program's span space
//! ([`SourceMap`]: the main file at 0, the others after it in the order they are first
//! reached), which gives its `use` declarations; those are followed depth first, in source
//! order. A path in a `use` is relative to the directory of the file it is in, joined lexically
//! (`lib/../words.kl` is `words.kl`), and that joined path is also the file's name in
//! diagnostics and fault sites (`examples/lib/words.kl` for `use "lib/words.kl";` in
//! `examples/main.kl`). Files are told apart by their canonical path, so one reached twice (a
//! diamond, or two spellings of one path) is loaded once; reaching a file that is still being
//! loaded, one of the chain of files importing the current one, is a cycle (`E0602`).
//!
//! When an imported file cannot be loaded (`E0601`, `E0606`, `E0002`), the program is not
//! checked: every name the file would have given would be reported as unknown, each a
//! consequence of the one mistake. A cycle loses nothing (its file is loaded already), and a
//! program with one is checked.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, SourceFile, SourceMap, Span};
use crate::sema;
use crate::syntax::{self, ast};

use super::SOURCE_EXTENSIONS;

/// A program read from disk and parsed.
pub struct Loaded {
    pub sources: SourceMap,
    /// Every file's parsed tree, by its index in `sources`.
    files: Vec<ast::File>,
    /// What reading and parsing reported.
    pub diags: Vec<Diagnostic>,
    /// Every imported file could be read, so the program can be checked.
    complete: bool,
}

/// Why a program's main file could not be loaded (an imported file's problems are
/// diagnostics at its `use`).
pub enum LoadError {
    /// It could not be read at all.
    Io(String),
    /// It is not UTF-8: the lossily decoded text, for the snippet, and the diagnostic.
    NotUtf8(Box<(SourceFile, Diagnostic)>),
}

/// Reads the program whose main file is `path`, and every file it imports.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    crate::timing::time("read and parse", || load_untimed(path))
}

fn load_untimed(path: &Path) -> Result<Loaded, LoadError> {
    let main = read_source(path)?;
    let mut diags = Vec::new();
    let tree = syntax::parse_source_at(&main.text, 0, &mut diags);
    let mut loader = Loader {
        loaded: Loaded {
            sources: SourceMap::new(main),
            files: vec![tree],
            diags,
            complete: true,
        },
        first: 0,
        paths: vec![path.to_path_buf()],
        by_identity: HashMap::from([(identity(path), 0)]),
    };
    loader.follow_uses();
    Ok(loader.loaded)
}

/// What [`load_imports`] read: the trees of the files imported (in the order they were
/// reached), and whether every one could be read.
pub struct Imports {
    pub files: Vec<ast::File>,
    pub complete: bool,
}

/// Reads the files that `main`, the tree of file `index` of `sources` (a REPL entry, which is
/// not on disk), imports, and the files they import, each once: paths in `main` are relative
/// to the current directory. The files join `sources`; `main` is given back (its tree first in
/// the loader's order), and what went wrong is appended to `diags`.
pub fn load_imports(
    sources: &mut SourceMap,
    index: usize,
    main: ast::File,
    diags: &mut Vec<Diagnostic>,
) -> (ast::File, Imports) {
    let placeholder = SourceMap::new(SourceFile::new("", ""));
    let mut loader = Loader {
        loaded: Loaded {
            sources: std::mem::replace(sources, placeholder),
            files: vec![main],
            diags: std::mem::take(diags),
            complete: true,
        },
        first: index,
        // A name without a directory: its imports are relative to the current one.
        paths: vec![PathBuf::from("entry")],
        by_identity: HashMap::new(),
    };
    loader.follow_uses();
    let Loaded {
        sources: loaded_sources,
        mut files,
        diags: loaded_diags,
        complete,
    } = loader.loaded;
    *sources = loaded_sources;
    *diags = loaded_diags;
    let main = files.remove(0);
    (main, Imports { files, complete })
}

impl Loaded {
    /// The rest of the front end (on the calling thread, which needs `sema::FRONT_END_STACK`):
    /// the IR, or every diagnostic in source order, with the files they point into.
    pub fn compile(
        self,
        options: sema::Options,
    ) -> (SourceMap, Result<sema::Compiled, Vec<Diagnostic>>) {
        let (sources, checked) = self.check();
        let compiled = checked.map(|checked| checked.lower(&sources, options));
        (sources, compiled)
    }

    /// [`Loaded::compile`] up to the typed program and its warnings (for `keel check`, which
    /// needs no IR).
    pub fn check(self) -> (SourceMap, Result<sema::Checked, Vec<Diagnostic>>) {
        let Loaded {
            sources,
            files,
            mut diags,
            complete,
        } = self;
        let program = syntax::imports::join(files, &mut diags);
        let checked = if complete {
            sema::check_full(&sources, program, diags, None)
        } else {
            drop(program);
            diags.sort_by_key(|d| (d.span.start, d.span.end));
            Err(diags)
        };
        (sources, checked)
    }
}

struct Loader {
    loaded: Loaded,
    /// The index in `loaded.sources` of the first file this loader reads (or was given):
    /// `loaded.files[i]` and `paths[i]` are of the file of index `first + i`.
    first: usize,
    /// The path each file was read from (the main file's as given), by index from `first`.
    paths: Vec<PathBuf>,
    /// The index of each file read, by [`identity`].
    by_identity: HashMap<PathBuf, usize>,
}

/// What became of one `use`.
enum Reached {
    /// A file read for the first time: its own `use`s are followed next.
    New(usize),
    /// A file read before.
    Again(usize),
    /// Nothing to follow (reported).
    Failed,
}

impl Loader {
    /// Follows every `use`, depth first from the main file, keeping the chain of files being
    /// loaded (each with the number of its `use`s followed so far) to find cycles.
    fn follow_uses(&mut self) {
        let mut chain: Vec<(usize, usize)> = vec![(self.first, 0)];
        while let Some((file, next)) = chain.last_mut() {
            let file = *file;
            let Some(decl) = self.loaded.files[file - self.first]
                .uses
                .get(*next)
                .cloned()
            else {
                chain.pop();
                continue;
            };
            *next += 1;
            match self.reach(file, &decl) {
                Reached::New(index) => chain.push((index, 0)),
                Reached::Again(index) => {
                    if let Some(at) = chain.iter().position(|&(open, _)| open == index) {
                        let names: Vec<&str> = (chain[at..].iter().map(|&(open, _)| open))
                            .chain([index])
                            .map(|open| self.loaded.sources.get(open).file.name.as_str())
                            .collect();
                        let diag = cycle(&decl, &names.join(" -> "));
                        self.loaded.diags.push(diag);
                    }
                }
                Reached::Failed => {}
            }
        }
    }

    /// Reads the file `decl` (a `use` of file `from`) names, unless it was read before.
    fn reach(&mut self, from: usize, decl: &ast::Use) -> Reached {
        let written = Path::new(&decl.path);
        if !written
            .extension()
            .is_some_and(|ext| SOURCE_EXTENSIONS.iter().any(|source| ext == *source))
        {
            return self.fail(
                Diagnostic::new(
                    "E0606",
                    decl.span,
                    format!("cannot import `{}`: not a Keel source file", decl.path),
                )
                .label("expected a path ending in `.kl` or `.rz`"),
            );
        }
        let path = lexical_join(&self.paths[from - self.first], written);
        let name = path.display().to_string();
        let cannot_read = |reason: String| {
            Diagnostic::new(
                "E0601",
                decl.span,
                format!("cannot read `{name}`: {reason}"),
            )
            .label("imported here")
            .note("a path in `use` is relative to the directory of the file it is in")
        };
        let key = match std::fs::canonicalize(&path) {
            Ok(key) => key,
            Err(error) => return self.fail(cannot_read(super::io_reason(&error))),
        };
        if let Some(&index) = self.by_identity.get(&key) {
            return Reached::Again(index);
        }
        let (file, not_utf8) = match std::fs::read(&path) {
            Err(error) => return self.fail(cannot_read(super::io_reason(&error))),
            Ok(bytes) => match decode(name.clone(), bytes) {
                Ok(file) => (file, None),
                Err(bad) => {
                    let (file, diag) = *bad;
                    (file, Some(diag))
                }
            },
        };
        let Ok(placed) = self.loaded.sources.add(file) else {
            return self.fail(cannot_read(
                "the program's files would be larger than 4 GiB together".into(),
            ));
        };
        let (index, base) = (placed.index, placed.base);
        self.paths.push(path);
        self.by_identity.insert(key, index);
        if let Some(mut diag) = not_utf8 {
            diag.shift(base);
            self.loaded.files.push(ast::File::default());
            return self.fail(diag);
        }
        let text = &self.loaded.sources.get(index).file.text;
        let tree = syntax::parse_source_at(text, base, &mut self.loaded.diags);
        self.loaded.files.push(tree);
        Reached::New(index)
    }

    /// Reports `diag`, a file that cannot be loaded: the program will not be checked.
    fn fail(&mut self, diag: Diagnostic) -> Reached {
        self.loaded.diags.push(diag);
        self.loaded.complete = false;
        Reached::Failed
    }
}

/// `E0602`: `decl` imports a file of the chain of files importing it, `chain` (`a -> b -> a`).
fn cycle(decl: &ast::Use, chain: &str) -> Diagnostic {
    Diagnostic::new("E0602", decl.span, format!("import cycle: {chain}"))
        .label("this `use` closes the cycle")
        .note("a file cannot import itself, directly or through the files it imports")
}

/// What tells files apart: the canonical path (symbolic links and `..` resolved), or the path
/// as given if it has none.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `relative` from the directory of `importer`, with `.` left out and `dir/..` folded away
/// (lexically: a `..` after a symbolic link goes back to where the path came from, as a reader
/// of the path expects). An absolute `relative` is itself.
fn lexical_join(importer: &Path, relative: &Path) -> PathBuf {
    let joined = importer.parent().unwrap_or(Path::new("")).join(relative);
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// Reads a main file: its text, named as given.
pub fn read_source(path: &Path) -> Result<SourceFile, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| {
        LoadError::Io(format!(
            "cannot read `{}`: {}",
            path.display(),
            super::io_reason(&e)
        ))
    })?;
    decode(path.display().to_string(), bytes).map_err(LoadError::NotUtf8)
}

/// A file's bytes as its text; if they are not UTF-8, the text decoded lossily (for the snippet)
/// and the diagnostic, at the first invalid byte.
pub(super) fn decode(
    name: String,
    bytes: Vec<u8>,
) -> Result<SourceFile, Box<(SourceFile, Diagnostic)>> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let diag = Diagnostic::new(
                "E0002",
                Span::new(offset, offset + 1),
                "source file is not valid UTF-8",
            )
            .label("invalid bytes start here")
            .note("Keel source files must be UTF-8");
            Err(Box::new((SourceFile::new(name, text), diag)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Sources;

    /// Writes `files` (path, text) into a new directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn names(loaded: &Loaded, dir: &Path) -> Vec<String> {
        let prefix = format!("{}/", dir.display());
        (0..loaded.sources.len())
            .map(|i| loaded.sources.get(i).file.name.replace(&prefix, ""))
            .collect()
    }

    fn messages(loaded: &Loaded, dir: &Path) -> Vec<String> {
        let prefix = format!("{}/", dir.display());
        (loaded.diags.iter())
            .map(|d| {
                let at = loaded.sources.locate(d.span.start).to_string();
                format!("{} {}: {}", d.code, at, d.message).replace(&prefix, "")
            })
            .collect()
    }

    fn load_main(dir: &tempfile::TempDir) -> Loaded {
        load(&dir.path().join("main.kl"))
            .ok()
            .expect("the main file loads")
    }

    #[test]
    fn a_diamond_loads_each_file_once_depth_first() {
        let dir = tree(&[
            ("main.kl", "use \"lib/a.kl\";\nuse \"lib/b.kl\";\n"),
            ("lib/a.kl", "use \"c.kl\";\n"),
            ("lib/b.kl", "use \"./c.kl\";\nuse \"../lib/c.kl\";\n"),
            ("lib/c.kl", "fn c() {}\n"),
        ]);
        let loaded = load_main(&dir);
        assert_eq!(messages(&loaded, dir.path()), Vec::<String>::new());
        assert_eq!(
            names(&loaded, dir.path()),
            ["main.kl", "lib/a.kl", "lib/c.kl", "lib/b.kl"]
        );
        assert!(loaded.complete);
    }

    #[test]
    fn cycles_are_named_at_the_use_closing_them() {
        let dir = tree(&[
            ("main.kl", "use \"a.kl\";\n"),
            ("a.kl", "use \"b.kl\";\n"),
            ("b.kl", "use \"a.kl\";\nuse \"main.kl\";\n"),
        ]);
        let loaded = load_main(&dir);
        assert_eq!(
            messages(&loaded, dir.path()),
            [
                "E0602 b.kl:1:5: import cycle: a.kl -> b.kl -> a.kl",
                "E0602 b.kl:2:5: import cycle: main.kl -> a.kl -> b.kl -> main.kl",
            ]
        );
        assert!(loaded.complete);
        let itself = tree(&[("main.kl", "use \"main.kl\";\n")]);
        assert_eq!(
            messages(&load_main(&itself), itself.path()),
            ["E0602 main.kl:1:5: import cycle: main.kl -> main.kl"]
        );
    }

    #[test]
    fn files_that_cannot_be_loaded_are_reported_at_their_use() {
        let dir = tree(&[
            (
                "main.kl",
                "use \"gone.kl\";\nuse \"lib\";\nuse \"notes.txt\";\nuse \"bad.rz\";\n",
            ),
            ("lib/x.kl", ""),
            ("bad.rz", "fn f() {}\n\u{0}"),
        ]);
        std::fs::write(dir.path().join("bad.rz"), b"fn f() {\xff}\n").unwrap();
        let loaded = load_main(&dir);
        assert_eq!(
            messages(&loaded, dir.path()),
            [
                "E0601 main.kl:1:5: cannot read `gone.kl`: no such file",
                "E0606 main.kl:2:5: cannot import `lib`: not a Keel source file",
                "E0606 main.kl:3:5: cannot import `notes.txt`: not a Keel source file",
                "E0002 bad.rz:1:9: source file is not valid UTF-8",
            ]
        );
        assert!(!loaded.complete);
        let dir = tree(&[("main.kl", "use \"lib.kl\";\n"), ("lib.kl/x", "")]);
        assert_eq!(
            messages(&load_main(&dir), dir.path()),
            ["E0601 main.kl:1:5: cannot read `lib.kl`: it is a directory"]
        );
    }

    #[test]
    fn paths_join_lexically() {
        let join = |importer: &str, relative: &str| {
            lexical_join(Path::new(importer), Path::new(relative))
                .display()
                .to_string()
        };
        assert_eq!(join("main.kl", "lib/a.kl"), "lib/a.kl");
        assert_eq!(
            join("examples/main.kl", "lib/words.kl"),
            "examples/lib/words.kl"
        );
        assert_eq!(join("./examples/lib/a.kl", "../b.kl"), "examples/b.kl");
        assert_eq!(join("main.kl", "../up.kl"), "../up.kl");
        assert_eq!(join("../x/main.kl", "../../y.kl"), "../../y.kl");
        assert_eq!(join("/src/main.kl", "../../a.kl"), "/a.kl");
        assert_eq!(join("examples/main.kl", "/abs/a.kl"), "/abs/a.kl");
    }
}
