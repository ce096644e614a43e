#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ipguard demo` run as a user runs it: the real binary, a fresh SQLite
//! file, a small scale. The checks read the database the demo wrote, and
//! log in over HTTP with the credentials it printed.

use ipguard_store::Store;
use sqlx::Row;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The demo process; killed when the test ends, pass or fail.
struct Demo {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(db: &str) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipguard"))
        .args([
            "demo",
            "--db",
            db,
            "--bind",
            "127.0.0.1:0",
            "--scale",
            "0.02",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next().unwrap().unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line should announce the URL, got {first:?}"))
        .to_owned();
    Demo { child, stdout, url }
}

/// (email, password) of every login the demo printed.
fn printed_logins(demo: &mut Demo) -> Vec<(String, String)> {
    let header = demo.stdout.next().unwrap().unwrap();
    assert!(header.starts_with("demo logins"), "got {header:?}");
    let mut logins = Vec::new();
    for line in demo.stdout.by_ref() {
        let line = line.unwrap();
        if line.trim_start().starts_with("every ") {
            break;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [.., email, password] = words.as_slice() else {
            panic!("a login line should end with email and password: {line:?}");
        };
        logins.push(((*email).to_owned(), (*password).to_owned()));
    }
    logins
}

async fn distinct(store: &Store, sql: &str) -> BTreeSet<String> {
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String, _>(0).unwrap())
        .collect()
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[tokio::test]
async fn demo_fills_every_workflow_state_through_the_service_and_its_logins_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("demo.db").display());
    let mut demo = start_demo(&db);
    let logins = printed_logins(&mut demo);

    let http = reqwest::Client::new();
    let mut roles = BTreeSet::new();
    for (email, password) in &logins {
        let response = http
            .post(format!("{}/api/v1/login", demo.url))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login {email} failed");
        let body: serde_json::Value = response.json().await.unwrap();
        roles.insert(body["role"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        roles,
        set(&["admin", "reviewer", "rights_holder", "seller"]),
        "the printed logins cover every role"
    );

    let store = Store::connect(&db).await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM platforms").await, 3);
    assert_eq!(
        distinct(&store, "SELECT DISTINCT kind FROM platforms").await,
        set(&["b2c", "c2c", "second_hand"])
    );
    assert_eq!(
        distinct(&store, "SELECT DISTINCT status FROM notice_items").await,
        set(&[
            "pending",
            "rejected",
            "removed_pending_review",
            "restored",
            "upheld"
        ]),
        "notice items in every state"
    );
    assert_eq!(
        distinct(&store, "SELECT DISTINCT status FROM challenges").await,
        set(&[
            "awaiting_legal_action",
            "denied",
            "legal_action_filed",
            "pending",
            "restored"
        ]),
        "appeals and counter-notices in every state"
    );
    assert_eq!(
        distinct(&store, "SELECT DISTINCT kind FROM challenges").await,
        set(&["appeal", "counter_notice"])
    );
    assert_eq!(
        distinct(&store, "SELECT DISTINCT channel FROM notices").await,
        set(&["anonymous", "api", "csv"])
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM submitter_trust WHERE trusted = 1"
        )
        .await
            >= 1,
        "a trusted submitter"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM submitter_trust WHERE trusted = 0"
        )
        .await
            >= 1,
        "a submitter that lost trust"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM organisations WHERE standing = 'warned'"
        )
        .await
            >= 1
    );
    assert!(count(&store, "SELECT COUNT(*) FROM strikes").await >= 1);
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM penalty_history WHERE penalty = 'closure'"
        )
        .await
            >= 1,
        "a repeat infringer reached closure"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM (SELECT person_id FROM sellers GROUP BY person_id \
             HAVING COUNT(DISTINCT platform) > 1) AS linked"
        )
        .await
            >= 1,
        "the identity graph links shops across platforms"
    );
    assert!(count(&store, "SELECT COUNT(*) FROM orders").await > 0);
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM listings WHERE removed_by = 'proactive'"
        )
        .await
            >= 1,
        "detection removed announced replicas before anyone reported them"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM findings WHERE status = 'open'"
        )
        .await
            >= 1,
        "detection queued doubtful listings for review"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM findings WHERE reasons LIKE '%image_match%'"
        )
        .await
            >= 1,
        "stolen product photos were matched to the brands' reference photos"
    );
    ipguard_store::audit::verify(&store)
        .await
        .expect("the audit chain is intact");

    // A second run serves the same data instead of generating more.
    let listings = count(&store, "SELECT COUNT(*) FROM listings").await;
    drop(demo);
    let mut again = start_demo(&db);
    assert_eq!(printed_logins(&mut again), logins);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM listings").await,
        listings
    );
    store.close().await;
}
