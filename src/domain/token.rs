//! Bearer tokens (SPEC §5): `gat_` + base64url(32 random bytes ‖ CRC-32 of them).
//!
//! The prefix lets secret scanners recognise a leaked token; the checksum lets
//! a mistyped or forged token be refused without a database round trip. The
//! database stores only the SHA-256 of the whole token string.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "gat_";
const SECRET_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 4;
/// `gat_` plus 36 bytes in unpadded base64: 4 + 48 characters.
pub const TOKEN_LEN: usize = PREFIX.len() + (SECRET_BYTES + CHECKSUM_BYTES) * 4 / 3;

/// A session token in its wire form. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

/// SHA-256 of a token: what the `sessions` table holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed session token")]
pub struct MalformedToken;

impl SessionToken {
    /// A new token from 256 bits of the operating system's CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES + CHECKSUM_BYTES];
        getrandom::fill(&mut bytes[..SECRET_BYTES])?;
        let checksum = crc32fast::hash(&bytes[..SECRET_BYTES]);
        bytes[SECRET_BYTES..].copy_from_slice(&checksum.to_be_bytes());
        Ok(Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// Accepts only a string that has the shape and checksum of a token we
    /// issued. Cheap and allocation-free on the refusal paths.
    pub fn parse(raw: &str) -> Result<Self, MalformedToken> {
        let body = raw.strip_prefix(PREFIX).ok_or(MalformedToken)?;
        if raw.len() != TOKEN_LEN {
            return Err(MalformedToken);
        }
        let mut bytes = [0u8; SECRET_BYTES + CHECKSUM_BYTES];
        let written = URL_SAFE_NO_PAD
            .decode_slice(body, &mut bytes)
            .map_err(|_| MalformedToken)?;
        if written != bytes.len() {
            return Err(MalformedToken);
        }
        let expected = crc32fast::hash(&bytes[..SECRET_BYTES]).to_be_bytes();
        if bytes[SECRET_BYTES..] != expected {
            return Err(MalformedToken);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The token itself, for the one response that hands it to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = SessionToken::generate().unwrap();
        let b = SessionToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert!(a.expose().starts_with(PREFIX));
        assert_eq!(SessionToken::parse(a.expose()).unwrap(), a);
    }

    #[test]
    fn altered_tokens_are_refused() {
        let token = SessionToken::generate().unwrap();
        let text = token.expose();
        for i in PREFIX.len()..text.len() {
            let mut altered = text.as_bytes().to_vec();
            altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap();
            assert!(SessionToken::parse(&altered).is_err(), "position {i}");
        }
        assert!(SessionToken::parse(&text[..text.len() - 1]).is_err());
        assert!(SessionToken::parse(&format!("{text}A")).is_err());
        assert!(SessionToken::parse(&text.replacen("gat_", "gax_", 1)).is_err());
        assert!(SessionToken::parse("").is_err());
        assert!(
            SessionToken::parse("gat_ééééééééééééééééééééééééééééééééééééééééééééééééééé").is_err()
        );
    }

    #[test]
    fn debug_redacts() {
        let token = SessionToken::generate().unwrap();
        assert!(!format!("{token:?}").contains(&token.expose()[4..]));
    }
}
