//! The server-rendered portal over real HTTP: each role logs in through the
//! form with a cookie-keeping client and does its part of the workflow;
//! forms without the session's CSRF token are refused; listing text is
//! escaped on every page that shows it.

use ipguard_domain::Role;
use ipguard_server::api::accounts::bootstrap_user;
use ipguard_server::config::Config;
use ipguard_server::{AppState, launch_with_tcp_listener};
use ipguard_store::Store;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A listing title that would run a script if the portal did not escape it.
const HOSTILE_TITLE: &str = r#"<script>alert("pwned")</script> Nike & "Air" <b>"#;
const ESCAPED_TITLE: &str =
    "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Nike &amp; &quot;Air&quot; &lt;b&gt;";

struct TestApp {
    base: String,
    state: AppState,
    api: reqwest::Client,
    admin_key: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The server on a random port with a fresh database, and an administrator.
async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::helpers::database_url(&dir).await)
        .await
        .unwrap();
    let mut config = Config::default();
    // reqwest's cookie store keeps Secure cookies off plain http.
    config.server.cookie_secure = false;
    let state = AppState::new(store, config).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(launch_with_tcp_listener(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    let (_, admin_key) = bootstrap_user(
        &state,
        "admin@example.com",
        "admin-password",
        Role::Admin,
        None,
        None,
    )
    .await
    .unwrap();
    TestApp {
        base,
        state,
        api: reqwest::Client::new(),
        admin_key,
        _dir: dir,
        _stop: stop,
    }
}

/// The people and objects of one story: a platform with a seller whose
/// listing carries a hostile title, a rights holder with a pending right,
/// two reviewers and the seller's user.
struct World {
    right_id: i64,
    holder_key: String,
}

const HOLDER: (&str, &str) = ("holder@example.com", "holder-password");
const REVIEWER: (&str, &str) = ("reviewer@example.com", "reviewer-password");
const SECOND_REVIEWER: (&str, &str) = ("second@example.com", "second-password");
const SELLER: (&str, &str) = ("seller@example.com", "seller-password");

impl TestApp {
    async fn api_post(&self, key: &str, path: &str, body: Value) -> Value {
        let response = self
            .api
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn world(&self) -> World {
        let admin = &self.admin_key;
        self.api_post(
            admin,
            "/api/v1/platforms",
            json!({"id": "bazaar", "name": "Bazaar", "kind": "c2c",
                   "listing_url_prefix": "https://bazaar.example/item/"}),
        )
        .await;
        let seller = self
            .api_post(
                admin,
                "/api/v1/sellers",
                json!({"platform": "bazaar", "id": "S1", "display_name": "Cheap Kicks",
                       "identity": {"legal_name": "Kim Doe", "email": "kim@example.com",
                                    "phone": "+1 555 0100", "id_document_ref": "PASS-0001",
                                    "bank_account_ref": "IBAN-0001", "address": "1 Main St"}}),
            )
            .await;
        let seller_id = seller["id"].as_i64().unwrap();
        self.api_post(
            admin,
            "/api/v1/listings/batch",
            json!([
                {"id": "L1", "platform": "bazaar", "seller_id": "S1", "title": HOSTILE_TITLE,
                 "description": "brand new", "category": "shoes/sneakers",
                 "price": {"amount": "19.90", "currency": "USD"}},
                {"id": "L2", "platform": "bazaar", "seller_id": "S1", "title": "Plain sneakers",
                 "category": "shoes/sneakers"}
            ]),
        )
        .await;
        let registered = self
            .api
            .post(format!("{}/api/v1/register", self.base))
            .json(&json!({"organisation": "Acme Brands", "email": HOLDER.0, "password": HOLDER.1}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let registered: Value = registered.json().await.unwrap();
        let holder_key = registered["api_key"].as_str().unwrap().to_owned();
        let right = self
            .api_post(
                &holder_key,
                "/api/v1/rights",
                json!({"kind": "trademark", "registration_number": "EU-018-123",
                       "office": "EUIPO", "scope": "class 25", "owner": "Acme Brands"}),
            )
            .await;
        for (email, password) in [REVIEWER, SECOND_REVIEWER] {
            bootstrap_user(&self.state, email, password, Role::Reviewer, None, None)
                .await
                .unwrap();
        }
        bootstrap_user(
            &self.state,
            SELLER.0,
            SELLER.1,
            Role::Seller,
            None,
            Some(seller_id),
        )
        .await
        .unwrap();
        World {
            right_id: right["id"].as_i64().unwrap(),
            holder_key,
        }
    }

    /// A browser: keeps cookies, and shows redirects instead of following
    /// them so that tests can check where they lead.
    fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Logs in through the form (which refuses a post without the form's
    /// CSRF token) and checks the redirect to the role's start page.
    async fn log_in(&self, (email, password): (&str, &str), home: &str) -> Browser {
        let browser = self.browser();
        let form = browser.page("/login").await;
        let response = browser
            .post_with_and_without_csrf(
                &form,
                "/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), home);
        browser
    }
}

struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// A page that must load, as text.
    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
        );
        response.text().await.unwrap()
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form twice: without the CSRF token (must be refused with 403
    /// and change nothing the caller can see), then with the token taken
    /// from `page`, returning the second response.
    async fn post_with_and_without_csrf(
        &self,
        page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let refused = self.post_form(path, fields).await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "POST {path} without CSRF"
        );
        let body = refused.text().await.unwrap();
        assert!(
            body.contains("did not come from your current session"),
            "{body}"
        );
        let forged: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .chain([("csrf", "forged-token")])
            .collect();
        let refused = self.post_form(path, &forged).await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "POST {path} with a wrong CSRF token"
        );
        let token = csrf_token(page);
        let with_token: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .chain([("csrf", token.as_str())])
            .collect();
        self.post_form(path, &with_token).await
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The CSRF token of the page's forms.
fn csrf_token(page: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = page
        .find(marker)
        .expect("the page has a form with a CSRF token")
        + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

fn statement_fields<'a>(outcome: &'a str, facts: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("outcome", outcome),
        ("facts", facts),
        ("ground_kind", "legal"),
        ("ground_reference", "EU Trade Mark Regulation art. 9(2)(a)"),
        (
            "ground_explanation",
            "Identical sign for identical goods without consent.",
        ),
        ("territorial_scope", "European Union"),
    ]
}

#[tokio::test]
async fn every_role_does_its_part_of_the_workflow_through_the_portal() {
    let app = spawn_app().await;
    let world = app.world().await;

    // A reviewer verifies the rights holder's right.
    let reviewer = app.log_in(REVIEWER, "/portal/review").await;
    let pending = reviewer.page("/portal/rights/pending").await;
    assert!(pending.contains("EU-018-123"), "{pending}");
    let verification = format!("/portal/rights/{}/verification", world.right_id);
    let verified = reviewer
        .post_with_and_without_csrf(
            &pending,
            &verification,
            &[("status", "verified"), ("reason", "")],
        )
        .await;
    assert_eq!(verified.status(), StatusCode::SEE_OTHER);
    let pending = reviewer.page(&location(&verified)).await;
    assert!(pending.contains("was decided"), "{pending}");
    assert!(!pending.contains("EU-018-123"), "{pending}");

    // The rights holder sees the verified right and files a notice; missing
    // declarations are reported next to the form.
    let holder = app.log_in(HOLDER, "/portal/notices").await;
    let rights = holder.page("/portal/rights").await;
    assert!(
        rights.contains("EU-018-123") && rights.contains("verified"),
        "{rights}"
    );
    let form = holder.page("/portal/notices/new").await;
    let right_id = world.right_id.to_string();
    let notice = [
        ("right_id", right_id.as_str()),
        ("infringement_type", "counterfeit"),
        ("platform", "bazaar"),
        ("listings", "L1\r\n"),
        (
            "description",
            "Counterfeit Acme sneakers sold under our mark.",
        ),
        ("good_faith", "yes"),
        ("accurate", "yes"),
        ("authorised", "yes"),
    ];
    let csrf = csrf_token(&form);
    let undeclared = holder
        .post_form(
            "/portal/notices/new",
            &[
                ("csrf", csrf.as_str()),
                ("right_id", right_id.as_str()),
                ("infringement_type", "counterfeit"),
                ("platform", "bazaar"),
                ("listings", "L1\nNO-SUCH-LISTING"),
                (
                    "description",
                    "Counterfeit Acme sneakers sold under our mark.",
                ),
            ],
        )
        .await;
    assert_eq!(undeclared.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let undeclared = undeclared.text().await.unwrap();
    assert!(
        undeclared.contains("the statement of good-faith belief is required"),
        "{undeclared}"
    );
    assert!(
        undeclared.contains("the statement of authority to act is required"),
        "{undeclared}"
    );
    let filed = holder
        .post_with_and_without_csrf(&form, "/portal/notices/new", &notice)
        .await;
    assert_eq!(filed.status(), StatusCode::SEE_OTHER);
    let notices = holder.page(&location(&filed)).await;
    assert!(notices.contains("was filed"), "{notices}");
    assert!(notices.contains("waiting for review"), "{notices}");
    assert!(notices.contains(ESCAPED_TITLE), "{notices}");
    assert!(!notices.contains("<script>alert"), "{notices}");

    // The reviewer upholds it from the queue.
    let queue = reviewer.page("/portal/review").await;
    assert!(queue.contains(ESCAPED_TITLE), "{queue}");
    assert!(!queue.contains("<script>alert"), "{queue}");
    let item_id: i64 = sqlx::query_scalar("SELECT id FROM notice_items")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let decision = format!("/portal/review/items/{item_id}");
    let decided = reviewer
        .post_with_and_without_csrf(
            &queue,
            &decision,
            &statement_fields(
                "uphold",
                "The listing offers counterfeit Acme sneakers at a sixth of the price.",
            ),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    let queue = reviewer.page(&location(&decided)).await;
    assert!(queue.contains("The queue is empty."), "{queue}");

    // The seller sees the removal with its statement of reasons and the
    // strike, and appeals.
    let seller = app.log_in(SELLER, "/portal/seller").await;
    let overview = seller.page("/portal/seller").await;
    assert!(overview.contains(ESCAPED_TITLE), "{overview}");
    assert!(!overview.contains("<script>alert"), "{overview}");
    assert!(overview.contains("upheld, listing removed"), "{overview}");
    assert!(overview.contains("a sixth of the price"), "{overview}");
    assert!(overview.contains("European Union"), "{overview}");
    assert!(
        overview.contains("<td>yes</td>"),
        "the strike counts: {overview}"
    );
    let appeal = format!("/portal/seller/items/{item_id}/challenge");
    let appealed = seller
        .post_with_and_without_csrf(
            &overview,
            &appeal,
            &[
                ("kind", "appeal"),
                (
                    "reasons",
                    "These are genuine Acme sneakers bought from the distributor.",
                ),
                (
                    "evidence",
                    "invoice INV-77\nhttps://distributor.example/letter",
                ),
            ],
        )
        .await;
    assert_eq!(appealed.status(), StatusCode::SEE_OTHER);
    let overview = seller.page(&location(&appealed)).await;
    assert!(overview.contains("Your appeal: pending."), "{overview}");

    // The reviewer who removed the listing may not decide the appeal; a second one grants it.
    let challenges = reviewer.page("/portal/challenges").await;
    assert!(challenges.contains("invoice INV-77"), "{challenges}");
    let challenge_id: i64 = sqlx::query_scalar("SELECT id FROM challenges")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let challenge_decision = format!("/portal/challenges/{challenge_id}/decision");
    let grant = statement_fields(
        "uphold",
        "The seller showed an invoice from the authorised distributor.",
    );
    let token = csrf_token(&challenges);
    let same_reviewer = reviewer
        .post_form(
            &challenge_decision,
            &[&grant[..], &[("csrf", token.as_str())]].concat(),
        )
        .await;
    assert_eq!(same_reviewer.status(), StatusCode::FORBIDDEN);
    let second = app.log_in(SECOND_REVIEWER, "/portal/review").await;
    let challenges = second.page("/portal/challenges").await;
    let granted = second
        .post_with_and_without_csrf(&challenges, &challenge_decision, &grant)
        .await;
    assert_eq!(granted.status(), StatusCode::SEE_OTHER);

    // The listing is back, the strike is lifted, and the rights holder sees it.
    let overview = seller.page("/portal/seller").await;
    assert!(
        overview.contains("restored after a challenge"),
        "{overview}"
    );
    assert!(overview.contains("no, revoked"), "{overview}");
    let notices = holder.page("/portal/notices").await;
    assert!(notices.contains("restored after a challenge"), "{notices}");
    let record = holder.page("/portal/submitter").await;
    assert!(
        record.contains("<td>counterfeit</td><td>1</td>"),
        "{record}"
    );
}

#[tokio::test]
async fn a_notice_without_an_account_shows_a_token_that_tracks_it() {
    let app = spawn_app().await;
    app.world().await;
    let visitor = app.browser();
    let form = visitor.page("/report").await;
    assert!(form.contains("Registration number"), "{form}");
    let fields = [
        ("kind", "trademark"),
        ("registration_number", "US-5550001"),
        ("office", "USPTO"),
        ("owner", "Acme Brands"),
        ("infringement_type", "trademark_misuse"),
        ("platform", "bazaar"),
        ("listings", "https://bazaar.example/item/L2"),
        (
            "description",
            "Our word mark is used to sell unrelated shoes.",
        ),
        ("contact_name", "Pat Agent"),
        ("contact_email", "pat@agency.example"),
        ("good_faith", "yes"),
        ("accurate", "yes"),
        ("authorised", "yes"),
    ];
    let token = csrf_token(&form);
    let missing_contact: Vec<_> = fields
        .iter()
        .copied()
        .filter(|(name, _)| *name != "contact_email")
        .chain([("csrf", token.as_str())])
        .collect();
    let refused = visitor.post_form("/report", &missing_contact).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("a valid email address is required"),
        "{refused}"
    );
    // The form keeps what was typed.
    assert!(refused.contains("US-5550001"), "{refused}");

    let filed = visitor
        .post_with_and_without_csrf(&form, "/report", &fields)
        .await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed = filed.text().await.unwrap();
    let marker = r#"<code class="token">"#;
    let start = filed.find(marker).expect("the token is shown") + marker.len();
    let token = &filed[start..start + filed[start..].find('<').unwrap()];
    assert!(token.starts_with("igt_"), "{token}");

    let tracked = visitor.page(&format!("/track?token={token}")).await;
    assert!(tracked.contains("waiting for review"), "{tracked}");
    assert!(tracked.contains("L2"), "{tracked}");
    let unknown = visitor.get("/track?token=igt_not-a-token").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No notice has this tracking token")
    );
}

#[tokio::test]
async fn portal_pages_send_visitors_to_login_and_roles_to_their_own_pages() {
    let app = spawn_app().await;
    app.world().await;
    let visitor = app.browser();
    for path in [
        "/portal/notices",
        "/portal/review",
        "/portal/seller",
        "/portal/rights/pending",
    ] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }

    let form = visitor.page("/login").await;
    let token = csrf_token(&form);
    let wrong = visitor
        .post_form(
            "/login",
            &[
                ("csrf", token.as_str()),
                ("email", HOLDER.0),
                ("password", "not-the-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("wrong email or password")
    );

    let seller = app.log_in(SELLER, "/portal/seller").await;
    for path in ["/portal/review", "/portal/notices", "/portal/challenges"] {
        let response = seller.get(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<p class=\"error\">")
        );
    }
    let holder = app.log_in(HOLDER, "/portal/notices").await;
    assert_eq!(
        holder.get("/portal/seller").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        holder.get("/portal/review").await.status(),
        StatusCode::FORBIDDEN
    );

    // Logging out needs the token too, and ends the session.
    let notices = holder.page("/portal/notices").await;
    let out = holder
        .post_with_and_without_csrf(&notices, "/logout", &[])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&holder.get("/portal/notices").await), "/login");
}

#[tokio::test]
async fn rights_holder_sees_detected_listings_and_files_a_notice_from_one() {
    let app = spawn_app().await;
    let world = app.world().await;
    app.api_post(
        &app.admin_key,
        &format!("/api/v1/rights/{}/verification", world.right_id),
        json!({"status": "verified"}),
    )
    .await;
    app.api_post(
        &world.holder_key,
        "/api/v1/brands",
        json!({"slug": "acmeflux", "name": "Acmeflux", "right_id": world.right_id, "terms": ["Acmeflux"]}),
    )
    .await;
    app.api_post(
        &app.admin_key,
        "/api/v1/listings/batch",
        json!([{"id": "L3", "platform": "bazaar", "seller_id": "S1",
                "title": "Acmef1ux <b>trainers</b> & more", "category": "shoes/sneakers"}]),
    )
    .await;

    let holder = app.log_in(HOLDER, "/portal/notices").await;
    let findings = holder.page("/portal/findings").await;
    assert!(
        findings.contains("Acmef1ux &lt;b&gt;trainers&lt;/b&gt; &amp; more"),
        "{findings}"
    );
    assert!(findings.contains("awaiting a reviewer"), "{findings}");
    assert!(findings.contains("brand variant"), "{findings}");
    let marker = r#"href="/portal/notices/new?"#;
    let start = findings.find(marker).expect("a link to a notice") + "href=\"".len();
    let end = start + findings[start..].find('"').unwrap();
    let link = findings[start..end].replace("&amp;", "&");

    // The link opens the notice form with the listing and the evidence filled
    // in; the declarations are left for the holder to make.
    let form = holder.page(&link).await;
    assert!(form.contains("bazaar:L3"), "{form}");
    assert!(form.contains("Detected by ipguard (finding"), "{form}");
    assert!(!form.contains("checked"), "{form}");
    let right_id = world.right_id.to_string();
    let csrf = csrf_token(&form);
    let description = "Detected by ipguard: a misspelt Acmeflux on trainers we never made.";
    let filed = holder
        .post_form(
            "/portal/notices/new",
            &[
                ("csrf", csrf.as_str()),
                ("right_id", right_id.as_str()),
                ("infringement_type", "counterfeit"),
                ("platform", ""),
                ("listings", "bazaar:L3"),
                ("description", description),
                ("good_faith", "yes"),
                ("accurate", "yes"),
                ("authorised", "yes"),
            ],
        )
        .await;
    assert_eq!(filed.status(), StatusCode::SEE_OTHER);
    let notices = holder.page(&location(&filed)).await;
    assert!(notices.contains("was filed"), "{notices}");
    assert!(notices.contains("L3"), "{notices}");

    // Other roles have no findings page.
    let seller = app.log_in(SELLER, "/portal/seller").await;
    let refused = seller.get("/portal/findings").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
