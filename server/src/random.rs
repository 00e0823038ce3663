//! Random values from the operating system's generator: ARN suffixes, request ids, passwords.
//! A failing generator is not recoverable in a useful way, so it falls back to a time-seeded
//! sequence rather than panicking (these values are identifiers, not key material, except
//! passwords, for which the OS generator practically never fails).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static FALLBACK: AtomicU64 = AtomicU64::new(0);

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_ok() {
        return;
    }
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let mut x = seed ^ FALLBACK.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    for b in buf.iter_mut() {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *b = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
    }
}

/// A uniformly chosen element of `alphabet` (which must not be empty), by rejection sampling.
pub fn pick(alphabet: &[char]) -> char {
    let n = alphabet.len();
    if n == 0 {
        return ' ';
    }
    let limit = 256 - 256 % n;
    loop {
        let mut b = [0u8; 1];
        fill(&mut b);
        let v = b[0] as usize;
        if v < limit {
            return alphabet[v % n];
        }
    }
}

/// `n` characters drawn from `alphabet`.
pub fn string(alphabet: &[char], n: usize) -> String {
    (0..n).map(|_| pick(alphabet)).collect()
}

/// A random version-4 UUID in its usual text form.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Shuffles `v` in place (Fisher-Yates).
pub fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let mut b = [0u8; 8];
        fill(&mut b);
        let j = (u64::from_le_bytes(b) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
