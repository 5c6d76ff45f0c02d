//! Against a real `redis-server` started by the test: the stores agree with
//! the in-memory ones, expire by themselves, and turn an outage into 503
//! faults — then recover without a new store.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use bouncer_core::Fault;
use bouncer_redis::RedisStore;
use bouncer_store::{
    CounterStore, ReplayStore, RevocationStore, SessionRecord, SessionState, SessionStore,
};
use bouncer_test::RedisServer;

fn record() -> SessionRecord {
    SessionRecord {
        subject: "alice".into(),
        state: SessionState::Complete,
        created_at: 1,
        last_seen: 1,
        auth_time: 1,
        amr: vec!["pwd".into()],
        mfa_failures: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_work_and_expire() {
    let server = RedisServer::start().unwrap();
    let store = RedisStore::open(&server.url()).unwrap();
    store.ping().await.unwrap();

    // Revocation, forgotten with the token's expiry.
    assert!(!store.is_revoked("jti:a").await.unwrap());
    store
        .revoke("jti:a", SystemTime::now() + Duration::from_secs(1))
        .await
        .unwrap();
    assert!(store.is_revoked("jti:a").await.unwrap());
    store
        .revoke("jti:old", SystemTime::now() - Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!store.is_revoked("jti:old").await.unwrap());

    // Sessions.
    store
        .put("session:x", &record(), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(store.get("session:x").await.unwrap(), Some(record()));
    store.delete("session:x").await.unwrap();
    assert_eq!(store.get("session:x").await.unwrap(), None);
    store
        .put("session:short", &record(), Duration::from_secs(1))
        .await
        .unwrap();

    // Counters: the window starts at the first failure and is not extended.
    assert_eq!(
        store
            .increment("c", Duration::from_secs(100))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .increment("c", Duration::from_secs(5000))
            .await
            .unwrap(),
        2
    );
    let (n, left) = store.count("c").await.unwrap();
    assert_eq!(n, 2);
    assert!(
        left <= Duration::from_secs(100) && left > Duration::from_secs(90),
        "{left:?}"
    );
    store.reset("c").await.unwrap();
    assert_eq!(store.count("c").await.unwrap().0, 0);
    assert!(store
        .set_once("once", Duration::from_secs(10))
        .await
        .unwrap());
    assert!(!store
        .set_once("once", Duration::from_secs(10))
        .await
        .unwrap());

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        !store.is_revoked("jti:a").await.unwrap(),
        "expired with the token"
    );
    assert_eq!(
        store.get("session:short").await.unwrap(),
        None,
        "expired with its timeout"
    );
}

fn assert_unavailable<T: std::fmt::Debug>(r: Result<T, Fault>) {
    match r {
        Err(Fault::Unavailable(u)) => assert!(u.retry_after() >= Duration::from_secs(1)),
        other => panic!("expected 503, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_are_503_and_the_store_recovers() {
    let mut server = RedisServer::start().unwrap();
    let store = RedisStore::open(&server.url()).unwrap();
    store
        .revoke("jti:k", SystemTime::now() + Duration::from_secs(60))
        .await
        .unwrap();
    server.stop();
    assert_unavailable(store.is_revoked("jti:k").await);
    assert_unavailable(store.get("session:x").await);
    assert_unavailable(store.increment("c", Duration::from_secs(5)).await);
    assert_unavailable(store.first_use("p", Duration::from_secs(5)).await);
    server.restart().unwrap();
    // The same store reconnects by itself (the data is gone: a new server).
    let mut ok = false;
    for _ in 0..50 {
        if store.is_revoked("jti:k").await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the store did not recover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opened_while_redis_is_down_recovers() {
    let mut server = RedisServer::start().unwrap();
    server.stop();
    let store = RedisStore::open(&server.url()).unwrap();
    assert_unavailable(store.ping().await);
    // Fails fast right after a failure: no wait for a timeout.
    let t = std::time::Instant::now();
    assert_unavailable(store.ping().await);
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    server.restart().unwrap();
    // Back once the fail-fast window (1 s) has passed.
    let mut ok = false;
    for _ in 0..40 {
        if store.ping().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the store did not recover");
}

#[test]
fn debug_hides_the_url_password() {
    let store = RedisStore::open("redis://:hunter2@127.0.0.1:6379/0").unwrap();
    assert!(!format!("{store:?}").contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_is_used_once_across_stores_until_it_expires() {
    let server = RedisServer::start().unwrap();
    let one = RedisStore::open(&server.url()).unwrap();
    let two = RedisStore::open(&server.url()).unwrap();
    let until = Duration::from_millis(600);
    assert!(one.first_use("jkt.jti-1", until).await.unwrap());
    assert!(
        !two.first_use("jkt.jti-1", until).await.unwrap(),
        "a replay on the other store"
    );
    assert!(!one.first_use("jkt.jti-1", until).await.unwrap());
    assert!(two.first_use("jkt.jti-2", until).await.unwrap());
    // At once from many tasks: exactly one first use.
    let until = Duration::from_secs(10);
    let store = std::sync::Arc::new(one);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.first_use("race", until).await.unwrap() })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        firsts += usize::from(t.await.unwrap());
    }
    assert_eq!(firsts, 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        two.first_use("jkt.jti-1", Duration::from_secs(1))
            .await
            .unwrap(),
        "forgotten after its window"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_shared_and_expires_with_its_ttl() {
    use bouncer_store::CacheStore;
    let mut server = RedisServer::start().unwrap();
    let one = RedisStore::open(&server.url()).unwrap();
    let other = RedisStore::open(&server.url()).unwrap();
    let body: &[u8] = b"\x00\xffbytes, not text";
    CacheStore::put(&one, "k", body, Duration::from_millis(400))
        .await
        .unwrap();
    // Another instance sees it, byte for byte.
    assert_eq!(
        CacheStore::get(&other, "k").await.unwrap().as_deref(),
        Some(body)
    );
    CacheStore::put(&one, "gone", b"x", Duration::from_secs(60))
        .await
        .unwrap();
    CacheStore::remove(&other, "gone").await.unwrap();
    assert_eq!(CacheStore::get(&one, "gone").await.unwrap(), None);
    // A zero TTL stores nothing.
    CacheStore::put(&one, "zero", b"x", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(CacheStore::get(&one, "zero").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(CacheStore::get(&other, "k").await.unwrap(), None, "expired");
    server.stop();
    assert_unavailable(CacheStore::get(&one, "k").await);
}
