//! Several instances on one database, and a database that goes away and
//! comes back (SPEC §2: stateless instances share everything through the
//! database).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{
    PASSWORD, TestDatabase, assert_race_creates_one, is_postgres, postgres_admin_url, spawn_at,
    spawn_on,
};

/// Two servers on one database.
async fn two_instances() -> (crate::helpers::TestApp, crate::helpers::TestApp) {
    let a = crate::helpers::spawn_app().await;
    let shared = a.database.url.clone();
    // The second instance borrows the first one's database; the first owns it.
    let b = spawn_at(TestDatabase::borrowed(&shared), &shared, &[]).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_one_instance_works_on_the_other_and_logout_is_seen_by_all() {
    let (a, b) = two_instances().await;
    let id = a.register_ok("alice").await;
    let (token, _) = b.login_ok("alice").await;
    assert_eq!(
        a.me(&token).await["id"],
        id.as_str(),
        "B's token works on A"
    );
    assert_eq!(a.logout(&id, Some(&token)).await.status(), StatusCode::OK);
    assert!(
        b.me(&token).await.is_null(),
        "A's logout is seen by B at once"
    );
    let response = b.logout(&id, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_registrations_over_two_instances_create_one_user() {
    let (a, b) = two_instances().await;
    let attempts: Vec<_> = (0..30)
        .map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            (&**app, "racer".into(), format!("racer{i}@example.com"))
        })
        .collect();
    assert_race_creates_one(&attempts, "USERNAME_TAKEN").await;
    assert_eq!(a.sql("SELECT id FROM users").await.len(), 1);
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
struct Proxy {
    address: SocketAddr,
    down: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (down, down_rx) = watch::channel(false);
        let down_rx = Arc::new(down_rx);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut down_rx = (*down_rx).clone();
                if *down_rx.borrow() {
                    drop(client); // refuse while the database is "down"
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down_rx.wait_for(|down| *down) => {} // cut open connections
                    }
                });
            }
        });
        Self { address, down }
    }

    fn cut(&self) {
        self.down.send_replace(true);
    }

    fn restore(&self) {
        self.down.send_replace(false);
    }
}

fn postgres_address() -> SocketAddr {
    let url = postgres_admin_url().unwrap();
    let authority = url.split_once('@').unwrap().1;
    let host_port = authority.split(['/', '?']).next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503_quickly_and_heals_by_itself() {
    if !is_postgres() {
        eprintln!("skipped on SQLite: an embedded database cannot go away from under the server");
        return;
    }
    let database = TestDatabase::create().await;
    let proxy = Proxy::start(postgres_address()).await;
    let url = database.url_via(proxy.address);
    let app = spawn_at(database, &url, &["--db-acquire-timeout", "1s"]).await;
    app.register_ok("alice").await;
    app.login_ok("alice").await;

    proxy.cut();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let started = Instant::now();
    let login = app.login("alice", PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(login.headers().contains_key("retry-after"));
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["code"], "OVERLOADED", "{body}");
    assert!(
        took < Duration::from_secs(5),
        "503 within the acquire timeout, took {took:?}"
    );
    app.assert_healthy().await;

    proxy.restore();
    let mut healed = false;
    for _ in 0..50 {
        let ready = app.get("/readyz").await;
        if ready.status() == StatusCode::OK {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healed, "/readyz came back without a restart");
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_restarted_instance_keeps_every_account_and_session() {
    let app = crate::helpers::spawn_app().await;
    let id = app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let again = spawn_on(app.database, &[]).await;
    assert_eq!(again.me(&token).await["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_changes_on_one_instance_are_seen_by_the_other_at_once() {
    let (a, b) = two_instances().await;
    a.register_ok("alice").await;
    let (on_a, _) = a.login_ok("alice").await;
    let (on_b, _) = b.login_ok("alice").await;

    // logoutEverywhere on A: B refuses B's own token.
    let everywhere = "mutation { logoutEverywhere { sessionsRevoked } }";
    let (_, body) = a.graphql(everywhere, json!({}), Some(&on_a)).await;
    assert_eq!(
        body["data"]["logoutEverywhere"]["sessionsRevoked"], 2,
        "{body}"
    );
    assert!(b.me(&on_b).await.is_null());

    // changePassword on B ends A's session.
    let (on_a, _) = a.login_ok("alice").await;
    let (on_b, _) = b.login_ok("alice").await;
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { sessionsRevoked } }";
    let input = json!({ "input": { "currentPassword": PASSWORD, "newPassword": "Tq9!nw#Lzc" } });
    let (_, body) = b.graphql(change, input, Some(&on_b)).await;
    assert_eq!(
        body["data"]["changePassword"]["sessionsRevoked"], 1,
        "{body}"
    );
    assert!(a.me(&on_a).await.is_null());

    // deleteAccount on A: B refuses the token at once.
    let delete = "mutation($p: String!) { deleteAccount(password: $p) { sessionsRevoked } }";
    let (on_a, _) = a.login_ok_with("alice", "Tq9!nw#Lzc").await;
    let (_, body) = a
        .graphql(delete, json!({ "p": "Tq9!nw#Lzc" }), Some(&on_a))
        .await;
    assert_eq!(
        body["data"]["deleteAccount"]["sessionsRevoked"], 2,
        "{body}"
    );
    assert!(b.me(&on_b).await.is_null());
    b.register_ok("alice").await;
}
