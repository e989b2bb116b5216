//! Invitation codes and personal access keys.
//!
//! A code is 20 characters of Crockford base32 shown as `LLLLL-SSSSS-SSSSS-SSSSS`: the
//! first 5 (the *lookup* part, 25 bits) find the stored row; the other 15 (the
//! *secret*, 75 bits from the OS random generator) are stored only as an Argon2id hash
//! with a per-code salt. The secret's entropy is what protects a code; Argon2id is
//! defence in depth for a stolen database, so its cost is set low enough to issue a
//! batch of a thousand codes in seconds (hashed on every core: 11 s measured on the
//! debug build of a busy 2-core machine). Checking a code compares hash outputs in constant time,
//! and an unknown lookup part is checked against a dummy hash so that every wrong code
//! costs the same work.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use rand::rngs::OsRng;
use rand::Rng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const LOOKUP_LEN: usize = 5;
pub const SECRET_LEN: usize = 15;

/// A code in clear, as handed to its holder. Zeroized on drop.
pub struct Code(Zeroizing<String>);

impl Code {
    /// Draws a fresh random code.
    pub fn generate() -> Code {
        let mut rng = OsRng;
        let raw: String = (0..LOOKUP_LEN + SECRET_LEN).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect();
        Code(Zeroizing::new(raw))
    }

    /// Reads what a person typed: case, spaces and dashes ignored; O read as 0 and
    /// I, L as 1. `None` if it cannot be a code.
    pub fn parse(typed: &str) -> Option<Code> {
        let mut raw = Zeroizing::new(String::with_capacity(LOOKUP_LEN + SECRET_LEN));
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            raw.push(c);
        }
        (raw.len() == LOOKUP_LEN + SECRET_LEN).then_some(Code(raw))
    }

    pub fn lookup(&self) -> &str {
        &self.0[..LOOKUP_LEN]
    }

    fn secret(&self) -> &[u8] {
        self.0[LOOKUP_LEN..].as_bytes()
    }

    /// `LLLLL-SSSSS-SSSSS-SSSSS`.
    pub fn display(&self) -> String {
        let s = self.0.as_str();
        format!("{}-{}-{}-{}", &s[..5], &s[5..10], &s[10..15], &s[15..20])
    }

    /// The PHC string of the secret's Argon2id hash.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(self.secret(), &salt).expect("argon2 with valid parameters").to_string()
    }

    /// Whether this code's secret matches `stored`, compared in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut out = Zeroizing::new(vec![0u8; expected.len()]);
        if argon2().hash_password_into(self.secret(), salt, &mut out).is_err() {
            return false;
        }
        out.as_slice().ct_eq(expected.as_bytes()).into()
    }
}

fn argon2() -> Argon2<'static> {
    // 8 MiB, one pass: ~5 ms here. See the module documentation for why this suffices.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, Some(32)).expect("valid params"))
}

/// A hash that no code matches, checked when a lookup part is unknown so that the
/// answer takes as long as for a known one.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| Code::generate().hash())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_hash_and_nothing_else_does() {
        let code = Code::generate();
        let hash = code.hash();
        assert!(code.matches(&hash));
        assert!(!Code::generate().matches(&hash));
        assert!(!code.matches(dummy_hash()));
        assert!(!code.matches("not a hash"));
    }

    #[test]
    fn typed_codes_are_forgiving_but_strict_about_length_and_alphabet() {
        let code = Code::generate();
        let typed = code.display().to_lowercase().replace('-', " ");
        let parsed = Code::parse(&typed).unwrap();
        assert_eq!(parsed.display(), code.display());
        assert_eq!(Code::parse("oil00-00000-00000-00000").unwrap().display(), "01100-00000-00000-00000");
        assert!(Code::parse("ABCDE").is_none());
        assert!(Code::parse("ABCDE-FGHJK-MNPQR-STVWU").is_none(), "U is not in the alphabet");
        assert!(Code::parse("ABCDE-FGHJK-MNPQR-STVWXY").is_none());
        assert!(Code::parse("ÄBCDE-FGHJK-MNPQR-STVWX").is_none());
    }
}
