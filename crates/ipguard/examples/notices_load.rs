//! Load generator for notices (see bench/notices/run.sh, which runs it on
//! SQLite and on a throwaway PostgreSQL).
//!
//! It creates a fresh database's first administrator and reviewer, starts
//! `ipguard serve` on a loopback port, sets up a platform, sellers,
//! listings and rights holders through the API, has one rights holder earn
//! trusted status the way the policy requires (upheld notices), and then
//! files a fixed number of notices from concurrent clients while reviewers
//! decide the untrusted ones. It prints the sustained notice rate and the
//! latency of the trusted submitter's `POST /api/v1/notices`, which returns
//! only once the listing is removed: that latency is the time from notice
//! to removal.
//!
//! Bounded by design: a fixed number of requests, a time cap, loopback only.

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use ipguard_domain::Role;
use ipguard_server::AppState;
use ipguard_server::api::accounts::bootstrap_user;
use ipguard_server::config::Config;
use ipguard_store::Store;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Debug, Parser)]
struct Args {
    /// Database for the server: a fresh `sqlite:PATH` or `postgres://…`.
    #[arg(long)]
    db: String,
    /// The `ipguard` binary to start.
    #[arg(long)]
    ipguard: PathBuf,
    /// Notices to file in the measured phase (half trusted, half not).
    #[arg(long, default_value_t = 20_000)]
    notices: usize,
    /// Concurrent notice-filing clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Concurrent reviewer clients deciding untrusted notices meanwhile.
    #[arg(long, default_value_t = 2)]
    reviewers: usize,
    /// Stop the measured phase after this many seconds even if not done.
    #[arg(long, default_value_t = 120)]
    time_cap: u64,
}

/// The `ipguard serve` child; killed when the run ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// POSTs JSON, with an API key unless `key` is `None`.
    async fn post(&self, key: Option<&str>, path: &str, body: &Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }
}

const PLATFORM: &str = "bench";
const SELLERS: usize = 200;
const BATCH: usize = 1000;

fn listing_ref(index: usize) -> Value {
    json!({"platform": PLATFORM, "listing_id": format!("L{index}")})
}

fn declarations() -> Value {
    json!({"good_faith": true, "accurate": true, "authorised": true})
}

fn decision(uphold: bool) -> Value {
    let outcome = if uphold { "uphold" } else { "reject" };
    json!({
        "outcome": outcome,
        "statement": {
            "facts": "The listing's goods, price and wording were compared with the registered mark and the genuine product.",
            "ground": {
                "kind": "legal",
                "reference": "Regulation (EU) 2017/1001, art. 9(2)(a)",
                "explanation": "Whether an identical sign is used for identical goods without consent."
            }
        }
    })
}

/// Registers a rights holder with a verified trademark; returns (key, right id).
async fn rights_holder(api: &Api, reviewer: &str, n: usize) -> anyhow::Result<(String, i64)> {
    let registered = api
        .post(
            None,
            "/api/v1/register",
            &json!({"organisation": format!("Brand {n} Ltd"), "email": format!("brand{n}@bench.example"),
                    "password": "bench-password-1"}),
        )
        .await?;
    let key = registered["api_key"]
        .as_str()
        .context("api_key")?
        .to_owned();
    let right = api
        .post(
            Some(&key),
            "/api/v1/rights",
            &json!({"kind": "trademark", "registration_number": format!("BENCH{n:06}"), "office": "EUIPO",
                    "scope": "25", "owner": format!("Brand {n} Ltd")}),
        )
        .await?;
    let right_id = right["id"].as_i64().context("right id")?;
    api.post(
        Some(reviewer),
        &format!("/api/v1/rights/{right_id}/verification"),
        &json!({"status": "verified"}),
    )
    .await?;
    Ok((key, right_id))
}

fn notice(right_id: i64, listing: usize) -> Value {
    json!({
        "right_id": right_id,
        "infringement_type": "counterfeit",
        "listings": [listing_ref(listing)],
        "description": "Counterfeit goods offered as replicas of our product.",
        "declarations": declarations(),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<34} n={:<6} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        samples.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        percentile(&samples, 100.0)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.concurrency == 0 || args.notices == 0 {
        bail!("--notices and --concurrency must be at least 1");
    }
    // The first accounts are made the way an operator makes them, straight
    // in the database, before the server runs.
    let store = Store::open(&args.db).await?;
    let state = AppState::new(store.clone(), Config::default())?;
    let bootstrap = |email: &'static str, role| {
        let state = state.clone();
        async move {
            bootstrap_user(&state, email, "bench-password-1", role, None, None)
                .await
                .map(|(_, key)| key)
                .map_err(|e| anyhow!("{}: {}", e.code, e.detail))
        }
    };
    let admin = bootstrap("admin@bench.example", Role::Admin).await?;
    let reviewer = bootstrap("reviewer@bench.example", Role::Reviewer).await?;
    store.close().await;

    let mut child = Command::new(&args.ipguard)
        .args(["serve", "--db", &args.db, "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", args.ipguard.display()))?;
    let stdout = child.stdout.take().context("server stdout")?;
    let server = Server(child);
    let first = BufReader::new(stdout)
        .lines()
        .next()
        .context("the server printed nothing")??;
    let base = first
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow!("unexpected first line {first:?}"))?
        .to_owned();
    let api = Api {
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(args.concurrency + args.reviewers)
            .build()?,
        base,
    };

    let setup = Instant::now();
    api.post(
        Some(&admin),
        "/api/v1/platforms",
        &json!({"id": PLATFORM, "name": "Bench", "kind": "c2c", "listing_url_prefix": "https://bench.example/item/"}),
    )
    .await?;
    for s in 0..SELLERS {
        api.post(
            Some(&admin),
            "/api/v1/sellers",
            &json!({"platform": PLATFORM, "id": format!("S{s}"), "display_name": format!("Shop {s}"),
                    "identity": {"legal_name": format!("Seller {s}"), "email": format!("s{s}@bench.example"),
                                 "phone": format!("+1555{s:07}"), "id_document_ref": format!("DOC{s:08}"),
                                 "bank_account_ref": format!("BANK{s:08}"), "address": format!("{s} Bench Street")}}),
        )
        .await?;
    }
    let trust_needed = Config::default().policy.trusted.min_decided as usize;
    let total_listings = args.notices + trust_needed;
    for start in (0..total_listings).step_by(BATCH) {
        // Each seller gets few listings so no penalty ladder step blocks the
        // setup; the measured phase then removes one listing per notice.
        let batch: Vec<Value> = (start..(start + BATCH).min(total_listings))
            .map(|i| {
                json!({"id": format!("L{i}"), "platform": PLATFORM, "seller_id": format!("S{}", i % SELLERS),
                       "title": format!("Repl1ca sneaker AAA #{i}"), "category": "shoes/sneakers",
                       "price": {"amount": "19.90", "currency": "USD"}})
            })
            .collect();
        api.post(Some(&admin), "/api/v1/listings/batch", &json!(batch))
            .await?;
    }
    let (trusted_key, trusted_right) = rights_holder(&api, &reviewer, 0).await?;
    let mut untrusted = Vec::new();
    for n in 1..=4 {
        untrusted.push(rights_holder(&api, &reviewer, n).await?);
    }
    for listing in 0..trust_needed {
        let filed = api
            .post(
                Some(&trusted_key),
                "/api/v1/notices",
                &notice(trusted_right, listing),
            )
            .await?;
        let item = filed["items"][0]["id"].as_i64().context("item id")?;
        api.post(
            Some(&reviewer),
            &format!("/api/v1/items/{item}/decision"),
            &decision(true),
        )
        .await?;
    }
    println!(
        "setup: {SELLERS} sellers, {total_listings} listings, 5 rights holders, trust earned in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The measured phase: even listing numbers go to the trusted submitter,
    // odd ones round-robin to the untrusted ones.
    let next = Arc::new(AtomicUsize::new(0));
    let filing_done = Arc::new(AtomicBool::new(false));
    let pending: Arc<Mutex<Vec<i64>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(args.time_cap);
    let started = Instant::now();
    let mut filers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (api, next, pending) = (api.clone(), next.clone(), pending.clone());
        let trusted_key = trusted_key.clone();
        let untrusted = untrusted.clone();
        let notices = args.notices;
        filers.spawn(async move {
            let mut trusted_times = Vec::new();
            let mut untrusted_times = Vec::new();
            let mut errors = 0usize;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= notices || Instant::now() > deadline {
                    break;
                }
                let trusted = n % 2 == 0;
                let (key, right) = if trusted {
                    (&trusted_key, trusted_right)
                } else {
                    let (key, right) = &untrusted[(n / 2) % untrusted.len()];
                    (key, *right)
                };
                let sent = Instant::now();
                let filed = api
                    .post(
                        Some(key),
                        "/api/v1/notices",
                        &notice(right, trust_needed + n),
                    )
                    .await;
                let took = sent.elapsed();
                match filed {
                    Ok(filed) if trusted => {
                        if filed["items"][0]["status"] != json!("removed_pending_review") {
                            errors += 1;
                        }
                        trusted_times.push(took);
                    }
                    Ok(filed) => {
                        untrusted_times.push(took);
                        if let Some(item) = filed["items"][0]["id"].as_i64() {
                            pending.lock().await.push(item);
                        }
                    }
                    Err(err) => {
                        if errors == 0 {
                            eprintln!("first error: {err}");
                        }
                        errors += 1;
                    }
                }
            }
            (trusted_times, untrusted_times, errors)
        });
    }
    let mut deciders = tokio::task::JoinSet::new();
    for _ in 0..args.reviewers {
        let (api, pending, filing_done) = (api.clone(), pending.clone(), filing_done.clone());
        let reviewer = reviewer.clone();
        deciders.spawn(async move {
            let mut times = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let item = pending.lock().await.pop();
                let Some(item) = item else {
                    if filing_done.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                // One decision in five rejects, which keeps the untrusted
                // submitters below the trust threshold for the whole run.
                let sent = Instant::now();
                match api
                    .post(
                        Some(&reviewer),
                        &format!("/api/v1/items/{item}/decision"),
                        &decision(item % 5 != 0),
                    )
                    .await
                {
                    Ok(_) => times.push(sent.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (times, errors)
        });
    }
    let (mut trusted_times, mut untrusted_times, mut errors) = (Vec::new(), Vec::new(), 0);
    while let Some(result) = filers.join_next().await {
        let (t, u, e) = result?;
        trusted_times.extend(t);
        untrusted_times.extend(u);
        errors += e;
    }
    let filing_secs = started.elapsed().as_secs_f64();
    filing_done.store(true, Ordering::Relaxed);
    let (mut decision_times, mut decision_errors) = (Vec::new(), 0);
    while let Some(result) = deciders.join_next().await {
        let (t, e) = result?;
        decision_times.extend(t);
        decision_errors += e;
    }
    let total_secs = started.elapsed().as_secs_f64();
    let filed = trusted_times.len() + untrusted_times.len();
    println!(
        "filed {filed} notices in {filing_secs:.2} s with {} clients and {} reviewers: {:.0} notices/s sustained ({errors} errors)",
        args.concurrency,
        args.reviewers,
        filed as f64 / filing_secs
    );
    println!(
        "decided {} items in {total_secs:.2} s: {:.0} decisions/s ({decision_errors} errors)",
        decision_times.len(),
        decision_times.len() as f64 / total_secs
    );
    report(
        "trusted notice -> removal",
        std::mem::take(&mut trusted_times),
    );
    report(
        "untrusted notice -> queued",
        std::mem::take(&mut untrusted_times),
    );
    report("decision", decision_times);
    drop(server);
    Ok(())
}
