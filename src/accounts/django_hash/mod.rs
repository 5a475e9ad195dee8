//! Django's password hashes (`algorithm$…`), as an imported account brings
//! them. Every format Django 5.x writes or has written by default is
//! verified, so a user logs in with the password they already have; the
//! login then replaces the hash with an argon2id one of the configured cost.
//!
//! Django hashes the password exactly as typed (no normalisation), so these
//! are verified against the raw password. Every comparison of a derived key
//! runs in constant time. Costs are bounded (`MAX_*`): a stored hash that
//! would cost more than any Django default is refused like an unknown format,
//! so an import cannot make one login take minutes or gigabytes.

use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// Django 5.2 uses 1,000,000 PBKDF2 iterations; ten times that is the bound.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Django's argon2 uses 100 MiB (m=102400) and t=2; the bounds are 256 MiB
/// and t=10.
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_TIME: u32 = 10;
/// Django's bcrypt uses cost 12 (4,096 rounds); 16 is 16 times that.
const MAX_BCRYPT_COST: u32 = 16;
/// Django's scrypt uses N=2^14, r=8, p=5: 16 MiB, and N·r·p = 655,360 block
/// mixes. The bounds are 256 MiB and 2^24 (about 25 times the work).
const MAX_SCRYPT_BYTES: u64 = 256 * 1024 * 1024;
const MAX_SCRYPT_WORK: u64 = 1 << 24;

/// What a stored password hash is.
#[derive(Debug)]
pub enum Stored<'a> {
    /// A PHC string (`$argon2id$…`): Gatehouse's own format.
    Phc(&'a str),
    Django(DjangoHash<'a>),
    /// Django's `set_unusable_password()` (`!…`): no password matches.
    Unusable,
    /// Not a format Gatehouse verifies, or over the cost bounds. The label
    /// names the format (never a piece of the hash), for the log.
    Unknown(&'static str),
}

/// A Django hash, split into its parts.
#[derive(Debug)]
pub enum DjangoHash<'a> {
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64 key>`, and `pbkdf2_sha1$…`.
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: &'a str,
        key: &'a str,
    },
    /// `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: a PHC string after
    /// the `argon2` prefix.
    Argon2 { phc: &'a str },
    /// `bcrypt$<bcrypt hash>`, and `bcrypt_sha256$<bcrypt hash>` whose
    /// password is first the hex SHA-256 of the password.
    Bcrypt { sha256: bool, hash: &'a str },
    /// `scrypt$<N>$<salt>$<r>$<p>$<base64 key>` (a 64-byte key).
    Scrypt {
        salt: &'a str,
        log_n: u8,
        r: u32,
        p: u32,
        key: &'a str,
    },
    /// `md5$<salt>$<hex md5(salt + password)>`.
    Md5 { salt: &'a str, hex: &'a str },
}

/// Tells a stored hash's format from its text.
pub fn classify(stored: &str) -> Stored<'_> {
    // Gatehouse's own hashes; any other `$…` string (a third-party hasher's
    // bare bcrypt, say) is a format it does not verify.
    if stored.starts_with("$argon2") {
        return Stored::Phc(stored);
    }
    if stored.starts_with('$') {
        return Stored::Unknown("a PHC or crypt string of another algorithm");
    }
    if stored.starts_with('!') {
        return Stored::Unusable;
    }
    let Some((algorithm, rest)) = stored.split_once('$') else {
        return Stored::Unknown("no algorithm prefix");
    };
    let parts: Vec<&str> = rest.split('$').collect();
    let hash = match (algorithm, parts.as_slice()) {
        ("pbkdf2_sha256" | "pbkdf2_sha1", [iterations, salt, key]) => {
            match iterations.parse::<u32>() {
                Ok(iterations @ 1..=MAX_PBKDF2_ITERATIONS) => DjangoHash::Pbkdf2 {
                    sha1: algorithm == "pbkdf2_sha1",
                    iterations,
                    salt,
                    key,
                },
                _ => return Stored::Unknown("pbkdf2 with an iteration count out of bounds"),
            }
        }
        ("argon2", _) => {
            let phc = &stored[algorithm.len()..];
            if !argon2_within_bounds(phc) {
                return Stored::Unknown("argon2 with parameters out of bounds");
            }
            DjangoHash::Argon2 { phc }
        }
        ("bcrypt" | "bcrypt_sha256", ["", ..]) => {
            // The bcrypt hash itself begins with `$`: `bcrypt$$2b$12$…`.
            let hash = rest;
            if !bcrypt_within_bounds(hash) {
                return Stored::Unknown("bcrypt with a cost out of bounds");
            }
            DjangoHash::Bcrypt {
                sha256: algorithm == "bcrypt_sha256",
                hash,
            }
        }
        ("scrypt", [n, salt, r, p, key]) => match scrypt_params(n, r, p) {
            Some((log_n, r, p)) => DjangoHash::Scrypt {
                salt,
                log_n,
                r,
                p,
                key,
            },
            None => return Stored::Unknown("scrypt with parameters out of bounds"),
        },
        ("md5", [salt, hex]) if !salt.is_empty() => DjangoHash::Md5 { salt, hex },
        _ => return Stored::Unknown(known_name(algorithm)),
    };
    Stored::Django(hash)
}

impl DjangoHash<'_> {
    /// The format's name, for logs.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Self::Pbkdf2 { sha1: false, .. } => "pbkdf2_sha256",
            Self::Pbkdf2 { sha1: true, .. } => "pbkdf2_sha1",
            Self::Argon2 { .. } => "argon2",
            Self::Bcrypt { sha256: true, .. } => "bcrypt_sha256",
            Self::Bcrypt { sha256: false, .. } => "bcrypt",
            Self::Scrypt { .. } => "scrypt",
            Self::Md5 { .. } => "md5",
        }
    }

    /// Whether `password` (as typed) is the one hashed. A malformed hash
    /// matches nothing.
    pub fn verify(&self, password: &[u8]) -> bool {
        match *self {
            Self::Pbkdf2 {
                sha1,
                iterations,
                salt,
                key,
            } => {
                let Ok(expected) = STANDARD.decode(key) else {
                    return false;
                };
                // Django's key is the digest's size; a longer one would
                // multiply the work.
                if expected.len() != if sha1 { 20 } else { 32 } {
                    return false;
                }
                let mut derived = vec![0u8; expected.len()];
                let salt = salt.as_bytes();
                match pbkdf2::Params::new_with_output_len(iterations, derived.len()) {
                    // The crate's own entry point for SHA-256: the same
                    // function, compiled once inside the crate (optimised
                    // even in debug builds, so the tests run at real speed).
                    Ok(params) if !sha1 => pbkdf2::pbkdf2_hmac_with_params(
                        password,
                        salt,
                        pbkdf2::Algorithm::Pbkdf2Sha256,
                        params,
                        &mut derived,
                    ),
                    _ if !sha1 => {
                        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut derived);
                    }
                    _ => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut derived),
                }
                !expected.is_empty() && bool::from(derived.ct_eq(&expected))
            }
            Self::Argon2 { phc } => {
                use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
                // The hash names its own variant and cost; the memory is
                // allocated for this check and given back after it.
                PasswordHash::new(phc).is_ok_and(|parsed| {
                    Argon2::default().verify_password(password, &parsed).is_ok()
                })
            }
            Self::Bcrypt { sha256, hash } => {
                if sha256 {
                    let hex = hex::encode(Sha256::digest(password));
                    bcrypt::verify(hex.as_bytes(), hash).unwrap_or(false)
                } else {
                    bcrypt::verify(password, hash).unwrap_or(false)
                }
            }
            Self::Scrypt {
                salt,
                log_n,
                r,
                p,
                key,
            } => {
                let (Ok(expected), Ok(params)) =
                    (STANDARD.decode(key), scrypt::Params::new(log_n, r, p))
                else {
                    return false;
                };
                // Django's key is 64 bytes; the final PBKDF2 step grows
                // with a longer one.
                if expected.len() != 64 {
                    return false;
                }
                let mut derived = vec![0u8; expected.len()];
                !expected.is_empty()
                    && scrypt::scrypt(password, salt.as_bytes(), &params, &mut derived).is_ok()
                    && bool::from(derived.ct_eq(&expected))
            }
            Self::Md5 { salt, hex } => {
                let digest = Md5::new()
                    .chain_update(salt.as_bytes())
                    .chain_update(password)
                    .finalize();
                bool::from(hex::encode(digest).as_bytes().ct_eq(hex.as_bytes()))
            }
        }
    }
}

fn argon2_within_bounds(phc: &str) -> bool {
    argon2::PasswordHash::new(phc)
        .ok()
        .and_then(|parsed| argon2::Params::try_from(&parsed).ok())
        .is_some_and(|params| {
            params.m_cost() <= MAX_ARGON2_MEMORY_KIB && params.t_cost() <= MAX_ARGON2_TIME
        })
}

/// `$2b$12$…`: the cost is the second field.
fn bcrypt_within_bounds(hash: &str) -> bool {
    hash.split('$')
        .nth(2)
        .and_then(|cost| cost.parse::<u32>().ok())
        .is_some_and(|cost| cost <= MAX_BCRYPT_COST)
}

/// Django stores N itself; scrypt takes log2(N).
fn scrypt_params(n: &str, r: &str, p: &str) -> Option<(u8, u32, u32)> {
    let (n, r, p) = (
        n.parse::<u64>().ok()?,
        r.parse::<u32>().ok()?,
        p.parse::<u32>().ok()?,
    );
    if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 {
        return None;
    }
    let bytes = 128u64
        .checked_mul(u64::from(r))?
        .checked_mul(n.max(u64::from(p)))?;
    let work = n.checked_mul(u64::from(r))?.checked_mul(u64::from(p))?;
    if bytes > MAX_SCRYPT_BYTES || work > MAX_SCRYPT_WORK {
        return None;
    }
    Some((u8::try_from(n.trailing_zeros()).ok()?, r, p))
}

/// The name of a format Django knows but Gatehouse does not verify, or a
/// fixed label: the text before the first `$` may be anything, and only
/// fixed strings reach the log.
fn known_name(algorithm: &str) -> &'static str {
    match algorithm {
        "sha1" => "sha1 (salted)",
        "unsalted_md5" => "unsalted md5",
        "unsalted_sha1" => "unsalted sha1",
        "crypt" => "crypt",
        "pbkdf2_sha256" | "pbkdf2_sha1" | "scrypt" | "md5" | "bcrypt" | "bcrypt_sha256" => {
            "a known algorithm with malformed parts"
        }
        _ => "an unrecognised algorithm",
    }
}

/// Formats already reported at warn; each is reported once per process, so
/// a flood of logins to such accounts cannot flood the log.
static REPORTED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Logs that an account's hash is in a format Gatehouse cannot verify: at
/// warn the first time for each format, at debug after that.
pub fn report_unknown(format: &'static str, user_id: uuid::Uuid) {
    let first = REPORTED.lock().map_or(true, |mut reported| {
        let first = !reported.contains(&format);
        if first {
            reported.push(format);
        }
        first
    });
    if first {
        tracing::warn!(
            %user_id, format,
            "a stored password hash is in a format Gatehouse cannot verify; the login is refused \
             as a wrong password (further accounts with this format are logged at debug)"
        );
    } else {
        tracing::debug!(%user_id, format, "stored password hash in an unverifiable format");
    }
}

#[cfg(test)]
mod tests;
