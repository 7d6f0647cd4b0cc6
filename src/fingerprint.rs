//! `stable_hash`: a 128-bit FNV-1a hash that is the same on every platform and Rust version —
//! the key of the judge and model caches, and the fingerprint that ties a journalled run to
//! everything that decided its result.

/// The stable 128-bit hash of `parts` (NUL-separated), as 32 hex digits.
pub(crate) fn stable_hash(parts: &[&str]) -> String {
    let mut h = Fnv128::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.write(b"\0");
        }
        h.write(part.as_bytes());
    }
    format!("{:032x}", h.0)
}

/// [`stable_hash`] of `value`'s JSON, streamed into the hash: a case's fingerprint is taken for
/// every case at load, and building each JSON string first cost a fifth of the load time of a
/// 100,000-case dataset.
pub(crate) fn stable_hash_json<T: serde::Serialize>(value: &T) -> String {
    let mut h = Fnv128::new();
    // Writing into the hash cannot fail; a value serde cannot serialize hashes as what was written.
    let _ = serde_json::to_writer(&mut h, value);
    format!("{:032x}", h.0)
}

/// FNV-1a, 128 bits: stable across platforms and Rust versions (unlike `DefaultHasher`).
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }
}

impl std::io::Write for Fnv128 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Fnv128::write(self, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_parts_are_separated() {
        // Pinned: a change here would invalidate every cache and journal on disk.
        assert_eq!(stable_hash(&[""]), "6c62272e07bb014262b821756295c58d");
        assert_ne!(stable_hash(&["ab", "c"]), stable_hash(&["a", "bc"]));
        assert_eq!(stable_hash(&["x", "y"]), stable_hash(&["x", "y"]));
    }

    #[test]
    fn a_streamed_json_hash_equals_the_hash_of_the_json_string() {
        let v = serde_json::json!({"id": "a", "input": "é \"q\"", "n": [1, 2.5]});
        assert_eq!(stable_hash_json(&v), stable_hash(&[&v.to_string()]));
        assert_ne!(
            stable_hash_json(&v),
            stable_hash_json(&serde_json::json!({"id": "b"}))
        );
    }
}
