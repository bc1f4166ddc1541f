//! The action log as `ddesk actions` prints it and the Actions screen lists it (this cache's
//! actions, then colleagues' read back from the shared anchor), and `ddesk actions verify` /
//! the screen's *Verify*: the hash chain checked, and compared with the anchor when one is
//! configured.

use serde::Serialize;

use crate::actions::{ActionLog, Backend};
use crate::app::{ActionView, OutcomeDetail};
use crate::store::Store;
use crate::Result;

/// The name of a recorded thing (a stored key since accounts exist, a name before).
fn name_of(key: &str) -> String {
    crate::model::scope::name_of(key).to_string()
}

/// Whether an action recorded on `recorded` (in `account`, the plan's target) was on the
/// thing `key`: the same key, or — recorded before things had accounts — its name, acted on in
/// its account.
fn acted_on(recorded: Option<&str>, account: Option<&str>, key: &str) -> bool {
    let Some(recorded) = recorded else {
        return false;
    };
    if recorded == key {
        return true;
    }
    let k = crate::model::scope::ThingKey::parse(key);
    recorded == k.name && k.account.is_some() && account == k.account
}

/// This cache's actions (oldest first), then colleagues' as last read from the anchor
/// ([`crate::actions::anchor::pull_colleagues`] reads them), of one thing or of all.
pub fn action_records(store: &Store, thing: Option<&str>) -> Result<Vec<ActionView>> {
    let key = thing
        .map(|t| crate::store::resolve_thing(store, t))
        .transpose()?;
    let thing = key.as_deref();
    let log = ActionLog::read(&store.action_log()?);
    let mut rows: Vec<ActionView> = log
        .intents()
        .filter(|i| {
            thing.is_none_or(|k| {
                acted_on(
                    i.plan.thing.as_deref(),
                    i.plan.target.as_ref().map(|t| t.account.as_str()),
                    k,
                )
            })
        })
        .map(|i| {
            let outcome = log.outcome_of(i.seq);
            ActionView {
                seq: i.seq,
                at: i.at,
                who: i.who.aws.clone(),
                os_user: i.who.os_user.clone(),
                action: i.plan.action,
                thing: i.plan.thing.as_deref().map(name_of),
                thing_key: i.plan.thing.clone(),
                reason: i.reason.clone(),
                calls: i.calls.clone(),
                prior: Some(i.plan.prior.clone()),
                status: outcome.map_or_else(|| "pending".to_string(), |o| o.outcome.to_string()),
                state: outcome
                    .map_or_else(crate::actions::OutcomeState::pending, |o| o.outcome.state()),
                outcome_at: outcome.map(|o| o.at),
                outcome: outcome.map(|o| OutcomeDetail {
                    steps: o.steps.clone(),
                    task: o.task.clone(),
                    observed: o.observed.clone(),
                }),
                demo: i.demo,
                hash: i.hash.clone(),
                colleague: false,
                cache: None,
                verified: None,
            }
        })
        .collect();
    rows.extend(
        crate::actions::anchor::colleagues(store)?
            .into_iter()
            .filter(|c| thing.is_none_or(|k| acted_on(c.thing.as_deref(), None, k)))
            .map(|c| ActionView {
                seq: c.seq,
                at: c.at,
                who: c.who,
                os_user: c.os_user,
                action: c.action,
                thing: c.thing.as_deref().map(name_of),
                thing_key: c.thing.clone(),
                reason: c.reason,
                calls: Vec::new(),
                prior: None,
                state: if c.status == "pending" {
                    crate::actions::OutcomeState::pending()
                } else {
                    crate::actions::Outcome::parse(&c.status).state()
                },
                status: c.status,
                outcome_at: None,
                outcome: None,
                demo: c.demo,
                hash: String::new(),
                colleague: true,
                cache: Some(c.cache),
                verified: Some(c.verified),
            }),
    );
    Ok(rows)
}

/// Records what really happened to actions interrupted between their call and their log
/// (read from the account the cache acts on); one line per reconciled action. Nothing to do,
/// and no account asked, when no action is pending.
pub async fn reconcile_interrupted(store: &mut Store) -> Result<Vec<String>> {
    if !ActionLog::read(&store.action_log()?).has_pending() {
        return Ok(Vec::new());
    }
    let backend = Backend::for_cache(store, None).await?;
    Ok(crate::actions::reconcile(store, &backend)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// The action log verified: its hash chain, and the anchor's copy compared with it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Verification {
    /// Whether all is well: the chain intact and, when an anchor is configured, the anchor
    /// agreeing with it.
    pub ok: bool,
    /// Records checked.
    #[ts(as = "crate::ts::Count")]
    pub records: i64,
    /// Every problem in the chain, with the sequence number it concerns.
    pub problems: Vec<String>,
    /// Whether the chain alone is intact.
    pub chain_ok: bool,
    /// Whether an anchor is configured.
    pub anchored: bool,
    /// Records in the anchor that the local log lacks (deleted, a cut tail).
    #[ts(as = "Vec<crate::ts::Count>")]
    pub missing: Vec<i64>,
    /// Local records the anchor lacks: fabricated, or not sent yet (`ddesk actions anchor push`).
    #[ts(as = "Vec<crate::ts::Count>")]
    pub extra: Vec<i64>,
    /// Records whose local content differs from the anchor's.
    #[ts(as = "Vec<crate::ts::Count>")]
    pub altered: Vec<i64>,
    /// Records of which the anchor holds a second, different version.
    #[ts(as = "Vec<crate::ts::Count>")]
    pub overwritten: Vec<i64>,
    /// Objects under this cache's anchor prefix that are no record (planted beside the log).
    pub unexpected: Vec<String>,
    /// Sequence numbers more than one anchored record claims.
    #[ts(as = "Vec<crate::ts::Count>")]
    pub duplicate: Vec<i64>,
    /// Anchored records failing their own hash or chain link: planted, not the local log's fault.
    #[ts(as = "Vec<crate::ts::Count>")]
    pub invalid: Vec<i64>,
    /// Records that reached the anchor more than a day after they were logged (a rewritten log
    /// pushed afresh looks like this).
    #[ts(as = "Vec<crate::ts::Count>")]
    pub late: Vec<i64>,
    /// The cache id the anchored log is kept under (a new id is a new identity).
    pub cache: Option<String>,
    /// Why the anchor could not be read, if it could not.
    pub anchor_error: Option<String>,
    /// What verification cannot see without an anchor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
}

/// Verifies the chain and compares it with the anchor (when one is configured).
pub async fn verify(store: &Store) -> Result<Verification> {
    let chain = store.verify_action_log()?;
    let anchor = crate::actions::anchor::compare(store).await?;
    Ok(Verification {
        ok: chain.ok && (!anchor.anchored || anchor.agrees()),
        records: chain.records,
        problems: chain.problems,
        chain_ok: chain.ok,
        anchored: anchor.anchored,
        note: (!anchor.anchored).then(|| {
            "no anchor: edits and deletions in place are detected, a rewrite of the chain by someone who can write the cache file is not (see `ddesk actions anchor add`)".to_string()
        }),
        missing: anchor.missing,
        extra: anchor.extra,
        altered: anchor.altered,
        overwritten: anchor.overwritten,
        unexpected: anchor.unexpected,
        duplicate: anchor.duplicate,
        invalid: anchor.invalid,
        late: anchor.late,
        cache: anchor.cache,
        anchor_error: anchor.error,
    })
}
