//! Where the functions' HTTPS clients (the AWS SDK's and Slack's) get their root certificates.
//!
//! Left alone, `rustls-native-certs` (under both clients) reads the platform's CA bundle and then
//! every file of its certificate directory, which on Debian and Ubuntu holds each root again, one
//! file per certificate (the hashed links of `update-ca-certificates`): about 150 more files to
//! read and parse, 4 ms of a 16.6 ms init on the bench machine (median of 25 cold starts each, the
//! same binary with and without `SSL_CERT_FILE`; `make bench`). The bundle alone is the whole set
//! wherever the distribution's tools make it (`update-ca-certificates`, `update-ca-trust` on
//! Amazon Linux, whose directory holds only the bundles), so [`use_the_ca_bundle`] points
//! `SSL_CERT_FILE` at it, which `rustls-native-certs` then reads alone (its documented variable).
//! An `SSL_CERT_FILE` or `SSL_CERT_DIR` already set is the operator's choice and is left as it is.

use std::ffi::OsString;
use std::path::PathBuf;

/// The bundle to name in `SSL_CERT_FILE`, if any: none when the environment already says where the
/// certificates are, or when the platform has no bundle (its directory is then all there is).
pub fn bundle_to_use(
    var: impl Fn(&str) -> Option<OsString>,
    probed_bundle: Option<PathBuf>,
) -> Option<PathBuf> {
    let set = |name| var(name).is_some_and(|v| !v.is_empty());
    if set("SSL_CERT_FILE") || set("SSL_CERT_DIR") {
        return None;
    }
    probed_bundle
}

/// Points `SSL_CERT_FILE` at the platform's CA bundle (see the module). Call it first in `main`,
/// before the async runtime or any other thread exists: it writes the process's environment.
pub fn use_the_ca_bundle() {
    let probed = openssl_probe::probe().cert_file;
    if let Some(bundle) = bundle_to_use(|name| std::env::var_os(name), probed) {
        // SAFETY: the caller runs this before starting any thread (see above), so nothing reads
        // or writes the environment at the same time.
        unsafe { std::env::set_var("SSL_CERT_FILE", bundle) };
    }
}

/// A function's `main`: [`use_the_ca_bundle`], then `serve` on the runtime `#[tokio::main]` would
/// build (tokio's multi-thread runtime, every driver on), which starts the threads.
pub fn run<F: std::future::Future>(serve: F) -> std::io::Result<F::Output> {
    use_the_ca_bundle();
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_platforms_bundle_is_named_unless_the_environment_says_otherwise() {
        let bundle = Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        assert_eq!(bundle_to_use(env(&[]), bundle.clone()), bundle);
        assert_eq!(
            bundle_to_use(
                env(&[("SSL_CERT_FILE", "/opt/corp-ca.pem")]),
                bundle.clone()
            ),
            None,
            "an operator's bundle stays"
        );
        assert_eq!(
            bundle_to_use(env(&[("SSL_CERT_DIR", "/opt/certs")]), bundle.clone()),
            None,
            "an operator's directory stays"
        );
        assert_eq!(
            bundle_to_use(env(&[("SSL_CERT_FILE", "")]), bundle.clone()),
            bundle,
            "an empty variable is unset"
        );
        assert_eq!(
            bundle_to_use(env(&[]), None),
            None,
            "no bundle: the directory"
        );
    }
}
