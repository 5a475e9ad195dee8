//! Parsers of the flag values that need more than a type's `FromStr`.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// A session lifetime: at least a second, at most ten years, so expiry times
/// stay ordinary timestamps on every backend.
pub(super) fn parse_session_ttl(value: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    let ten_years = Duration::from_secs(10 * 366 * 24 * 60 * 60);
    if ttl < Duration::from_secs(1) || ttl > ten_years {
        return Err("must be between 1s and 10 years".into());
    }
    Ok(ttl)
}

/// How long audit events are kept: at least an hour (a shorter trail is
/// no trail), at most a hundred years, so the cut-off stays an ordinary
/// timestamp.
pub(super) fn parse_retention(value: &str) -> Result<Duration, String> {
    let kept = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    let century = Duration::from_secs(100 * 366 * 24 * 60 * 60);
    if kept < Duration::from_secs(60 * 60) || kept > century {
        return Err("must be between 1h and 100 years".into());
    }
    Ok(kept)
}

/// A CORS origin: `scheme://host[:port]`. `*` is refused: credentials travel
/// in `Authorization`, and an account API should name the sites it trusts.
pub(super) fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.trim();
    if origin == "*" {
        return Err("`*` is not allowed; list the origins".into());
    }
    let well_formed = (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.ends_with('/')
        && axum::http::HeaderValue::from_str(origin).is_ok();
    if !well_formed {
        return Err(format!(
            "{origin:?} is not an origin like https://app.example.com"
        ));
    }
    Ok(origin.to_owned())
}

/// A proxy network: a CIDR, or a single address.
pub(super) fn parse_cidr(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{value:?} is not a CIDR like 10.0.0.0/8 or an address"))
}
