//! Checking an account's password: at login, and again before a signed-in
//! user changes their password or deletes their account. Every check runs
//! under the per-account throttle, so a stolen token cannot be used to guess
//! the password any faster than the login form allows.

use secrecy::SecretString;

use super::django_hash::report_unknown;
use super::{Accounts, Verification};
use crate::domain;
use crate::entities::users;
use crate::error::Error;

/// A password that matched, with what to store instead of the old hash when
/// that was not argon2id of the configured cost.
pub(super) struct Confirmed {
    /// The new PHC string and the old hash's format.
    pub rehashed: Option<(String, &'static str)>,
}

impl Accounts {
    /// Checks `password` against `row` on the hashing pool, under the
    /// per-account throttle: inside a throttling window the password is not
    /// even checked (429), and a wrong one counts as a failed attempt. A
    /// right one leaves resetting the count to the caller's own write.
    pub(super) async fn confirm_password(
        &self,
        row: &users::Model,
        password: SecretString,
    ) -> Result<Confirmed, Error> {
        // An attempt that would start a window is counted before the check,
        // so concurrent guesses at a window's edge get one try between them.
        let counted = self.claim_login_attempt(row).await?;
        let normalised = domain::normalise_password(&password);
        let verification = self
            .hash_pool
            .verify(normalised, password, row.password_hash.clone())
            .await?;
        match verification {
            Verification::Match { rehashed, format } => Ok(Confirmed {
                rehashed: rehashed.map(|new| (new, format)),
            }),
            Verification::UnknownFormat { format } => {
                report_unknown(format, row.id);
                self.count_failure(row, counted).await
            }
            Verification::Mismatch => self.count_failure(row, counted).await,
        }
    }

    async fn count_failure(&self, row: &users::Model, counted: bool) -> Result<Confirmed, Error> {
        if !counted {
            self.record_failed_login(row.id).await?;
        }
        Err(Error::InvalidPassword)
    }
}
