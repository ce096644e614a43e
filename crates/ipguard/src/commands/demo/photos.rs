//! Product photos: every brand's rights holder uploads a reference shot, and
//! a few counterfeit listings that no notice named reuse it mirrored, the way
//! stolen product photos come back on fakes. Detection matches them through
//! the photo index, so the review queue shows listing and reference side by side.

use super::{Generator, PLATFORMS, SEED};
use anyhow::Context;
use image::{ImageFormat, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Cursor;

/// Counterfeit listings per brand that get the brand's stolen photo.
const STOLEN_PER_BRAND: usize = 2;
const WIDTH: u32 = 640;
const HEIGHT: u32 = 480;
/// Well above the service's default floor of 50.
const GOOD_QUALITY: u8 = 70;

impl Generator {
    pub(super) async fn product_photos(&mut self) -> anyhow::Result<()> {
        for org in 0..self.orgs.len() {
            let photo = product_photo(SEED ^ org as u64)?;
            let slug = self.orgs[org].brand.slug;
            let path = format!(
                "/api/v1/brands/{}/reference-images",
                self.orgs[org].brand_id
            );
            self.api
                .post_files(
                    &self.orgs[org].key,
                    &path,
                    vec![(format!("{slug}-front.png"), png(&photo)?)],
                )
                .await?;
            self.summary.photos += 1;
            let mirrored = png(&image::imageops::flip_horizontal(&photo))?;
            let unused: Vec<usize> = self.counterfeits[org]
                .iter()
                .take(STOLEN_PER_BRAND)
                .copied()
                .collect();
            for listing in unused {
                let listing = &self.listings[listing];
                let platform = PLATFORMS[self.sellers[listing.seller].platform].id;
                let path = format!("/api/v1/listings/{platform}/{}/images", listing.ext_id);
                self.api
                    .post_files(
                        &self.admin,
                        &path,
                        vec![(format!("{}.png", listing.ext_id), mirrored.clone())],
                    )
                    .await?;
                self.summary.photos += 1;
            }
        }
        Ok(())
    }
}

/// A product shot for `seed` with enough detail for PDQ to match it
/// reliably: some random drawings come out too flat, so the next one is
/// drawn until the hash quality clears the service's floor with a margin.
fn product_photo(seed: u64) -> anyhow::Result<RgbImage> {
    for attempt in 0..64 {
        let photo = draw(seed.wrapping_add(attempt << 32));
        let hashed = ipguard_pdq::hash_rgb(WIDTH as usize, HEIGHT as usize, photo.as_raw())?;
        if hashed.quality >= GOOD_QUALITY {
            return Ok(photo);
        }
    }
    anyhow::bail!("no demo photo with PDQ quality {GOOD_QUALITY} for seed {seed}")
}

/// A lit backdrop and an object of coloured blocks and rings.
fn draw(seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let backdrop: [u8; 3] = rng.r#gen();
    let mut photo = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let light = 0.55 + 0.45 * (1.0 - f64::from(x + y) / f64::from(WIDTH + HEIGHT));
        Rgb(backdrop.map(|c| (f64::from(c) * light) as u8))
    });
    for _ in 0..rng.gen_range(6..12) {
        let colour = Rgb(rng.r#gen::<[u8; 3]>());
        let (cx, cy) = (
            rng.gen_range(80..WIDTH - 80),
            rng.gen_range(60..HEIGHT - 60),
        );
        let (rx, ry) = (rng.gen_range(20..120), rng.gen_range(20..100));
        let ring = rng.gen_bool(0.4);
        for y in cy.saturating_sub(ry)..(cy + ry).min(HEIGHT) {
            for x in cx.saturating_sub(rx)..(cx + rx).min(WIDTH) {
                let dx = (f64::from(x) - f64::from(cx)) / f64::from(rx);
                let dy = (f64::from(y) - f64::from(cy)) / f64::from(ry);
                let d = dx * dx + dy * dy;
                if !ring || (0.5..1.0).contains(&d) {
                    photo.put_pixel(x, y, colour);
                }
            }
        }
    }
    photo
}

fn png(photo: &RgbImage) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Cursor::new(Vec::new());
    photo
        .write_to(&mut bytes, ImageFormat::Png)
        .context("encoding a demo photo")?;
    Ok(bytes.into_inner())
}
