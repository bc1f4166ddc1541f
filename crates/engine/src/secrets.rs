//! Secrets (Splunk tokens) in the OS keychain — macOS Keychain, Windows Credential Manager, the
//! Secret Service on Linux — through `keyring`. They are never written to the cache, a config
//! file or a log; [`Secret`] does not print its value, even with `{:?}`.

use std::fmt;

use crate::{Error, Result};

/// The keychain service name every Defender Desk secret is filed under.
pub const SERVICE: &str = "defender-desk";

/// A secret value that does not show itself in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (surrounding whitespace, e.g. a newline from stdin, is dropped).
    pub fn new(value: &str) -> Self {
        Self(value.trim().to_string())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where secrets are kept. The app and the CLI use [`Keychain`]; tests of code that needs a
/// secret but not a keychain use [`MemorySecrets`].
pub trait SecretStore: Send + Sync {
    /// Reads the secret of a source, if one is stored.
    fn get(&self, source: &str) -> Result<Option<Secret>>;
    /// Stores (replaces) the secret of a source.
    fn set(&self, source: &str, secret: &Secret) -> Result<()>;
    /// Deletes the secret of a source; deleting a missing one is not an error.
    fn delete(&self, source: &str) -> Result<()>;
}

/// The OS keychain, as one cache sees it: entries are named `source:<name>@<scope>`, the scope
/// being the cache's own random id, so caches with a source of the same name never share,
/// replace or delete one another's secret.
#[derive(Debug, Clone)]
pub struct Keychain {
    /// The cache to read the scope from, on first use.
    cache: Option<std::path::PathBuf>,
    scope: std::sync::OnceLock<String>,
}

impl Keychain {
    /// The keychain for the cache at `path`. Its scope is read when a secret is first needed,
    /// so constructing one (at the app's start) touches no file.
    pub fn for_cache(path: &std::path::Path) -> Self {
        Self {
            cache: Some(path.to_path_buf()),
            scope: std::sync::OnceLock::new(),
        }
    }

    /// The keychain under an explicit scope.
    pub fn scoped(scope: &str) -> Self {
        Self {
            cache: None,
            scope: std::sync::OnceLock::from(scope.to_string()),
        }
    }

    fn scope(&self) -> Result<&str> {
        if let Some(scope) = self.scope.get() {
            return Ok(scope);
        }
        let path = self
            .cache
            .as_deref()
            .ok_or_else(|| Error::Secrets("a keychain without a cache or a scope".into()))?;
        let scope = crate::store::Store::open(path)?.keychain_scope()?;
        Ok(self.scope.get_or_init(|| scope))
    }

    fn entry(&self, source: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(SERVICE, &format!("source:{source}@{}", self.scope()?))
            .map_err(keychain_error)
    }
}

fn keychain_error(e: keyring::Error) -> Error {
    Error::Secrets(format!(
        "the OS keychain is not available or refused access ({e}); on Linux a Secret Service \
         (gnome-keyring or KWallet) must be running and unlocked"
    ))
}

impl SecretStore for Keychain {
    fn get(&self, source: &str) -> Result<Option<Secret>> {
        match self.entry(source)?.get_password() {
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn set(&self, source: &str, secret: &Secret) -> Result<()> {
        self.entry(source)?
            .set_password(secret.expose())
            .map_err(keychain_error)
    }

    fn delete(&self, source: &str) -> Result<()> {
        match self.entry(source)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

/// How a secret bound to its server is kept: `defender-desk-bound:v1`, the server, a newline,
/// the secret. The server is inside the keychain entry, where a cache file cannot change it.
const BOUND: &str = "defender-desk-bound:v1 ";

/// A URL as a secret is bound to it: scheme, host and port, lowercased (`https://s:8089`);
/// the path and a trailing `/` do not matter, anything else does.
pub fn server_of(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            match u.port_or_known_default() {
                Some(port) => format!("{}://{host}:{port}", u.scheme()),
                None => format!("{}://{host}", u.scheme()),
            }
        }
        Err(_) => url.trim().trim_end_matches('/').to_string(),
    }
}

/// Stores `secret` for `name`, bound to `server` (see [`server_of`]).
pub fn set_bound(store: &dyn SecretStore, name: &str, server: &str, secret: &Secret) -> Result<()> {
    store.set(
        name,
        &Secret(format!("{BOUND}{}\n{}", server_of(server), secret.expose())),
    )
}

/// The secret of `name` if it was stored for `server`. A secret stored for another server is
/// refused — a cache file that names a source like a victim's, with its own URL, gets nothing
/// — and so is one stored before secrets were bound (the source is added again once).
pub fn get_bound(store: &dyn SecretStore, name: &str, server: &str) -> Result<Option<Secret>> {
    let Some(stored) = store.get(name)? else {
        return Ok(None);
    };
    let want = server_of(server);
    match stored.0.strip_prefix(BOUND).and_then(|r| r.split_once('\n')) {
        Some((bound, secret)) if bound == want => Ok(Some(Secret(secret.to_string()))),
        Some((bound, _)) => Err(Error::Secrets(format!(
            "the secret kept for {name:?} was stored for {bound}, not {want}: it is only ever sent to the server it was stored for (add the source again with its own token)"
        ))),
        None => Err(Error::Secrets(format!(
            "the secret kept for {name:?} was stored before secrets were bound to their server: remove the source and add it again (`ddesk sources remove {name}`, then `sources add`)"
        ))),
    }
}

/// Secrets held in memory only, for tests and previews.
#[derive(Debug, Default)]
pub struct MemorySecrets(std::sync::Mutex<std::collections::HashMap<String, Secret>>);

impl SecretStore for MemorySecrets {
    fn get(&self, source: &str) -> Result<Option<Secret>> {
        Ok(self.0.lock().expect("lock").get(source).cloned())
    }

    fn set(&self, source: &str, secret: &Secret) -> Result<()> {
        self.0
            .lock()
            .expect("lock")
            .insert(source.to_string(), secret.clone());
        Ok(())
    }

    fn delete(&self, source: &str) -> Result<()> {
        self.0.lock().expect("lock").remove(source);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token is bound to the server it was stored for: a source of the same name pointing
    /// elsewhere (a crafted cache claiming the victim's public scope id) never gets it.
    #[test]
    fn a_bound_secret_goes_only_to_its_server() {
        let secrets = MemorySecrets::default();
        let token = Secret::new("t0ken");
        set_bound(&secrets, "prod", "https://splunk.example:8089/", &token).unwrap();
        let got = get_bound(&secrets, "prod", "https://SPLUNK.example:8089").unwrap();
        assert_eq!(got.unwrap().expose(), "t0ken");
        let e = get_bound(&secrets, "prod", "https://evil.example:8089").unwrap_err();
        assert!(
            e.to_string().contains("only ever sent to the server"),
            "{e}"
        );
        assert!(!e.to_string().contains("t0ken"));
        assert!(get_bound(&secrets, "prod", "https://splunk.example:9999").is_err());
        assert!(get_bound(&secrets, "prod", "http://splunk.example:8089").is_err());
        // One stored before binding: refused, with what to do.
        secrets.set("old", &Secret::new("legacy")).unwrap();
        let e = get_bound(&secrets, "old", "https://splunk.example:8089").unwrap_err();
        assert!(e.to_string().contains("add it again"), "{e}");
        assert!(get_bound(&secrets, "none", "https://s").unwrap().is_none());
    }
}
