//! `--time-passes`: how long each phase of one compile took, for finding what is slow.
//!
//! [`time`] runs a phase and, when timing is on ([`enable`]), adds its wall-clock time to the
//! phase's total. A phase timed inside another counts for itself only: the outer one gets its
//! own time less the inner ones' (on the same thread), so the totals add up to the compile.
//! [`report`] renders the totals, in the order the phases first ran, as a table for standard
//! error. Timing is off unless asked for, and then costs one relaxed load per phase.
//!
//! What this module does not do: time work on other threads separately (a phase that runs
//! workers is timed as a whole, on the thread that waits for them).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Each phase's name and total time, in the order of first use.
static TOTALS: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

thread_local! {
    /// The time of the phases timed inside the one running on this thread.
    static INNER: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Turns timing on for the rest of the process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Runs `phase`, adding its time (less that of the phases timed inside it) to `name`'s total.
pub fn time<T>(name: &'static str, phase: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return phase();
    }
    let enclosing = INNER.with(|inner| inner.replace(Duration::ZERO));
    let start = Instant::now();
    let value = phase();
    let elapsed = start.elapsed();
    let inner = INNER.with(|inner| inner.replace(enclosing + elapsed));
    let own = elapsed.saturating_sub(inner);
    let mut totals = TOTALS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match totals.iter_mut().find(|(phase, _)| *phase == name) {
        Some((_, total)) => *total += own,
        None => totals.push((name, own)),
    }
    value
}

/// The totals as a table (phase, seconds, share of the sum), or `None` when timing is off or
/// nothing was timed since the last report. The totals start again from zero.
pub fn report() -> Option<String> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let totals = std::mem::take(
        &mut *TOTALS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    if totals.is_empty() {
        return None;
    }
    let sum: Duration = totals.iter().map(|(_, total)| *total).sum();
    let width = (totals.iter().map(|(name, _)| name.len()))
        .chain(["phase".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!("{:<width$}  {:>9}  {:>6}\n", "phase", "seconds", "share");
    for (name, total) in totals.iter().chain([&("total", sum)]) {
        let share = if sum.is_zero() {
            0.0
        } else {
            100.0 * total.as_secs_f64() / sum.as_secs_f64()
        };
        text += &format!(
            "{name:<width$}  {:>9.4}  {share:>5.1}%\n",
            total.as_secs_f64()
        );
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_phases_count_once() {
        enable();
        time("outer-test", || {
            std::thread::sleep(Duration::from_millis(5));
            time("inner-test", || {
                std::thread::sleep(Duration::from_millis(60))
            });
        });
        let totals = TOTALS.lock().unwrap().clone();
        let of = |name| totals.iter().find(|(n, _)| *n == name).unwrap().1;
        assert!(of("inner-test") >= Duration::from_millis(60));
        let outer = of("outer-test");
        assert!(outer >= Duration::from_millis(5), "{outer:?}");
        assert!(
            outer < Duration::from_millis(60),
            "the inner phase counted twice: {outer:?}"
        );
        let report = report().unwrap();
        assert!(
            report.contains("outer-test") && report.contains("total"),
            "{report}"
        );
    }
}
