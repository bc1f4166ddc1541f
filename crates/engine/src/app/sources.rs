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
                let has_secret = s.settings.secret().is_some()
                    && self.secrets.get(&s.name).ok().flatten().is_some();
                Ok(SourceView {
                    kind: s.settings.source_kind(),
                    target: s.settings.target(),
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
                    account: s.scope.account,
                    region: s.scope.region,
                    account_from: s.account_from,
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

    /// Adds a source; its secret (a Splunk token) goes to the OS keychain only.
    pub fn add_source(&self, input: &SourceInput) -> Result<SourceView> {
        fn blank(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let scope = crate::model::scope::Scope::new(blank(&input.account), blank(&input.region))
            .map_err(Error::InvalidInput)?;
        let source = Source {
            name: input.name.trim().to_string(),
            settings: input.settings.clone(),
            scope,
            account_from: None,
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

    /// Checks a source's connection: ok, warn or error, with a message and what to do.
    pub fn test_source(&self, name: &str) -> Result<sync::Health> {
        let source = crate::sources::get(&Store::open(&self.cache)?, name)?;
        Ok(self
            .rt
            .block_on(sync::test_source(&source, self.secrets.as_ref())))
    }

    /// What a screen of each Athena source would scan and cost (one listing of its partitions
    /// each; no query runs): shown before the analyst syncs.
    pub fn screen_estimates(&self) -> Result<Vec<crate::sources::athena::Estimate>> {
        let sources = crate::sources::list(&Store::open(&self.cache)?)?;
        sources
            .iter()
            .filter_map(|s| match &s.settings {
                SourceSettings::Athena(a) => Some((s.name.as_str(), a)),
                _ => None,
            })
            .map(|(name, a)| {
                self.rt
                    .block_on(crate::sources::athena::estimate_for(
                        name,
                        a,
                        crate::sources::athena::SCREEN_QUERIES,
                    ))
                    .map_err(Error::Source)
            })
            .collect()
    }

    /// The Athena sources whose screen named this thing, each with what reading its full
    /// history (one query) would scan and cost: the thing page offers the drill-down.
    pub fn drill_offers(&self, thing: &str) -> Result<Vec<crate::sources::athena::Estimate>> {
        let store = Store::open(&self.cache)?;
        let thing = &resolve_thing(&store, thing)?;
        let mut screened: Vec<String> = store
            .screen_evidence()?
            .into_iter()
            .filter(|e| &e.evidence.thing == thing)
            .map(|e| e.source)
            .collect();
        screened.sort();
        screened.dedup();
        let sources = crate::sources::list(&store)?;
        drop(store);
        sources
            .iter()
            .filter(|s| screened.contains(&s.name))
            .filter_map(|s| match &s.settings {
                SourceSettings::Athena(a) => Some((s.name.as_str(), a)),
                _ => None,
            })
            .map(|(name, a)| {
                self.rt
                    .block_on(crate::sources::athena::estimate_for(name, a, 1))
                    .map_err(Error::Source)
            })
            .collect()
    }

    /// Reads one thing's full history from a source (Athena, the Device Defender API, Splunk)
    /// into the cache; what it read, scanned and cost. A running sync refuses it (one remote
    /// read at a time); `cancel_sync` stops it (an Athena query is stopped, not abandoned).
    pub fn drill_down(&self, thing: &str, source: &str) -> Result<sync::SourceSummary> {
        let store = Store::open(&self.cache)?;
        let source = crate::sources::get(&store, source)?;
        let thing = &resolve_thing(&store, thing)?;
        drop(store);
        if matches!(source.settings, SourceSettings::S3(_)) {
            return Err(Error::InvalidInput(format!(
                "source {:?} is an S3 bucket, which has no per-thing index: sync its window instead",
                source.name
            )));
        }
        let token = self.claim_sync()?;
        let result = self.rt.block_on(sync::drill_down(
            &self.cache,
            &source,
            thing,
            self.secrets.as_ref(),
            &token,
        ));
        *lock(&self.sync_cancel) = None;
        self.reset();
        result
    }

    /// The one slot for a remote read: a sync or a drill-down.
    fn claim_sync(&self) -> Result<CancellationToken> {
        let token = CancellationToken::new();
        let mut slot = lock(&self.sync_cancel);
        if slot.is_some() {
            return Err(Error::InvalidInput(
                "a sync is already running (yours, or a scheduled one): try again when it \
                 ends, or cancel it"
                    .into(),
            ));
        }
        *slot = Some(token.clone());
        Ok(token)
    }

    /// Syncs every source into the analyst's cache; `cancel_sync` stops it.
    pub fn sync(&self, progress: Progress) -> Result<SyncSummary> {
        let token = self.claim_sync()?;
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

    /// Cancels a running sync or drill-down (what was written stays consistent).
    pub fn cancel_sync(&self) -> bool {
        lock(&self.sync_cancel)
            .as_ref()
            .map(|t| t.cancel())
            .is_some()
    }
}

/// A configured source as `ddesk sources list` prints it: its settings and its raw sync
/// failures, for scripts. Not [`SourceView`], which is the Sources screen's summary (the target
/// as one line, whether a secret is kept, failures as sentences) and holds no settings.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRecord {
    /// Name.
    pub name: String,
    /// S3, Splunk or the Device Defender API.
    pub kind: SourceKind,
    /// Its settings (no secret: tokens live in the OS keychain).
    pub settings: serde_json::Value,
    /// When its last sync ended.
    #[serde(serialize_with = "time::instant_opt")]
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
    let secret = source.settings.secret();
    match (secret, token) {
        (Some(_), Some(t)) => crate::secrets::set_bound(
            secrets,
            &source.name,
            &source.settings.secret_server().unwrap_or_default(),
            &t,
        )?,
        (Some(what), None) => {
            return Err(Error::InvalidInput(format!(
                "this source needs its {what}, kept in the OS keychain only"
            )))
        }
        (None, _) => {}
    }
    if let Err(e) = crate::sources::add(store, source) {
        if secret.is_some() {
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
    // Only a kind that keeps a secret (Splunk) touches the keychain: an S3 or Defender source
    // never does (a jump host may have none).
    if source.settings.secret().is_some() {
        secrets.delete(name)?;
    }
    Ok(())
}
