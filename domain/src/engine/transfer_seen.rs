//! What an import remembers of the lines it has read: a keyed 64-bit hash of each id, email,
//! phone and username, with the first line that named it, in 12 bytes a key. A million users
//! (three or four keys each) take about 40 MB, where a hash map would take three times that,
//! and twice as much again while it grows.
//!
//! Keys arrive in a small map; when it fills, its keys are sorted and merged into two
//! parallel arrays (hashes, lines) kept in hash order, in place from the back, so a lookup is
//! one map probe and one binary search. The arrays grow by at least an eighth at a time.

use std::collections::HashMap;

/// Keys gathered before a merge: a merge moves every key held, so fewer means more moves.
const RECENT: usize = 1 << 16;

#[derive(Default)]
pub(super) struct SeenKeys {
    hashes: Vec<u64>,
    /// The line of each hash; a line past `u32::MAX` is kept as `u32::MAX`.
    lines: Vec<u32>,
    recent: HashMap<u64, u32>,
}

impl SeenKeys {
    /// The line that first named `hash`, if one did.
    pub(super) fn get(&self, hash: u64) -> Option<u64> {
        if let Some(line) = self.recent.get(&hash) {
            return Some(u64::from(*line));
        }
        self.hashes.binary_search(&hash).ok().map(|i| u64::from(self.lines[i]))
    }

    /// Remembers `hash` as first named on `line` (a key already held keeps its first line).
    pub(super) fn insert(&mut self, hash: u64, line: u64) {
        if self.get(hash).is_some() {
            return;
        }
        self.recent.insert(hash, u32::try_from(line).unwrap_or(u32::MAX));
        if self.recent.len() >= RECENT {
            self.merge();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.hashes.len() + self.recent.len()
    }

    fn merge(&mut self) {
        let mut run: Vec<(u64, u32)> = self.recent.drain().collect();
        run.sort_unstable_by_key(|(h, _)| *h);
        let held = self.hashes.len();
        let total = held + run.len();
        let grow = run.len().max(held / 8);
        if self.hashes.capacity() < total {
            self.hashes.reserve_exact(grow);
            self.lines.reserve_exact(grow);
        }
        self.hashes.resize(total, 0);
        self.lines.resize(total, 0);
        // From the back: the largest of what is left of each goes last.
        let (mut i, mut j) = (held, run.len());
        for k in (0..total).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.hashes[i - 1] > run[j - 1].0 {
                i -= 1;
                self.hashes[k] = self.hashes[i];
                self.lines[k] = self.lines[i];
            } else {
                j -= 1;
                self.hashes[k] = run[j].0;
                self.lines[k] = run[j].1;
            }
        }
        self.recent.shrink_to(RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_across_merges_with_their_first_line() {
        let mut seen = SeenKeys::default();
        // A scrambled order, several merges' worth, and the extremes of the hash space.
        let key = |n: u64| n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let n = 3 * RECENT as u64 + 123;
        for i in 1..=n {
            seen.insert(key(i), i);
        }
        seen.insert(0, 7);
        seen.insert(u64::MAX, u64::from(u32::MAX) + 5);
        assert_eq!(seen.len() as u64, n + 2);
        for i in (1..=n).step_by(97) {
            assert_eq!(seen.get(key(i)), Some(i), "key {i}");
        }
        assert_eq!(seen.get(key(n)), Some(n));
        assert_eq!(seen.get(0), Some(7));
        assert_eq!(seen.get(u64::MAX), Some(u64::from(u32::MAX)), "a line past u32 saturates");
        assert_eq!(seen.get(key(n + 1)), None);
        // A second sight keeps the first line.
        seen.insert(key(5), 999_999);
        assert_eq!(seen.get(key(5)), Some(5));
        assert!(seen.hashes.windows(2).all(|w| w[0] < w[1]), "the merged keys stay sorted and distinct");
        assert_eq!(seen.hashes.len(), seen.lines.len());
    }
}
