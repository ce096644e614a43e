use crate::helpers::*;
use image::ImageFormat;
use image::imageops::FilterType;
use ipguard_server::config::Config;
use ipguard_server::service::images::PhotoIndex;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ipguard-pdq/tests/fixtures/images/"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn encode(image: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// What a counterfeiter does with a brand's photo: mirror it, shrink it and
/// save it again as a JPEG.
fn stolen_copy(photo: &[u8]) -> Vec<u8> {
    let image = image::load_from_memory(photo).unwrap().fliph();
    let (w, h) = (image.width() * 3 / 4, image.height() * 3 / 4);
    let small = image.resize_exact(w, h, FilterType::Triangle).to_rgb8();
    encode(&image::DynamicImage::ImageRgb8(small), ImageFormat::Jpeg)
}

/// Test settings: local photo hosts allowed, quick retries, small limits.
fn config() -> Config {
    let mut config = Config::default();
    config.images.allow_private_hosts = true;
    config.images.retry_base_ms = 1;
    config.images.fetch_attempts = 2;
    config.images.max_image_bytes = 1 << 20;
    config.images.max_upload_bytes = 2 << 20;
    config.images.max_pixels = 2_000_000;
    config.images.max_per_listing = 4;
    config
}

/// Serves `files` by name on 127.0.0.1:0, as a seller's image host; an
/// unknown name is a 404, except `down.jpg`, which is always a 503, and the
/// redirects below.
async fn photo_host(files: Vec<(&str, Vec<u8>)>) -> String {
    use axum::response::IntoResponse;
    let files: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        files
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), bytes))
            .collect(),
    );
    let host = axum::Router::new().route(
        "/{name}",
        axum::routing::get(
            move |axum::extract::Path(name): axum::extract::Path<String>| {
                let files = files.clone();
                async move {
                    match files.get(&name) {
                        Some(bytes) => bytes.clone().into_response(),
                        None if name == "down.jpg" => {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                        }
                        // `to-NAME` redirects to NAME, `to-file` to a local file.
                        None if name == "to-file" => {
                            axum::response::Redirect::to("file:///etc/passwd").into_response()
                        }
                        None if name.starts_with("to-") => {
                            axum::response::Redirect::to(&format!("/{}", &name[3..]))
                                .into_response()
                        }
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, host).await.unwrap() });
    url
}

async fn upload(app: &TestApp, path: &str, key: &str, files: Vec<(&str, Vec<u8>)>) -> Reply {
    upload_to(app, &app.url, path, key, files).await
}

/// [`upload`] to the server at `base`.
async fn upload_to(
    app: &TestApp,
    base: &str,
    path: &str,
    key: &str,
    files: Vec<(&str, Vec<u8>)>,
) -> Reply {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part("files", Part::bytes(bytes).file_name(name.to_owned()));
    }
    let request = app
        .http
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .multipart(form);
    reply(request.send().await.unwrap()).await
}

/// A brand on the holder's right with `authorised` sellers; returns its id.
async fn brand(app: &TestApp, holder: &Holder, authorised: &[&str]) -> i64 {
    let sellers: Vec<Value> = authorised
        .iter()
        .map(|s| json!({"platform": "bazaar", "id": s}))
        .collect();
    let created = app
        .post(
            "/api/v1/brands",
            &holder.key,
            json!({"slug": "zephyrion", "name": "Zephyrion", "right_id": holder.right_id,
                "terms": ["Zephyrion"], "authorized_sellers": sellers}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_i64().unwrap()
}

async fn list(app: &TestApp, listings: Value) -> Reply {
    let posted = app
        .post("/api/v1/listings/batch", &app.admin, listings)
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    posted
}

/// A listing whose title names no brand, so only its photos can flag it.
fn listing(id: &str, seller: &str, images: &[String]) -> Value {
    json!({"id": id, "platform": "bazaar", "seller_id": seller, "title": "Leather handbag",
        "category": "bags", "price": {"amount": "80.00", "currency": "USD"}, "images": images})
}

/// Drives the fetcher until no photo of the listing waits, and returns them.
async fn settled_photos(app: &TestApp, ext_id: &str) -> Vec<Value> {
    for _ in 0..200 {
        ipguard_server::service::images::fetch_due(&app.state)
            .await
            .unwrap();
        let photos = app
            .get(
                &format!("/api/v1/listings/bazaar/{ext_id}/images"),
                &app.admin,
            )
            .await;
        assert_eq!(photos.status, StatusCode::OK, "{}", photos.body);
        let photos = photos.body.as_array().unwrap().clone();
        if photos.iter().all(|p| p["status"] != "pending") {
            return photos;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the photos of {ext_id} were never fetched");
}

/// The status and reasons of the listing's current finding, if any.
async fn current_finding(app: &TestApp, ext_id: &str) -> Option<(String, Vec<Value>)> {
    let listed = app.get("/api/v1/findings?limit=500", &app.reviewer).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|f| f["listing_id"] == ext_id && f["status"] != "superseded")
        .map(|f| {
            (
                f["status"].as_str().unwrap().to_owned(),
                f["reasons"].as_array().unwrap().clone(),
            )
        })
}

fn reason<'a>(reasons: &'a [Value], kind: &str) -> Option<&'a Value> {
    reasons.iter().find(|r| r["kind"] == kind)
}

/// Uploads `photo` as a reference photo of the brand through the server at
/// `base`, and expects the listing `ext_id` to be found using it.
async fn add_reference_and_expect_match(
    app: &TestApp,
    base: &str,
    brand_id: i64,
    holder: &Holder,
    photo: Vec<u8>,
    ext_id: &str,
) {
    let uploaded = upload_to(
        app,
        base,
        &format!("/api/v1/brands/{brand_id}/reference-images"),
        &holder.key,
        vec![("catalogue.jpg", photo)],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let (_, reasons) = current_finding(app, ext_id)
        .await
        .expect("a finding with the reference photo");
    assert!(reason(&reasons, "image_match").is_some(), "{reasons:?}");
}

async fn raw_get(app: &TestApp, path: &str, key: &str) -> (StatusCode, String, usize) {
    let response = app
        .http
        .get(format!("{}{path}", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.bytes().await.unwrap().len())
}

#[tokio::test]
async fn a_stolen_reference_photo_flags_unauthorised_sellers_but_not_authorised_ones() {
    let app = spawn_app_with(config()).await;
    let sellers = app.marketplace(2).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &["S0"]).await;
    let original = fixture("photo-480x360-q90.jpg");
    let uploaded = upload(
        &app,
        &format!("/api/v1/brands/{brand_id}/reference-images"),
        &zephyr.key,
        vec![("catalogue.jpg", original.clone())],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    assert!(uploaded.body[0]["quality"].as_i64().unwrap() >= 50);
    assert_eq!(uploaded.body[0]["pdq"].as_str().unwrap().len(), 64);

    let host = photo_host(vec![
        ("genuine.jpg", original.clone()),
        ("stolen.jpg", stolen_copy(&original)),
    ])
    .await;
    list(
        &app,
        json!([
            listing("GENUINE", "S0", &[format!("{host}/genuine.jpg")]),
            listing("FAKE", "S1", &[format!("{host}/stolen.jpg")])
        ]),
    )
    .await;
    for id in ["GENUINE", "FAKE"] {
        let photos = settled_photos(&app, id).await;
        assert_eq!(photos[0]["status"], "hashed", "{photos:?}");
    }

    let (status, reasons) = current_finding(&app, "FAKE")
        .await
        .expect("the stolen photo is found");
    assert!(status == "open" || status == "removed", "{status}");
    let matched = reason(&reasons, "image_match").expect("an image_match reason");
    assert_eq!(matched["brand"], "zephyrion");
    assert!(matched["distance"].as_u64().unwrap() <= 31, "{matched}");
    let state = app.listing_state("FAKE").await;
    assert!(state == "active" || state == "removed", "{state}");

    let genuine = current_finding(&app, "GENUINE").await;
    assert!(
        genuine
            .as_ref()
            .is_none_or(|(_, reasons)| reason(reasons, "image_match").is_none()),
        "{genuine:?}"
    );

    // Both photos of the finding are served, to those who may see them.
    let image = matched["image"].as_str().unwrap();
    let reference = matched["reference"].as_str().unwrap();
    let (code, content_type, len) = raw_get(&app, image, &app.reviewer).await;
    assert_eq!(
        (code, content_type.as_str()),
        (StatusCode::OK, "image/jpeg")
    );
    assert!(len > 1000);
    assert_eq!(
        raw_get(&app, reference, &app.reviewer).await.0,
        StatusCode::OK
    );
    assert_eq!(
        raw_get(&app, reference, &zephyr.key).await.0,
        StatusCode::OK
    );
    // The brand owner sees the listing photo its brand was found in.
    assert_eq!(raw_get(&app, image, &zephyr.key).await.0, StatusCode::OK);
    assert_eq!(
        raw_get(&app, reference, &sellers[1].key).await.0,
        StatusCode::NOT_FOUND
    );
    let rival = app.rights_holder("Rival").await;
    assert_eq!(
        raw_get(&app, image, &rival.key).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        raw_get(&app, reference, &rival.key).await.0,
        StatusCode::NOT_FOUND
    );

    // Deleting the reference photo clears the match.
    let reference_id = uploaded.body[0]["id"].as_i64().unwrap();
    let deleted = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/brands/{brand_id}/reference-images/{reference_id}"),
            Some(&zephyr.key),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    if app.listing_state("FAKE").await == "active" {
        let after = current_finding(&app, "FAKE").await;
        assert!(
            after
                .as_ref()
                .is_none_or(|(_, reasons)| reason(reasons, "image_match").is_none()),
            "{after:?}"
        );
    }
    let listed = app
        .get(
            &format!("/api/v1/brands/{brand_id}/reference-images"),
            &zephyr.key,
        )
        .await;
    assert_eq!(listed.body, json!([]));
}

#[tokio::test]
async fn a_reference_photo_uploaded_later_flags_listings_already_hashed() {
    let app = spawn_app_with(config()).await;
    app.marketplace(1).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let original = fixture("photo-480x360-q90.jpg");
    // The listing photo is uploaded by the platform, mirrored.
    let uploaded = upload(
        &app,
        "/api/v1/listings/bazaar/L0-0/images",
        &app.admin,
        vec![("front.jpg", stolen_copy(&original))],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    assert_eq!(uploaded.body[0]["status"], "hashed");
    assert_eq!(uploaded.body[0]["source"], "upload:front.jpg");
    assert!(current_finding(&app, "L0-0").await.is_none());

    add_reference_and_expect_match(&app, &app.url, brand_id, &zephyr, original, "L0-0").await;
}

#[tokio::test]
async fn a_removed_listings_photo_reposted_elsewhere_is_a_relisted_item_and_a_shared_photo() {
    let app = spawn_app_with(config()).await;
    let sellers = app.marketplace(2).await;
    let holder = app.rights_holder("Acme").await;
    let host = photo_host(vec![("bag.jpg", fixture("photo-333x500-progressive.jpg"))]).await;
    let photo = vec![format!("{host}/bag.jpg")];
    list(&app, json!([listing("FIRST", "S0", &photo)])).await;
    settled_photos(&app, "FIRST").await;
    app.upheld(&holder, "FIRST").await;
    assert_eq!(app.listing_state("FIRST").await, "removed");

    list(&app, json!([listing("AGAIN", "S1", &photo)])).await;
    settled_photos(&app, "AGAIN").await;
    let (_, reasons) = current_finding(&app, "AGAIN").await.expect("a finding");
    let relisted = reason(&reasons, "relisted_item").expect("a relisted_item reason");
    assert_eq!(relisted["removed_listing_id"], "bazaar/FIRST");
    assert_eq!(relisted["distance"], 0);
    let removed_photo = relisted["removed_image"].as_str().unwrap();
    assert_eq!(
        raw_get(&app, removed_photo, &app.reviewer).await.0,
        StatusCode::OK
    );

    let shared =
        sqlx::query("SELECT person_id, other_person_id FROM shared_photos ORDER BY person_id")
            .fetch_all(app.state.store.pool())
            .await
            .unwrap();
    let pairs: Vec<(i64, i64)> = shared
        .iter()
        .map(|r| {
            (
                r.try_get("person_id").unwrap(),
                r.try_get("other_person_id").unwrap(),
            )
        })
        .collect();
    let (a, b) = (sellers[0].person_id, sellers[1].person_id);
    assert_eq!(pairs, vec![(a.min(b), a.max(b)), (a.max(b), a.min(b))]);
}

#[tokio::test]
async fn listings_already_sharing_a_photo_become_relisted_items_when_the_other_is_removed() {
    let app = spawn_app_with(config()).await;
    app.marketplace(2).await;
    let holder = app.rights_holder("Acme").await;
    let host = photo_host(vec![("bag.jpg", fixture("photo-333x500-progressive.jpg"))]).await;
    let photo = vec![format!("{host}/bag.jpg")];
    list(
        &app,
        json!([
            listing("FIRST", "S0", &photo),
            listing("TWIN", "S1", &photo)
        ]),
    )
    .await;
    settled_photos(&app, "FIRST").await;
    settled_photos(&app, "TWIN").await;
    assert!(current_finding(&app, "TWIN").await.is_none());

    app.upheld(&holder, "FIRST").await;
    app.run_jobs().await;

    let (_, reasons) = current_finding(&app, "TWIN")
        .await
        .expect("the twin is scanned again once the first is removed");
    let relisted = reason(&reasons, "relisted_item").expect("a relisted_item reason");
    assert_eq!(relisted["removed_listing_id"], "bazaar/FIRST");
}

#[tokio::test]
async fn a_photo_hashed_by_one_server_process_is_matched_by_another_sharing_the_database() {
    let app = spawn_app_with(config()).await;
    app.marketplace(2).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &["S0"]).await;
    let (other_url, other) = app.second_process().await;

    let original = fixture("photo-480x360-q90.jpg");
    let host = photo_host(vec![("stolen.jpg", stolen_copy(&original))]).await;
    list(
        &app,
        json!([listing("FAKE", "S1", &[format!("{host}/stolen.jpg")])]),
    )
    .await;
    settled_photos(&app, "FAKE").await;
    assert!(current_finding(&app, "FAKE").await.is_none());

    // The second process learns of the photo in its next job round, and its
    // own reference upload then finds it.
    ipguard_server::jobs::run_once(&other, &mut 0)
        .await
        .unwrap();
    add_reference_and_expect_match(&app, &other_url, brand_id, &zephyr, original, "FAKE").await;
}

#[tokio::test]
async fn bad_photos_get_precise_problems_and_nothing_is_half_written() {
    let app = spawn_app_with(config()).await;
    let sellers = app.marketplace(1).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let rival = app.rights_holder("Rival").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let path = format!("/api/v1/brands/{brand_id}/reference-images");
    let good = fixture("photo-480x360-q90.jpg");
    // A small file that decodes to 4 megapixels, over the 2 megapixel limit.
    let bomb = encode(
        &image::DynamicImage::ImageLuma8(image::GrayImage::new(2000, 2000)),
        ImageFormat::Png,
    );
    assert!(bomb.len() < 100_000);

    let text = upload(
        &app,
        &path,
        &zephyr.key,
        vec![("a.jpg", b"not an image".to_vec())],
    )
    .await;
    assert_problem(&text, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image");
    assert_eq!(text.body["errors"][0]["field"], "files[0]");
    let bombed = upload(&app, &path, &zephyr.key, vec![("bomb.png", bomb)]).await;
    assert_problem(&bombed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image");
    assert!(
        bombed.body["detail"]
            .as_str()
            .unwrap()
            .contains("2000x2000"),
        "{}",
        bombed.body
    );
    let flat = upload(
        &app,
        &path,
        &zephyr.key,
        vec![("flat.png", fixture("flat-96x80-rgb.png"))],
    )
    .await;
    assert_problem(&flat, StatusCode::UNPROCESSABLE_ENTITY, "low_quality_image");
    let huge = upload(
        &app,
        &path,
        &zephyr.key,
        vec![("huge.jpg", vec![0xff; 1_500_000])],
    )
    .await;
    assert_problem(&huge, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let mixed = upload(
        &app,
        &path,
        &zephyr.key,
        vec![("good.jpg", good.clone()), ("bad.jpg", b"junk".to_vec())],
    )
    .await;
    assert_problem(&mixed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image");
    assert_eq!(mixed.body["errors"][0]["field"], "files[1]");
    let empty = upload(&app, &path, &zephyr.key, vec![]).await;
    assert_eq!(empty.status.as_u16() / 100, 4, "{}", empty.body);
    let json_body = app.post(&path, &zephyr.key, json!({"file": "x"})).await;
    assert_problem(
        &json_body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // Someone else's brand does not exist for them.
    for key in [&rival.key, &sellers[0].key, &app.reviewer] {
        let refused = upload(&app, &path, key, vec![("good.jpg", good.clone())]).await;
        assert_problem(&refused, StatusCode::NOT_FOUND, "not_found");
    }
    let missing = upload(
        &app,
        "/api/v1/brands/9999/reference-images",
        &zephyr.key,
        vec![("good.jpg", good.clone())],
    )
    .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "not_found");
    let stored = app.get(&path, &zephyr.key).await;
    assert_eq!(stored.body, json!([]));
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reference_images")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(count, 0);
    assert!(app.state.images.index.is_empty());

    // More photos than a listing may have: the batch is refused, naming it.
    let many: Vec<String> = (0..5)
        .map(|i| format!("https://photos.test/{i}.jpg"))
        .collect();
    let crowded = app
        .post(
            "/api/v1/listings/batch",
            &app.admin,
            json!([listing("FINE", "S0", &[]), listing("CROWDED", "S0", &many)]),
        )
        .await;
    assert_problem(
        &crowded,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(crowded.body["errors"][0]["field"], "[1].images");

    // Listing photos that cannot be fetched or decoded say why.
    let host = photo_host(vec![
        ("notes.jpg", b"plain text, not a photo".to_vec()),
        ("huge.jpg", vec![0xff; 1_500_000]),
    ])
    .await;
    list(
        &app,
        json!([
            listing(
                "BROKEN",
                "S0",
                &[
                    "file:///etc/passwd".to_owned(),
                    format!("{host}/notes.jpg"),
                    format!("{host}/missing.jpg"),
                    "photos/front.jpg".to_owned(),
                ]
            ),
            listing(
                "WORSE",
                "S0",
                &[format!("{host}/huge.jpg"), format!("{host}/down.jpg")]
            )
        ]),
    )
    .await;
    let worse = settled_photos(&app, "WORSE").await;
    assert!(
        worse[0]["error"]
            .as_str()
            .unwrap()
            .contains("larger than 1048576 bytes"),
        "{worse:?}"
    );
    assert_eq!(worse[0]["attempts"], 1);
    // A server error is retried with backoff, then recorded for good.
    assert_eq!(worse[1]["status"], "failed");
    assert!(worse[1]["error"].as_str().unwrap().contains("HTTP 503"));
    assert_eq!(worse[1]["attempts"], 2);
    let photos = settled_photos(&app, "BROKEN").await;
    let error_of = |source: &str| {
        let photo = photos.iter().find(|p| p["source"] == source).unwrap();
        assert_eq!(photo["status"], "failed", "{photo}");
        photo["error"].as_str().unwrap().to_owned()
    };
    assert!(error_of("file:///etc/passwd").contains("`file` URLs are never fetched"));
    assert!(error_of(&format!("{host}/notes.jpg")).contains("not a JPEG, PNG, WebP or GIF"));
    assert!(error_of(&format!("{host}/missing.jpg")).contains("HTTP 404"));
    assert!(error_of("photos/front.jpg").contains("upload the photo instead"));
    // Too many photos refuse the batch.
    let many: Vec<String> = (0..5).map(|i| format!("{host}/{i}.jpg")).collect();
    let crowded = app
        .post(
            "/api/v1/listings/batch",
            &app.admin,
            json!([listing("MANY", "S0", &many)]),
        )
        .await;
    assert_problem(
        &crowded,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(
        app.get("/api/v1/listings/bazaar/MANY", &app.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Listing photo uploads are for the platform's integration only.
    let by_seller = upload(
        &app,
        "/api/v1/listings/bazaar/L0-0/images",
        &sellers[0].key,
        vec![("a.jpg", good)],
    )
    .await;
    assert_problem(&by_seller, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_edit_keeps_unchanged_photos_and_drops_removed_ones() {
    let app = spawn_app_with(config()).await;
    app.marketplace(1).await;
    let host = photo_host(vec![
        ("a.jpg", fixture("photo-480x360-q90.jpg")),
        ("b.jpg", fixture("photo-333x500-progressive.jpg")),
    ])
    .await;
    let (a, b) = (format!("{host}/a.jpg"), format!("{host}/b.jpg"));
    list(
        &app,
        json!([listing("EDITED", "S0", &[a.clone(), b.clone()])]),
    )
    .await;
    let first = settled_photos(&app, "EDITED").await;
    assert_eq!(first.len(), 2);
    list(
        &app,
        json!([listing("EDITED", "S0", std::slice::from_ref(&b))]),
    )
    .await;
    let second = app
        .get("/api/v1/listings/bazaar/EDITED/images", &app.admin)
        .await
        .body;
    assert_eq!(second.as_array().unwrap().len(), 1);
    // Unchanged, so not fetched again.
    assert_eq!(second[0], first[1]);
    list(&app, json!([listing("EDITED", "S0", &[b, a])])).await;
    let third = settled_photos(&app, "EDITED").await;
    assert_eq!(third.len(), 2);
    assert_eq!(third[0]["pdq"], first[0]["pdq"]);
    assert!(third.iter().all(|p| p["status"] == "hashed"));
}

#[tokio::test]
async fn redirects_are_followed_a_few_times_and_only_to_http() {
    let app = spawn_app_with(config()).await;
    app.marketplace(1).await;
    let host = photo_host(vec![("a.jpg", fixture("photo-480x360-q90.jpg"))]).await;
    let sources = ["to-to-a.jpg", "to-to-to-to-a.jpg", "to-file"].map(|s| format!("{host}/{s}"));
    list(&app, json!([listing("MOVED", "S0", &sources)])).await;
    let photos = settled_photos(&app, "MOVED").await;
    assert_eq!(photos[0]["status"], "hashed", "{photos:?}");
    assert!(
        photos[1]["error"]
            .as_str()
            .unwrap()
            .contains("more than 3 redirects"),
        "{photos:?}"
    );
    assert!(
        photos[2]["error"]
            .as_str()
            .unwrap()
            .contains("`file` URLs are never fetched"),
        "{photos:?}"
    );
}

#[tokio::test]
async fn photo_uploads_have_their_own_size_limit_above_the_json_one() {
    let app = spawn_app().await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let over_json_limit = vec![0_u8; app.state.config.server.max_body_bytes + 1];
    let path = format!("/api/v1/brands/{brand_id}/reference-images");
    // Read whole (the default photo limit is larger), then refused as no image.
    let junk = upload(&app, &path, &zephyr.key, vec![("big.jpg", over_json_limit)]).await;
    assert_problem(&junk, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image");
}

#[tokio::test]
async fn photo_uploads_retried_with_an_idempotency_key_may_exceed_the_json_limit() {
    let mut config = config();
    config.server.max_body_bytes = 16 * 1024;
    let app = spawn_app_with(config).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let photo = fixture("photo-480x360-q90.jpg");
    assert!(photo.len() > 16 * 1024);
    // A retry sends the same bytes, boundary included.
    let mut body = b"--retry\r\ncontent-disposition: form-data; name=\"files\"; filename=\"catalogue.jpg\"\r\n\
                     content-type: image/jpeg\r\n\r\n"
        .to_vec();
    body.extend_from_slice(&photo);
    body.extend_from_slice(b"\r\n--retry--\r\n");
    let send = || {
        app.http
            .post(format!(
                "{}/api/v1/brands/{brand_id}/reference-images",
                app.url
            ))
            .bearer_auth(&zephyr.key)
            .header("idempotency-key", "upload-1")
            .header("content-type", "multipart/form-data; boundary=retry")
            .body(body.clone())
            .send()
    };
    let first = reply(send().await.unwrap()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = reply(send().await.unwrap()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    let stored = app
        .get(
            &format!("/api/v1/brands/{brand_id}/reference-images"),
            &zephyr.key,
        )
        .await;
    assert_eq!(stored.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn private_and_loopback_hosts_are_refused_by_default() {
    let mut config = Config::default();
    config.images.retry_base_ms = 1;
    let app = spawn_app_with(config).await;
    app.marketplace(1).await;
    let host = photo_host(vec![("a.jpg", fixture("photo-480x360-q90.jpg"))]).await;
    let by_name = host.replace("127.0.0.1", "localhost");
    list(
        &app,
        json!([listing(
            "INTERNAL",
            "S0",
            &[format!("{host}/a.jpg"), format!("{by_name}/a.jpg")]
        )]),
    )
    .await;
    let photos = settled_photos(&app, "INTERNAL").await;
    assert!(
        photos[0]["error"]
            .as_str()
            .unwrap()
            .contains("private or loopback"),
        "{photos:?}"
    );
    assert!(
        photos[1]["error"]
            .as_str()
            .unwrap()
            .contains("no public address"),
        "{photos:?}"
    );
    // Refusals are final, not retried.
    assert!(
        photos
            .iter()
            .all(|p| p["status"] == "failed" && p["attempts"].as_i64().unwrap() <= 1)
    );
}

#[tokio::test]
async fn the_photo_index_loads_a_current_snapshot_and_rebuilds_a_stale_or_corrupt_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.images.index_path = Some(dir.path().join("photos.idx"));
    let app = spawn_app_with(config.clone()).await;
    app.marketplace(0).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let path = format!("/api/v1/brands/{brand_id}/reference-images");
    let photo = fixture("photo-480x360-q90.jpg");
    let add = || upload(&app, &path, &zephyr.key, vec![("a.jpg", photo.clone())]);
    assert_eq!(add().await.status, StatusCode::CREATED);
    let store = &app.state.store;
    app.state.images.index.save(store, &config.images).await;

    let reopened = PhotoIndex::default();
    assert_eq!(
        reopened.open(store, &config.images).await.unwrap(),
        "snapshot"
    );
    assert_eq!(reopened.len(), 8);
    assert_eq!(add().await.status, StatusCode::CREATED);
    let stale = PhotoIndex::default();
    assert_eq!(stale.open(store, &config.images).await.unwrap(), "rebuilt");
    assert_eq!(stale.len(), 16);
    // The rebuild wrote a current snapshot.
    assert_eq!(
        PhotoIndex::default()
            .open(store, &config.images)
            .await
            .unwrap(),
        "snapshot"
    );
    let file = config.images.index_path.clone().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let corrupt = PhotoIndex::default();
    assert_eq!(
        corrupt.open(store, &config.images).await.unwrap(),
        "rebuilt"
    );
    assert_eq!(corrupt.len(), 16);
}

/// A cookie-keeping browser logged in through the API's login.
async fn browser(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(format!("{}/api/v1/login", app.url))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (client, csrf)
}

async fn page(client: &reqwest::Client, url: String) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_portal_takes_reference_photos_and_shows_reviewers_both_photos_side_by_side() {
    let app = spawn_app_with(config()).await;
    app.marketplace(1).await;
    let zephyr = app.rights_holder("Zephyr").await;
    let brand_id = brand(&app, &zephyr, &[]).await;
    let (holder, csrf) = browser(&app, "legal@zephyr.test", "holder-password-1").await;
    let brands = page(&holder, format!("{}/portal/brands", app.url)).await;
    assert!(brands.contains("No reference photos yet."));
    assert!(brands.contains(r#"enctype="multipart/form-data""#));

    let original = fixture("photo-480x360-q90.jpg");
    let action = format!("{}/portal/brands/{brand_id}/reference-images", app.url);
    let form = |token: &str| {
        Form::new().text("csrf", token.to_owned()).part(
            "files",
            Part::bytes(original.clone()).file_name("front.jpg"),
        )
    };
    let forged = holder
        .post(&action)
        .multipart(form("forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&action)
        .multipart(form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::SEE_OTHER);
    let listed = app
        .get(
            &format!("/api/v1/brands/{brand_id}/reference-images"),
            &zephyr.key,
        )
        .await;
    assert_eq!(listed.body, json!([]));
    let added = holder
        .post(&action)
        .multipart(form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let brands = page(&holder, format!("{}/portal/brands?added=1", app.url)).await;
    let reference = format!("/api/v1/brands/{brand_id}/reference-images/");
    assert!(brands.contains(&reference), "{brands}");
    assert!(brands.contains("front.jpg"));

    // A listing titled to look harmless, with the photo mirrored.
    let hostile = r#"<img src=x onerror=alert(1)> bag"#;
    let uploaded = upload(
        &app,
        "/api/v1/listings/bazaar/L0-0/images",
        &app.admin,
        vec![("a.jpg", stolen_copy(&original))],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    list(
        &app,
        json!([{"id": "L0-0", "platform": "bazaar", "seller_id": "S0", "title": hostile,
            "category": "bags", "price": {"amount": "80.00", "currency": "USD"}}]),
    )
    .await;
    let (status, _) = current_finding(&app, "L0-0").await.expect("a finding");
    assert_eq!(status, "open");
    let (reviewer, reviewer_csrf) =
        browser(&app, "reviewer@ipguard.test", "reviewer-password-1").await;
    let queue = page(&reviewer, format!("{}/portal/review/findings", app.url)).await;
    assert!(
        queue.contains(r#"src="/api/v1/listings/bazaar/L0-0/images/0/content""#),
        "{queue}"
    );
    assert!(queue.contains(&format!(r#"src="{reference}"#)));
    assert!(!queue.contains(hostile));
    assert!(queue.contains("&lt;img src=x onerror=alert(1)&gt; bag"));
    assert!(!queue.contains("<script"));
    // The reviewer's browser loads both photos with its session cookie.
    let photo = reviewer
        .get(format!(
            "{}/api/v1/listings/bazaar/L0-0/images/0/content",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    // The rights holder sees the same pair on its detected listings.
    let detected = page(&holder, format!("{}/portal/findings", app.url)).await;
    assert!(detected.contains("/api/v1/listings/bazaar/L0-0/images/0/content"));

    // The reviewer decides from the queue.
    let open = app.get("/api/v1/findings?status=open", &app.reviewer).await;
    let finding = open.body["items"][0]["id"].as_i64().unwrap();
    let decided = reviewer
        .post(format!("{}/portal/review/findings/{finding}", app.url))
        .form(&[
            ("csrf", reviewer_csrf.as_str()),
            ("outcome", "uphold"),
            (
                "facts",
                "The listing shows the brand's catalogue photo, mirrored.",
            ),
            ("ground_kind", "legal"),
            ("ground_reference", "Copyright in the photograph"),
            ("ground_explanation", "Reproduction without licence."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.listing_state("L0-0").await, "removed");
}

/// Start-up cost of the photo index with `IPGUARD_PHOTOS` stored listing
/// photos (default 200,000): rebuilt from SQLite, then loaded from the
/// snapshot the rebuild wrote. Figures are in bench/RESULTS.md.
#[tokio::test]
#[ignore = "timing: cargo test --release -p ipguard-server --test api start_up -- --ignored --nocapture"]
async fn start_up_timing_of_the_photo_index() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("photos.db").display());
    let store = ipguard_store::Store::open(&url).await.unwrap();
    let mut config = Config::default().images;
    config.index_path = Some(dir.path().join("photos.idx"));
    let photos: i64 = std::env::var("IPGUARD_PHOTOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut tx = store.begin_write().await.unwrap();
    for setup in [
        "INSERT INTO platforms (id, name, kind, listing_url_prefix, created_at) VALUES ('p', 'P', 'c2c', 'https://p/', 0)",
        "INSERT INTO persons (created_at) VALUES (0)",
        "INSERT INTO sellers (platform, ext_id, person_id, display_name, legal_name, email, phone, id_document_ref, \
         bank_account_ref, address, created_at) VALUES ('p', 's', 1, 'd', 'l', 'e', 'p', 'i', 'b', 'a', 0)",
    ] {
        sqlx::query(setup).execute(&mut *tx).await.unwrap();
    }
    for id in 1..=photos {
        sqlx::query(
            "INSERT INTO listings (id, platform, ext_id, seller_id, title, description, category, images, listed_at, \
             updated_at, state) VALUES ($1, 'p', $2, 1, 't', 'd', 'c', '[]', 0, 0, 'active')",
        )
        .bind(id)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
        let hash: [u8; 32] = rng.r#gen();
        sqlx::query(
            "INSERT INTO listing_images (listing_id, position, source, status, pdq, quality) \
             VALUES ($1, 0, 'x', 'hashed', $2, 90)",
        )
        .bind(id)
        .bind(hex::encode(hash))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    for expected in ["rebuilt", "snapshot"] {
        let index = PhotoIndex::default();
        let started = std::time::Instant::now();
        assert_eq!(index.open(&store, &config).await.unwrap(), expected);
        println!(
            "{expected}: {} hashes in {:?}",
            index.len(),
            started.elapsed()
        );
    }
}
