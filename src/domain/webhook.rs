//! Webhooks (SPEC §8): which targets a subscription may name (no server-side request forgery),
//! the retry schedule, and the secret's shape.

use std::net::IpAddr;

use ipnet::IpNet;

/// What an operator allows beyond the public internet.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// `HAZREG_WEBHOOK_ALLOW_LOOPBACK`: `http://` and `https://` to 127.0.0.0/8, `::1` and
    /// `localhost` (development and tests).
    pub allow_loopback: bool,
    /// `HAZREG_WEBHOOK_ALLOWED_NETWORKS`: private or internal networks the operator trusts.
    pub allowed_networks: Vec<IpNet>,
}

/// A target URL that passed the checks that need no DNS: scheme, host, no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// Why an address may not be a target, if it may not.
pub fn refused_address(ip: IpAddr, policy: &TargetPolicy) -> Option<&'static str> {
    let ip = match ip {
        // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as IPv4.
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    if policy.allowed_networks.iter().any(|n| n.contains(&ip)) {
        return None;
    }
    if ip.is_loopback() {
        return (!policy.allow_loopback).then_some("a loopback address");
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() || a == 0 {
                Some("an unspecified address")
            } else if v4.is_link_local() {
                // 169.254.169.254 is the cloud metadata service.
                Some("a link-local or metadata address")
            } else if v4.is_private() {
                Some("a private-range address")
            } else if a == 100 && (64..128).contains(&b) {
                // Carrier-grade NAT; 100.100.100.200 is Alibaba Cloud's metadata service.
                Some("a shared or metadata address")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("a multicast or reserved address")
            } else if a == 192 && b == 0 && v4.octets()[2] == 0 {
                Some("an IETF protocol address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                Some("an unspecified address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if first & 0xfe00 == 0xfc00 {
                // Unique local addresses, including fd00:ec2::254 (a metadata service).
                Some("a private-range (unique local) address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("a documentation address")
            } else {
                None
            }
        }
    }
}

/// Checks what can be checked without DNS; answers the host to resolve, or why not.
pub fn check_url(raw: &str, policy: &TargetPolicy) -> Result<Target, String> {
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("has no host".into()),
    };
    let loopback_name = host == "localhost" || host.ends_with(".localhost");
    let literal: Option<IpAddr> = host.parse().ok();
    let loopback = loopback_name || literal.is_some_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback && policy.allow_loopback => {}
        "http" => return Err("must use https".into()),
        other => return Err(format!("must use https, not {other}")),
    }
    if loopback_name && !policy.allow_loopback {
        return Err("must not name this machine (localhost)".into());
    }
    if let Some(ip) = literal {
        if let Some(why) = refused_address(ip, policy) {
            return Err(format!("names {why}"));
        }
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "has no port".to_string())?;
    Ok(Target { host, port })
}

/// Waits before each retry, in seconds: the first within a minute, then backing off to about a
/// day in all (23 h 42 min over 10 retries). Each wait is jittered by ±20 %.
pub const RETRY_SCHEDULE: [i64; 10] = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800];

/// The wait after failed attempt `attempt` (1-based), jittered by `jitter` in [-1, 1]; `None`
/// when the delivery has had its last attempt.
pub fn retry_after(attempt: i32, jitter: f64) -> Option<chrono::Duration> {
    let base = *RETRY_SCHEDULE.get(usize::try_from(attempt).ok()?.checked_sub(1)?)?;
    let millis = (base as f64 * 1000.0 * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0))) as i64;
    Some(chrono::Duration::milliseconds(millis))
}

/// A new signing secret: `whsec_` and 32 random bytes in base64 (the Standard Webhooks form).
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> TargetPolicy {
        TargetPolicy::default()
    }

    #[test]
    fn public_https_targets_pass() {
        assert_eq!(
            check_url("https://hooks.example.com/hazards?x=1", &strict()),
            Ok(Target {
                host: "hooks.example.com".into(),
                port: 443
            })
        );
        assert!(check_url("https://203.0.113.9:8443/", &strict()).is_ok());
    }

    #[test]
    fn forgery_targets_are_refused() {
        for url in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.100.100.200/",
            "https://10.0.0.5/",
            "https://172.16.3.4/",
            "https://192.168.1.1/",
            "https://127.0.0.1/",
            "https://localhost/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00:ec2::254]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "not a url",
        ] {
            assert!(check_url(url, &strict()).is_err(), "{url} passed");
        }
    }

    #[test]
    fn loopback_and_listed_networks_are_the_operators_choice() {
        let dev = TargetPolicy {
            allow_loopback: true,
            ..Default::default()
        };
        assert!(check_url("http://127.0.0.1:9000/hook", &dev).is_ok());
        assert!(check_url("http://localhost:9000/hook", &dev).is_ok());
        assert!(check_url("http://10.0.0.5/hook", &dev).is_err());
        let internal = TargetPolicy {
            allowed_networks: vec!["10.1.0.0/16".parse().unwrap()],
            ..Default::default()
        };
        assert!(check_url("https://10.1.2.3/", &internal).is_ok());
        assert!(check_url("https://10.2.0.1/", &internal).is_err());
    }

    #[test]
    fn retries_back_off_over_about_a_day() {
        assert_eq!(retry_after(1, 0.0), Some(chrono::Duration::seconds(5)));
        assert!(retry_after(1, 1.0).unwrap() <= chrono::Duration::seconds(60));
        assert_eq!(retry_after(11, 0.0), None);
        assert_eq!(retry_after(0, 0.0), None);
        let total: i64 = RETRY_SCHEDULE.iter().sum();
        assert!((20 * 3600..=26 * 3600).contains(&total));
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert_ne!(s, new_secret());
        assert!(standardwebhooks::Webhook::new(&s).is_ok());
    }
}
