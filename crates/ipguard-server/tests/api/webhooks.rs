use crate::helpers::*;
use axum::body::Bytes;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A local webhook receiver that fails its first `fail_first` calls.
async fn receiver(fail_first: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let calls = Arc::new(Mutex::new(0usize));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            let calls = calls.clone();
            async move {
                let mut n = calls.lock().unwrap();
                *n += 1;
                if *n <= fail_first {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                store.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn status_changes_reach_the_webhook_signed_and_retried() {
    // The test drives delivery itself, two runners at once as two servers
    // would; the background loop stays out of the way.
    let mut config = ipguard_server::config::Config::default();
    config.server.job_interval_ms = 3_600_000;
    let app = spawn_app_with(config).await;
    app.marketplace(1).await;
    let holder = app.rights_holder("Acme").await;
    let (url, received) = receiver(1).await;
    let hook = app
        .post(
            "/api/v1/webhooks",
            &holder.key,
            serde_json::json!({"url": url}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let secret = hook.body["secret"].as_str().unwrap().to_owned();

    app.upheld(&holder, "L0-0").await;

    // The first attempt fails (503) and is retried after a backoff; run the
    // deliverer until both events are in, without sleeping on a fixed guess.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        tokio::join!(app.run_jobs(), app.run_jobs());
        if received.lock().unwrap().len() >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "webhooks not delivered"
        );
        sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'pending'")
            .execute(app.state.store.pool())
            .await
            .unwrap();
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(
        got.len(),
        2,
        "each event is delivered once, whoever runs the job"
    );
    let events: Vec<String> = got
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<serde_json::Value>(body).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        events.contains(&"notice.received".to_owned())
            && events.contains(&"notice.decided".to_owned()),
        "{events:?}"
    );
    for (headers, body) in &got {
        let timestamp: i64 = headers["ipguard-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let expected = ipguard_domain::webhook::signature(secret.as_bytes(), timestamp, body);
        assert_eq!(headers["ipguard-signature"].to_str().unwrap(), expected);
    }
    let log = app.get("/api/v1/webhooks/deliveries", &holder.key).await;
    let first = &log.body["items"][0];
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["attempts"], 2);
}
