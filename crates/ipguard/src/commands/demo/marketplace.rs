//! The marketplace around the workflow: platforms, rights holders with
//! verified rights and brands, sellers linked across platforms, listings
//! (everyday goods, genuine branded goods, counterfeits passed off as genuine
//! and openly announced replicas) and their sales.

use super::catalog::{self, BRANDS, BrandSpec};
use super::client::{int, text};
use super::{
    FIRST_ORDINARY_ORG, Generator, Goods, Listing, MAX_BATCH, Org, PLATFORMS, REPEAT_INFRINGERS,
    RIGHTS_PASSWORD, STORY_SELLERS, Seller, TRUSTED_ORG, WARNED_ORG,
};
use anyhow::bail;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Listings start on this day (2026-06-01) and spread over the next 150 days.
const FIRST_LISTING_AT: i64 = 1_780_272_000;
const LISTING_SPREAD_SECS: i64 = 150 * 86_400;

impl Generator {
    pub(super) async fn create_platforms(&mut self) -> anyhow::Result<()> {
        for platform in &PLATFORMS {
            let body = json!({
                "id": platform.id,
                "name": platform.name,
                "kind": platform.kind,
                "listing_url_prefix": platform.url_prefix,
            });
            self.api
                .post(Some(&self.admin), "/api/v1/platforms", &body)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn register_rights_holders(&mut self) -> anyhow::Result<()> {
        for (index, brand) in BRANDS.iter().take(self.size.organisations).enumerate() {
            let registered = self
                .api
                .post(
                    None,
                    "/api/v1/register",
                    &json!({
                        "organisation": brand.organisation,
                        "email": format!("{}@brands.demo", brand.slug),
                        "password": RIGHTS_PASSWORD,
                        "display_name": format!("{} brand protection", brand.name),
                    }),
                )
                .await?;
            let key = text(&registered, "api_key")?.to_owned();
            let registration_number = format!("{:09}", self.rng.gen_range(10_000_000..999_999_999));
            let right_id = self
                .claim_right(
                    &key,
                    brand,
                    "trademark",
                    &registration_number,
                    brand.classes,
                )
                .await?;
            self.verify(right_id, None).await?;
            let mut terms = vec![brand.name];
            terms.extend_from_slice(brand.extra_terms);
            let created_brand = self
                .api
                .post(
                    Some(&key),
                    "/api/v1/brands",
                    &json!({
                        "slug": brand.slug,
                        "name": brand.name,
                        "right_id": right_id,
                        "terms": terms,
                        "msrp": {brand.category: {"amount": brand.msrp.to_string(), "currency": "USD"}},
                    }),
                )
                .await?;
            let brand_id = int(&created_brand, "id")?;
            // A few claims stay in the verification queue or were refused,
            // so the reviewer's side of verification has something to show.
            if index == FIRST_ORDINARY_ORG {
                let number = format!("{:09}", self.rng.gen_range(10_000_000..999_999_999));
                self.claim_right(
                    &key,
                    brand,
                    "design",
                    &number,
                    "product shape and packaging",
                )
                .await?;
            }
            if index == FIRST_ORDINARY_ORG + 1 {
                let number = format!("EP{:07}", self.rng.gen_range(1_000_000..4_000_000));
                let id = self
                    .claim_right(&key, brand, "patent", &number, "clasp mechanism")
                    .await?;
                let reason = "The certificate names another company as proprietor and no assignment was provided.";
                self.verify(id, Some(reason)).await?;
            }
            self.orgs.push(Org {
                brand,
                key,
                right_id,
                brand_id,
                registration_number,
            });
        }
        self.summary.organisations = self.orgs.len();
        self.counterfeits = vec![Vec::new(); self.orgs.len()];
        self.genuine = vec![Vec::new(); self.orgs.len()];
        Ok(())
    }

    pub(super) async fn claim_right(
        &mut self,
        key: &str,
        brand: &BrandSpec,
        kind: &str,
        number: &str,
        scope: &str,
    ) -> anyhow::Result<i64> {
        let from = chrono::NaiveDate::from_ymd_opt(self.rng.gen_range(1995..2020), 3, 1);
        let until = from.and_then(|d| d.checked_add_months(chrono::Months::new(240)));
        let created = self
            .api
            .post(
                Some(key),
                "/api/v1/rights",
                &json!({
                    "kind": kind,
                    "registration_number": number,
                    "office": brand.office,
                    "scope": scope,
                    "owner": brand.organisation,
                    "valid_from": from,
                    "valid_until": until,
                }),
            )
            .await?;
        let id = int(&created, "id")?;
        let certificate = format!(
            "{} registration certificate\nNumber: {number}\nOffice: {}\nProprietor: {}\nScope: {scope}\n",
            kind, brand.office, brand.organisation
        );
        self.api
            .post(
                Some(key),
                &format!("/api/v1/rights/{id}/evidence"),
                &json!({
                    "filename": format!("{}-{number}.txt", brand.slug),
                    "content_type": "text/plain",
                    "content_base64": base64_encode(certificate.as_bytes()),
                }),
            )
            .await?;
        Ok(id)
    }

    pub(super) async fn verify(
        &mut self,
        right_id: i64,
        rejection: Option<&str>,
    ) -> anyhow::Result<()> {
        let body = match rejection {
            None => json!({"status": "verified"}),
            Some(reason) => json!({"status": "rejected", "reason": reason}),
        };
        self.api
            .post(
                Some(&self.reviewer),
                &format!("/api/v1/rights/{right_id}/verification"),
                &body,
            )
            .await?;
        Ok(())
    }

    pub(super) fn platform_for_new_seller(&mut self) -> usize {
        let total: u32 = PLATFORMS.iter().map(|p| p.weight).sum();
        let mut draw = self.rng.gen_range(0..total);
        for (index, platform) in PLATFORMS.iter().enumerate() {
            if draw < platform.weight {
                return index;
            }
            draw -= platform.weight;
        }
        0
    }

    pub(super) async fn create_sellers(&mut self) -> anyhow::Result<()> {
        let mut identities: Vec<(usize, Value)> = Vec::with_capacity(self.size.sellers);
        let mut per_platform = [0usize; PLATFORMS.len()];
        for index in 0..self.size.sellers {
            let platform = self.platform_for_new_seller();
            per_platform[platform] += 1;
            let city = self.rng.gen_range(0..catalog::CITIES.len());
            // One seller in twelve is a person already selling on another
            // platform; the shared identity document and bank account link
            // the shops in the identity graph.
            let twin = if index % 12 == 11 {
                let start = self.rng.gen_range(0..identities.len());
                (0..identities.len())
                    .map(|offset| (start + offset) % identities.len())
                    .find(|&candidate| identities[candidate].0 != platform)
            } else {
                None
            };
            let identity = match twin {
                Some(candidate) => {
                    let mut shared = identities[candidate].1.clone();
                    shared["email"] = json!(format!("shop{index}@mail.example"));
                    shared
                }
                None => self.identity(platform, city, index),
            };
            let counterfeiter = self.rng.gen_ratio(if platform == 1 { 1 } else { 3 }, 25);
            // Counterfeiters often open fresh accounts; the account-age
            // signal of detection sees that.
            let age_days = if counterfeiter && self.rng.gen_ratio(1, 4) {
                self.rng.gen_range(2..25)
            } else {
                self.rng.gen_range(45..2_200)
            };
            let joined_at = rfc3339(chrono::Utc::now().timestamp() - age_days * 86_400);
            let ext_id = format!(
                "{}-{:05}",
                &PLATFORMS[platform].id[..2],
                per_platform[platform]
            );
            let display_name = format!(
                "{} {} {}",
                self.pick(catalog::SHOP_WORDS),
                self.pick(catalog::SHOP_NOUNS),
                index % 97
            );
            let created = self
                .api
                .post(
                    Some(&self.admin),
                    "/api/v1/sellers",
                    &json!({
                        "platform": PLATFORMS[platform].id,
                        "id": ext_id,
                        "display_name": display_name,
                        "identity": identity,
                        "joined_at": joined_at,
                    }),
                )
                .await?;
            if created.get("linked").and_then(Value::as_bool) == Some(true) {
                self.summary.linked_sellers += 1;
            }
            identities.push((platform, identity));
            self.sellers.push(Seller {
                platform,
                ext_id,
                id: int(&created, "id")?,
                counterfeiter,
                city,
            });
        }
        // The stories need counterfeiters on the C2C bazaar (the demo seller
        // is one); a small marketplace may have drawn too few.
        let needed = STORY_SELLERS + REPEAT_INFRINGERS;
        let mut have = self
            .sellers
            .iter()
            .filter(|s| s.platform == 0 && s.counterfeiter)
            .count();
        for seller in self.sellers.iter_mut().filter(|s| s.platform == 0) {
            if have >= needed {
                break;
            }
            if !seller.counterfeiter {
                seller.counterfeiter = true;
                have += 1;
            }
        }
        let mut scripted = self
            .sellers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.platform == 0 && s.counterfeiter)
            .map(|(index, _)| index);
        self.story_sellers = scripted.by_ref().take(STORY_SELLERS).collect();
        self.repeat_infringers = scripted.take(REPEAT_INFRINGERS).collect();
        if self.repeat_infringers.len() < REPEAT_INFRINGERS {
            bail!("too few bazaar sellers for the demo's stories; raise --scale");
        }
        self.summary.sellers = self.sellers.len();
        Ok(())
    }
    pub(super) fn identity(&mut self, platform: usize, city: usize, index: usize) -> Value {
        let first = *self.pick(catalog::FIRST_NAMES);
        let last = *self.pick(catalog::LAST_NAMES);
        let (city_name, country) = catalog::CITIES[city];
        // Mall shops are companies; bazaar and resale sellers are people.
        let legal_name = if PLATFORMS[platform].kind == "b2c" {
            let form = *self.pick(&["GmbH", "SARL", "S.r.l.", "Ltd", "B.V.", "Co., Ltd."]);
            format!("{last} Trading {form}")
        } else {
            format!("{first} {last}")
        };
        json!({
            "legal_name": legal_name,
            "email": format!("{}.{}{index}@mail.example", first.to_lowercase(), last.to_lowercase()),
            "phone": format!("+{} {:03} {:07}", self.rng.gen_range(30..99), self.rng.gen_range(100..999), self.rng.gen_range(0..9_999_999)),
            "id_document_ref": format!("ID-{country}-{:09}", self.rng.gen_range(0..999_999_999)),
            "bank_account_ref": format!("{country}{:02} **** **** {:04}", self.rng.gen_range(10..99), self.rng.gen_range(0..9999)),
            "address": format!("{} {}, {city_name}, {country}", self.rng.gen_range(1..200), self.pick(catalog::STREETS)),
        })
    }

    /// How many notices the trusted submitter needs upheld to earn trust
    /// under the configured policy, with a margin.
    pub(super) fn trust_earning_notices(&self) -> usize {
        self.state.policy().trusted.min_decided as usize + 2
    }

    /// Plans every listing, then sends them in batches of 1000.
    pub(super) async fn create_listings(&mut self) -> anyhow::Result<()> {
        let orgs = self.orgs.len();
        let earn = self.trust_earning_notices();
        let trusted_filings = self.trusted_filings_count();
        // (seller, goods): listings the scripted workflow needs come first,
        // the rest of the marketplace is drawn around them.
        let mut planned: Vec<(Option<usize>, Goods)> = Vec::with_capacity(self.size.listings);
        planned.extend(
            (0..earn + 3 * trusted_filings).map(|_| (None, Goods::Counterfeit(TRUSTED_ORG))),
        );
        planned.extend((0..2).map(|_| (None, Goods::Genuine(TRUSTED_ORG))));
        planned.extend((0..earn + 2).map(|_| (None, Goods::Counterfeit(WARNED_ORG))));
        planned.extend((0..3).map(|_| (None, Goods::Genuine(WARNED_ORG))));
        for brand in FIRST_ORDINARY_ORG..orgs {
            planned.extend((0..6).map(|_| (None, Goods::Counterfeit(brand))));
            planned.extend((0..3).map(|_| (None, Goods::Genuine(brand))));
        }
        let scripted: Vec<usize> = self
            .story_sellers
            .iter()
            .chain(&self.repeat_infringers)
            .copied()
            .collect();
        for seller in scripted {
            for _ in 0..4 {
                let brand = self.rng.gen_range(FIRST_ORDINARY_ORG..orgs);
                planned.push((Some(seller), Goods::Counterfeit(brand)));
            }
        }
        while planned.len() < self.size.listings {
            let goods = match self.rng.gen_range(0..100) {
                0..80 => Goods::Generic,
                80..92 => Goods::Genuine(self.rng.gen_range(0..orgs)),
                92..96 => Goods::Counterfeit(self.rng.gen_range(0..orgs)),
                _ => Goods::Replica(self.rng.gen_range(0..orgs)),
            };
            planned.push((None, goods));
        }
        planned.shuffle(&mut self.rng);

        let counterfeiters: Vec<usize> = (0..self.sellers.len())
            .filter(|&i| self.sellers[i].counterfeiter)
            .collect();
        let shops: Vec<usize> = (0..self.sellers.len())
            .filter(|&i| PLATFORMS[self.sellers[i].platform].kind != "c2c")
            .collect();
        let mut per_platform = [0usize; PLATFORMS.len()];
        for (fixed_seller, goods) in planned {
            let seller = match (fixed_seller, goods) {
                (Some(seller), _) => seller,
                (None, Goods::Counterfeit(_) | Goods::Replica(_)) if self.rng.gen_ratio(3, 4) => {
                    *self.pick(&counterfeiters)
                }
                (None, Goods::Genuine(_)) if !shops.is_empty() && self.rng.gen_ratio(3, 5) => {
                    *self.pick(&shops)
                }
                _ => self.rng.gen_range(0..self.sellers.len()),
            };
            let platform = self.sellers[seller].platform;
            per_platform[platform] += 1;
            let ext_id = format!(
                "{}{}",
                &PLATFORMS[platform].id[..2].to_uppercase(),
                100_000 + per_platform[platform]
            );
            let (title, price) = self.describe(goods);
            let index = self.listings.len();
            match (fixed_seller, goods) {
                (Some(seller), _) => self.reserved.entry(seller).or_default().push(index),
                (None, Goods::Counterfeit(brand)) => self.counterfeits[brand].push(index),
                (None, Goods::Genuine(brand)) => self.genuine[brand].push(index),
                (None, Goods::Generic | Goods::Replica(_)) => {}
            }
            let listed_at = FIRST_LISTING_AT + self.rng.gen_range(0..LISTING_SPREAD_SECS);
            self.listings.push(Listing {
                seller,
                ext_id,
                goods,
                title,
                price,
                listed_at,
            });
        }
        let mut blocked = HashSet::new();
        for start in (0..self.listings.len()).step_by(MAX_BATCH) {
            let end = (start + MAX_BATCH).min(self.listings.len());
            let batch: Vec<Value> = (start..end).map(|i| self.listing_json(i)).collect();
            let result = self
                .api
                .post(Some(&self.admin), "/api/v1/listings/batch", &batch)
                .await?;
            if int(&result, "rejected")? != 0 {
                bail!("the service refused listings of the demo: {result}");
            }
            self.summary.queued_for_review += int(&result, "queued_for_review")? as usize;
            let results = result["results"].as_array().map_or(&[][..], Vec::as_slice);
            for (index, outcome) in (start..end).zip(results) {
                if outcome["detection"] == "block" {
                    self.summary.proactive_removals += 1;
                    blocked.insert(index);
                }
            }
        }
        // Listings detection took down are no longer there for notices to name.
        for pool in self
            .counterfeits
            .iter_mut()
            .chain(&mut self.genuine)
            .chain(self.reserved.values_mut())
        {
            pool.retain(|index| !blocked.contains(index));
        }
        self.summary.listings = self.listings.len();
        Ok(())
    }

    /// A title and a price for a listing of these goods.
    pub(super) fn describe(&mut self, goods: Goods) -> (String, f64) {
        match goods {
            Goods::Generic => {
                let (_, nouns, low, high) = *self.pick(catalog::GENERIC_GOODS);
                let title = format!(
                    "{} {}, {}",
                    self.pick(catalog::ADJECTIVES),
                    self.pick(nouns),
                    self.pick(catalog::COLOURS)
                );
                (title, self.rng.gen_range(f64::from(low)..f64::from(high)))
            }
            Goods::Genuine(brand) => {
                let spec = &BRANDS[brand];
                let product = *self.pick(spec.products);
                let title = if self.rng.gen_bool(0.5) {
                    format!(
                        "{} {product} - {}",
                        spec.name,
                        self.pick(catalog::CONDITIONS)
                    )
                } else {
                    format!(
                        "Original {} {product}, {}",
                        spec.name,
                        self.pick(catalog::COLOURS)
                    )
                };
                (title, f64::from(spec.msrp) * self.rng.gen_range(0.55..1.05))
            }
            Goods::Counterfeit(brand) => {
                let spec = &BRANDS[brand];
                let product = *self.pick(spec.products);
                let title = format!(
                    "{} {product} - {}",
                    spec.name,
                    self.pick(catalog::CONDITIONS)
                );
                (title, f64::from(spec.msrp) * self.rng.gen_range(0.35..0.6))
            }
            Goods::Replica(brand) => {
                let spec = &BRANDS[brand];
                let product = *self.pick(spec.products);
                let name = if self.rng.gen_bool(0.6) {
                    twist(&mut self.rng, spec.name)
                } else {
                    spec.name.to_owned()
                };
                let title = self
                    .pick(catalog::REPLICA_TEMPLATES)
                    .replace("{brand}", &name)
                    .replace("{product}", product);
                (title, f64::from(spec.msrp) * self.rng.gen_range(0.05..0.25))
            }
        }
    }

    pub(super) fn category(goods: Goods, title: &str) -> &'static str {
        match goods {
            Goods::Genuine(brand) | Goods::Counterfeit(brand) | Goods::Replica(brand) => {
                BRANDS[brand].category
            }
            Goods::Generic => catalog::GENERIC_GOODS
                .iter()
                .find(|(_, nouns, _, _)| nouns.iter().any(|noun| title.contains(noun)))
                .map_or("other", |(category, _, _, _)| category),
        }
    }

    pub(super) fn listing_json(&self, index: usize) -> Value {
        let listing = &self.listings[index];
        let seller = &self.sellers[listing.seller];
        let platform = &PLATFORMS[seller.platform];
        let (city, _) = catalog::CITIES[seller.city];
        let description = match listing.goods {
            Goods::Generic => format!("{}. Ships from {city} within 2 days.", listing.title),
            Goods::Genuine(_) => format!(
                "{}. Bought from an authorised store; receipt and original box included. Ships from {city}.",
                listing.title
            ),
            Goods::Counterfeit(_) => {
                format!("{}. Fast shipping from {city}, no returns.", listing.title)
            }
            Goods::Replica(_) => format!(
                "{}. Same quality as original, all logos and tags. Ships from {city} in 7-15 days, no returns.",
                listing.title
            ),
        };
        json!({
            "id": listing.ext_id,
            "platform": platform.id,
            "seller_id": seller.ext_id,
            "title": listing.title,
            "description": description,
            "category": Self::category(listing.goods, &listing.title),
            "price": {"amount": format!("{:.2}", listing.price), "currency": "USD"},
            "created_at": rfc3339(listing.listed_at),
        })
    }

    /// Sales, so that a rights holder sees units and value sold after an
    /// upheld notice. Counterfeits sell more than the average listing.
    pub(super) async fn record_orders(&mut self) -> anyhow::Result<()> {
        let fakes: Vec<usize> = (0..self.listings.len())
            .filter(|&i| {
                matches!(
                    self.listings[i].goods,
                    Goods::Counterfeit(_) | Goods::Replica(_)
                )
            })
            .collect();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        for number in 0..self.size.orders {
            let index = if self.rng.gen_ratio(3, 10) && !fakes.is_empty() {
                *self.pick(&fakes)
            } else {
                self.rng.gen_range(0..self.listings.len())
            };
            let listing = &self.listings[index];
            let seller = &self.sellers[listing.seller];
            let units: u32 = match listing.goods {
                Goods::Counterfeit(_) | Goods::Replica(_) => self.rng.gen_range(1..=8),
                _ => self.rng.gen_range(1..=3),
            };
            let ordered_at = listing.listed_at + self.rng.gen_range(3_600..20 * 86_400);
            batch.push(json!({
                "id": format!("O{:07}", number + 1),
                "platform": PLATFORMS[seller.platform].id,
                "listing_id": listing.ext_id,
                "units": units,
                "price": {"amount": format!("{:.2}", listing.price * f64::from(units)), "currency": "USD"},
                "ordered_at": rfc3339(ordered_at),
                "ship_from": catalog::CITIES[seller.city].1,
            }));
            if batch.len() == MAX_BATCH || number + 1 == self.size.orders {
                self.api
                    .post(Some(&self.admin), "/api/v1/orders/batch", &batch)
                    .await?;
                batch.clear();
            }
        }
        self.summary.orders = self.size.orders;
        Ok(())
    }
}

/// Deliberate misspellings of a brand, the "trademark twisting" detection
/// has to see through: lookalike letters, doubled or swapped letters, a dot.
fn twist(rng: &mut StdRng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let lookalike = |c: char| match c {
        'i' => Some('l'),
        'o' => Some('0'),
        'e' => Some('3'),
        'a' => Some('@'),
        's' => Some('5'),
        'l' => Some('1'),
        _ => None,
    };
    let positions: Vec<usize> = (1..chars.len())
        .filter(|&i| lookalike(chars[i]).is_some())
        .collect();
    let mut twisted = chars.clone();
    match rng.gen_range(0..4) {
        0 if !positions.is_empty() => {
            let at = positions[rng.gen_range(0..positions.len())];
            if let Some(replacement) = lookalike(chars[at]) {
                twisted[at] = replacement;
            }
        }
        1 if chars.len() > 3 => {
            let at = rng.gen_range(1..chars.len() - 1);
            twisted.insert(at, chars[at]);
        }
        2 if chars.len() > 3 => twisted.swap(1, 2),
        _ => twisted.insert(1, '.'),
    }
    twisted.into_iter().collect()
}

fn rfc3339(unix_secs: i64) -> String {
    chrono::DateTime::from_timestamp(unix_secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
