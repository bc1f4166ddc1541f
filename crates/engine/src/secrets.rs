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
