use crate::helpers::*;
use ipguard_server::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn account_notice_is_reviewed_removed_and_strikes_the_seller() {
    let app = spawn_app().await;
    let sellers = app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;

    let filed = app.file(&holder, "counterfeit", &["L0-0"]).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    assert_eq!(filed.body["trusted"], false);
    assert_eq!(filed.body["items"][0]["status"], "pending");
    assert_eq!(app.listing_state("L0-0").await, "active");

    let queue = app.get("/api/v1/review/queue", &app.reviewer).await;
    assert_eq!(queue.body["items"][0]["listing_id"], "L0-0");

    let item = item_ids(&filed)[0];
    let decided = app.decide(&app.reviewer, item, "uphold").await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    let statement = &decided.body["statement_of_reasons"];
    assert_eq!(statement["restriction"], "listing removed");
    assert_eq!(statement["automated_decision"], false);
    assert_eq!(statement["territorial_scope"], "worldwide");
    assert!(statement["redress"].as_str().unwrap().contains("14 days"));
    assert_eq!(app.listing_state("L0-0").await, "removed");

    let notice = app
        .get(
            &format!("/api/v1/notices/{}", filed.body["id"]),
            &holder.key,
        )
        .await;
    assert!(notice.body["decided_at"].is_string());
    assert!(notice.body["items"][0]["removed_at"].is_string());

    // The seller sees the removal with its reasons, and its strike.
    let seen = app
        .get(&format!("/api/v1/items/{item}"), &sellers[0].key)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(
        seen.body["decisions"][0]["statement_of_reasons"]["ground"]["reference"],
        "EUTMR art. 9(2)(a)"
    );
    let seller = app
        .get(
            &format!("/api/v1/sellers/{}", sellers[0].id),
            &sellers[0].key,
        )
        .await;
    assert_eq!(seller.body["strikes"].as_array().unwrap().len(), 1);
    assert_eq!(seller.body["active_strike_weight"], 3.0);
    assert_eq!(seller.body["penalty"], "listing_limit");

    let again = app.decide(&app.reviewer, item, "reject").await;
    assert_problem(&again, StatusCode::CONFLICT, "already_decided");
}

#[tokio::test]
async fn notice_without_account_is_followed_with_its_tracking_token() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let body = json!({
        "right": {"kind": "trademark", "registration_number": "EU-Acme", "office": "EUIPO", "owner": "Acme"},
        "infringement_type": "counterfeit",
        "listings": [{"url": "https://bazaar.example/item/L0-1?ref=search"}],
        "description": "Fake Acme bags sold as genuine",
        "declarations": {"good_faith": true, "accurate": true, "authorised": true},
        "contact": {"name": "Jo Small", "email": "jo@small-business.test"}
    });
    let filed = app
        .call(Method::POST, "/api/v1/public/notices", None, Some(body))
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let token = filed.body["tracking_token"].as_str().unwrap().to_owned();
    assert_eq!(filed.body["items"][0]["listing_id"], "L0-1");

    let tracked = app
        .call(
            Method::GET,
            &format!("/api/v1/public/notices/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(tracked.status, StatusCode::OK);
    assert_eq!(tracked.body["items"][0]["status"], "pending");
    assert_eq!(tracked.body["channel"], "anonymous");

    app.decide(&app.reviewer, item_ids(&filed)[0], "reject")
        .await;
    let tracked = app
        .call(
            Method::GET,
            &format!("/api/v1/public/notices/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(tracked.body["items"][0]["status"], "rejected");
    assert_eq!(
        tracked.body["items"][0]["statement_of_reasons"]["restriction"],
        "no action"
    );

    let wrong = app
        .call(Method::GET, "/api/v1/public/notices/igt_wrong", None, None)
        .await;
    assert_problem(&wrong, StatusCode::NOT_FOUND, "not_found");
    // The holder's registration was linked, but the notice is not the holder's.
    let theirs = app
        .get(
            &format!("/api/v1/notices/{}", filed.body["id"]),
            &holder.key,
        )
        .await;
    assert_problem(&theirs, StatusCode::NOT_FOUND, "not_found");
}

fn quick_trust() -> Config {
    let mut config = Config::default();
    config.policy.trusted.min_decided = 3;
    config.policy.trusted.min_upheld_ratio = 0.75;
    config
}

#[tokio::test]
async fn trusted_submitter_removes_at_once_and_loses_trust_when_accuracy_falls() {
    let app = spawn_app_with(quick_trust()).await;
    app.marketplace(6).await;
    let holder = app.rights_holder("Acme").await;

    for s in 0..3 {
        let filed = app
            .file(&holder, "counterfeit", &[&format!("L{s}-0")])
            .await;
        assert_eq!(filed.body["trusted"], false);
        app.decide(&app.reviewer, item_ids(&filed)[0], "uphold")
            .await;
    }
    let counterfeit = app.submitter_record(&holder, "counterfeit").await;
    assert_eq!(counterfeit["trusted"], true);
    assert_eq!(counterfeit["record"]["upheld"], 3);
    // Trust is earned per infringement type.
    let copyright = app.submitter_record(&holder, "copyright").await;
    assert_eq!(copyright["trusted"], false);

    let trusted = app.file(&holder, "counterfeit", &["L3-0"]).await;
    assert_eq!(trusted.body["trusted"], true);
    assert_eq!(trusted.body["items"][0]["status"], "removed_pending_review");
    assert_eq!(app.listing_state("L3-0").await, "removed");
    let untrusted_type = app.file(&holder, "copyright", &["L3-1"]).await;
    assert_eq!(untrusted_type.body["items"][0]["status"], "pending");

    // The reviewer finds the trusted removal wrong: the listing comes back,
    // and a manifestly unfounded notice costs the trusted status at once.
    let reversed = app
        .post(
            &format!("/api/v1/items/{}/decision", item_ids(&trusted)[0]),
            &app.reviewer,
            decision_body("reject", true),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    assert_eq!(app.listing_state("L3-0").await, "restored");
    let after = app.file(&holder, "counterfeit", &["L4-0"]).await;
    assert_eq!(after.body["trusted"], false);
    assert_eq!(after.body["items"][0]["status"], "pending");
    let record = app.get("/api/v1/submitter", &holder.key).await;
    assert_eq!(record.body["standing"], "warned");
}

#[tokio::test]
async fn repeated_manifestly_unfounded_notices_suspend_the_submitter() {
    let mut config = Config::default();
    config.policy.abuse.suspend_after = 2;
    let app = spawn_app_with(config).await;
    app.marketplace(3).await;
    let holder = app.rights_holder("Rival").await;
    for s in 0..2 {
        let filed = app
            .file(&holder, "trademark_misuse", &[&format!("L{s}-0")])
            .await;
        let id = item_ids(&filed)[0];
        app.post(
            &format!("/api/v1/items/{id}/decision"),
            &app.reviewer,
            decision_body("reject", true),
        )
        .await;
    }
    let refused = app.file(&holder, "trademark_misuse", &["L2-0"]).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "submitter_suspended");
}

#[tokio::test]
async fn csv_upload_files_one_notice_per_right_and_type() {
    let app = spawn_app().await;
    app.marketplace(2).await;
    let holder = app.rights_holder("Acme").await;
    let csv = format!(
        "right_id,infringement_type,platform,listing_id,url,description\n\
         {r},counterfeit,bazaar,L0-0,,Fake Acme sneakers\n\
         {r},counterfeit,,,https://bazaar.example/item/L0-1,Fake Acme sneakers\n\
         {r},copyright,bazaar,L1-0,,Our catalogue photo reused\n",
        r = holder.right_id
    );
    let url = format!(
        "{}/api/v1/notices/csv?good_faith=true&accurate=true&authorised=true",
        app.url
    );
    let filed = reply(
        app.http
            .post(&url)
            .bearer_auth(&holder.key)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let notices = filed.body["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0]["items"].as_array().unwrap().len(), 2);

    let bad = format!(
        "right_id,infringement_type,platform,listing_id,url,description\n{r},counterfeit,bazaar,NOPE,,Fake\n{r},bogus,bazaar,L1-1,,Fake Acme\n",
        r = holder.right_id
    );
    let rejected = reply(
        app.http
            .post(&url)
            .bearer_auth(&holder.key)
            .body(bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        rejected.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "line 3")
    );
    let all = app.get("/api/v1/notices", &holder.key).await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        2,
        "nothing of the bad file was stored"
    );

    let undeclared = format!("{}/api/v1/notices/csv", app.url);
    let ok_csv = format!(
        "right_id,infringement_type,platform,listing_id,url,description\n{},counterfeit,bazaar,L1-1,,Fake Acme sneakers\n",
        holder.right_id
    );
    let refused = reply(
        app.http
            .post(&undeclared)
            .bearer_auth(&holder.key)
            .body(ok_csv)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
}
