use ipguard_domain::Role;
use ipguard_server::api::accounts::bootstrap_user;
use ipguard_server::config::Config;
use ipguard_server::{AppState, launch_with_tcp_listener};
use ipguard_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub url: String,
    pub state: AppState,
    pub http: reqwest::Client,
    pub admin: String,
    pub reviewer: String,
    pub reviewer2: String,
    /// Keeps the SQLite file alive for the test's duration.
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("IPGUARD_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            let name = format!("ipguard_test_{}", rand_suffix());
            let admin = sqlx::postgres::PgPool::connect(&format!("{server}/postgres"))
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            format!("{server}/{name}")
        }
        _ => format!("sqlite:{}", dir.path().join("test.db").display()),
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

pub async fn spawn_app_with(mut config: Config) -> TestApp {
    config.server.cookie_secure = false;
    // Background jobs run often, unless the test chose its own pace.
    if config.server.job_interval_ms == Config::default().server.job_interval_ms {
        config.server.job_interval_ms = 50;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&database_url(&dir).await).await.unwrap();
    let state = AppState::new(store, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(launch_with_tcp_listener(listener, state.clone(), async {
        let _ = rx.await;
    }));
    let (_, admin) = bootstrap_user(
        &state,
        "admin@ipguard.test",
        "admin-password-1",
        Role::Admin,
        None,
        None,
    )
    .await
    .unwrap();
    let (_, reviewer) = bootstrap_user(
        &state,
        "reviewer@ipguard.test",
        "reviewer-password-1",
        Role::Reviewer,
        None,
        None,
    )
    .await
    .unwrap();
    let (_, reviewer2) = bootstrap_user(
        &state,
        "reviewer2@ipguard.test",
        "reviewer-password-2",
        Role::Reviewer,
        None,
        None,
    )
    .await
    .unwrap();
    TestApp {
        url,
        state,
        http: reqwest::Client::new(),
        admin,
        reviewer,
        reviewer2,
        _dir: dir,
        shutdown: Some(tx),
    }
}

/// A response's status and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: String,
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    /// A marketplace with one platform, `sellers` sellers and two listings each (`L{s}-{n}`).
    pub async fn marketplace(&self, sellers: usize) -> Vec<Seller> {
        let platform = json!({"id": "bazaar", "name": "Bazaar", "kind": "c2c",
            "listing_url_prefix": "https://bazaar.example/item/"});
        assert_eq!(
            self.post("/api/v1/platforms", &self.admin, platform)
                .await
                .status,
            StatusCode::CREATED
        );
        let mut out = Vec::new();
        for s in 0..sellers {
            out.push(self.seller(&format!("S{s}"), &format!("doc-{s}")).await);
        }
        if sellers == 0 {
            return out;
        }
        let listings: Vec<Value> = (0..sellers)
            .flat_map(|s| {
                (0..2).map(move |n| {
                    json!({"id": format!("L{s}-{n}"), "platform": "bazaar", "seller_id": format!("S{s}"),
                        "title": format!("Sneakers model {n}"), "category": "shoes/sneakers",
                        "price": {"amount": "19.90", "currency": "USD"}})
                })
            })
            .collect();
        let result = self
            .post("/api/v1/listings/batch", &self.admin, json!(listings))
            .await;
        assert_eq!(result.status, StatusCode::OK, "{}", result.body);
        assert_eq!(result.body["created"], json!(sellers * 2));
        out
    }

    /// Registers seller `ext_id` on bazaar with its own login.
    pub async fn seller(&self, ext_id: &str, id_doc: &str) -> Seller {
        let seller = json!({"platform": "bazaar", "id": ext_id, "display_name": format!("Shop {ext_id}"),
            "identity": {"legal_name": format!("Person {id_doc}"), "email": format!("{id_doc}@mail.test"),
            "phone": format!("+1 555 0100 {id_doc}"), "id_document_ref": id_doc,
            "bank_account_ref": format!("IBAN-{id_doc}"), "address": "1 Market St"}});
        let created = self.post("/api/v1/sellers", &self.admin, seller).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        let email = format!("{}@seller.test", ext_id.to_lowercase());
        let (_, key) = bootstrap_user(
            &self.state,
            &email,
            "seller-password-1",
            Role::Seller,
            None,
            Some(id),
        )
        .await
        .unwrap();
        Seller {
            id,
            key,
            person_id: created.body["person_id"].as_i64().unwrap(),
        }
    }

    /// Registers a rights holder with a verified trademark; returns its key and right id.
    pub async fn rights_holder(&self, name: &str) -> Holder {
        let email = format!("legal@{}.test", name.to_lowercase());
        let registered = self
            .call(
                Method::POST,
                "/api/v1/register",
                None,
                Some(json!({"organisation": name, "email": email,
                "password": "holder-password-1"})),
            )
            .await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.body
        );
        let key = registered.body["api_key"].as_str().unwrap().to_owned();
        let right = self
            .post(
                "/api/v1/rights",
                &key,
                json!({"kind": "trademark", "registration_number": format!("EU-{name}"),
                "office": "EUIPO", "scope": "classes 18, 25", "owner": name}),
            )
            .await;
        assert_eq!(right.status, StatusCode::CREATED, "{}", right.body);
        let right_id = right.body["id"].as_i64().unwrap();
        let verified = self
            .post(
                &format!("/api/v1/rights/{right_id}/verification"),
                &self.reviewer,
                json!({"status": "verified"}),
            )
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
        Holder { key, right_id }
    }

    pub async fn file(&self, holder: &Holder, kind: &str, listings: &[&str]) -> Reply {
        let listings: Vec<Value> = listings
            .iter()
            .map(|l| json!({"platform": "bazaar", "listing_id": l}))
            .collect();
        self.post(
            "/api/v1/notices",
            &holder.key,
            notice_body(holder.right_id, kind, listings),
        )
        .await
    }

    pub async fn decide(&self, reviewer: &str, item: i64, outcome: &str) -> Reply {
        self.post(
            &format!("/api/v1/items/{item}/decision"),
            reviewer,
            decision_body(outcome, false),
        )
        .await
    }

    /// Files a counterfeit notice on one listing and has the reviewer uphold
    /// it; returns the item's id.
    pub async fn upheld(&self, holder: &Holder, listing: &str) -> i64 {
        let filed = self.file(holder, "counterfeit", &[listing]).await;
        let item = item_ids(&filed)[0];
        let decided = self.decide(&self.reviewer, item, "uphold").await;
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
        item
    }

    /// The holder's record and trusted status for one infringement type.
    pub async fn submitter_record(&self, holder: &Holder, kind: &str) -> Value {
        let record = self.get("/api/v1/submitter", &holder.key).await;
        record.body["by_type"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["infringement_type"] == kind)
            .unwrap()
            .clone()
    }

    pub async fn listing_state(&self, ext_id: &str) -> String {
        let listing = self
            .get(&format!("/api/v1/listings/bazaar/{ext_id}"), &self.admin)
            .await;
        listing.body["state"].as_str().unwrap().to_owned()
    }

    /// Runs one round of the background jobs now rather than waiting for the interval.
    /// A second server process over the same database, with its own photo
    /// index and detection engine, as a second `ipguard serve` sharing
    /// PostgreSQL is. Its jobs run beside this one's; it stops with the test.
    pub async fn second_process(&self) -> (String, AppState) {
        let state = AppState::new(self.state.store.clone(), (*self.state.config).clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(launch_with_tcp_listener(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        // Ready once it answers: it opens its photo index before serving.
        while self
            .http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_err()
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        (url, state)
    }

    pub async fn run_jobs(&self) {
        let mut since = 0;
        ipguard_server::jobs::run_once(&self.state, &mut since)
            .await
            .unwrap();
    }
}

pub struct Seller {
    pub id: i64,
    pub key: String,
    pub person_id: i64,
}

pub struct Holder {
    pub key: String,
    pub right_id: i64,
}

pub fn notice_body(right_id: i64, kind: &str, listings: Vec<Value>) -> Value {
    json!({"right_id": right_id, "infringement_type": kind, "listings": listings,
        "description": "Counterfeit goods bearing our registered mark",
        "declarations": {"good_faith": true, "accurate": true, "authorised": true}})
}

pub fn decision_body(outcome: &str, unfounded: bool) -> Value {
    json!({"outcome": outcome, "manifestly_unfounded": unfounded,
        "statement": {"facts": "The listing shows the mark on goods the holder never made.",
            "ground": {"kind": "legal", "reference": "EUTMR art. 9(2)(a)", "explanation": "Identical sign, identical goods."}}})
}

pub fn challenge_decision_body(outcome: &str) -> Value {
    json!({"outcome": outcome,
        "statement": {"facts": "The seller showed a distributor invoice for these goods.",
            "ground": {"kind": "legal", "reference": "DMCA 512(g)", "explanation": "The challenge meets the requirements."}}})
}

pub fn item_ids(filed: &Reply) -> Vec<i64> {
    filed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        content_type,
    }
}

/// Asserts a problem+json error with this status and code.
pub fn assert_problem(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert_eq!(reply.body["status"], status.as_u16());
}
