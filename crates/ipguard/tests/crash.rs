#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The server killed (SIGKILL) while notices pour in: after a restart every
//! notice it acknowledged is there, nothing is half-written, and the audit
//! chain verifies. The real binary, a real SQLite file, real HTTP.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ipguard");

/// `ipguard serve` on a random port; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, url }
}

/// Creates a user with the CLI and returns its API key.
fn create_user(db: &str, email: &str, role: &str) -> String {
    let mut child = Command::new(BIN)
        .args([
            "user", "create", "--db", db, "--email", email, "--role", role,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "a-long-password-1").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    printed.trim().rsplit(' ').next().unwrap().to_owned()
}

async fn post(http: &reqwest::Client, url: &str, key: &str, body: Value) -> (u16, Value) {
    let response = http
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn killing_the_server_mid_load_loses_nothing_acknowledged_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("crash.db").display());
    let migrated = Command::new(BIN).args(["migrate", "--db", &db]).status();
    assert!(migrated.unwrap().success());
    let admin = create_user(&db, "admin@crash.test", "admin");
    let reviewer = create_user(&db, "reviewer@crash.test", "reviewer");
    let server = serve(&db);
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", server.url);

    post(
        &http,
        &api("/platforms"),
        &admin,
        json!({"id": "bazaar", "name": "Bazaar", "kind": "c2c",
            "listing_url_prefix": "https://bazaar.example/item/"}),
    )
    .await;
    let (status, _) = post(
        &http,
        &api("/sellers"),
        &admin,
        json!({"platform": "bazaar", "id": "S1",
        "display_name": "Shop", "identity": {"legal_name": "Kim Doe", "email": "kim@shop.test",
        "phone": "+1 555 0100", "id_document_ref": "ID-1", "bank_account_ref": "IBAN-1",
        "address": "1 Main St"}}),
    )
    .await;
    assert_eq!(status, 201);
    // Far more than can be filed before the kill, so it lands mid-load.
    const LISTINGS: usize = 3000;
    let listings: Vec<Value> = (0..LISTINGS)
        .map(|i| {
            json!({"id": format!("L{i}"), "platform": "bazaar", "seller_id": "S1",
            "title": format!("Sneakers model {i}"), "category": "shoes/sneakers"})
        })
        .collect();
    for batch in listings.chunks(1000) {
        let (status, _) = post(&http, &api("/listings/batch"), &admin, json!(batch)).await;
        assert_eq!(status, 200);
    }
    let (status, holder) = post(
        &http,
        &api("/register"),
        "",
        json!({"organisation": "Acme", "email": "legal@acme.test", "password": "a-long-password-2"}),
    )
    .await;
    assert_eq!(status, 201);
    let holder = holder["api_key"].as_str().unwrap().to_owned();
    let (_, right) = post(
        &http,
        &api("/rights"),
        &holder,
        json!({"kind": "trademark", "registration_number": "EU-1", "office": "EUIPO",
            "scope": "class 25", "owner": "Acme"}),
    )
    .await;
    let right_id = right["id"].as_i64().unwrap();
    post(
        &http,
        &api(&format!("/rights/{right_id}/verification")),
        &reviewer,
        json!({"status": "verified"}),
    )
    .await;

    // Eight clients file one notice a listing until the server dies under them.
    let mut clients = Vec::new();
    for client in 0..8 {
        let (http, url, holder) = (http.clone(), api("/notices"), holder.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in (client..LISTINGS).step_by(8) {
                let body = json!({"right_id": right_id, "infringement_type": "counterfeit",
                    "listings": [{"platform": "bazaar", "listing_id": format!("L{i}")}],
                    "description": "Counterfeit goods bearing our registered mark",
                    "declarations": {"good_faith": true, "accurate": true, "authorised": true}});
                let Ok(response) = http
                    .post(&url)
                    .bearer_auth(&holder)
                    .json(&body)
                    .send()
                    .await
                else {
                    break;
                };
                if response.status() != 201 {
                    break;
                }
                let Ok(filed) = response.json::<Value>().await else {
                    break;
                };
                acknowledged.push(filed["id"].as_i64().unwrap());
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < LISTINGS,
        "the kill should land mid-load ({} of {LISTINGS} acknowledged)",
        acknowledged.len()
    );
    drop(server);
    eprintln!(
        "{} notices acknowledged before the kill",
        acknowledged.len()
    );

    let verified = Command::new(BIN)
        .args(["audit", "verify", "--db", &db])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let server = serve(&db);
    let notice = |id: i64| format!("{}/api/v1/notices/{id}", server.url);
    for id in &acknowledged {
        let found = http
            .get(notice(*id))
            .bearer_auth(&holder)
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), 200, "acknowledged notice {id} was lost");
        let found: Value = found.json().await.unwrap();
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    }
    let store = ipguard_store::Store::connect(&db).await.unwrap();
    let count = |sql: &'static str| {
        let store = store.clone();
        async move {
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one(store.pool())
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM notices n WHERE NOT EXISTS (SELECT 1 FROM notice_items i WHERE i.notice_id = n.id)").await,
        0,
        "a notice without its items"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM notices").await,
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.filed'").await,
        "every stored notice has its audit entry and no entry lacks its notice"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM notices").await,
        count("SELECT COUNT(*) FROM notifications WHERE event = 'notice.received'").await,
        "every stored notice has its outbox notification"
    );
    store.close().await;
}
