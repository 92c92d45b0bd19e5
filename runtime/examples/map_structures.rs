//! Measures the data structure behind Keel's maps on a word-frequency count: the runtime's hash
//! table (`keel_map_*`) against `std::collections::BTreeMap` (an ordered tree) and `HashMap`.
//!
//! Run with `cargo run --release -p keel-runtime --example map_structures`. The workload is made
//! here, deterministically: a vocabulary of 50,000 words of 3 to 10 letters, and a text of about
//! 20 MB of them drawn from a Zipf distribution (the word of rank `r` with weight `1 / r`), by a
//! linear congruential generator. Every structure counts the words of the text as a Keel program
//! does, `counts = map_insert(counts, w, map_get_or(counts, w, 0) + 1)`: each word a new Keel
//! string (as `split` makes them), looked up, then inserted (the key kept when present, the new
//! one released). Then each visits its entries once in ascending key order and the top 10 words
//! are printed, with the best and the median time of a few runs of each step.
//!
//! What this example does not do: measure anything but string keys, or change the runtime.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use keel_runtime::desc::{FieldDesc, TypeDesc, INT_DESC, STRING_DESC};
use keel_runtime::layout::{ObjHeader, StrHeader};
use keel_runtime::object::{live_objects, release};
use keel_runtime::string::{as_bytes, new_string};
use keel_runtime::{
    keel_map_find, keel_map_insert, keel_map_key, keel_map_len, keel_map_new, keel_map_sort,
    keel_map_value,
};

/// `map<string, int>`: its entry type `(string, int)`, then the map type.
static ENTRY_FIELDS: [FieldDesc; 2] = [
    FieldDesc::new(b"0", &STRING_DESC),
    FieldDesc::new(b"1", &INT_DESC),
];
static ENTRY: TypeDesc = TypeDesc::structure(b"", &ENTRY_FIELDS);
static COUNTS: TypeDesc = TypeDesc::map(&ENTRY);

const VOCABULARY: usize = 50_000;
const TEXT_BYTES: usize = 20 << 20;
const RUNS: usize = 7;

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    /// The next 32 random bits (the high half of the state: the low bits of an LCG are weak).
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 32
    }

    /// A uniform number in `[0, 1)`.
    fn uniform(&mut self) -> f64 {
        ((self.next() << 21) ^ (self.next() >> 11)) as f64 / (1u64 << 53) as f64
    }
}

/// `VOCABULARY` distinct words of 3 to 10 lowercase letters, in rank order.
fn vocabulary(rng: &mut Lcg) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let len = 3 + rng.next() % 8;
        let word: String = (0..len)
            .map(|_| char::from(b'a' + (rng.next() % 26) as u8))
            .collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

/// About `TEXT_BYTES` of text: words of `vocabulary` drawn by Zipf's law, separated by spaces
/// and now and then a newline.
fn text(vocabulary: &[String], rng: &mut Lcg) -> String {
    let mut cumulative = Vec::with_capacity(vocabulary.len());
    let mut total = 0.0;
    for rank in 1..=vocabulary.len() {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    let mut text = String::with_capacity(TEXT_BYTES + 16);
    while text.len() < TEXT_BYTES {
        let x = rng.uniform() * total;
        let rank = cumulative
            .partition_point(|&c| c <= x)
            .min(vocabulary.len() - 1);
        text.push_str(&vocabulary[rank]);
        text.push(if rng.next().is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
    }
    text
}

/// A Keel string owned by a Rust collection: ordered, compared and hashed by its bytes, released
/// when dropped.
struct KeelStr(*mut StrHeader);

impl KeelStr {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the string is live while `self` owns it.
        unsafe { as_bytes(self.0) }
    }
}

impl Drop for KeelStr {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference of the string.
        unsafe { release(self.0.cast()) }
    }
}

impl PartialEq for KeelStr {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for KeelStr {}

impl PartialOrd for KeelStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeelStr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes().cmp(other.bytes())
    }
}

impl Hash for KeelStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

/// The result of one structure: the time to count, the time to visit the entries in key order,
/// and the counts in key order.
struct Outcome {
    count: Duration,
    visit: Duration,
    counts: Vec<(Vec<u8>, i64)>,
}

/// Counts `words` with the runtime's maps.
fn with_keel_map(words: &[&[u8]]) -> Outcome {
    // SAFETY: the map and strings are built and released through the runtime; every key and
    // value passed matches `COUNTS`.
    unsafe {
        let start = Instant::now();
        let mut m: *mut ObjHeader = keel_map_new(&COUNTS);
        for word in words {
            let w = new_string(word) as i64;
            let found = keel_map_find(m, w);
            let count = if found >= 0 {
                keel_map_value(m, found)
            } else {
                0
            };
            m = keel_map_insert(m, w, count + 1);
        }
        let count = start.elapsed();
        let start = Instant::now();
        keel_map_sort(m);
        let len = keel_map_len(m);
        let mut counts = Vec::with_capacity(len as usize);
        for i in 0..len {
            let key = keel_map_key(m, i);
            counts.push((key, keel_map_value(m, i)));
        }
        let visit = start.elapsed();
        let counts = counts
            .into_iter()
            .map(|(key, value)| {
                let bytes = as_bytes(key as *const StrHeader).to_vec();
                release(key as *mut ObjHeader);
                (bytes, value)
            })
            .collect();
        release(m);
        Outcome {
            count,
            visit,
            counts,
        }
    }
}

/// Counts `words` with a `BTreeMap`, looked up then inserted as with the runtime's maps.
fn with_btree_map(words: &[&[u8]]) -> Outcome {
    let start = Instant::now();
    let mut map: BTreeMap<KeelStr, i64> = BTreeMap::new();
    for word in words {
        let w = KeelStr(new_string(word));
        let count = map.get(&w).copied().unwrap_or(0);
        map.insert(w, count + 1);
    }
    let count = start.elapsed();
    let start = Instant::now();
    let visited: Vec<(&KeelStr, i64)> = map.iter().map(|(k, &v)| (k, v)).collect();
    let visit = start.elapsed();
    let counts = visited
        .into_iter()
        .map(|(k, v)| (k.bytes().to_vec(), v))
        .collect();
    Outcome {
        count,
        visit,
        counts,
    }
}

/// Counts `words` with a `HashMap` (std's SipHash), then sorts its entries by key to visit them.
fn with_hash_map(words: &[&[u8]]) -> Outcome {
    let start = Instant::now();
    let mut map: HashMap<KeelStr, i64> = HashMap::new();
    for word in words {
        let w = KeelStr(new_string(word));
        let count = map.get(&w).copied().unwrap_or(0);
        map.insert(w, count + 1);
    }
    let count = start.elapsed();
    let start = Instant::now();
    let mut visited: Vec<(&KeelStr, i64)> = map.iter().map(|(k, &v)| (k, v)).collect();
    visited.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let visit = start.elapsed();
    let counts = visited
        .into_iter()
        .map(|(k, v)| (k.bytes().to_vec(), v))
        .collect();
    Outcome {
        count,
        visit,
        counts,
    }
}

/// Makes and releases a Keel string per word: the part of every count that is not the map.
fn strings_only(words: &[&[u8]]) -> Duration {
    let start = Instant::now();
    for word in words {
        drop(KeelStr(new_string(word)));
    }
    start.elapsed()
}

/// The smallest and the median of `times`.
fn best_and_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort_unstable();
    (times[0], times[times.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut rng = Lcg(2024);
    let vocabulary = vocabulary(&mut rng);
    let text = text(&vocabulary, &mut rng);
    let words: Vec<&[u8]> = text.split_ascii_whitespace().map(str::as_bytes).collect();
    println!(
        "text: {} bytes, {} words, vocabulary {}",
        text.len(),
        words.len(),
        vocabulary.len()
    );

    let baseline = (0..RUNS).map(|_| strings_only(&words)).min().unwrap();
    println!(
        "making and releasing the {} strings alone: {:.1} ms",
        words.len(),
        ms(baseline)
    );

    type Counter = fn(&[&[u8]]) -> Outcome;
    let structures: [(&str, Counter); 3] = [
        ("keel map (hash table + sort)", with_keel_map),
        ("std BTreeMap", with_btree_map),
        ("std HashMap (SipHash) + sort", with_hash_map),
    ];
    // The runs take turns, so that a burst of load on a shared machine hits all alike.
    let mut counts: Vec<Vec<Duration>> = vec![Vec::new(); structures.len()];
    let mut visits: Vec<Vec<Duration>> = vec![Vec::new(); structures.len()];
    let mut reference: Option<Vec<(Vec<u8>, i64)>> = None;
    for _ in 0..RUNS {
        for (i, (name, counter)) in structures.iter().enumerate() {
            let outcome = counter(&words);
            counts[i].push(outcome.count);
            visits[i].push(outcome.visit);
            match &reference {
                None => reference = Some(outcome.counts),
                Some(expected) => assert!(*expected == outcome.counts, "{name} counted otherwise"),
            }
        }
    }
    let reference = reference.unwrap();
    let mut top: Vec<&(Vec<u8>, i64)> = reference.iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{} distinct words; the top 10:", reference.len());
    for (word, count) in top.into_iter().take(10) {
        println!("  {:>8}  {}", count, String::from_utf8_lossy(word));
    }
    println!("best (median) of {RUNS} runs:");
    for (i, (name, _)) in structures.iter().enumerate() {
        let (best, median) = best_and_median(&mut counts[i]);
        let (visit, _) = best_and_median(&mut visits[i]);
        let per_word = |d: Duration| d.as_nanos() as f64 / words.len() as f64;
        println!(
            "{name:<30} count {:>7.1} ms ({:>7.1}): {:>5.1} ns/word, {:>5.1} without the strings; in order {:>5.2} ms",
            ms(best),
            ms(median),
            per_word(best),
            per_word(best.saturating_sub(baseline)),
            ms(visit),
        );
    }
    assert_eq!(live_objects(), 0, "the example leaks");
}
