use super::*;

fn verifies(stored: &str, password: &str) -> bool {
    match classify(stored) {
        Stored::Django(hash) => hash.verify(password.as_bytes()),
        other => panic!("{stored}: {other:?}"),
    }
}

// Hashes made by Django 5.2's own hashers (python3 -c 'from django.contrib.auth
// import hashers; …'); the fixture in tests/ covers every format end to end.
// Vectors from Python's hashlib, which Django's hashers call.
#[test]
fn pbkdf2_at_a_low_iteration_count() {
    // base64(hashlib.pbkdf2_hmac("sha256", b"s3cret", b"salt", 1000))
    let stored = "pbkdf2_sha256$1000$salt$AmH690IXhN4mVvntpeSvnKdG/ugjES9UNaM7PtQs6Yw=";
    assert!(verifies(stored, "s3cret"));
    assert!(!verifies(stored, "s3cret "));
    // base64(hashlib.pbkdf2_hmac("sha1", b"s3cret", b"salt", 1000))
    let stored = "pbkdf2_sha1$1000$salt$ynoATeE+SiP4LdjQx3YaKb4cYWs=";
    assert!(verifies(stored, "s3cret"));
    assert!(!verifies(stored, "S3cret"));
}

#[test]
fn md5_is_salt_then_password() {
    // hashlib.md5(b"salt" + b"s3cret").hexdigest()
    let stored = "md5$salt$7897c2cd48b1e26267f4e6dddac203a6";
    assert!(verifies(stored, "s3cret"));
    assert!(!verifies(stored, "S3cret"));
}

/// One account per format from the fixture Django 5.2 made
/// (tests/fixtures/django), with the password its manifest gives.
#[test]
fn every_django_format_in_the_fixture_verifies() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/django");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).unwrap()).unwrap()
    };
    let (dump, manifest) = (read("dumpdata.json"), read("manifest.json"));
    let mut seen = Vec::new();
    for account in manifest["accounts"].as_array().unwrap() {
        let row = dump
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["pk"] == account["id"])
            .unwrap();
        let stored = row["fields"]["password"].as_str().unwrap();
        let password = account["password"].as_str().unwrap();
        match classify(stored) {
            Stored::Django(hash) if !seen.contains(&hash.algorithm()) => {
                seen.push(hash.algorithm());
                assert!(hash.verify(password.as_bytes()), "{}", hash.algorithm());
                assert!(!hash.verify(b"not the password"), "{}", hash.algorithm());
            }
            Stored::Django(_) => {}
            Stored::Unusable => assert_eq!(account["expect"], "no-password"),
            other => panic!("{}: {other:?}", account["username"]),
        }
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            "argon2",
            "bcrypt",
            "bcrypt_sha256",
            "md5",
            "pbkdf2_sha1",
            "pbkdf2_sha256",
            "scrypt"
        ]
    );
}

#[test]
fn formats_are_told_apart() {
    assert!(matches!(
        classify("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"),
        Stored::Phc(_)
    ));
    assert!(matches!(classify("!Kx8zQ2"), Stored::Unusable));
    assert!(matches!(classify("no dollar"), Stored::Unknown(_)));
    assert!(matches!(
        classify("sha1$salt$abc"),
        Stored::Unknown("sha1 (salted)")
    ));
    assert!(matches!(
        classify("whatever$x"),
        Stored::Unknown("an unrecognised algorithm")
    ));
    assert!(matches!(
        classify("pbkdf2_sha256$x$salt$key"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("pbkdf2_sha256$0$salt$key"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("pbkdf2_sha256$99999999$salt$key"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("bcrypt$$2b$31$abcdefghijklmnopqrstuv"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("scrypt$1048576$salt$8$1$key"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("scrypt$1000$salt$8$1$key"),
        Stored::Unknown(_)
    ));
    assert!(matches!(
        classify("scrypt$16384$salt$8$1$key"),
        Stored::Django(_)
    ));
    assert!(matches!(
        classify("argon2$argon2id$v=19$m=1048576,t=2,p=8$c2FsdHNhbHQ$aGFzaA"),
        Stored::Unknown(_)
    ));
    // Costs past the bounds, however they are spread.
    for stored in [
        "scrypt$16384$salt$8$262144$key",
        "argon2$argon2id$v=19$m=102400,t=4000000,p=8$c2FsdHNhbHQ$aGFzaA",
        "$2b$12$abcdefghijklmnopqrstuv",
        "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA",
    ] {
        assert!(matches!(classify(stored), Stored::Unknown(_)), "{stored}");
    }
}

#[test]
fn malformed_parts_match_nothing() {
    // A key longer than the digest would multiply the work: refused before
    // any hashing (this would take hours otherwise).
    let long_key = STANDARD.encode([0u8; 64 * 1024]);
    for stored in [
        format!("pbkdf2_sha256$10000000$salt${long_key}"),
        format!("pbkdf2_sha1$10000000$salt${long_key}"),
        format!("scrypt$16384$salt$8$5${long_key}"),
    ] {
        assert!(!verifies(&stored, "s3cret"));
    }
    assert!(!verifies("pbkdf2_sha256$1000$salt$not base64!", "s3cret"));
    assert!(!verifies("pbkdf2_sha256$1000$salt$", "s3cret"));
    assert!(!verifies("bcrypt$$2b$12$short", "s3cret"));
    assert!(!verifies("scrypt$16384$salt$8$1$", "s3cret"));
    assert!(!verifies("md5$salt$", "s3cret"));
}
