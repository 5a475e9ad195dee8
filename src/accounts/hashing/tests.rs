use super::*;

fn horse() -> SecretString {
    SecretString::from("correct horse")
}

fn pool(memory_kib: u32) -> HashPool {
    pool_reporting_to(memory_kib, HashMetrics::default())
}

fn pool_reporting_to(memory_kib: u32, metrics: HashMetrics) -> HashPool {
    HashPool::new(
        HashingConfig {
            memory_kib,
            iterations: 1,
            parallelism: 1,
            workers: 1,
            queue: 1,
        },
        metrics,
    )
    .unwrap()
}

#[tokio::test]
async fn hash_then_verify() {
    let pool = pool(64);
    let phc = pool
        .hash(SecretString::from("correct horse"))
        .await
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    let right = pool.verify(horse(), horse(), phc.clone()).await.unwrap();
    assert!(matches!(right, Verification::Match { rehashed: None, .. }));
    let wrong = pool
        .verify(
            SecretString::from("wrong horse"),
            SecretString::from("wrong horse"),
            phc,
        )
        .await
        .unwrap();
    assert!(matches!(wrong, Verification::Mismatch));
}

#[tokio::test]
async fn other_parameters_are_upgraded() {
    let old = pool(32)
        .hash(SecretString::from("correct horse"))
        .await
        .unwrap();
    let outcome = pool(64).verify(horse(), horse(), old).await.unwrap();
    match outcome {
        Verification::Match {
            rehashed: Some(new),
            ..
        } => assert!(new.contains("m=64,t=1,p=1")),
        other => panic!("expected a rehash, got {other:?}"),
    }
}

#[tokio::test]
async fn hashes_verify_with_the_reference_implementation() {
    let phc = pool(64)
        .hash(SecretString::from("correct horse"))
        .await
        .unwrap();
    let parsed = PasswordHash::new(&phc).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err()
    );
}

#[tokio::test]
async fn a_full_queue_is_refused_and_counted() {
    let metrics = crate::metrics::Metrics::recording();
    let pool = pool_reporting_to(8 * 1024, metrics.hashing());
    let jobs: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.hash(SecretString::from("correct horse")).await })
        })
        .collect();
    let mut overloaded = 0;
    for job in jobs {
        if let Err(Error::Overloaded { .. }) = job.await.unwrap() {
            overloaded += 1;
        }
    }
    assert!(
        overloaded >= 1,
        "a pool of 1 + 1 queued must refuse some of 8"
    );
    // A thread marks itself idle just after it answers: give it a moment.
    let mut text = String::new();
    for _ in 0..100 {
        text = metrics.render(&[], 0).unwrap();
        if text.contains("gatehouse_hash_busy 0\n") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_owned()
    };
    assert_eq!(
        value("gatehouse_hash_rejected_total"),
        overloaded.to_string()
    );
    assert_eq!(
        value("gatehouse_hash_duration_seconds_count"),
        (8 - overloaded).to_string(),
        "every hash that ran is timed"
    );
    assert_eq!(value("gatehouse_hash_queued"), "0");
    assert_eq!(value("gatehouse_hash_busy"), "0");
}

#[tokio::test]
async fn a_decoy_verification_matches_nothing_and_keeps_its_hash() {
    let pool = pool(64);
    for password in ["correct horse", "", "another"] {
        pool.verify_decoy(SecretString::from(password))
            .await
            .unwrap();
    }
}
