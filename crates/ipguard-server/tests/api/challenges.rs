use crate::helpers::*;
use ipguard_server::config::Config;
use reqwest::StatusCode;
use serde_json::json;

fn appeal(kind: &str) -> serde_json::Value {
    json!({"kind": kind, "reasons": "These are genuine goods bought from the brand's distributor.",
        "evidence": ["invoice-2026-117.pdf"]})
}

#[tokio::test]
async fn upheld_appeal_restores_the_listing_and_removes_the_strike() {
    let app = spawn_app().await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let item = app.upheld(&holder, "L0-0").await;

    let challenge = app
        .post(
            &format!("/api/v1/items/{item}/challenges"),
            &sellers[0].key,
            appeal("appeal"),
        )
        .await;
    assert_eq!(challenge.status, StatusCode::CREATED, "{}", challenge.body);
    let id = challenge.body["id"].as_i64().unwrap();
    let twice = app
        .post(
            &format!("/api/v1/items/{item}/challenges"),
            &sellers[0].key,
            appeal("appeal"),
        )
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, "challenge_open");

    // The reviewer who removed the listing may not judge the appeal.
    let same = app
        .post(
            &format!("/api/v1/challenges/{id}/decision"),
            &app.reviewer,
            challenge_decision_body("uphold"),
        )
        .await;
    assert_problem(&same, StatusCode::FORBIDDEN, "same_reviewer");
    let granted = app
        .post(
            &format!("/api/v1/challenges/{id}/decision"),
            &app.reviewer2,
            challenge_decision_body("uphold"),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.body["status"], "restored");

    assert_eq!(app.listing_state("L0-0").await, "restored");
    let seller = app
        .get(
            &format!("/api/v1/sellers/{}", sellers[0].id),
            &sellers[0].key,
        )
        .await;
    assert_eq!(seller.body["active_strike_weight"], 0.0);
    assert_eq!(seller.body["penalty"], "none");
    let events = app.get("/api/v1/notifications", &holder.key).await;
    let names: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"notice.appealed".to_owned()), "{names:?}");
    assert!(names.contains(&"listing.restored".to_owned()), "{names:?}");
}

#[tokio::test]
async fn granted_counter_notice_restores_when_the_legal_action_window_passes() {
    let mut config = Config::default();
    config.policy.legal_action_window_days = 0;
    let app = spawn_app_with(config).await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let filed = app.file(&holder, "counterfeit", &["L0-0", "L0-1"]).await;
    let items = item_ids(&filed);
    for item in &items {
        app.decide(&app.reviewer, *item, "uphold").await;
    }
    let mut ids = Vec::new();
    for item in &items {
        let c = app
            .post(
                &format!("/api/v1/items/{item}/challenges"),
                &sellers[0].key,
                appeal("counter_notice"),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        ids.push(c.body["id"].as_i64().unwrap());
    }
    let grant = challenge_decision_body("uphold");
    for id in &ids {
        let granted = app
            .post(
                &format!("/api/v1/challenges/{id}/decision"),
                &app.reviewer2,
                grant.clone(),
            )
            .await;
        assert_eq!(
            granted.body["status"], "awaiting_legal_action",
            "{}",
            granted.body
        );
    }
    // With a zero-day window restoration is due at once: the rights holder is
    // too late to show legal action, and the job restores both listings.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let late = app
        .post(
            &format!("/api/v1/challenges/{}/legal-action", ids[1]),
            &holder.key,
            json!({"reference": "Court X 12/2026"}),
        )
        .await;
    assert_problem(&late, StatusCode::CONFLICT, "no_legal_action_window");
    app.run_jobs().await;
    assert_eq!(app.listing_state("L0-0").await, "restored");
    assert_eq!(app.listing_state("L0-1").await, "restored");
}

#[tokio::test]
async fn legal_action_keeps_a_counter_notified_listing_down() {
    let app = spawn_app().await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let item = app.upheld(&holder, "L0-0").await;
    let c = app
        .post(
            &format!("/api/v1/items/{item}/challenges"),
            &sellers[0].key,
            appeal("counter_notice"),
        )
        .await;
    let id = c.body["id"].as_i64().unwrap();
    let grant = challenge_decision_body("uphold");
    app.post(
        &format!("/api/v1/challenges/{id}/decision"),
        &app.reviewer2,
        grant,
    )
    .await;
    let shown = app
        .post(
            &format!("/api/v1/challenges/{id}/legal-action"),
            &holder.key,
            json!({"reference": "District Court 26-cv-101"}),
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["status"], "legal_action_filed");
    app.run_jobs().await;
    assert_eq!(app.listing_state("L0-0").await, "removed");
}

#[tokio::test]
async fn appeal_after_the_window_is_refused() {
    let mut config = Config::default();
    config.policy.challenge_window_days = 0;
    let app = spawn_app_with(config).await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let item = app.upheld(&holder, "L0-0").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let late = app
        .post(
            &format!("/api/v1/items/{item}/challenges"),
            &sellers[0].key,
            appeal("appeal"),
        )
        .await;
    assert_problem(&late, StatusCode::CONFLICT, "challenge_window_closed");
}

#[tokio::test]
async fn removals_reversed_on_appeal_count_against_the_submitters_accuracy() {
    let mut config = Config::default();
    config.policy.trusted.min_decided = 3;
    config.policy.trusted.min_upheld_ratio = 0.75;
    let app = spawn_app_with(config).await;
    let sellers = app.marketplace(4).await;
    let holder = app.rights_holder("Acme").await;
    let mut items = Vec::new();
    for s in 0..4 {
        let item = app.upheld(&holder, &format!("L{s}-0")).await;
        items.push(item);
    }
    let trust = |record: serde_json::Value| {
        (
            record["trusted"].as_bool().unwrap(),
            record["record"]["upheld"].as_i64().unwrap(),
        )
    };
    let record = app.submitter_record(&holder, "counterfeit").await;
    assert_eq!(trust(record), (true, 4));

    // Two sellers win their appeals before a second reviewer: 2 of 4 upheld
    // is under the 75 % the program asks, so trust goes at once.
    for (seller, item) in sellers.iter().zip(&items).take(2) {
        let filed = app
            .post(
                &format!("/api/v1/items/{item}/challenges"),
                &seller.key,
                appeal("appeal"),
            )
            .await;
        let id = filed.body["id"].as_i64().unwrap();
        let granted = app
            .post(
                &format!("/api/v1/challenges/{id}/decision"),
                &app.reviewer2,
                challenge_decision_body("uphold"),
            )
            .await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    }
    let record = app.submitter_record(&holder, "counterfeit").await;
    assert_eq!(trust(record), (false, 2));
    let next = app.file(&holder, "counterfeit", &["L0-1"]).await;
    assert_eq!(next.body["trusted"], false);
    assert_eq!(next.body["items"][0]["status"], "pending");
}
