//! `ipguard demo`: a marketplace full of realistic data, served at once.
//!
//! The generator starts the real service in-process on a loopback port and
//! drives it over HTTP like an operator's integration, rights holders,
//! reviewers and sellers would, so every row passes the same validation,
//! workflow, notifications and audit log as in production. Nothing is
//! written to the database behind the service's back; the only shortcut is
//! `bootstrap_user`, which the service itself offers for creating staff and
//! seller accounts without an administrator session.
//!
//! The data is deterministic (one seeded random generator, requests made in
//! order), and the demo logins have fixed passwords, listed in [`LOGINS`].

mod catalog;
mod client;
mod marketplace;
mod photos;
mod workflow;

use super::serve::serve;
use anyhow::{anyhow, bail};
use catalog::{BRANDS, BrandSpec};
use clap::Args;
use client::Api;
use ipguard_domain::Role;
use ipguard_server::api::accounts::bootstrap_user;
use ipguard_server::config::Config;
use ipguard_server::{AppState, launch_with_tcp_listener};
use ipguard_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Database URL: `sqlite:PATH` or `postgres://…`. A database that already
    /// holds data is served as it is, so a second `ipguard demo` resumes.
    #[arg(long, default_value = "sqlite:ipguard-demo.db")]
    pub db: String,
    /// Address to serve the demo on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// TOML configuration file, as for `ipguard serve`.
    #[arg(long, env = "IPGUARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Size relative to the full demo (1.0: 2,000 sellers, 50,000 listings);
    /// tests use a small fraction.
    #[arg(long, hide = true, default_value_t = 1.0)]
    pub scale: f64,
}

/// A demo login with its fixed password.
pub struct Login {
    pub what: &'static str,
    pub email: &'static str,
    pub password: &'static str,
}

const SEED: u64 = 20_261_123;
const ADMIN: Login = Login {
    what: "administrator",
    email: "admin@ipguard.demo",
    password: "admin-demo-pass",
};
const REVIEWER: Login = Login {
    what: "reviewer (decides notices)",
    email: "reviewer@ipguard.demo",
    password: "reviewer-demo-pass",
};
const APPEALS_REVIEWER: Login = Login {
    what: "reviewer (decides appeals)",
    email: "appeals@ipguard.demo",
    password: "reviewer-demo-pass",
};
/// Every rights holder's user is `SLUG@brands.demo` with this password.
const RIGHTS_PASSWORD: &str = "rights-demo-pass";
const TRUSTED_HOLDER: Login = Login {
    what: "rights holder, trusted for counterfeit notices",
    email: "nike@brands.demo",
    password: RIGHTS_PASSWORD,
};
const WARNED_HOLDER: Login = Login {
    what: "rights holder, lost trusted status (warned)",
    email: "adidas@brands.demo",
    password: RIGHTS_PASSWORD,
};
/// Every seller account the demo opens has this password.
const SELLER_PASSWORD: &str = "seller-demo-pass";
const SELLER: Login = Login {
    what: "seller with removals, strikes and appeals",
    email: "seller@bazaar.demo",
    password: SELLER_PASSWORD,
};

/// The logins printed after `listening on`.
pub const LOGINS: [Login; 6] = [
    ADMIN,
    REVIEWER,
    APPEALS_REVIEWER,
    TRUSTED_HOLDER,
    WARNED_HOLDER,
    SELLER,
];

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let size = DemoSize::scaled(args.scale)?;
    let config = Config::load(args.config.as_deref())?;
    let store = Store::open(&args.db).await?;
    let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(store.pool())
        .await?
        .try_get("n")?;
    if users > 0 {
        eprintln!(
            "ipguard demo: {} already holds data; serving it unchanged",
            args.db
        );
    } else {
        let started = Instant::now();
        let summary = generate(&store, &config, &size).await?;
        eprintln!(
            "ipguard demo: generated {summary} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    serve(store, config, &args.bind, |_| print_logins()).await
}

fn print_logins() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "demo logins (email / password):");
    for login in &LOGINS {
        let _ = writeln!(
            out,
            "  {:<48} {:<24} {}",
            login.what, login.email, login.password
        );
    }
    let _ = writeln!(
        out,
        "  every rights holder is SLUG@brands.demo / {RIGHTS_PASSWORD}; every seller account / {SELLER_PASSWORD}"
    );
    let _ = out.flush();
}

/// How much to generate. The scripted workflow (trust earned and lost,
/// appeals, counter-notices, repeat infringers) runs at every size; the
/// size sets the marketplace around it and the volume of ordinary notices.
#[derive(Debug, Clone)]
struct DemoSize {
    sellers: usize,
    listings: usize,
    organisations: usize,
    orders: usize,
    background_notices: usize,
}

impl DemoSize {
    fn scaled(scale: f64) -> anyhow::Result<DemoSize> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 4.0) {
            bail!("--scale must be above 0 and at most 4");
        }
        let of = |full: f64, floor: usize| ((full * scale).round() as usize).max(floor);
        let listings = of(50_000.0, 1_500);
        Ok(DemoSize {
            sellers: of(2_000.0, 60),
            listings,
            organisations: of(30.0, MIN_ORGANISATIONS).min(BRANDS.len()),
            orders: listings * 2 / 5,
            background_notices: of(1_200.0, 20),
        })
    }
}

/// The trusted submitter, the one that loses trust, and enough others for
/// the appeal stories to use brands of neither.
const MIN_ORGANISATIONS: usize = 6;
const TRUSTED_ORG: usize = 0;
const WARNED_ORG: usize = 1;
const FIRST_ORDINARY_ORG: usize = 2;
const STORY_SELLERS: usize = 6;
const REPEAT_INFRINGERS: usize = 5;
const MAX_BATCH: usize = 1000;

struct PlatformSpec {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    url_prefix: &'static str,
    /// Share of sellers on this platform, out of 10.
    weight: u32,
}

const PLATFORMS: [PlatformSpec; 3] = [
    PlatformSpec {
        id: "bazaar",
        name: "Bazaar (C2C marketplace)",
        kind: "c2c",
        url_prefix: "https://bazaar.example/item/",
        weight: 5,
    },
    PlatformSpec {
        id: "mall",
        name: "Mall (B2C storefronts)",
        kind: "b2c",
        url_prefix: "https://mall.example/p/",
        weight: 2,
    },
    PlatformSpec {
        id: "resale",
        name: "Resale (second-hand app)",
        kind: "second_hand",
        url_prefix: "https://resale.example/listing/",
        weight: 3,
    },
];

/// What the data set contains, for the closing line.
#[derive(Debug, Default)]
struct Summary {
    sellers: usize,
    linked_sellers: usize,
    listings: usize,
    proactive_removals: usize,
    queued_for_review: usize,
    photos: usize,
    orders: usize,
    organisations: usize,
    notices: usize,
    decisions: usize,
    challenges: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} platforms, {} sellers ({} linked to a shop elsewhere), {} listings \
             ({} removed by proactive detection, {} queued for review), {} product photos, {} orders, \
             {} rights holders, {} notices, {} decisions, {} challenges",
            PLATFORMS.len(),
            self.sellers,
            self.linked_sellers,
            self.listings,
            self.proactive_removals,
            self.queued_for_review,
            self.photos,
            self.orders,
            self.organisations,
            self.notices,
            self.decisions,
            self.challenges
        )
    }
}

/// Creates the demo data by driving a private instance of the service.
async fn generate(store: &Store, config: &Config, size: &DemoSize) -> anyhow::Result<Summary> {
    let state = AppState::new(store.clone(), config.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(launch_with_tcp_listener(
        listener,
        state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let api = Api::new(&base)?;
    let result = async move {
        Generator::start(state, api, size.clone())
            .await?
            .run()
            .await
    }
    .await;
    let _ = stop.send(());
    server.await??;
    result
}

fn api_err(err: ipguard_server::error::ApiError) -> anyhow::Error {
    anyhow!("{}: {}", err.code, err.detail)
}

struct Org {
    brand: &'static BrandSpec,
    key: String,
    right_id: i64,
    brand_id: i64,
    registration_number: String,
}

struct Seller {
    platform: usize,
    ext_id: String,
    id: i64,
    counterfeiter: bool,
    city: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Goods {
    Generic,
    Genuine(usize),
    /// A fake offered as the real thing: only its rights holder can tell,
    /// so it is for notices to find.
    Counterfeit(usize),
    /// A fake announced as one ("replica AAA"): for proactive detection to remove.
    Replica(usize),
}

struct Listing {
    seller: usize,
    ext_id: String,
    goods: Goods,
    title: String,
    price: f64,
    /// Unix seconds.
    listed_at: i64,
}

/// What happens to a story seller's contested removal.
#[derive(Clone, Copy)]
enum Story {
    AppealGranted,
    AppealDenied,
    AppealPending,
    CounterNoticeGranted,
    CounterNoticeLegalAction,
    CounterNoticePending,
}

struct Generator {
    api: Api,
    state: AppState,
    rng: StdRng,
    size: DemoSize,
    admin: String,
    reviewer: String,
    appeals_reviewer: String,
    orgs: Vec<Org>,
    sellers: Vec<Seller>,
    listings: Vec<Listing>,
    /// Unused counterfeit and genuine listings per brand, for notices to name.
    counterfeits: Vec<Vec<usize>>,
    genuine: Vec<Vec<usize>>,
    /// Counterfeit listings kept for the scripted sellers' stories.
    reserved: HashMap<usize, Vec<usize>>,
    /// Bazaar counterfeiters whose removals are contested, the demo seller first.
    story_sellers: Vec<usize>,
    /// Bazaar counterfeiters who collect strikes up to closure.
    repeat_infringers: Vec<usize>,
    summary: Summary,
}

impl Generator {
    async fn start(state: AppState, api: Api, size: DemoSize) -> anyhow::Result<Generator> {
        let staff = |login: &'static Login, role| {
            let state = state.clone();
            async move {
                bootstrap_user(&state, login.email, login.password, role, None, None)
                    .await
                    .map(|(_, key)| key)
                    .map_err(api_err)
            }
        };
        let admin = staff(&ADMIN, Role::Admin).await?;
        let reviewer = staff(&REVIEWER, Role::Reviewer).await?;
        let appeals_reviewer = staff(&APPEALS_REVIEWER, Role::Reviewer).await?;
        Ok(Generator {
            api,
            state,
            rng: StdRng::seed_from_u64(SEED),
            size,
            admin,
            reviewer,
            appeals_reviewer,
            orgs: Vec::new(),
            sellers: Vec::new(),
            listings: Vec::new(),
            counterfeits: Vec::new(),
            genuine: Vec::new(),
            reserved: HashMap::new(),
            story_sellers: Vec::new(),
            repeat_infringers: Vec::new(),
            summary: Summary::default(),
        })
    }

    async fn run(mut self) -> anyhow::Result<Summary> {
        let phase = |name: &str, started: Instant| {
            eprintln!(
                "ipguard demo: {name} done ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        };
        let t = Instant::now();
        self.create_platforms().await?;
        self.register_rights_holders().await?;
        phase("platforms and rights holders", t);
        let t = Instant::now();
        self.create_sellers().await?;
        phase("sellers", t);
        let t = Instant::now();
        self.create_listings().await?;
        self.record_orders().await?;
        phase("listings and orders", t);
        let t = Instant::now();
        self.trust_earned().await?;
        self.trust_lost().await?;
        self.trusted_filings().await?;
        self.contest_removals().await?;
        self.strike_repeat_infringers().await?;
        self.background_notices().await?;
        self.anonymous_notices().await?;
        self.csv_notice().await?;
        phase("notices, decisions and challenges", t);
        let t = Instant::now();
        self.product_photos().await?;
        phase("product photos", t);
        Ok(self.summary)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }
}
