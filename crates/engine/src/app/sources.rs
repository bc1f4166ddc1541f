//! Sources: adding (secret to the OS keychain only after the name is checked), removing,
//! testing, and syncing them.

use super::*;

impl Desk {
    pub(super) fn source_views(&self, store: &Store) -> Result<Vec<SourceView>> {
        let runs = store.sync_runs()?;
        crate::sources::list(store)?
            .into_iter()
            .map(|s| {
                let last = runs
                    .iter()
                    .filter(|r| r.source == s.name)
                    .max_by_key(|r| r.finished);
                let has_secret = matches!(s.settings, SourceSettings::Splunk(_))
                    && self.secrets.get(&s.name).ok().flatten().is_some();
                Ok(SourceView {
                    kind: s.settings.source_kind(),
                    target: target_of(&s.settings),
                    has_secret,
                    last_sync: last.map(|r| r.finished),
                    last_ok: last.map(|r| r.ok),
                    last_errors: last
                        .and_then(|r| r.summary["errors"].as_array())
                        .map(|errs| {
                            errs.iter()
                                .map(|e| match e["object"].as_str() {
                                    Some(o) => {
                                        format!("{o}: {}", e["error"].as_str().unwrap_or(""))
                                    }
                                    None => e["error"].as_str().unwrap_or("").to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    name: s.name,
                })
            })
            .collect()
    }

    /// Configured sources (of the analyst's cache, also while the demo is shown).
    pub fn sources(&self) -> Result<Vec<SourceView>> {
        let store = Store::open(&self.cache)?;
        self.source_views(&store)
    }

    /// Adds a source; a Splunk token goes to the OS keychain only.
    pub fn add_source(&self, input: &SourceInput) -> Result<SourceView> {
        let aws = AwsSettings {
            region: nonempty(&input.region),
            profile: nonempty(&input.profile),
            endpoint_url: nonempty(&input.endpoint_url),
        };
        let settings = match input.kind {
            SourceKind::S3 => SourceSettings::S3(crate::sources::S3Settings {
                bucket: nonempty(&input.bucket)
                    .ok_or_else(|| Error::InvalidInput("a bucket is required".into()))?,
                prefix: input.prefix.clone().unwrap_or_default(),
                path_style: aws.endpoint_url.is_some(),
                aws,
            }),
            SourceKind::Splunk => SourceSettings::Splunk(crate::sources::SplunkSettings {
                url: nonempty(&input.url)
                    .ok_or_else(|| Error::InvalidInput("the Splunk URL is required".into()))?,
                index: nonempty(&input.index)
                    .ok_or_else(|| Error::InvalidInput("the Splunk index is required".into()))?,
                sourcetype: nonempty(&input.sourcetype)
                    .unwrap_or_else(crate::sources::default_sourcetype),
                ca_bundle: nonempty(&input.ca_bundle),
            }),
            SourceKind::Defender => {
                SourceSettings::Defender(crate::sources::DefenderSettings { aws })
            }
        };
        let source = Source {
            name: input.name.trim().to_string(),
            settings,
        };
        let store = Store::open(&self.cache)?;
        let token = input
            .token
            .as_deref()
            .map(Secret::new)
            .filter(|t| !t.expose().is_empty());
        add(&store, self.secrets.as_ref(), &source, token)?;
        self.reset();
        self.source_views(&store)?
            .into_iter()
            .find(|s| s.name == source.name)
            .ok_or_else(|| Error::NotFound(source.name.clone()))
    }

    /// Removes a source and its keychain secret (synced data stays).
    pub fn remove_source(&self, name: &str) -> Result<()> {
        let mut store = Store::open(&self.cache)?;
        let removed = remove(&mut store, self.secrets.as_ref(), name);
        self.reset();
        removed
    }

    /// Checks a source's connection.
    pub fn test_source(&self, name: &str) -> Result<String> {
        let source = crate::sources::get(&Store::open(&self.cache)?, name)?;
        self.rt
            .block_on(sync::test_source(&source, self.secrets.as_ref()))
    }

    /// Syncs every source into the analyst's cache; `cancel_sync` stops it.
    pub fn sync(&self, progress: Progress) -> Result<SyncSummary> {
        let token = CancellationToken::new();
        {
            let mut slot = lock(&self.sync_cancel);
            if slot.is_some() {
                return Err(Error::InvalidInput(
                    "a sync is already running (yours, or a scheduled one): try again when it \
                     ends, or cancel it"
                        .into(),
                ));
            }
            *slot = Some(token.clone());
        }
        let result = self.rt.block_on(sync::sync(
            &self.cache,
            &SyncOptions::default(),
            self.secrets.as_ref(),
            progress,
            token,
        ));
        *lock(&self.sync_cancel) = None;
        self.reset();
        result
    }

    /// Cancels a running sync (what was written stays consistent).
    pub fn cancel_sync(&self) -> bool {
        lock(&self.sync_cancel)
            .as_ref()
            .map(|t| t.cancel())
            .is_some()
    }
}

/// A configured source as `ddesk sources list` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRecord {
    /// Name.
    pub name: String,
    /// S3, Splunk or the Device Defender API.
    pub kind: SourceKind,
    /// Its settings (no secret: tokens live in the OS keychain).
    pub settings: serde_json::Value,
    /// When its last sync ended.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub last_sync: Option<Millis>,
    /// Whether that sync succeeded.
    pub last_sync_ok: Option<bool>,
    /// That sync's errors, as its summary lists them.
    pub last_errors: Option<serde_json::Value>,
}

/// The configured sources with their last sync.
pub fn records(store: &Store) -> Result<Vec<SourceRecord>> {
    let runs = store.sync_runs()?;
    Ok(crate::sources::list(store)?
        .into_iter()
        .map(|s| {
            let run = runs
                .iter()
                .filter(|r| r.source == s.name)
                .max_by_key(|r| r.finished);
            let mut settings = serde_json::to_value(&s.settings).unwrap_or_default();
            if let Some(o) = settings.as_object_mut() {
                o.remove("kind");
            }
            SourceRecord {
                kind: s.settings.source_kind(),
                settings,
                last_sync: run.map(|r| r.finished),
                last_sync_ok: run.map(|r| r.ok),
                last_errors: run.map(|r| r.summary.get("errors").cloned().unwrap_or_default()),
                name: s.name,
            }
        })
        .collect())
}

/// Checks that `source` can be added to `store`: a valid name not taken, valid settings.
/// `ddesk` calls it before it prompts for a token; [`add`] calls it again.
pub fn check_new(store: &Store, source: &Source) -> Result<()> {
    crate::sources::validate_name(&source.name)?;
    source.settings.validate()?;
    if store.sources()?.iter().any(|s| s.name == source.name) {
        return Err(Error::InvalidInput(format!(
            "a source named {:?} already exists; remove it first or pick another name",
            source.name
        )));
    }
    Ok(())
}

/// Adds a source; a Splunk source's token goes to the OS keychain (`secrets`), and only after
/// the name is checked: a second source of the same name must not replace (and then, as its
/// add fails, delete) the first one's token. Nothing is left behind when the add fails.
pub fn add(
    store: &Store,
    secrets: &dyn SecretStore,
    source: &Source,
    token: Option<Secret>,
) -> Result<()> {
    check_new(store, source)?;
    let needs_token = matches!(source.settings, SourceSettings::Splunk(_));
    match (needs_token, token) {
        (true, Some(t)) => secrets.set(&source.name, &t)?,
        (true, None) => {
            return Err(Error::InvalidInput(
                "a Splunk source needs its token (kept in the OS keychain)".into(),
            ))
        }
        (false, _) => {}
    }
    if let Err(e) = crate::sources::add(store, source) {
        if needs_token {
            let _ = secrets.delete(&source.name);
        }
        return Err(e);
    }
    Ok(())
}

/// Removes a source and its keychain secret; the data it synced stays.
pub fn remove(store: &mut Store, secrets: &dyn SecretStore, name: &str) -> Result<()> {
    let source = crate::sources::get(store, name)?;
    if !store.remove_source(name)? {
        return Err(Error::NotFound(format!("no source named {name:?}")));
    }
    // Only a Splunk source has a secret: an S3 or Defender source never touches the keychain
    // (which a jump host may not have).
    if matches!(source.settings, SourceSettings::Splunk(_)) {
        secrets.delete(name)?;
    }
    Ok(())
}

pub(super) fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

pub(super) fn target_of(s: &SourceSettings) -> String {
    let aws = |a: &AwsSettings| {
        let mut parts = Vec::new();
        if let Some(r) = &a.region {
            parts.push(format!("region {r}"));
        }
        if let Some(p) = &a.profile {
            parts.push(format!("profile {p}"));
        }
        if let Some(e) = &a.endpoint_url {
            parts.push(format!("endpoint {e}"));
        }
        if parts.is_empty() {
            "default AWS credentials".to_string()
        } else {
            parts.join(", ")
        }
    };
    match s {
        SourceSettings::S3(s) => format!("s3://{}/{} ({})", s.bucket, s.prefix, aws(&s.aws)),
        SourceSettings::Splunk(s) if s.sourcetype != crate::sources::default_sourcetype() => {
            format!("{} index={} sourcetype={}", s.url, s.index, s.sourcetype)
        }
        SourceSettings::Splunk(s) => format!("{} index={}", s.url, s.index),
        SourceSettings::Defender(d) => format!("Device Defender API ({})", aws(&d.aws)),
    }
}
