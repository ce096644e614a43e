use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// One call: method, path, body, the keys that may make it, the keys that may not.
type Case<'a> = (
    Method,
    String,
    Option<serde_json::Value>,
    Vec<&'a str>,
    Vec<&'a str>,
);

/// Every role against every kind of object: each call either succeeds for
/// the roles allowed, or is refused without revealing the object.
#[tokio::test]
async fn every_role_sees_and_changes_only_what_it_may() {
    let app = spawn_app().await;
    let sellers = app.marketplace(2).await;
    let acme = app.rights_holder("Acme").await;
    let rival = app.rights_holder("Rival").await;
    let filed = app.file(&acme, "counterfeit", &["L0-0"]).await;
    let notice = filed.body["id"].as_i64().unwrap();
    let item = item_ids(&filed)[0];
    app.decide(&app.reviewer, item, "uphold").await;
    let challenge = app
        .post(
            &format!("/api/v1/items/{item}/challenges"),
            &sellers[0].key,
            json!({"kind": "appeal", "reasons": "Genuine goods from the official store."}),
        )
        .await;
    let challenge = challenge.body["id"].as_i64().unwrap();

    let owner = &sellers[0].key;
    let stranger = &sellers[1].key;
    let decision = decision_body("uphold", false);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("/api/v1/notices/{notice}"),
            None,
            vec![&acme.key, &app.reviewer, &app.admin],
            vec![&rival.key, owner, stranger],
        ),
        (
            Method::GET,
            format!("/api/v1/rights/{}", acme.right_id),
            None,
            vec![&acme.key, &app.reviewer],
            vec![&rival.key, owner],
        ),
        (
            Method::GET,
            format!("/api/v1/items/{item}"),
            None,
            vec![&acme.key, owner, &app.reviewer],
            vec![&rival.key, stranger],
        ),
        (
            Method::GET,
            format!("/api/v1/sellers/{}", sellers[0].id),
            None,
            vec![owner, &app.reviewer, &app.admin],
            vec![stranger, &acme.key],
        ),
        (
            Method::GET,
            "/api/v1/listings/bazaar/L0-0".to_owned(),
            None,
            vec![owner, &app.admin],
            vec![stranger, &acme.key],
        ),
        (
            Method::GET,
            "/api/v1/review/queue".to_owned(),
            None,
            vec![&app.reviewer, &app.admin],
            vec![&acme.key, owner],
        ),
        (
            Method::GET,
            "/api/v1/challenges".to_owned(),
            None,
            vec![&app.reviewer, owner],
            vec![&acme.key],
        ),
        (
            Method::GET,
            "/api/v1/submitter".to_owned(),
            None,
            vec![&acme.key],
            vec![owner, &app.reviewer],
        ),
        (
            Method::GET,
            "/api/v1/notifications".to_owned(),
            None,
            vec![&acme.key, owner],
            vec![&app.reviewer],
        ),
        (
            Method::POST,
            format!("/api/v1/items/{item}/decision"),
            Some(decision.clone()),
            vec![],
            vec![&acme.key, owner],
        ),
        (
            Method::POST,
            format!("/api/v1/challenges/{challenge}/decision"),
            Some(challenge_decision_body("uphold")),
            vec![],
            vec![&acme.key, owner],
        ),
        (
            Method::POST,
            format!("/api/v1/rights/{}/verification", rival.right_id),
            Some(json!({"status": "rejected", "reason": "x"})),
            vec![],
            vec![&acme.key, owner],
        ),
        (
            Method::POST,
            format!("/api/v1/items/{item}/challenges"),
            Some(json!({"kind": "appeal", "reasons": "Not mine at all, really."})),
            vec![],
            vec![stranger, &acme.key, &app.reviewer],
        ),
        (
            Method::POST,
            "/api/v1/platforms".to_owned(),
            Some(
                json!({"id": "x", "name": "X", "kind": "b2c", "listing_url_prefix": "https://x.test/"}),
            ),
            vec![],
            vec![&acme.key, owner, &app.reviewer],
        ),
        (
            Method::POST,
            "/api/v1/listings/batch".to_owned(),
            Some(json!([{"id": "Z", "platform": "bazaar", "seller_id": "S0", "title": "t"}])),
            vec![],
            vec![&acme.key, owner, &app.reviewer],
        ),
        (
            Method::POST,
            "/api/v1/notices".to_owned(),
            Some(notice_body(
                acme.right_id,
                "counterfeit",
                vec![json!({"platform": "bazaar", "listing_id": "L1-0"})],
            )),
            vec![],
            vec![owner, &app.reviewer],
        ),
        (
            Method::POST,
            format!("/api/v1/challenges/{challenge}/legal-action"),
            Some(json!({"reference": "Court"})),
            vec![],
            vec![&rival.key, owner],
        ),
    ];
    for (method, path, body, allowed, refused) in cases {
        for key in allowed {
            let reply = app
                .call(method.clone(), &path, Some(key), body.clone())
                .await;
            assert!(
                reply.status.is_success(),
                "{method} {path} should be allowed: {}",
                reply.body
            );
        }
        for key in refused {
            let reply = app
                .call(method.clone(), &path, Some(key), body.clone())
                .await;
            assert!(
                matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{method} {path} should be refused, got {}: {}",
                reply.status,
                reply.body
            );
            assert_eq!(reply.content_type, "application/problem+json");
        }
        let anonymous = app.call(method.clone(), &path, None, body.clone()).await;
        assert_problem(&anonymous, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Another holder cannot file on Acme's right: the right is unknown to it.
    let borrowed = app
        .file(
            &Holder {
                key: rival.key.clone(),
                right_id: acme.right_id,
            },
            "counterfeit",
            &["L1-0"],
        )
        .await;
    assert_problem(
        &borrowed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        borrowed.body["detail"]
            .as_str()
            .unwrap()
            .contains("no IP right")
    );

    let bad_key = app.get("/api/v1/me", "igk_not_a_key").await;
    assert_problem(&bad_key, StatusCode::UNAUTHORIZED, "invalid_api_key");
}

#[tokio::test]
async fn portal_session_needs_the_csrf_token_for_changes() {
    let app = spawn_app().await;
    app.rights_holder("Acme").await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = reply(
        client
            .post(format!("{}/api/v1/login", app.url))
            .json(&json!({"email": "legal@acme.test", "password": "holder-password-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let csrf = login.body["csrf_token"].as_str().unwrap().to_owned();
    let me = reply(
        client
            .get(format!("{}/api/v1/me", app.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.body["role"], "rights_holder");
    let body = json!({"name": "ci"});
    let without = reply(
        client
            .post(format!("{}/api/v1/api-keys", app.url))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&without, StatusCode::FORBIDDEN, "forbidden");
    let with = reply(
        client
            .post(format!("{}/api/v1/api-keys", app.url))
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(with.status, StatusCode::CREATED);
    let wrong = reply(
        client
            .post(format!("{}/api/v1/login", app.url))
            .json(&json!({"email": "legal@acme.test", "password": "wrong-password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
}
