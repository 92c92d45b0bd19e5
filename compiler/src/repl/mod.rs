//! `keel repl`: an interactive session on the JIT (or the VM with `--vm`).
//!
//! Entries are read with line editing and history (`rustyline`; the history file is
//! `$XDG_DATA_HOME/keel/history`, else `~/.local/share/keel/history`). An entry continues on the
//! next line while a bracket is open ([`input`]). Definitions and top-level `let` variables
//! persist from entry to entry ([`session`]); an entry ending in an expression without `;` prints
//! its value and type (`3 : int`). Each entry runs in a copy of the session ([`isolate`]), so a
//! compile error, a fault or Ctrl-C prints its message and the session goes on as it was;
//! the program's `exit(n)` ends the session with status `n`, as does Ctrl-D (status 0).
//!
//! When standard input is not a terminal the session reads it as a script: no banner, no prompts
//! and no history, the same results, so a session can be tested end to end.
//!
//! What this module does not do: compile (see `session`) or keep anything between sessions but
//! the history.

mod input;
mod isolate;
mod session;

use std::io::IsTerminal;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;

pub use session::Backend;
use session::Session;

use crate::{ir, sema, vm};

const HELP: &str = "\
Enter Keel statements, definitions and expressions. An entry continues on the next line while a
bracket is open; an entry ending in an expression without `;` prints its value and type.

  :type EXPR      the type of EXPR, without running it
  :ir [ENTRY]     the IR of ENTRY (default: the last entry)
  :bytecode [ENTRY]
                  the VM bytecode of ENTRY (default: the last entry)
  :help           this text
  :quit           end the session (also Ctrl-D)

Ctrl-C stops a running entry (or clears the line being typed).
";

/// Runs a session until it ends; returns its exit status.
pub fn run(backend: Backend, options: sema::Options) -> i32 {
    isolate::supervise(|| session_loop(backend, options))
}

/// What a line starting with `:` asks for.
enum Command<'a> {
    Type(&'a str),
    Ir(&'a str),
    Bytecode(&'a str),
    Help,
    Quit,
    Unknown(&'a str),
}

fn parse_command(line: &str) -> Command<'_> {
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match name {
        "type" | "t" => Command::Type(rest),
        "ir" => Command::Ir(rest),
        "bytecode" => Command::Bytecode(rest),
        "help" | "h" | "?" => Command::Help,
        "quit" | "q" | "exit" => Command::Quit,
        _ => Command::Unknown(name),
    }
}

fn session_loop(backend: Backend, options: sema::Options) {
    let interactive = std::io::stdin().is_terminal();
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    let Ok(mut editor) = Editor::<(), FileHistory>::new() else {
        eprintln!("error: cannot set up the terminal for the REPL");
        isolate::end_session(1);
    };
    let history = interactive.then(history_path).flatten();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    if interactive {
        let on = match backend {
            Backend::Jit => "JIT",
            Backend::Vm => "VM",
        };
        println!(
            "Keel {} REPL on the {on}. :help for help, Ctrl-D to quit.",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut session = Session::new(backend, options);
    while let Some(text) = read_entry(&mut editor, interactive) {
        if input::is_blank(&text) {
            continue;
        }
        if let Some(path) = &history {
            let _ = editor.add_history_entry(text.trim_end());
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.save_history(path);
        }
        match text.trim().strip_prefix(':') {
            Some(command) => match parse_command(command) {
                Command::Quit => break,
                Command::Help => print!("{HELP}"),
                Command::Type(expr) => show_type(&mut session, expr, color),
                Command::Ir(entry) => show_code(&mut session, entry, color, |program| {
                    ir::print::program_to_string(program)
                }),
                Command::Bytecode(entry) => show_code(&mut session, entry, color, |program| {
                    vm::disassemble(&vm::compile(program))
                }),
                Command::Unknown(name) => {
                    eprintln!("error: unknown command `:{name}` (:help lists the commands)")
                }
            },
            None => run_entry(&mut session, &text, color),
        }
    }
}

/// Reads one entry: a line, and more lines while a bracket is open. `None` at the end of input.
fn read_entry(editor: &mut Editor<(), FileHistory>, interactive: bool) -> Option<String> {
    let mut text = String::new();
    loop {
        let prompt = match (interactive, text.is_empty()) {
            (false, _) => "",
            (true, true) => "keel> ",
            (true, false) => "  ... ",
        };
        match editor.readline(prompt) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if text.trim_start().starts_with(':') || !input::is_incomplete(&text) {
                    return Some(text);
                }
            }
            // Ctrl-C at the prompt drops what was typed.
            Err(ReadlineError::Interrupted) => return Some(String::new()),
            Err(ReadlineError::Eof) if !text.is_empty() => return Some(text),
            Err(_) => return None,
        }
    }
}

/// Compiles and runs an entry, printing its value if it shows one.
fn run_entry(session: &mut Session, text: &str, color: bool) {
    let entry = match session.prepare(text, color) {
        Ok(entry) => entry,
        Err(rendered) => {
            eprint!("{rendered}");
            return;
        }
    };
    eprint!("{}", entry.warnings);
    session.last_program = Some(entry.program.clone());
    if !entry.runs {
        print_notes(&session.commit(entry, None));
        return;
    }
    let code = match session.compile(&entry.program) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            return;
        }
    };
    match isolate::run_entry(|| code.run()) {
        Ok(()) => {
            if let (Some(ty), Some(text)) = (&entry.shows, session.take_shown()) {
                println!("{text} : {ty}");
            }
            print_notes(&session.commit(entry, Some(code)));
        }
        Err(isolate::Failed::Faulted) => {}
        Err(isolate::Failed::Interrupted) => eprintln!("interrupted"),
        Err(isolate::Failed::Killed(signal)) => {
            eprintln!("error: the entry was killed by signal {signal}")
        }
        Err(isolate::Failed::Exited(status)) => isolate::end_session(status),
    }
}

/// `:type EXPR`: the expression's type, from compiling it (nothing runs).
fn show_type(session: &mut Session, expr: &str, color: bool) {
    if expr.is_empty() {
        eprintln!("error: `:type` needs an expression, e.g. `:type 1 + 2`");
        return;
    }
    match session.prepare(expr, color) {
        Ok(entry) if entry.is_expression => {
            println!("{}", entry.shows.as_deref().unwrap_or("void"))
        }
        Ok(_) => eprintln!("error: `:type` needs an expression, without `;`"),
        Err(rendered) => eprint!("{rendered}"),
    }
}

/// `:ir` and `:bytecode`: the code of an entry (compiled, not run), or of the last one.
fn show_code(
    session: &mut Session,
    entry: &str,
    color: bool,
    render: impl Fn(&ir::Program) -> String,
) {
    if !entry.is_empty() {
        match session.prepare(entry, color) {
            Ok(entry) => print!("{}", render(&entry.program)),
            Err(rendered) => eprint!("{rendered}"),
        }
        return;
    }
    match &session.last_program {
        Some(program) => print!("{}", render(program)),
        None => eprintln!("error: no entry has been run yet"),
    }
}

fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("note: {note}");
    }
}

/// Where the history is kept: `$XDG_DATA_HOME/keel/history`, else
/// `$HOME/.local/share/keel/history`.
fn history_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("keel").join("history"))
}
