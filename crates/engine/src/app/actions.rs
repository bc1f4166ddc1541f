//! Response actions from the app: plans shown for confirmation, executed with a reason,
//! and the action log (with colleagues' actions read back from the anchor).

use super::*;

impl Desk {
    /// The action log, newest first, with colleagues' actions read back from the anchor (when
    /// one is configured and reachable; else as last read).
    pub fn actions(&self) -> Result<Vec<ActionView>> {
        let path = self.active()?;
        let store = Store::open(&path)?;
        let pulled = self.rt.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(15),
                crate::actions::anchor::pull_colleagues(&store),
            )
            .await
        });
        match pulled {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "colleagues' actions not read"),
            Err(_) => tracing::warn!("colleagues' actions not read: the anchor took over 15 s"),
        }
        let mut v = query::action_records(&store, None)?;
        v.sort_by(|a, b| b.at.cmp(&a.at).then(b.seq.cmp(&a.seq)));
        Ok(v)
    }

    /// Verifies the action log's hash chain and compares it with the anchor (when one is
    /// configured), as `ddesk actions verify` does.
    pub fn verify_actions(&self) -> Result<query::Verification> {
        let store = Store::open(&self.active()?)?;
        self.rt.block_on(query::verify(&store))
    }

    pub(super) async fn backend(&self) -> Result<(Backend, PathBuf)> {
        let path = self.action_cache()?;
        let backend = Backend::for_cache(&Store::open(&path)?, None).await?;
        Ok((backend, path))
    }

    fn action_cache(&self) -> Result<PathBuf> {
        Ok(match lock(&self.store).as_ref() {
            Some((p, _)) => p.clone(),
            None => self.active()?,
        })
    }

    /// Plans an action: the exact calls and the pre-flight warnings, nothing called yet.
    pub fn plan(&self, req: &ActionRequest) -> Result<PlanView> {
        self.rt.block_on(self.plan_async(req))
    }

    pub(super) async fn plan_async(&self, req: &ActionRequest) -> Result<PlanView> {
        let path = self.action_cache()?;
        let mut store = Store::open(&path)?;
        let (backend, req) = backend_for(&store, None, req).await?;
        crate::actions::reconcile(&mut store, &backend).await?;
        let plan = plan_request(&backend, &store, &req).await?;
        let id = format!("plan-{:016x}", fastrand::u64(..));
        let view = PlanView {
            id: id.clone(),
            action: plan.action,
            thing: plan
                .thing
                .as_deref()
                .map(|t| crate::model::scope::name_of(t).to_string()),
            calls: plan.preview(),
            warnings: plan.warnings.clone(),
            needs_group: plan.needs_group,
            demo: plan.demo,
            min_reason: crate::actions::MIN_REASON as u32,
            target: plan.target.clone(),
        };
        lock(&self.plans).insert(id, plan);
        Ok(view)
    }

    /// Executes a confirmed plan with the analyst's reason; logged before and after.
    pub fn execute(&self, plan_id: &str, reason: &str) -> Result<OutcomeView> {
        self.rt.block_on(self.execute_async(plan_id, reason))
    }

    pub(super) async fn execute_async(&self, plan_id: &str, reason: &str) -> Result<OutcomeView> {
        if reason.trim().chars().count() < crate::actions::MIN_REASON {
            return Err(Error::InvalidInput(format!(
                "the reason must be at least {} characters (it goes into the action log)",
                crate::actions::MIN_REASON
            )));
        }
        let plan = lock(&self.plans)
            .remove(plan_id)
            .ok_or_else(|| Error::NotFound("that plan expired: plan the action again".into()))?;
        if plan.steps.is_empty() {
            return Err(Error::InvalidInput(
                "nothing to do: the plan has no calls".into(),
            ));
        }
        if plan.needs_group {
            return Err(Error::InvalidInput(
                "the quarantine group does not exist yet: choose to create it (with the deny-all \
                 policy shown) and confirm again"
                    .into(),
            ));
        }
        let path = self.action_cache()?;
        let mut store = Store::open(&path)?;
        let backend = if plan.action == crate::actions::ActionKind::Hub {
            Backend::for_hub(&store, None).await?
        } else {
            Backend::for_thing(&store, None, plan.thing.as_deref()).await?
        };
        let actor: Actor = backend.actor().await?;
        let outcome =
            crate::actions::execute(&mut store, &backend, &plan, reason.trim(), &actor).await?;
        self.reset();
        Ok(OutcomeView {
            status: outcome.status.to_string(),
            state: outcome.status.state(),
            action: plan.action,
            thing: plan
                .thing
                .as_deref()
                .map(|t| crate::model::scope::name_of(t).to_string()),
            steps: outcome.steps.iter().map(|s| s.to_string()).collect(),
            intent: outcome.intent as f64,
        })
    }

    /// The account's mitigation actions usable on a violation or on a finding (the demo
    /// account's simulated ones on the demo fleet).
    pub fn mitigation_actions(&self, target: MitigationFor) -> Result<Vec<String>> {
        self.rt.block_on(async {
            let (backend, _) = self.backend().await?;
            backend.mitigation_actions(target).await
        })
    }
}

/// Plans what an analyst asked for (the app's dialog and `ddesk quarantine | release | mitigate`).
/// Plans `req` against `backend`, naming the account, region, source and caller it is for: the
/// plan runs only there.
pub async fn plan_request(backend: &Backend, store: &Store, req: &ActionRequest) -> Result<Plan> {
    let mut plan = plan_steps(backend, store, req).await?;
    let target = backend.target().await?;
    // The credentials must really be the thing's account's (a source's learned account can be
    // stale; its profile may have been pointed elsewhere since).
    if let Some(key) = plan
        .thing
        .as_deref()
        .map(crate::model::scope::ThingKey::parse)
    {
        if let Some(account) = key.account {
            if target.account != account {
                return Err(Error::InvalidInput(format!(
                    "{} belongs to {}, but source {:?} now acts in account {}: nothing was planned",
                    key.name,
                    key.scope(),
                    target.source,
                    target.account
                )));
            }
        }
    }
    if let ActionRequest::MitigateFinding { finding, .. } = req {
        let account = store
            .findings(None, None)?
            .into_iter()
            .find(|f| &f.finding_id == finding)
            .and_then(|f| f.account);
        if let Some(account) = account.filter(|a| a != &target.account) {
            return Err(Error::InvalidInput(format!(
                "audit finding {finding} belongs to account {account}, but source {:?} now acts in account {}: nothing was planned",
                target.source, target.account
            )));
        }
    }
    plan.target = Some(target);
    Ok(plan)
}

/// Security Hub's `Workflow.Status` for an investigation state: `new` is NEW, `investigating`
/// and `compromised` (confirmed, still being worked) NOTIFIED, `benign` RESOLVED.
pub fn hub_workflow(state: crate::cases::CaseState) -> &'static str {
    use crate::cases::CaseState;
    match state {
        CaseState::New => "NEW",
        CaseState::Investigating | CaseState::Compromised => "NOTIFIED",
        CaseState::Benign => "RESOLVED",
    }
}

/// What pushing a subject's investigation to Security Hub sets: its state (who set it, when)
/// and latest note (with its author) as the note, by the OS user, on the findings of a thing's
/// violations or of an audit finding.
fn hub_push(store: &Store, subject: &crate::cases::Subject) -> Result<crate::actions::HubPush> {
    use crate::cases::Subject;
    let subject = subject.require(store)?;
    let case = crate::cases::show(store, &subject)?;
    let (thing, named, kind, records) = match &subject {
        Subject::Thing(key) => (
            Some(key.clone()),
            crate::model::scope::name_of(key).to_string(),
            "violation",
            store
                .violations(Some(key), false)?
                .into_iter()
                .map(|v| v.violation_id)
                .collect(),
        ),
        Subject::Finding(id) => (None, format!("finding {id}"), "finding", vec![id.clone()]),
    };
    let when = case
        .updated
        .map(time::to_rfc3339)
        .unwrap_or_else(|| "never set".into());
    let set_by = case
        .history
        .last()
        .map_or_else(|| "nobody".to_string(), |h| h.who.clone());
    let note = format!(
        "Defender Desk: {} (set by {set_by} at {when}){}",
        case.state.as_str(),
        case.notes
            .last()
            .map(|n| format!(" — note by {}: {}", n.who, n.text))
            .unwrap_or_default()
    );
    Ok(crate::actions::HubPush {
        thing,
        named,
        kind,
        records,
        workflow: hub_workflow(case.state),
        note,
        updated_by: format!("{} (Defender Desk)", crate::cases::os_user()),
    })
}

/// Where an action goes, with the request's thing resolved to its stored key: the backend of
/// the thing's account ([`Backend::for_thing`]; a violation's thing for the actions on one),
/// through `source` when named.
pub async fn backend_for(
    store: &Store,
    source: Option<&str>,
    req: &ActionRequest,
) -> Result<(Backend, ActionRequest)> {
    let mut req = req.clone();
    let thing = match &mut req {
        ActionRequest::Quarantine { thing, .. } | ActionRequest::Release { thing } => {
            *thing = crate::store::resolve_thing(store, thing)?;
            Some(thing.clone())
        }
        ActionRequest::MitigateViolation { violation, .. }
        | ActionRequest::VerifyViolation { violation, .. } => store
            .violations(None, false)?
            .into_iter()
            .find(|v| &v.violation_id == violation)
            .map(|v| v.thing),
        ActionRequest::MitigateFinding { finding, .. } => {
            return Ok((Backend::for_finding(store, source, finding).await?, req));
        }
        ActionRequest::HubCase { thing, .. } => {
            if let Some(t) = thing {
                *t = crate::store::resolve_thing(store, t)?;
            }
            return Ok((Backend::for_hub(store, source).await?, req));
        }
    };
    let backend = Backend::for_thing(store, source, thing.as_deref()).await?;
    Ok((backend, req))
}

pub(super) async fn plan_steps(
    backend: &Backend,
    store: &Store,
    req: &ActionRequest,
) -> Result<Plan> {
    match req {
        ActionRequest::Quarantine {
            thing,
            group,
            create_group,
            deactivate_certificate,
        } => {
            crate::actions::plan_quarantine(
                backend,
                store,
                thing,
                group,
                *create_group,
                *deactivate_certificate,
            )
            .await
        }
        ActionRequest::Release { thing } => {
            crate::actions::plan_release(backend, store, thing).await
        }
        ActionRequest::MitigateViolation { violation, name } => {
            let target = MitigationTarget::Violation(violation.clone());
            crate::actions::plan_mitigation(backend, store, &target, name).await
        }
        ActionRequest::MitigateFinding { finding, name } => {
            let target = MitigationTarget::Finding(finding.clone());
            crate::actions::plan_mitigation(backend, store, &target, name).await
        }
        ActionRequest::HubCase { thing, finding } => {
            let subject = match (thing, finding) {
                (Some(t), _) => crate::cases::Subject::Thing(t.clone()),
                (None, Some(f)) => crate::cases::Subject::Finding(f.clone()),
                (None, None) => {
                    return Err(Error::InvalidInput(
                        "a thing or an audit finding is needed".into(),
                    ))
                }
            };
            crate::actions::plan_hub_push(store, &hub_push(store, &subject)?)
        }
        ActionRequest::VerifyViolation {
            violation,
            state,
            description,
        } => {
            crate::actions::plan_verification(
                backend,
                store,
                violation,
                *state,
                description.as_deref(),
            )
            .await
        }
    }
}
