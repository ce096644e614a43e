use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn penalty_ladder_escalates_and_follows_the_person_across_shops() {
    let app = spawn_app().await;
    app.marketplace(0).await;
    // Two shops of one person (same identity document), one unrelated shop.
    let first = app.seller("A1", "passport-77").await;
    let second = app.seller("A2", "passport-77").await;
    assert_eq!(first.person_id, second.person_id);
    let other = app.seller("B1", "passport-99").await;
    assert_ne!(other.person_id, first.person_id);
    let listings: Vec<_> = (0..4)
        .map(|n| json!({"id": format!("A1-{n}"), "platform": "bazaar", "seller_id": "A1", "title": "Bag", "category": "bags"}))
        .chain([json!({"id": "A2-0", "platform": "bazaar", "seller_id": "A2", "title": "Bag", "category": "bags"})])
        .collect();
    app.post("/api/v1/listings/batch", &app.admin, json!(listings))
        .await;
    let holder = app.rights_holder("Acme").await;

    let mut seen = Vec::new();
    for listing in ["A1-0", "A1-1", "A2-0", "A1-2"] {
        app.upheld(&holder, listing).await;
        let view = app
            .get(&format!("/api/v1/sellers/{}", second.id), &second.key)
            .await;
        seen.push(view.body["penalty"].as_str().unwrap().to_owned());
    }
    // Weights 3 each: 3 → listing_limit, 6 → suspension, 12 → closure.
    assert_eq!(
        seen,
        ["listing_limit", "suspension", "suspension", "closure"]
    );
    // The suspension took the person's other live listing down in both
    // shops; the notices that followed could still name those listings.
    let hidden = app.get("/api/v1/listings/bazaar/A1-3", &app.admin).await;
    assert_eq!(hidden.body["state"], "removed");
    assert_eq!(hidden.body["removed_by"], "penalty");
    let noticed = app.get("/api/v1/listings/bazaar/A1-2", &app.admin).await;
    assert_eq!(noticed.body["removed_by"], "notice");
    let view = app
        .get(&format!("/api/v1/sellers/{}", first.id), &first.key)
        .await;
    assert_eq!(view.body["penalty_history"][0]["penalty"], "closure");
    assert!(
        view.body["penalty_history"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("counterfeit")
    );

    // A closed person can neither list nor open a new shop on any platform.
    let refused = app
        .post(
            "/api/v1/listings/batch",
            &app.admin,
            json!([{"id": "A1-9", "platform": "bazaar", "seller_id": "A1", "title": "Bag"}]),
        )
        .await;
    assert_eq!(refused.body["rejected"], 1);
    assert!(
        refused.body["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("closure")
    );
    let mall = json!({"id": "mall", "name": "Mall", "kind": "b2c", "listing_url_prefix": "https://mall.example/p/"});
    app.post("/api/v1/platforms", &app.admin, mall).await;
    let reopened = app
        .post("/api/v1/sellers", &app.admin, json!({"platform": "mall", "id": "new-shop", "display_name": "New",
            "identity": {"legal_name": "X", "email": "fresh@mail.test", "phone": "+1 000", "id_document_ref": "PASSPORT 77",
            "bank_account_ref": "other", "address": "Elsewhere"}}))
        .await;
    assert_problem(&reopened, StatusCode::FORBIDDEN, "person_closed");

    // The unrelated shop is untouched; notifications told the seller each time.
    let untouched = app
        .get(&format!("/api/v1/sellers/{}", other.id), &other.key)
        .await;
    assert_eq!(untouched.body["penalty"], "none");
    let events = app.get("/api/v1/notifications", &first.key).await;
    let changes = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "penalty.changed")
        .count();
    assert_eq!(changes, 3);
}

#[tokio::test]
async fn listing_limit_caps_new_listings() {
    let mut config = ipguard_server::config::Config::default();
    config.policy.listing_limit = 2;
    let app = spawn_app_with(config).await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    app.upheld(&holder, "L0-0").await;
    let view = app
        .get(&format!("/api/v1/sellers/{}", sellers[0].id), &app.admin)
        .await;
    assert_eq!(view.body["penalty"], "listing_limit");
    // One active listing left (L0-1): one more fits under the limit of 2, the next does not.
    let batch = json!([
        {"id": "L0-7", "platform": "bazaar", "seller_id": "S0", "title": "Shoe"},
        {"id": "L0-8", "platform": "bazaar", "seller_id": "S0", "title": "Shoe"}
    ]);
    let result = app.post("/api/v1/listings/batch", &app.admin, batch).await;
    assert_eq!(result.body["created"], 1);
    assert_eq!(result.body["rejected"], 1);
}

#[tokio::test]
async fn a_suspension_hides_the_shops_listings_until_it_is_lifted() {
    let app = spawn_app().await;
    let sellers = app.marketplace(1).await;
    let extra = json!([{"id": "L0-2", "platform": "bazaar", "seller_id": "S0", "title": "Scarf", "category": "fashion"}]);
    app.post("/api/v1/listings/batch", &app.admin, extra).await;
    let holder = app.rights_holder("Acme").await;
    for listing in ["L0-0", "L0-1"] {
        app.upheld(&holder, listing).await;
    }
    let seller = app
        .get(
            &format!("/api/v1/sellers/{}", sellers[0].id),
            &sellers[0].key,
        )
        .await;
    assert_eq!(seller.body["penalty"], "suspension");
    let hidden = app
        .get("/api/v1/listings/bazaar/L0-2", &sellers[0].key)
        .await;
    assert_eq!(hidden.body["state"], "removed");
    assert_eq!(hidden.body["removed_by"], "penalty");
    let events = app.get("/api/v1/notifications", &sellers[0].key).await;
    let suspended = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["event"] == "penalty.changed" && e["payload"]["data"]["penalty"] == "suspension"
        })
        .expect("the seller is told of the suspension");
    assert_eq!(suspended["payload"]["data"]["listings"], json!(["L0-2"]));
    let figures = app.get("/api/v1/enforcement/removals", &app.admin).await;
    assert_eq!(figures.body[0]["penalty"], 1);
    assert_eq!(figures.body[0]["notice"], 2);

    // The strikes run out: the suspension ends and the hidden listing comes
    // back; the two removed for infringement stay down.
    sqlx::query("UPDATE strikes SET expires_at = 1")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    app.run_jobs().await;
    let seller = app
        .get(
            &format!("/api/v1/sellers/{}", sellers[0].id),
            &sellers[0].key,
        )
        .await;
    assert_eq!(seller.body["penalty"], "none");
    assert_eq!(app.listing_state("L0-2").await, "active");
    assert_eq!(app.listing_state("L0-0").await, "removed");
    assert_eq!(app.listing_state("L0-1").await, "removed");
    ipguard_store::audit::verify(&app.state.store)
        .await
        .unwrap();
}
