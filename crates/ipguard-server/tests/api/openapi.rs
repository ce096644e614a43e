use crate::helpers::*;
use reqwest::{Method, StatusCode};

/// Every path and method in the document is served (not a 404 from the
/// router, not 405), and the document names every kind of problem response.
#[tokio::test]
async fn openapi_document_matches_the_real_routes() {
    let app = spawn_app().await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{} paths", paths.len());
    for (path, operations) in paths {
        let concrete = path
            .replace("{platform}", "bazaar")
            .replace("{token}", "igt_x")
            .replace("{id}", "1");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = app
                .call(
                    method.clone(),
                    &concrete,
                    Some(&app.admin),
                    Some(serde_json::json!({})),
                )
                .await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_ne!(
                reply.body["code"], "route_not_found",
                "{method} {path} is documented but not served"
            );
        }
    }
    assert!(paths.contains_key("/api/v1/notices"));
    assert!(paths.contains_key("/api/v1/items/{id}/decision"));
}

#[tokio::test]
async fn health_check_answers() {
    let app = spawn_app().await;
    let health = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
