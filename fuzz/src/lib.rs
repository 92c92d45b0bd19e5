//! What Keel's fuzz targets share: turning an input into source text, checking spans, running
//! the front end on a stack like the compiler's (one thread kept for every input), and running a
//! compiled program in a child process on a fuel budget.
//!
//! The targets themselves (`fuzz_targets/`) are small: each states the properties it checks.
//! See docs/fuzzing.md for how to run them and what to do with what they find.
//!
//! What this crate does not do: decide what a program should print (the program suite and the
//! differential tests do); the targets look for panics, failed invariants and crashes.

use std::sync::{mpsc, Mutex, OnceLock};

use keel::diag::{Diagnostic, Span};

pub mod child;

/// The source text of an input: its bytes as UTF-8, each invalid sequence replaced by U+FFFD
/// (as `keel` shows a file that is not UTF-8), so that byte-level mutations stay useful.
pub fn source_text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Panics unless `span` is a valid range of `text`: ordered, within it, and on character
/// boundaries at both ends. `what` says whose span it is.
pub fn check_span(text: &str, span: Span, what: &dyn std::fmt::Debug) {
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(
        start <= end && end <= text.len(),
        "span {start}..{end} outside the {}-byte input: {what:?}",
        text.len()
    );
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "span {start}..{end} splits a character: {what:?}"
    );
}

/// Panics unless every span of every diagnostic (primary and secondary) is valid in `text`.
pub fn check_diagnostic_spans(text: &str, diags: &[Diagnostic]) {
    for diag in diags {
        check_span(text, diag.span, diag);
        for (span, _) in &diag.secondary {
            check_span(text, *span, diag);
        }
    }
}

/// The stack the front end gets in `keel` (`sema::compile` runs on a thread this large): trees
/// as deep as the parser allows are built, walked and dropped recursively.
pub const FRONT_END_STACK: usize = keel::sema::FRONT_END_STACK;

/// Work for the front-end thread.
type Job = Box<dyn FnOnce() + Send>;

/// Runs `body` on `data` on a thread with [`FRONT_END_STACK`] bytes of stack, as `keel` runs its
/// front end, and returns its result.
///
/// The thread is made once and kept for every input, not made per input as `sema::compile` makes
/// one per compilation: a fresh thread costs a fresh stack (every page of it faulted in again as
/// deep inputs recurse) and, under AddressSanitizer, a fresh fake stack; that cost dominated the
/// parser target. So targets call `sema::compile_on_this_thread` from here.
///
/// A panic in `body` normally ends the process at once (libFuzzer's panic hook aborts), which is
/// how the fuzzer sees it; without that hook it is resumed on the calling thread.
pub fn on_front_end_stack<T: Send + 'static>(body: fn(&[u8]) -> T, data: &[u8]) -> T {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("fuzz-front-end".into())
            .stack_size(FRONT_END_STACK)
            .spawn(move || receiver.into_iter().for_each(|job| job()))
            .expect("spawn the front-end thread");
        Mutex::new(sender)
    });
    let (done, result) = mpsc::sync_channel(1);
    let data = data.to_vec();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(|| body(&data)));
    });
    jobs.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .expect("the front-end thread is gone");
    match result.recv() {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the front-end thread ended without an answer"),
    }
}

/// A number from the environment variable `name`, or `default` when it is unset or not a number.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}
