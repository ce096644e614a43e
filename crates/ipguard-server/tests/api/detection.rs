use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Registers a brand on the holder's verified right.
async fn brand(app: &TestApp, holder: &Holder, slug: &str, name: &str, msrp: &str) {
    let created = app
        .post(
            "/api/v1/brands",
            &holder.key,
            json!({"slug": slug, "name": name, "right_id": holder.right_id, "terms": [name],
                "msrp": {"shoes/sneakers": {"amount": msrp, "currency": "USD"}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

fn listing(id: &str, seller: &str, title: &str, price: &str) -> Value {
    json!({"id": id, "platform": "bazaar", "seller_id": seller, "title": title,
        "category": "shoes/sneakers", "price": {"amount": price, "currency": "USD"}})
}

/// A new rights holder with the brand Quorvant, which has no price.
async fn quorvant_brand(app: &TestApp) -> Holder {
    let holder = app.rights_holder("Quorvant").await;
    let created = app
        .post(
            "/api/v1/brands",
            &holder.key,
            json!({"slug": "quorvant", "name": "Quorvant", "right_id": holder.right_id, "terms": ["Quorvant"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    holder
}

/// The listing ids (on the platform) of the findings a caller sees.
async fn findings(app: &TestApp, key: &str, query: &str) -> Vec<(i64, String, String)> {
    let listed = app.get(&format!("/api/v1/findings{query}"), key).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_i64().unwrap(),
                f["listing_id"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Polls until the listing reaches `state` (background rescans), or fails.
async fn wait_for_state(app: &TestApp, ext_id: &str, state: &str) {
    for _ in 0..100 {
        if app.listing_state(ext_id).await == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("listing {ext_id} never became {state}");
}

#[tokio::test]
async fn listings_are_scanned_at_ingest_and_findings_reach_reviewers_and_brand_owners() {
    let app = spawn_app().await;
    let sellers = app.marketplace(1).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let rival = app.rights_holder("Rival").await;
    brand(&app, &zephyr, "zephyrion", "Zephyrion", "120").await;
    // An established shop: the account-age signal leaves it alone.
    let established = app
        .post(
            "/api/v1/sellers",
            &app.admin,
            json!({"platform": "bazaar", "id": "OLD", "display_name": "Old Shop", "joined_at": "2019-03-01T00:00:00Z",
                "identity": {"legal_name": "Old Shop Ltd", "email": "old@shop.test", "phone": "+1 555 0199",
                    "id_document_ref": "doc-old", "bank_account_ref": "IBAN-old", "address": "2 Market St"}}),
        )
        .await;
    assert_eq!(
        established.status,
        StatusCode::CREATED,
        "{}",
        established.body
    );

    let batch = json!([
        listing(
            "BLOCK",
            "S0",
            "Zephyrion runner replica AAA 1:1 mirror quality",
            "9.00"
        ),
        listing("REVIEW", "S0", "Zephyr1on runner, lightly worn", "80.00"),
        listing("GENUINE", "OLD", "Zephyrion runner, original box", "110.00"),
        listing("NEWSHOP", "S0", "Zephyrion runner, original box", "110.00"),
        listing("PLAIN", "S0", "White canvas sneakers", "25.00"),
    ]);
    let ingested = app.post("/api/v1/listings/batch", &app.admin, batch).await;
    assert_eq!(ingested.status, StatusCode::OK, "{}", ingested.body);
    assert_eq!(ingested.body["created"], 5);
    assert_eq!(ingested.body["blocked"], 1, "{}", ingested.body);
    assert_eq!(ingested.body["queued_for_review"], 2, "{}", ingested.body);
    let detection: Vec<Value> = ingested.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["detection"].clone())
        .collect();
    assert_eq!(
        detection,
        vec![
            json!("block"),
            json!("review"),
            Value::Null,
            json!("review"),
            Value::Null
        ],
        "a brand named by a days-old account is worth a look; by an established shop it is not"
    );

    // Blocked: removed at once, counted as proactive, the seller told why.
    let blocked = app.get("/api/v1/listings/bazaar/BLOCK", &app.admin).await;
    assert_eq!(blocked.body["state"], "removed");
    assert_eq!(blocked.body["removed_by"], "proactive");
    for other in ["REVIEW", "GENUINE", "NEWSHOP", "PLAIN"] {
        assert_eq!(app.listing_state(other).await, "active", "{other}");
    }
    let inbox = app.get("/api/v1/notifications", &sellers[0].key).await;
    let removal = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["event"] == "listing.removed")
        .expect("the seller is told of the proactive removal");
    let statement = &removal["payload"]["data"]["statement_of_reasons"];
    assert_eq!(statement["automated_detection"], true, "{statement}");
    assert_eq!(statement["automated_decision"], true, "{statement}");
    assert!(
        statement["facts"]
            .as_str()
            .unwrap()
            .contains("replica language"),
        "{statement}"
    );

    // Reviewers see the doubtful one in their queue; the clean ones are not there.
    let queue = findings(&app, &app.reviewer, "?status=open").await;
    assert_eq!(
        queue.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
        ["REVIEW", "NEWSHOP"]
    );
    // The brand owner sees every finding naming its brand; others see none.
    let mut own: Vec<(String, String)> = findings(&app, &zephyr.key, "")
        .await
        .into_iter()
        .map(|f| (f.1, f.2))
        .collect();
    own.sort();
    assert_eq!(
        own,
        [
            ("BLOCK".to_owned(), "removed".to_owned()),
            ("GENUINE".to_owned(), "noted".to_owned()),
            ("NEWSHOP".to_owned(), "open".to_owned()),
            ("REVIEW".to_owned(), "open".to_owned()),
        ]
    );
    assert!(findings(&app, &rival.key, "").await.is_empty());
    let seller_view = app.get("/api/v1/findings", &sellers[0].key).await;
    assert_problem(&seller_view, StatusCode::FORBIDDEN, "forbidden");

    // One step from a finding to a notice, for its brand owner only.
    let open = queue[0].0;
    let declarations = json!({"good_faith": true, "accurate": true, "authorised": true});
    let body = json!({"right_id": zephyr.right_id, "infringement_type": "counterfeit",
        "declarations": declarations});
    let refused = app
        .post(
            &format!("/api/v1/findings/{open}/notice"),
            &rival.key,
            json!({"right_id": rival.right_id, "infringement_type": "counterfeit",
                "declarations": declarations}),
        )
        .await;
    assert_problem(&refused, StatusCode::NOT_FOUND, "not_found");
    let filed = app
        .post(
            &format!("/api/v1/findings/{open}/notice"),
            &zephyr.key,
            body,
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let notice = app
        .get(
            &format!("/api/v1/notices/{}", filed.body["id"]),
            &zephyr.key,
        )
        .await;
    assert_eq!(notice.body["items"][0]["listing_id"], "REVIEW");
    assert!(
        notice.body["description"]
            .as_str()
            .unwrap()
            .contains("brand variant"),
        "{}",
        notice.body
    );

    // A reviewer confirms the finding: the listing goes, once.
    let decision = json!({"outcome": "uphold", "statement": {
        "facts": "A misspelt Zephyrion mark on shoes the holder never made.",
        "ground": {"kind": "legal", "reference": "EUTMR art. 9(2)(b)", "explanation": "Similar sign, identical goods."}}});
    let decided = app
        .post(
            &format!("/api/v1/findings/{open}/decision"),
            &app.reviewer,
            decision.clone(),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    assert_eq!(decided.body["automated_detection"], true);
    assert_eq!(decided.body["automated_decision"], false);
    assert_eq!(app.listing_state("REVIEW").await, "removed");
    let again = app
        .post(
            &format!("/api/v1/findings/{open}/decision"),
            &app.reviewer,
            decision,
        )
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "already_decided");
    let queue = findings(&app, &app.reviewer, "?status=open").await;
    assert_eq!(
        queue.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
        ["NEWSHOP"]
    );

    // Proactive removals are counted apart from notice-driven ones.
    let notice = app.file(&zephyr, "counterfeit", &["L0-0"]).await;
    app.decide(&app.reviewer, item_ids(&notice)[0], "uphold")
        .await;
    let figures = app.get("/api/v1/enforcement/removals", &app.reviewer).await;
    assert_eq!(
        figures.body,
        json!([{"platform": "bazaar", "proactive": 2, "notice": 1, "trusted_notice": 0,
            "penalty": 0, "restored": 0, "active": 4}])
    );
    let refused = app.get("/api/v1/enforcement/removals", &zephyr.key).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_rescan_that_finds_the_same_leaves_the_reviewers_finding_in_place() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let zephyr = app.rights_holder("Zephyr").await;
    brand(&app, &zephyr, "zephyrion", "Zephyrion", "120").await;
    let batch = json!([listing(
        "REVIEW",
        "S0",
        "Zephyr1on runner, lightly worn",
        "80.00"
    )]);
    let ingested = app.post("/api/v1/listings/batch", &app.admin, batch).await;
    assert_eq!(ingested.body["queued_for_review"], 1, "{}", ingested.body);
    let before = findings(&app, &app.reviewer, "").await;

    let rescanned = ipguard_server::service::detection::rescan_active(app.state.clone())
        .await
        .unwrap();
    assert!(rescanned >= 1);
    assert_eq!(findings(&app, &app.reviewer, "").await, before);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].2, "open");
}

#[tokio::test]
async fn a_catalog_change_made_through_one_server_process_reaches_another_sharing_the_database() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let (other_url, other) = app.second_process().await;
    quorvant_brand(&app).await;

    // The other process rebuilds its engine in its next job round.
    ipguard_server::jobs::run_once(&other, &mut 0)
        .await
        .unwrap();
    let ingested = app
        .http
        .post(format!("{other_url}/api/v1/listings/batch"))
        .bearer_auth(&app.admin)
        .json(
            &json!([{"id": "BAG", "platform": "bazaar", "seller_id": "S0",
            "title": "Quorvant handbag replica AAA grade", "category": "bags"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ingested.status(), StatusCode::OK);
    let body: Value = ingested.json().await.unwrap();
    assert_eq!(body["blocked"], 1, "{body}");
}

#[tokio::test]
async fn catalog_and_rule_changes_apply_without_a_restart_and_rescan_active_listings() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let batch = json!([
        {"id": "BAG", "platform": "bazaar", "seller_id": "S0", "title": "Quorvant handbag replica AAA grade",
            "category": "bags"},
        {"id": "AIRBAG", "platform": "bazaar", "seller_id": "S0", "title": "Steering wheel airbag module, used",
            "category": "other"},
    ]);
    let ingested = app.post("/api/v1/listings/batch", &app.admin, batch).await;
    assert_eq!(ingested.body["blocked"], 0, "{}", ingested.body);

    // A prohibited category: the listing filed under "other" is found by its text.
    let rule = app
        .post(
            "/api/v1/category-rules",
            &app.admin,
            json!({"platform": "bazaar", "category": "auto/airbags", "rule": "prohibited"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.body);
    wait_for_state(&app, "AIRBAG", "removed").await;
    assert_eq!(app.listing_state("BAG").await, "active");

    // A new brand: its replicas listed before it existed come down too.
    let quorvant = quorvant_brand(&app).await;
    wait_for_state(&app, "BAG", "removed").await;

    // Bad rules are refused and change nothing.
    let bad = app
        .post(
            "/api/v1/category-rules",
            &app.admin,
            json!({"platform": "bazaar", "category": "auto/brakes", "rule": "maybe"}),
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let unknown = app
        .post(
            "/api/v1/category-rules",
            &app.admin,
            json!({"platform": "nowhere", "category": "auto/brakes", "rule": "prohibited"}),
        )
        .await;
    assert_problem(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let holder_rule = app
        .post(
            "/api/v1/category-rules",
            &quorvant.key,
            json!({"platform": "bazaar", "category": "auto/brakes", "rule": "prohibited"}),
        )
        .await;
    assert_problem(&holder_rule, StatusCode::FORBIDDEN, "forbidden");
    let rules = app.get("/api/v1/category-rules", &app.admin).await;
    assert_eq!(
        rules.body,
        json!([{"platform": "bazaar", "category": "auto/airbags", "rule": "prohibited"}])
    );

    // Listings edited after the change are judged at once.
    let edited = app
        .post(
            "/api/v1/listings/batch",
            &app.admin,
            json!([{"id": "L0-0", "platform": "bazaar", "seller_id": "S0",
                "title": "Front brake pads and airbag set", "category": "auto/airbags"}]),
        )
        .await;
    assert_eq!(edited.body["blocked"], 1, "{}", edited.body);
    assert_eq!(app.listing_state("L0-0").await, "removed");
}
