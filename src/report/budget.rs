//! `Budget`: how much more text a size-capped report (summary.md) may take.
//!
//! A PR comment holds 65,536 characters and a step summary 1 MiB, so summary.md is written
//! against a budget: what fits is kept whole, what does not is counted ("and N more"). Sizes are
//! UTF-8 bytes, which are never fewer than characters, so a byte cap is also a character cap.

/// Bytes still free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub(crate) fn new(bytes: usize) -> Self {
        Budget { left: bytes }
    }

    pub(crate) fn left(&self) -> usize {
        self.left
    }

    /// Appends `text` to `out` if it fits with `reserve` bytes still free afterwards (room for
    /// what must follow, such as the "and N more" line), and says whether it did.
    pub(crate) fn push(&mut self, out: &mut String, text: &str, reserve: usize) -> bool {
        if text.len().saturating_add(reserve) > self.left {
            return false;
        }
        self.left -= text.len();
        out.push_str(text);
        true
    }

    /// Splits off `bytes` (at most what is left) as a budget of its own.
    pub(crate) fn split(&mut self, bytes: usize) -> Budget {
        let taken = bytes.min(self.left);
        self.left -= taken;
        Budget::new(taken)
    }

    /// Gives back what a split-off budget did not use.
    pub(crate) fn join(&mut self, other: Budget) {
        self.left += other.left;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_fits_with_its_reserve_and_nothing_else() {
        let mut b = Budget::new(10);
        let mut out = String::new();
        assert!(b.push(&mut out, "abcd", 2));
        assert!(!b.push(&mut out, "efgh", 3), "4 + 3 > 6");
        assert!(b.push(&mut out, "efgh", 2));
        assert_eq!((out.as_str(), b.left()), ("abcdefgh", 2));
        // Bytes, not characters: é is two.
        assert!(!b.push(&mut out, "éé", 0));
        assert!(b.push(&mut out, "é", 0));
        assert_eq!(b.left(), 0);
    }

    #[test]
    fn a_split_budget_gives_back_what_it_left() {
        let mut b = Budget::new(100);
        let mut part = b.split(70);
        assert_eq!((b.left(), part.left()), (30, 70));
        part.push(&mut String::new(), &"x".repeat(50), 0);
        b.join(part);
        assert_eq!(b.left(), 50);
        assert_eq!(b.split(500).left(), 50, "no more than is left");
    }
}
