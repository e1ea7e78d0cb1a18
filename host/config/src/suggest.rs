//! "Did you mean" for unknown keys and names.

/// The closest candidate within a small edit distance, if any.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = match word.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("priorty", "priority"), 1);
        assert_eq!(distance("prority", "priority"), 1);
        assert_eq!(distance("priroity", "priority"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("vrid", "vrid"), 0);
    }

    #[test]
    fn suggests_only_close_words() {
        let keys = ["priority", "preempt", "preempt_delay", "vrid", "vips"];
        assert_eq!(closest("priorty", &keys), Some("priority"));
        assert_eq!(closest("PRIORITY", &keys), Some("priority"));
        assert_eq!(closest("vip", &keys), Some("vips"));
        assert_eq!(closest("preemt", &keys), Some("preempt"));
        assert_eq!(closest("nothing_like_it", &keys), None);
    }
}
