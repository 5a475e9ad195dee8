//! A Django account as the import reads it, whatever the source.

use chrono::{DateTime, NaiveDateTime, Utc};

/// One row of Django's `auth_user`, as read.
pub struct DjangoUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// Django's hash, verbatim (`algorithm$…`, or `!…` when unusable).
    pub password: String,
    pub is_active: bool,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

/// A row the import could read only in part (a time that is not a time, a
/// null where Django allows none): reported as skipped, not imported.
#[derive(Debug)]
pub struct Unreadable {
    pub id: i64,
    pub reason: String,
}

/// One account of a batch, or why it could not be read.
pub type Row = Result<DjangoUser, Unreadable>;

/// Written by hand so the hash never reaches a log line.
impl std::fmt::Debug for DjangoUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A Django time as text: ISO 8601 with an offset (dumpdata), or the naive
/// `YYYY-MM-DD HH:MM:SS[.ffffff]` Django's SQLite backend stores, which is
/// UTC when `USE_TZ` is on (Django's default since 5.0).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn django_times_parse() {
        for text in [
            "2019-12-28T18:02:17Z",
            "2019-12-28T18:02:17.123456Z",
            "2019-12-28T19:02:17+01:00",
            "2019-12-28 18:02:17",
            "2019-12-28 18:02:17.000000",
            "2019-12-28 18:02:17+00",
        ] {
            let time = parse_time(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                time.format("%F %T").to_string(),
                "2019-12-28 18:02:17",
                "{text}"
            );
        }
        assert!(parse_time("yesterday").is_none());
    }
}
