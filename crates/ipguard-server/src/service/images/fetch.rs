//! The bounded fetcher for listing photos given as URLs. Sellers choose
//! these URLs, so every fetch is treated as hostile: only http and https,
//! no private or loopback addresses (checked on the URL, on every redirect
//! and on what DNS answers, so a name that resolves to 127.0.0.1 is caught
//! too), a connect and a total timeout, few redirects, and a byte cap that
//! stops reading the body as soon as it is passed.

use crate::config::ImagesConfig;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Why a photo could not be fetched, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub message: String,
    pub retry: bool,
}

impl FetchError {
    fn permanent(message: impl Into<String>) -> Self {
        FetchError {
            message: message.into(),
            retry: false,
        }
    }

    fn transient(message: impl Into<String>) -> Self {
        FetchError {
            message: message.into(),
            retry: true,
        }
    }
}

/// A refusal made by our own checks; found again in reqwest's error chain
/// so that it is recorded as permanent rather than retried.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether a listing photo source is something the fetcher may request.
pub fn check_url(source: &str, allow_private: bool) -> Result<Url, FetchError> {
    let url = Url::parse(source)
        .map_err(|_| FetchError::permanent("not an http or https URL; upload the photo instead"))?;
    check_parsed(&url, allow_private).map_err(|Refused(why)| FetchError::permanent(why))?;
    Ok(url)
}

fn check_parsed(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused(format!(
            "`{}` URLs are never fetched; only http and https",
            url.scheme()
        )));
    }
    let Some(host) = url.host_str() else {
        return Err(Refused("the URL has no host".to_owned()));
    };
    // Names are checked when they resolve; addresses are checked here.
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return Ok(());
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(Refused(format!("{ip} is a private or loopback address")))
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata services live there), shared, reserved,
/// multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80)
        }
    }
}

/// Resolves names and keeps only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(
                    Box::new(Refused(format!("{host} resolves to no public address")))
                        as Box<dyn std::error::Error + Send + Sync>,
                );
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client for photo fetches.
pub fn client(config: &ImagesConfig) -> reqwest::Result<reqwest::Client> {
    let allow_private = config.allow_private_hosts;
    let max_redirects = config.max_redirects;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max_redirects {
            let refused = Refused(format!("more than {max_redirects} redirects"));
            return attempt.error(refused);
        }
        match check_parsed(attempt.url(), allow_private) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    });
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
        .timeout(Duration::from_millis(config.fetch_timeout_ms))
        .redirect(redirects)
        .user_agent("ipguard-photo-fetcher")
        // A proxy would resolve names itself, out of reach of the address check.
        .no_proxy();
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build()
}

/// Downloads one photo, reading at most `max_bytes` of it.
pub async fn fetch(
    client: &reqwest::Client,
    source: &str,
    config: &ImagesConfig,
) -> Result<Vec<u8>, FetchError> {
    let url = check_url(source, config.allow_private_hosts)?;
    let mut response = client.get(url).send().await.map_err(request_error)?;
    let status = response.status();
    if status.is_redirection() {
        // reqwest hands back, unfollowed, redirects to schemes it cannot
        // fetch; say why rather than just the status.
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let why = check_url(location, config.allow_private_hosts)
            .err()
            .map_or_else(|| format!("HTTP {status}"), |err| err.message);
        return Err(FetchError::permanent(format!(
            "a redirect that is not followed: {why}"
        )));
    }
    if !status.is_success() {
        let message = format!("HTTP {status}");
        let retry = status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT;
        return Err(FetchError { message, retry });
    }
    let max = config.max_image_bytes;
    let too_large = || FetchError::permanent(format!("the photo is larger than {max} bytes"));
    if response.content_length().is_some_and(|length| length > max) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn request_error(err: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return FetchError::permanent(refused.0.clone());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        FetchError::transient("timed out")
    } else if err.is_connect() {
        FetchError::transient("could not connect")
    } else {
        FetchError::transient(format!("request failed: {err}"))
    }
}

/// Milliseconds to wait after `failures` failed attempts: doubling from
/// `base_ms`, capped at an hour.
pub fn backoff_ms(base_ms: u64, failures: u32) -> u64 {
    base_ms
        .saturating_mul(1 << failures.saturating_sub(1).min(20))
        .min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_fetched_unless_allowed() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        assert!(check_url("http://127.0.0.1:8080/a.jpg", false).is_err());
        assert!(check_url("http://[::1]/a.jpg", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/a.jpg", true).is_ok());
        assert!(check_url("https://cdn.example/a.jpg", false).is_ok());
    }

    #[test]
    fn other_schemes_and_paths_are_refused_for_good() {
        for source in [
            "file:///etc/passwd",
            "ftp://host/a.jpg",
            "photos/a.jpg",
            "gopher://x",
        ] {
            let err = check_url(source, true).unwrap_err();
            assert!(!err.retry, "{source}");
        }
        assert!(
            check_url("file:///etc/passwd", true)
                .unwrap_err()
                .message
                .contains("`file` URLs are never fetched")
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(5000, 1), 5000);
        assert_eq!(backoff_ms(5000, 2), 10_000);
        assert_eq!(backoff_ms(5000, 3), 20_000);
        assert_eq!(backoff_ms(5000, 40), 3_600_000);
    }
}
