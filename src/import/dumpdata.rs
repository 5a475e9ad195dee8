//! Reading a `manage.py dumpdata auth.user` JSON file, streaming: one
//! record in memory at a time, however large the file.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};

use super::ImportError;
use super::account::{DjangoUser, parse_time};

/// One record of a dumpdata file.
#[derive(Deserialize)]
struct Record {
    model: String,
    pk: i64,
    fields: Fields,
}

#[derive(Deserialize)]
struct Fields {
    username: String,
    #[serde(default)]
    email: String,
    password: String,
    #[serde(default = "active")]
    is_active: bool,
    date_joined: String,
    #[serde(default)]
    last_login: Option<String>,
}

fn active() -> bool {
    true
}

impl TryFrom<Record> for DjangoUser {
    type Error = String;

    fn try_from(record: Record) -> Result<Self, String> {
        if record.model != "auth.user" {
            return Err(format!(
                "record {} is a {:?}, not an auth.user: give the output of \
                 `manage.py dumpdata auth.user`",
                record.pk, record.model
            ));
        }
        let time = |text: &str| {
            parse_time(text).ok_or_else(|| format!("record {}: {text:?} is not a time", record.pk))
        };
        let fields = record.fields;
        Ok(Self {
            id: record.pk,
            date_joined: time(&fields.date_joined)?,
            last_login: fields.last_login.as_deref().map(time).transpose()?,
            username: fields.username,
            email: fields.email,
            password: fields.password,
            is_active: fields.is_active,
        })
    }
}

/// Parses a dumpdata file to its end, in constant memory, and counts its
/// accounts: a truncated or foreign file fails here, before any write. Its
/// ids must ascend (dumpdata writes them so), which is what lets the earlier
/// of two clashing accounts be the one imported.
pub async fn check_json(path: &Path) -> Result<u64, ImportError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut count = 0u64;
        let mut last = i64::MIN;
        each_record(&path, |user| {
            let user = user?;
            if user.id <= last {
                return Err(format!(
                    "record {} comes after record {last}: ids must ascend, as dumpdata writes them",
                    user.id
                ));
            }
            last = user.id;
            count += 1;
            Ok(())
        })?;
        Ok(count)
    })
    .await
    .map_err(|e| ImportError::source(format!("reading the JSON failed: {e}")))?
}

/// Calls `each` on every record of the JSON array at `path`, streaming.
pub fn each_record(
    path: &Path,
    mut each: impl FnMut(Result<DjangoUser, String>) -> Result<(), String>,
) -> Result<(), ImportError> {
    let file = File::open(path)
        .map_err(|e| ImportError::source(format!("cannot read {}: {e}", path.display())))?;
    let mut deserializer = serde_json::Deserializer::from_reader(BufReader::new(file));
    let records = RecordSeq { each: &mut each };
    let result = de::Deserializer::deserialize_seq(&mut deserializer, records)
        .and_then(|()| deserializer.end());
    result.map_err(|e| {
        ImportError::source(format!(
            "{} is not a Django dumpdata JSON of auth.user: {e}",
            path.display()
        ))
    })
}

/// Visits a JSON array, one record at a time.
struct RecordSeq<'a, F> {
    each: &'a mut F,
}

impl<'de, F> Visitor<'de> for RecordSeq<'_, F>
where
    F: FnMut(Result<DjangoUser, String>) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of auth.user records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record>()? {
            (self.each)(DjangoUser::try_from(record)).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}
