//! One options struct for the whole service, read from defaults, an optional
//! TOML file and `IPGUARD_`-prefixed environment variables, in that order
//! (nested keys use `__`, e.g. `IPGUARD_POLICY__NOTICE_DEADLINE_HOURS=12`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipguard_domain::policy::Policy;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub policy: Policy,
    pub webhooks: WebhookConfig,
    /// Detection thresholds, weights, replica phrases and currency rates.
    pub detection: ipguard_detect::DetectionConfig,
    pub images: ImagesConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (CSV uploads included).
    pub max_body_bytes: usize,
    /// Portal session lifetime.
    pub session_hours: u32,
    /// Mark session cookies `Secure`. Browsers accept secure cookies on
    /// http://localhost, so this stays on unless a proxy strips TLS oddly.
    pub cookie_secure: bool,
    /// How often the background jobs run.
    pub job_interval_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Per-delivery timeout.
    pub timeout_ms: u64,
    /// Deliveries attempted per job run.
    pub batch: u32,
}

/// Reference and listing photos: decoding limits, matching, and the fetcher
/// that downloads listing photos given as URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Largest multipart upload (all files together), in bytes.
    pub max_upload_bytes: usize,
    /// Largest single photo, uploaded or fetched, in bytes.
    pub max_image_bytes: u64,
    /// Largest width × height decoded; bigger images (decompression bombs
    /// among them) are refused before their pixels are allocated.
    pub max_pixels: u64,
    /// Largest width or height decoded.
    pub max_side: u32,
    /// PDQ quality (0–100) below which a hash is unreliable: such reference
    /// photos are refused and such listing photos are not matched.
    pub min_quality: u8,
    /// Hamming distance (of 256 bits) within which two photos match.
    pub radius: u32,
    /// Most photos per listing.
    pub max_per_listing: usize,
    /// Snapshot of the photo hash index, loaded at start when it is current
    /// and written at shutdown. Without it the index is rebuilt from storage.
    pub index_path: Option<std::path::PathBuf>,
    /// Fetch photos from loopback and private networks. Off in production:
    /// listing URLs come from sellers and must not reach internal services.
    pub allow_private_hosts: bool,
    pub connect_timeout_ms: u64,
    /// Whole-fetch timeout, body included.
    pub fetch_timeout_ms: u64,
    pub max_redirects: usize,
    /// Photos fetched at the same time.
    pub fetch_concurrency: usize,
    /// Photos taken per job round.
    pub fetch_batch: u32,
    /// Attempts before a fetch that keeps failing is recorded as failed.
    pub fetch_attempts: u32,
    /// Wait before the first retry; it doubles with every failure.
    pub retry_base_ms: u64,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            max_upload_bytes: 16 << 20,
            max_image_bytes: 8 << 20,
            max_pixels: 40_000_000,
            max_side: 16_384,
            min_quality: 50,
            radius: 31,
            max_per_listing: 20,
            index_path: None,
            allow_private_hosts: false,
            connect_timeout_ms: 3000,
            fetch_timeout_ms: 15_000,
            max_redirects: 3,
            fetch_concurrency: 4,
            fetch_batch: 32,
            fetch_attempts: 4,
            retry_base_ms: 5000,
        }
    }
}

impl ImagesConfig {
    /// Photo positions within a listing are part of a photo's index id and
    /// must fit in 8 bits; a radius above 256 bits means nothing.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_per_listing == 0 || self.max_per_listing > 255 {
            return Err("images.max_per_listing must be 1 to 255".to_owned());
        }
        if self.radius > 256 {
            return Err("images.radius must be at most 256".to_owned());
        }
        if self.fetch_concurrency == 0 || self.fetch_attempts == 0 {
            return Err(
                "images.fetch_concurrency and images.fetch_attempts must be at least 1".to_owned(),
            );
        }
        Ok(())
    }

    pub fn decode_limits(&self) -> ipguard_pdq::DecodeLimits {
        ipguard_pdq::DecodeLimits {
            max_file_bytes: self.max_image_bytes,
            max_side: self.max_side,
            max_pixels: self.max_pixels,
            ..ipguard_pdq::DecodeLimits::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 4 * 1024 * 1024,
            session_hours: 12,
            cookie_secure: true,
            job_interval_ms: 1000,
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout_ms: 5000,
            batch: 100,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Policy(#[from] ipguard_domain::policy::PolicyError),
    #[error("configuration: {0}")]
    Images(String),
}

impl Config {
    /// Defaults, then the file (if given; it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Parse(Box::new(figment::Error::from(format!(
                    "file {} not found",
                    file.display()
                )))));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(
                Env::prefixed("IPGUARD_")
                    .split("__")
                    .ignore(&["db", "bind", "config"]),
            )
            .extract()
            .map_err(Box::new)?;
        config.policy.validate()?;
        config.images.validate().map_err(ConfigError::Images)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_documents_exactly_the_defaults() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/ipguard.example.toml");
        assert_eq!(Config::load(Some(&example)).unwrap(), Config::default());
        // Equal values could come from defaults filling in what the file
        // leaves out; every setting must also be written in it.
        let written: toml::Table =
            toml::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        let mut missing = Vec::new();
        missing_keys(&defaults, &written, "", &mut missing);
        assert!(missing.is_empty(), "not in the example file: {missing:?}");
    }

    fn missing_keys(
        defaults: &toml::Table,
        written: &toml::Table,
        path: &str,
        out: &mut Vec<String>,
    ) {
        for (key, value) in defaults {
            let here = format!("{path}{key}");
            match (value, written.get(key)) {
                (_, None) => out.push(here),
                (toml::Value::Table(inner), Some(toml::Value::Table(written))) => {
                    missing_keys(inner, written, &format!("{here}."), out);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn unknown_keys_and_bad_policies_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[policy]\nnotice_deadline_hour = 3\n").unwrap();
        assert!(
            Config::load(Some(&file))
                .unwrap_err()
                .to_string()
                .contains("notice_deadline_hour")
        );
        std::fs::write(&file, "[policy.trusted]\nmin_upheld_ratio = 1.5\n").unwrap();
        assert!(
            Config::load(Some(&file))
                .unwrap_err()
                .to_string()
                .contains("min_upheld_ratio")
        );
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
    }
}
