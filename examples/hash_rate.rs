//! The raw argon2 limit of this machine: hashes per second on every core with
//! the server's parameters, outside the server. `bench/load.sh` compares
//! register and login throughput with it.
//!
//! `cargo run --release --example hash_rate -- [seconds] [memory_kib] [iterations] [parallelism]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should stop it loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = args.first().copied().unwrap_or(10);
    let memory = args.get(1).copied().unwrap_or(19_456) as u32;
    let iterations = args.get(2).copied().unwrap_or(2) as u32;
    let parallelism = args.get(3).copied().unwrap_or(1) as u32;
    let params =
        Params::new(memory, iterations, parallelism, None).expect("valid argon2 parameters");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, count, params) = (Arc::clone(&done), Arc::clone(&count), params.clone());
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                while !done.load(Ordering::Relaxed) {
                    argon2.hash_password(b"Vq7#kPz!rw").expect("hash");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let hashes = count.load(Ordering::Relaxed);
    println!(
        "{:.1} hashes/s on {threads} threads (m={memory} t={iterations} p={parallelism}, {hashes} in {elapsed:.1} s)",
        hashes as f64 / elapsed
    );
}
