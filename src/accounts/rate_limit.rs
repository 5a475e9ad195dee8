//! Per-client rate limits on register and login: a token bucket (GCRA) per
//! client address, IPv6 clients grouped by /64 since one host usually holds a
//! whole /64. The state is per instance and in memory: it bounds what one
//! client can make one instance do, while the per-account login throttle (in
//! the database) bounds guessing across instances.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The rate-limited actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Register,
    Login,
}

impl Action {
    fn policy_name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
        }
    }
}

/// The state of a client's bucket after an attempt: what the IETF
/// `RateLimit-Policy` and `RateLimit` response headers
/// (draft-ietf-httpapi-ratelimit-headers) report, which the transport writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateState {
    pub policy: &'static str,
    /// Requests allowed per window.
    pub quota: u32,
    pub window_secs: u64,
    /// Requests left right now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// A refused attempt: its state and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub state: RateState,
    pub retry_after_secs: u64,
}

type KeyedLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

struct Bucket {
    per_minute: NonZeroU32,
    limiter: KeyedLimiter,
}

impl Bucket {
    fn new(per_minute: NonZeroU32) -> Self {
        Self {
            per_minute,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute))
                .with_middleware::<StateInformationMiddleware>(),
        }
    }

    /// Seconds for `missing` cells to come back.
    fn secs_for(&self, missing: u32) -> u64 {
        (u64::from(missing) * 60).div_ceil(u64::from(self.per_minute.get()))
    }
}

/// Limits per client address; `None` switches an action's limit off.
pub struct ClientLimits {
    register: Option<Bucket>,
    login: Option<Bucket>,
}

impl ClientLimits {
    pub fn new(
        register_per_minute: Option<NonZeroU32>,
        login_per_minute: Option<NonZeroU32>,
    ) -> Self {
        Self {
            register: register_per_minute.map(Bucket::new),
            login: login_per_minute.map(Bucket::new),
        }
    }

    pub fn disabled() -> Self {
        Self::new(None, None)
    }

    /// Takes one request from `client`'s bucket for `action`. `Ok(None)` when
    /// no limit applies.
    pub fn check(
        &self,
        action: Action,
        client: Option<IpAddr>,
    ) -> Result<Option<RateState>, Refused> {
        let bucket = match action {
            Action::Register => &self.register,
            Action::Login => &self.login,
        };
        let (Some(bucket), Some(client)) = (bucket, client) else {
            return Ok(None);
        };
        let quota = bucket.per_minute.get();
        let state = |remaining: u32| RateState {
            policy: action.policy_name(),
            quota,
            window_secs: 60,
            remaining,
            reset_secs: bucket.secs_for(quota - remaining.min(quota)),
        };
        match bucket.limiter.check_key(&client_key(client)) {
            Ok(snapshot) => Ok(Some(state(snapshot.remaining_burst_capacity()))),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Refused {
                    state: state(0),
                    retry_after_secs: ceil_secs(wait),
                })
            }
        }
    }

    /// Forgets clients whose buckets are full again, so memory follows the
    /// number of recently active clients. Called periodically.
    pub fn forget_idle(&self) {
        for bucket in [&self.register, &self.login].into_iter().flatten() {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
    }
}

fn ceil_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The bucket key of an address: IPv4 as is (IPv4-mapped IPv6 included),
/// IPv6 by its /64 network.
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_grouped_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_bucket_refuses_past_its_quota_and_says_when() {
        let limits = ClientLimits::new(None, NonZeroU32::new(3));
        let client = Some("192.0.2.1".parse().unwrap());
        let remaining: Vec<u32> = (0..3)
            .map(|_| {
                limits
                    .check(Action::Login, client)
                    .unwrap()
                    .unwrap()
                    .remaining
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limits.check(Action::Login, client).unwrap_err();
        assert!((1..=20).contains(&refused.retry_after_secs), "{refused:?}");
        assert_eq!(
            (
                refused.state.policy,
                refused.state.quota,
                refused.state.window_secs
            ),
            ("login", 3, 60)
        );
        // Another client and another action are untouched.
        assert!(
            limits
                .check(Action::Login, Some("192.0.2.2".parse().unwrap()))
                .is_ok()
        );
        assert_eq!(limits.check(Action::Register, client), Ok(None));
    }
}
