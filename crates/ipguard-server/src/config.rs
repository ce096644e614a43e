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
