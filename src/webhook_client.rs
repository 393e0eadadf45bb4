//! The HTTP client webhook deliveries go out with: no redirects, a bounded wait, and a DNS
//! resolver that refuses names resolving to addresses the target policy forbids (checked at
//! every connection, so a name cannot be pointed at an internal address after it was accepted).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::webhook::{self, TargetPolicy};

/// Resolves a target's host and refuses addresses the policy does not allow: checked on every
/// connection, so a name that later resolves to an internal address is not followed.
struct GuardedResolver(TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let allowed = allowed_addresses(&host, &policy).await.map_err(Box::new)?;
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a target host cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HostRefused {
    /// It resolves to an address the policy forbids.
    #[error("{host} resolves to {why}")]
    Forbidden { host: String, why: &'static str },
    /// It does not resolve (now): no verdict on where it points.
    #[error("{host} does not resolve: {cause}")]
    Unresolved { host: String, cause: String },
}

/// The addresses `host` resolves to, all of which the policy must allow.
pub async fn allowed_addresses(
    host: &str,
    policy: &TargetPolicy,
) -> Result<Vec<SocketAddr>, HostRefused> {
    let unresolved = |cause: String| HostRefused::Unresolved {
        host: host.to_string(),
        cause,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| unresolved(e.to_string()))?
        .collect();
    if let Some(why) = addrs
        .iter()
        .find_map(|a| webhook::refused_address(a.ip(), policy))
    {
        return Err(HostRefused::Forbidden {
            host: host.to_string(),
            why,
        });
    }
    if addrs.is_empty() {
        return Err(unresolved("no addresses".into()));
    }
    Ok(addrs)
}

pub fn client(policy: &TargetPolicy, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent("hazard-registry-webhooks")
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_that_resolve_to_forbidden_addresses_are_refused() {
        let strict = TargetPolicy::default();
        assert!(allowed_addresses("localhost", &strict).await.is_err());
        let dev = TargetPolicy {
            allow_loopback: true,
            ..Default::default()
        };
        assert!(allowed_addresses("localhost", &dev).await.is_ok());
    }
}
