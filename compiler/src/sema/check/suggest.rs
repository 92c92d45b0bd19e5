//! "Did you mean `count`?": the known name closest to a misspelt one.
//!
//! A name is suggested when it is within a small edit distance of the one written (optimal
//! string alignment: insertions, deletions, substitutions and swaps of two neighbours), at most
//! a third of the written name's length (at least 1; none for names of one or two characters,
//! where any other short name would be as close), or differs from it in case only. Among
//! several, the closest wins, then the first in alphabetical order, so the suggestion does not
//! depend on the order names were declared in. Hidden names (those the checker makes, with `%`)
//! and internal builtins (`__...`) are never suggested.
//!
//! What this module does not do: know which names are in scope (callers pass them).

/// The candidate closest to `written`, if one is close enough (see the module documentation).
pub(super) fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = written.chars().count();
    let limit = if length < 3 { 0 } else { (length / 3).max(1) };
    candidates
        .into_iter()
        .filter(|c| *c != written && !c.starts_with('%') && !c.starts_with("__"))
        .filter_map(|c| {
            let distance = if c.eq_ignore_ascii_case(written) {
                0
            } else {
                strsim::osa_distance(written, c)
            };
            (distance <= limit).then_some((distance, c))
        })
        .min()
        .map(|(_, c)| c)
}

/// The note of a diagnostic about `written`, when a candidate is close: "did you mean `x`?".
pub(super) fn did_you_mean<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(written, candidates).map(|name| format!("did you mean `{name}`?"))
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let names = [
            "count",
            "counter",
            "total",
            "Point",
            "__map_new",
            "%receiver1",
        ];
        assert_eq!(closest("cout", names), Some("count"));
        assert_eq!(closest("conut", names), Some("count"));
        assert_eq!(closest("point", names), Some("Point"));
        assert_eq!(closest("totl", names), Some("total"));
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("map_new", names), None);
        assert_eq!(closest("receiver1", names), None);
        assert_eq!(closest("z", ["x", "y"]), None);
        assert_eq!(closest("X", ["x", "y"]), Some("x"));
        // Ties go to the first in alphabetical order.
        assert_eq!(closest("abc", ["abd", "abb"]), Some("abb"));
    }
}
