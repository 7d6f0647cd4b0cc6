//! `Faults`: seeded fault injection for one tool — an error rate and an added latency — to
//! test whether an agent degrades gracefully when its tools misbehave.
//!
//! Reproducible by construction: whether call `n` of tool `t` in case `c` fails is a pure
//! function of `(seed, c, t, n)` (SplitMix64 over an FNV-1a hash), so the same suite gives the
//! same trajectory at any concurrency, in any order, on any machine. No global RNG.

/// The fault settings of one tool.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Probability in 0..=1 that a call fails with an injected error instead of running.
    pub error_rate: f64,
    /// Delay added before every call, in milliseconds.
    pub latency_ms: u64,
    pub seed: u64,
}

impl Faults {
    /// Whether the `index`-th call (0-based) of `tool` in `case` fails.
    pub(crate) fn fails(&self, case: &str, tool: &str, index: u64) -> bool {
        if self.error_rate <= 0.0 {
            return false;
        }
        let key = fnv1a(case.as_bytes(), fnv1a(tool.as_bytes(), FNV_OFFSET));
        let draw = splitmix64(self.seed ^ splitmix64(key ^ splitmix64(index)));
        // 53 random bits → uniform in [0, 1).
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        unit < self.error_rate
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // A separator so ("ab", "c") and ("a", "bc") hash apart.
    hash ^= 0xff;
    hash.wrapping_mul(0x0000_0100_0000_01b3)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(rate: f64, seed: u64) -> Faults {
        Faults {
            error_rate: rate,
            latency_ms: 0,
            seed,
        }
    }

    #[test]
    fn draws_are_a_pure_function_of_their_key() {
        let f = rate(0.5, 7);
        let a: Vec<bool> = (0..64).map(|i| f.fails("c1", "t", i)).collect();
        let b: Vec<bool> = (0..64).map(|i| f.fails("c1", "t", i)).collect();
        assert_eq!(a, b);
        let other_case: Vec<bool> = (0..64).map(|i| f.fails("c2", "t", i)).collect();
        let other_seed: Vec<bool> = (0..64).map(|i| rate(0.5, 8).fails("c1", "t", i)).collect();
        assert_ne!(a, other_case);
        assert_ne!(a, other_seed);
    }

    #[test]
    fn the_rate_is_respected_and_its_ends_are_exact() {
        let f = rate(0.3, 1);
        let n = (0..10_000).filter(|i| f.fails("case", "tool", *i)).count();
        assert!((2_700..3_300).contains(&n), "{n}");
        assert!((0..1000).all(|i| !rate(0.0, 1).fails("c", "t", i)));
        assert!((0..1000).all(|i| rate(1.0, 1).fails("c", "t", i)));
    }
}
