//! The fixture Django 5.2 made (tests/fixtures/django): every account of its
//! manifest, with the hash Django stored for it.

use serde_json::Value;

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/django");

fn read(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURE}/{name}")).unwrap()).unwrap()
}

/// The manifest's accounts: id, username, email, password, expect, ….
pub fn manifest() -> Vec<Value> {
    read("manifest.json")["accounts"]
        .as_array()
        .unwrap()
        .clone()
}

/// One fixture account, as a test needs it.
pub struct Account {
    pub id: i64,
    pub password: String,
    /// The hash Django stored (from the dumpdata of the same rows).
    pub hash: String,
}

/// The fixture account named `username`.
pub fn account(username: &str) -> Account {
    let entry = manifest()
        .into_iter()
        .find(|a| a["username"] == username)
        .unwrap_or_else(|| panic!("{username} is not in the fixture"));
    let dump = read("dumpdata.json");
    let row = dump
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["pk"] == entry["id"])
        .unwrap();
    Account {
        id: entry["id"].as_i64().unwrap(),
        password: entry["password"].as_str().unwrap().to_owned(),
        hash: row["fields"]["password"].as_str().unwrap().to_owned(),
    }
}
