//! The per-account login throttle (NIST SP 800-63B §5.2.2, OWASP
//! Authentication Cheat Sheet), kept in the user's row so that every
//! instance sees the same count.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Accounts, now};
use crate::db::ByKey;
use crate::entities::users;
use crate::error::Error;

/// After `free_failures` consecutive failures, each further attempt must
/// wait a delay that doubles from one second up to `max_delay`. Never a
/// permanent lockout: a locked-out owner waits at most `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    pub free_failures: u32,
    pub max_delay: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            free_failures: 5,
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

impl LoginThrottle {
    /// The wait after `failures` consecutive failures, if any.
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        let doublings = failures.checked_sub(self.free_failures)?;
        let delay = 1u64.checked_shl(doublings.min(63)).unwrap_or(u64::MAX);
        Some(Duration::from_secs(delay).min(self.max_delay))
    }

    /// The end of the window that `failures` failures open, from `start`.
    fn window_after(&self, failures: u32, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.delay_after(failures)
            .and_then(|delay| chrono::Duration::from_std(delay).ok())
            .and_then(|delay| start.checked_add_signed(delay))
    }
}

impl Accounts {
    /// Refuses an attempt inside a throttling window (429). An attempt that
    /// would start the next window if it failed is counted now, before its
    /// password is checked, with a compare-and-set on the row: concurrent
    /// attempts on any instance are then counted one by one, and all but the
    /// first meet the window. Returns whether the attempt was counted; a
    /// success resets the count either way. Attempts below the threshold are
    /// counted only if they fail, so a user's concurrent correct logins are
    /// never throttled.
    pub(super) async fn claim_login_attempt(&self, user: &users::Model) -> Result<bool, Error> {
        let Some(throttle) = self.config.login_throttle else {
            return Ok(false);
        };
        let user_id = user.id;
        // The row as login just read it; re-read only after losing a
        // compare-and-set, so an ordinary login costs no extra query.
        let (mut failures, mut locked_until) = (user.failed_logins, user.locked_until);
        // A few rounds of compare-and-set; losing every round means heavy
        // contention on this account, which is itself worth a short wait.
        for _ in 0..8 {
            let started = now();
            if let Some(until) = locked_until
                && until > started
            {
                let millis = u64::try_from((until - started).num_milliseconds()).unwrap_or(0);
                return Err(Error::RateLimited {
                    retry_after_secs: millis.div_ceil(1000).max(1),
                });
            }
            let attempt = failures.saturating_add(1);
            let attempt_count = u32::try_from(attempt).unwrap_or(u32::MAX);
            if attempt_count < throttle.free_failures {
                return Ok(false);
            }
            let window = throttle.window_after(attempt_count, started);
            let claimed = users::Entity::update_many()
                .col_expr(users::Column::FailedLogins, Expr::value(attempt))
                .col_expr(
                    users::Column::LockedUntil,
                    Expr::value(window.or(locked_until)),
                )
                .filter(users::Column::Id.eq(user_id))
                .filter(users::Column::FailedLogins.eq(failures))
                .exec(&self.writer)
                .await?
                .rows_affected;
            if claimed == 1 {
                tracing::debug!(%user_id, attempt, "login throttle window started");
                return Ok(true);
            }
            (failures, locked_until) = users::Entity::find_by_id(user_id)
                .select_only()
                .column(users::Column::FailedLogins)
                .column(users::Column::LockedUntil)
                .into_tuple::<(i32, Option<DateTime<Utc>>)>()
                .by_key(&self.writer)
                .await?
                .ok_or(Error::UserNotFound)?;
        }
        Err(Error::RateLimited {
            retry_after_secs: 1,
        })
    }

    /// Counts a failed attempt that was not counted before its check, and
    /// starts a window if it reached the threshold. The increment is atomic,
    /// so concurrent failures on any instance all count.
    pub(super) async fn record_failed_login(&self, user_id: Uuid) -> Result<(), Error> {
        // Scoped: ExprTrait is implemented for every type and shadows `Ord::min`.
        use sea_orm::sea_query::ExprTrait as _;
        let Some(throttle) = self.config.login_throttle else {
            return Ok(());
        };
        users::Entity::update_many()
            .col_expr(
                users::Column::FailedLogins,
                Expr::col(users::Column::FailedLogins).add(1),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(&self.writer)
            .await?;
        let failures = users::Entity::find_by_id(user_id)
            .select_only()
            .column(users::Column::FailedLogins)
            .into_tuple::<i32>()
            .by_key(&self.writer)
            .await?
            .unwrap_or(0);
        if let Some(until) = throttle.window_after(u32::try_from(failures).unwrap_or(0), now()) {
            users::Entity::update_many()
                .col_expr(users::Column::LockedUntil, Expr::value(until))
                .filter(users::Column::Id.eq(user_id))
                .filter(users::Column::FailedLogins.eq(failures))
                .exec(&self.writer)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::LoginThrottle;

    #[test]
    fn the_throttle_doubles_from_one_second_to_the_cap() {
        let throttle = LoginThrottle::default();
        assert_eq!(throttle.delay_after(4), None);
        assert_eq!(throttle.delay_after(5), Some(Duration::from_secs(1)));
        assert_eq!(throttle.delay_after(6), Some(Duration::from_secs(2)));
        assert_eq!(throttle.delay_after(10), Some(Duration::from_secs(32)));
        assert_eq!(throttle.delay_after(15), Some(Duration::from_secs(900)));
        assert_eq!(
            throttle.delay_after(u32::MAX),
            Some(Duration::from_secs(900))
        );
    }
}
