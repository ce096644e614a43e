use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn malformed_and_mistyped_bodies_get_precise_problems() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let url = format!("{}/api/v1/notices", app.url);
    let send = |body: &'static str, content_type: &'static str| {
        app.http
            .post(&url)
            .bearer_auth(&holder.key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(
        &reply(send("{\"right_id\": 1,", "application/json").await.unwrap()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    let typed = reply(
        send("{\"right_id\": \"one\"}", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&typed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(
        typed.body["detail"].as_str().unwrap().contains("right_id"),
        "{}",
        typed.body
    );
    assert_problem(
        &reply(send("{}", "text/plain").await.unwrap()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let missing = app
        .post(
            "/api/v1/notices",
            &holder.key,
            json!({"right_id": holder.right_id}),
        )
        .await;
    assert_problem(
        &missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields: Vec<_> = missing.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"declarations.good_faith") && fields.contains(&"listings"),
        "{fields:?}"
    );

    let unknown_listing = app.file(&holder, "counterfeit", &["NOPE"]).await;
    assert_problem(
        &unknown_listing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        unknown_listing.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NOPE")
    );
    let unknown_right = app
        .post(
            "/api/v1/notices",
            &holder.key,
            notice_body(
                9999,
                "counterfeit",
                vec![json!({"platform": "bazaar", "listing_id": "L0-0"})],
            ),
        )
        .await;
    assert_problem(
        &unknown_right,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let unknown_item = app.decide(&app.reviewer, 424242, "uphold").await;
    assert_problem(&unknown_item, StatusCode::NOT_FOUND, "not_found");
    let no_route = app.get("/api/v1/nothing-here", &app.admin).await;
    assert_problem(&no_route, StatusCode::NOT_FOUND, "route_not_found");
    let bad_query = app.get("/api/v1/notices?limit=lots", &holder.key).await;
    assert_problem(&bad_query, StatusCode::BAD_REQUEST, "invalid_query");

    // Nothing was stored by any of the refused requests.
    let notices = app.get("/api/v1/notices", &holder.key).await;
    assert_eq!(notices.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let mut config = ipguard_server::config::Config::default();
    config.server.max_body_bytes = 64 * 1024;
    let app = spawn_app_with(config).await;
    let holder = app.rights_holder("Acme").await;
    let huge = "x".repeat(200 * 1024);
    let body = json!({"right_id": holder.right_id, "description": huge});
    let refused = app.post("/api/v1/notices", &holder.key, body).await;
    assert_problem(&refused, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn idempotency_key_replays_the_first_response_and_files_once() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let body = notice_body(
        holder.right_id,
        "counterfeit",
        vec![json!({"platform": "bazaar", "listing_id": "L0-0"})],
    );
    let send = |body: serde_json::Value| {
        app.http
            .post(format!("{}/api/v1/notices", app.url))
            .bearer_auth(&holder.key)
            .header("idempotency-key", "retry-1")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = reply(first).await;
    let second = send(body.clone()).await.unwrap();
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    let second = reply(second).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body);
    let notices = app.get("/api/v1/notices", &holder.key).await;
    assert_eq!(notices.body["items"].as_array().unwrap().len(), 1);

    let mut changed = body;
    changed["description"] = json!("A different notice under the same key");
    let reused = reply(send(changed).await.unwrap()).await;
    assert_problem(
        &reused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
}

#[tokio::test]
async fn audit_log_verifies_and_detects_a_tampered_row() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    app.upheld(&holder, "L0-0").await;
    let store = &app.state.store;
    let count = ipguard_store::audit::verify(store).await.unwrap();
    assert!(count > 10, "{count}");

    sqlx::query(
        "UPDATE audit_log SET after = '{\"status\":\"rejected\"}' WHERE action = 'item.decided'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let err = ipguard_store::audit::verify(store).await.unwrap_err();
    assert!(err.to_string().contains("altered"), "{err}");
}

#[tokio::test]
async fn audit_log_detects_rows_deleted_at_the_end() {
    let app = spawn_app().await;
    app.marketplace(1).await;
    let store = &app.state.store;
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(store.pool())
        .await
        .unwrap();
    let err = ipguard_store::audit::verify(store).await.unwrap_err();
    assert!(err.to_string().contains("removed at the end"), "{err}");
}

#[tokio::test]
async fn registration_refuses_weak_passwords_and_duplicate_emails() {
    let app = spawn_app().await;
    let weak = app
        .call(
            reqwest::Method::POST,
            "/api/v1/register",
            None,
            Some(json!({"organisation": "A", "email": "a@b.test", "password": "short"})),
        )
        .await;
    assert_problem(&weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.rights_holder("Acme").await;
    let again = app
        .call(reqwest::Method::POST, "/api/v1/register", None,
            Some(json!({"organisation": "Acme 2", "email": "legal@acme.test", "password": "another-password"})))
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "email_taken");
}
