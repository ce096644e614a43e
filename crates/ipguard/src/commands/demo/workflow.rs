//! The notice-and-takedown workflow played through the API: trust earned
//! and lost, removals under trust, decisions, appeals and counter-notices,
//! repeat infringers, everyday notices, and the no-account and CSV channels.

use super::catalog::BRANDS;
use super::client::int;
use super::{
    FIRST_ORDINARY_ORG, Generator, Goods, PLATFORMS, SELLER, SELLER_PASSWORD, STORY_SELLERS, Story,
    TRUSTED_ORG, WARNED_ORG, api_err,
};
use anyhow::{Context, bail};
use ipguard_domain::Role;
use ipguard_server::api::accounts::bootstrap_user;
use rand::Rng;
use serde_json::{Value, json};

impl Generator {
    pub(super) fn trusted_filings_count(&self) -> usize {
        (self.size.background_notices / 10).max(12)
    }

    pub(super) fn brand_of(&self, listing: usize) -> anyhow::Result<usize> {
        match self.listings[listing].goods {
            Goods::Counterfeit(brand) | Goods::Replica(brand) | Goods::Genuine(brand) => Ok(brand),
            Goods::Generic => bail!("listing {} carries no brand", self.listings[listing].ext_id),
        }
    }

    pub(super) fn listing_ref(&self, listing: usize, by_url: bool) -> Value {
        let listing = &self.listings[listing];
        let platform = &PLATFORMS[self.sellers[listing.seller].platform];
        if by_url {
            json!({"url": format!("{}{}", platform.url_prefix, listing.ext_id)})
        } else {
            json!({"platform": platform.id, "listing_id": listing.ext_id})
        }
    }

    pub(super) fn notice_description(&self, org: usize, kind: &str, listings: &[usize]) -> String {
        let brand = self.orgs[org].brand;
        let titles: Vec<String> = listings
            .iter()
            .map(|&i| format!("\"{}\"", self.listings[i].title))
            .collect();
        match kind {
            "counterfeit" => format!(
                "The listings {} offer goods bearing our {} trade mark (registration {}, {}) that we did not make: \
                 they are sold far below retail, outside our authorised distribution, and described as copies.",
                titles.join(", "),
                brand.name,
                self.orgs[org].registration_number,
                brand.office
            ),
            _ => format!(
                "The listings {} use our {} trade mark in their titles to attract buyers to goods that are not ours.",
                titles.join(", "),
                brand.name
            ),
        }
    }

    /// Files a notice from a rights holder's account; returns its item ids
    /// in the order of `listings`, and whether it was filed under trust.
    pub(super) async fn file_notice(
        &mut self,
        org: usize,
        kind: &str,
        listings: &[usize],
    ) -> anyhow::Result<(Vec<i64>, bool)> {
        let by_url = self.rng.gen_ratio(1, 5);
        let refs: Vec<Value> = listings
            .iter()
            .map(|&i| self.listing_ref(i, by_url))
            .collect();
        let body = json!({
            "right_id": self.orgs[org].right_id,
            "infringement_type": kind,
            "listings": refs,
            "description": self.notice_description(org, kind, listings),
            "declarations": {"good_faith": true, "accurate": true, "authorised": true},
        });
        let filed = self
            .api
            .post(Some(&self.orgs[org].key), "/api/v1/notices", &body)
            .await?;
        self.summary.notices += 1;
        Ok((item_ids(&filed)?, filed["trusted"] == json!(true)))
    }

    /// A reviewer's decision with a statement of reasons drawn from the listing.
    pub(super) async fn decide(
        &mut self,
        item: i64,
        listing: usize,
        kind: &str,
        uphold: bool,
        manifestly_unfounded: bool,
    ) -> anyhow::Result<()> {
        let brand = &BRANDS[self.brand_of(listing)?];
        let listing = &self.listings[listing];
        let share = (100.0 * listing.price / f64::from(brand.msrp)).round();
        let statement = if uphold {
            let (article, explanation) = if kind == "counterfeit" {
                (
                    "art. 9(2)(a)",
                    "The seller uses a sign identical with the registered trade mark for identical goods without the proprietor's consent.",
                )
            } else {
                (
                    "art. 9(2)(b)",
                    "The seller uses a sign similar to the registered trade mark for similar goods, so that buyers are likely to be confused.",
                )
            };
            json!({
                "facts": format!(
                    "The listing \"{}\" offers goods under the {} mark at {:.2} USD, about {share}% of the genuine retail price of {} USD; \
                     the rights holder states the goods are not genuine and the listing describes them as copies.",
                    listing.title, brand.name, listing.price, brand.msrp
                ),
                "ground": {
                    "kind": "legal",
                    "reference": format!("Regulation (EU) 2017/1001 on the EU trade mark, {article}"),
                    "explanation": explanation,
                },
                "territorial_scope": "European Union",
            })
        } else {
            let facts = if manifestly_unfounded {
                format!(
                    "The listing \"{}\" is offered by an authorised {} retailer at {:.2} USD; the notice gives no reason to \
                     doubt the goods and names the listing only because it competes with the rights holder's own store.",
                    listing.title, brand.name, listing.price
                )
            } else {
                format!(
                    "The listing \"{}\" offers {} goods at {:.2} USD, consistent with genuine goods resold after their first sale; \
                     the notice gives no evidence that these goods are not genuine.",
                    listing.title, brand.name, listing.price
                )
            };
            json!({
                "facts": facts,
                "ground": {
                    "kind": "legal",
                    "reference": "Regulation (EU) 2017/1001 on the EU trade mark, art. 15 (exhaustion of rights)",
                    "explanation": "The proprietor cannot prohibit the resale of goods put on the market in the EEA with its consent.",
                },
            })
        };
        let body = json!({
            "outcome": if uphold { "uphold" } else { "reject" },
            "statement": statement,
            "manifestly_unfounded": manifestly_unfounded,
        });
        self.api
            .post(
                Some(&self.reviewer),
                &format!("/api/v1/items/{item}/decision"),
                &body,
            )
            .await?;
        self.summary.decisions += 1;
        Ok(())
    }

    /// Files a notice naming one listing and has the reviewer uphold it.
    pub(super) async fn upheld_notice(
        &mut self,
        listing: usize,
        kind: &str,
    ) -> anyhow::Result<i64> {
        let org = self.brand_of(listing)?;
        let (items, _) = self.file_notice(org, kind, &[listing]).await?;
        let item = *items.first().context("a notice without items")?;
        self.decide(item, listing, kind, true, false).await?;
        Ok(item)
    }

    pub(super) fn take(pool: &mut [Vec<usize>], brand: usize, what: &str) -> anyhow::Result<usize> {
        pool[brand].pop().with_context(|| {
            format!(
                "the demo ran out of {what} listings of {}",
                BRANDS[brand].name
            )
        })
    }

    /// The trusted submitter earns its status the only way there is: enough
    /// counterfeit notices upheld by a reviewer.
    pub(super) async fn trust_earned(&mut self) -> anyhow::Result<()> {
        for _ in 0..self.trust_earning_notices() {
            let listing = Self::take(&mut self.counterfeits, TRUSTED_ORG, "counterfeit")?;
            self.upheld_notice(listing, "counterfeit").await?;
        }
        Ok(())
    }

    /// The second submitter earns trust for trademark misuse, then files a
    /// manifestly unfounded notice: the listing comes down under trust, the
    /// reviewer reverses it, and the submitter loses trust and is warned.
    pub(super) async fn trust_lost(&mut self) -> anyhow::Result<()> {
        for _ in 0..self.trust_earning_notices() {
            let listing = Self::take(&mut self.counterfeits, WARNED_ORG, "counterfeit")?;
            self.upheld_notice(listing, "trademark_misuse").await?;
        }
        let listing = Self::take(&mut self.genuine, WARNED_ORG, "genuine")?;
        let (items, trusted) = self
            .file_notice(WARNED_ORG, "trademark_misuse", &[listing])
            .await?;
        if !trusted {
            eprintln!(
                "ipguard demo: warning: adidas did not become trusted; check [policy.trusted]"
            );
        }
        for item in items {
            self.decide(item, listing, "trademark_misuse", false, true)
                .await?;
        }
        Ok(())
    }

    /// Notices under trust: listings come down at once. The reviewer
    /// confirms some, reverses one mistaken removal, and leaves the rest in
    /// the queue as removed pending review.
    pub(super) async fn trusted_filings(&mut self) -> anyhow::Result<()> {
        let mut filed = Vec::new();
        for _ in 0..self.trusted_filings_count() {
            let count = self
                .rng
                .gen_range(1..=3)
                .min(self.counterfeits[TRUSTED_ORG].len());
            if count == 0 {
                break;
            }
            let listings: Vec<usize> = (0..count)
                .filter_map(|_| self.counterfeits[TRUSTED_ORG].pop())
                .collect();
            let (items, trusted) = self
                .file_notice(TRUSTED_ORG, "counterfeit", &listings)
                .await?;
            if !trusted {
                eprintln!(
                    "ipguard demo: warning: Nike did not become trusted; check [policy.trusted]"
                );
            }
            filed.extend(items.into_iter().zip(listings));
        }
        for (item, listing) in filed.iter().step_by(2) {
            self.decide(*item, *listing, "counterfeit", true, false)
                .await?;
        }
        let mistaken = Self::take(&mut self.genuine, TRUSTED_ORG, "genuine")?;
        let (items, _) = self
            .file_notice(TRUSTED_ORG, "counterfeit", &[mistaken])
            .await?;
        for item in items {
            self.decide(item, mistaken, "counterfeit", false, false)
                .await?;
        }
        Ok(())
    }

    /// Sellers contest removals: appeals granted, denied and pending;
    /// counter-notices granted (awaiting the rights holder's legal action),
    /// answered by legal action, and pending. The first seller is the demo
    /// seller login.
    pub(super) async fn contest_removals(&mut self) -> anyhow::Result<()> {
        use Story::*;
        let plan: [&[Story]; STORY_SELLERS] = [
            &[AppealGranted, CounterNoticePending],
            &[AppealDenied],
            &[CounterNoticeGranted],
            &[CounterNoticeLegalAction],
            &[AppealPending],
            &[CounterNoticeGranted, AppealGranted],
        ];
        for (number, stories) in plan.iter().enumerate() {
            let seller = self.story_sellers[number];
            let email = if number == 0 {
                SELLER.email.to_owned()
            } else {
                let s = &self.sellers[seller];
                format!("{}@{}.demo", s.ext_id, PLATFORMS[s.platform].id)
            };
            let (_, key) = bootstrap_user(
                &self.state,
                &email,
                SELLER_PASSWORD,
                Role::Seller,
                None,
                Some(self.sellers[seller].id),
            )
            .await
            .map_err(api_err)?;
            let mut reserved = self.reserved.remove(&seller).unwrap_or_default();
            for story in stories.iter() {
                let listing = reserved.pop().context("a story seller without listings")?;
                let item = self.upheld_notice(listing, "counterfeit").await?;
                self.contest(item, listing, *story, &key).await?;
            }
            if number == 0
                && let Some(listing) = reserved.pop()
            {
                // One notice against the demo seller still waits for review.
                let org = self.brand_of(listing)?;
                self.file_notice(org, "trademark_misuse", &[listing])
                    .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn contest(
        &mut self,
        item: i64,
        listing: usize,
        story: Story,
        seller_key: &str,
    ) -> anyhow::Result<()> {
        use Story::*;
        let appeal = matches!(story, AppealGranted | AppealDenied | AppealPending);
        let body = if appeal {
            json!({
                "kind": "appeal",
                "reasons": "The goods are genuine: I bought them from an authorised retailer, and the invoice is attached.",
                "evidence": [format!("invoice-{}.pdf", self.listings[listing].ext_id)],
            })
        } else {
            json!({
                "kind": "counter_notice",
                "reasons": "I have a good-faith belief that the listing was removed by mistake; the goods are genuine second-hand \
                            items. I consent to the jurisdiction of the courts at my address and accept service from the notifier.",
                "evidence": [format!("photos-{}.zip", self.listings[listing].ext_id)],
            })
        };
        let challenge = self
            .api
            .post(
                Some(seller_key),
                &format!("/api/v1/items/{item}/challenges"),
                &body,
            )
            .await?;
        self.summary.challenges += 1;
        let id = int(&challenge, "id")?;
        let grant = match story {
            AppealPending | CounterNoticePending => return Ok(()),
            AppealDenied => false,
            AppealGranted | CounterNoticeGranted | CounterNoticeLegalAction => true,
        };
        let statement = if grant {
            json!({
                "facts": "The seller's invoice from an authorised retailer matches the product, the quantity and the date of the listing.",
                "ground": {
                    "kind": "legal",
                    "reference": "Regulation (EU) 2017/1001 on the EU trade mark, art. 15 (exhaustion of rights)",
                    "explanation": "Genuine goods put on the market in the EEA with the proprietor's consent may be resold.",
                },
            })
        } else {
            json!({
                "facts": "The invoice names a different product than the listing, and the listing's price and replica wording indicate counterfeit goods.",
                "ground": {
                    "kind": "legal",
                    "reference": "Regulation (EU) 2017/1001 on the EU trade mark, art. 9(2)(a)",
                    "explanation": "The evidence does not show the goods are genuine, so the removal stands.",
                },
            })
        };
        self.api
            .post(
                Some(&self.appeals_reviewer),
                &format!("/api/v1/challenges/{id}/decision"),
                &json!({"outcome": if grant { "uphold" } else { "reject" }, "statement": statement}),
            )
            .await?;
        if matches!(story, CounterNoticeLegalAction) {
            let org = self.brand_of(listing)?;
            let reference = format!(
                "Tribunal judiciaire de Paris, RG 26/{:05}",
                self.rng.gen_range(1000..99_999)
            );
            self.api
                .post(
                    Some(&self.orgs[org].key),
                    &format!("/api/v1/challenges/{id}/legal-action"),
                    &json!({ "reference": reference }),
                )
                .await?;
        }
        Ok(())
    }

    /// Counterfeiters with one to four upheld notices each, which climbs the
    /// penalty ladder from a listing limit to closure.
    pub(super) async fn strike_repeat_infringers(&mut self) -> anyhow::Result<()> {
        for (number, seller) in self.repeat_infringers.clone().into_iter().enumerate() {
            let mut reserved = self.reserved.remove(&seller).unwrap_or_default();
            for _ in 0..=number % 4 {
                let listing = reserved
                    .pop()
                    .context("a repeat infringer without listings")?;
                self.upheld_notice(listing, "counterfeit").await?;
            }
        }
        Ok(())
    }

    /// Everyday traffic: ordinary rights holders file notices against
    /// counterfeits (and now and then against genuine resales); the reviewer
    /// works through about two thirds of them.
    pub(super) async fn background_notices(&mut self) -> anyhow::Result<()> {
        let orgs = self.orgs.len();
        for _ in 0..self.size.background_notices {
            let org = self.rng.gen_range(FIRST_ORDINARY_ORG..orgs);
            let against_genuine = self.rng.gen_ratio(1, 10) && !self.genuine[org].is_empty();
            let pool = if against_genuine {
                &mut self.genuine
            } else {
                &mut self.counterfeits
            };
            let wanted = if self.rng.gen_ratio(7, 10) {
                1
            } else {
                self.rng.gen_range(2..=3)
            };
            let listings: Vec<usize> = (0..wanted).filter_map(|_| pool[org].pop()).collect();
            if listings.is_empty() {
                continue;
            }
            let kind = if self.rng.gen_ratio(2, 3) {
                "counterfeit"
            } else {
                "trademark_misuse"
            };
            let (items, _) = self.file_notice(org, kind, &listings).await?;
            for (item, listing) in items.into_iter().zip(listings) {
                if self.rng.gen_ratio(2, 3) {
                    self.decide(item, listing, kind, !against_genuine, false)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Notices from people without an account, who prove the right by its
    /// registration number and name listings by URL.
    pub(super) async fn anonymous_notices(&mut self) -> anyhow::Result<()> {
        for number in 0..5 {
            let org = FIRST_ORDINARY_ORG + number % (self.orgs.len() - FIRST_ORDINARY_ORG);
            let Some(listing) = self.counterfeits[org].pop() else {
                continue;
            };
            let brand = self.orgs[org].brand;
            let body = json!({
                "right": {
                    "kind": "trademark",
                    "registration_number": self.orgs[org].registration_number,
                    "office": brand.office,
                    "owner": brand.organisation,
                },
                "infringement_type": "counterfeit",
                "listings": [self.listing_ref(listing, true)],
                "description": format!(
                    "I act for {} as outside counsel. The listing \"{}\" sells counterfeit {} goods.",
                    brand.organisation, self.listings[listing].title, brand.name
                ),
                "declarations": {"good_faith": true, "accurate": true, "authorised": true},
                "contact": {"name": "Marta Keller, Keller IP Law", "email": "notices@keller-ip.example", "phone": "+49 30 5550 1234"},
            });
            self.api.post(None, "/api/v1/public/notices", &body).await?;
            self.summary.notices += 1;
        }
        Ok(())
    }

    /// A bulk notice uploaded as CSV, as small rights holders file them.
    pub(super) async fn csv_notice(&mut self) -> anyhow::Result<()> {
        let org = FIRST_ORDINARY_ORG;
        let mut csv =
            String::from("right_id,infringement_type,platform,listing_id,url,description\n");
        for _ in 0..6 {
            let Some(listing) = self.counterfeits[org].pop() else {
                break;
            };
            let listing = &self.listings[listing];
            let platform = &PLATFORMS[self.sellers[listing.seller].platform];
            csv.push_str(&format!(
                "{},counterfeit,{},{},,Counterfeit {} goods offered as replicas\n",
                self.orgs[org].right_id, platform.id, listing.ext_id, self.orgs[org].brand.name
            ));
        }
        let path = "/api/v1/notices/csv?good_faith=true&accurate=true&authorised=true";
        let filed = self.api.post_csv(&self.orgs[org].key, path, csv).await?;
        self.summary.notices += filed["notices"].as_array().map_or(0, Vec::len);
        Ok(())
    }
}

fn item_ids(filed: &Value) -> anyhow::Result<Vec<i64>> {
    filed["items"]
        .as_array()
        .context("a filed notice without items")?
        .iter()
        .map(|item| int(item, "id"))
        .collect()
}
