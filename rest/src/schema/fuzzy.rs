//! The "Perhaps you meant" suggestion of PGRST200/202/205. PostgREST uses the `fuzzyset`
//! library: trigram cosine similarity, rescored by Levenshtein distance, at least 0.33. The
//! same idea here, written by hand because it is thirty lines and no crate matches the
//! library's scores.

use std::collections::HashMap;

/// The lowest score PostgREST's fuzzy set accepts.
const MIN_SCORE: f64 = 0.33;

fn grams(s: &str) -> HashMap<String, usize> {
    let padded: Vec<char> = format!("-{}-", s.to_lowercase()).chars().collect();
    let mut counts = HashMap::new();
    for size in 2..=3 {
        for w in padded.windows(size) {
            *counts.entry(w.iter().collect::<String>()).or_insert(0) += 1;
        }
    }
    counts
}

fn cosine(a: &HashMap<String, usize>, b: &HashMap<String, usize>) -> f64 {
    let dot: usize = a
        .iter()
        .map(|(g, n)| n * b.get(g).copied().unwrap_or(0))
        .sum();
    let norm =
        |m: &HashMap<String, usize>| (m.values().map(|n| n * n).sum::<usize>() as f64).sqrt();
    let d = norm(a) * norm(b);
    if d == 0.0 { 0.0 } else { dot as f64 / d }
}

/// Edits (insert, delete, substitute) from `a` to `b`.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The candidate most like `name`, if any is like it enough.
pub fn best<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let target = grams(name);
    candidates
        .filter(|c| cosine(&target, &grams(c)) > 0.0)
        .map(|c| {
            let longest = name.chars().count().max(c.chars().count()).max(1);
            let score =
                1.0 - levenshtein(&name.to_lowercase(), &c.to_lowercase()) as f64 / longest as f64;
            (score, c)
        })
        .filter(|(score, _)| *score >= MIN_SCORE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::best;

    #[test]
    fn suggests_close_names_only() {
        let names = ["sessions", "profiles", "messages"];
        assert_eq!(
            best("session", names.into_iter()).as_deref(),
            Some("sessions")
        );
        assert_eq!(
            best("profile", names.into_iter()).as_deref(),
            Some("profiles")
        );
        assert_eq!(best("zzzzzz", names.into_iter()), None);
    }
}
