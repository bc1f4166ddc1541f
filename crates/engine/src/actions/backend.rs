//! Where actions go: an AWS account through the IoT and STS APIs, or the demo fleet's
//! simulated account kept in the cache (the same plans, calls and log either way).

use super::*;
use crate::sources::defender::{self, DefenderSource};
use crate::sources::{self, aws, AwsSettings, SourceSettings};
use crate::store::Store;
use crate::{Error, Result};

/// The source name of a backend on the default AWS credential chain (no Device Defender source).
pub const DEFAULT_CHAIN: &str = "default credential chain";

/// Where actions go: the AWS account, or the simulated demo account in the cache.
pub enum Backend {
    /// A real (or emulated) AWS account.
    Aws {
        /// The Device Defender / IoT API (paced reads, shared with sync).
        api: DefenderSource,
        /// STS client.
        sts: aws_sdk_sts::Client,
        /// The source whose settings it uses, or `default credential chain`.
        source: String,
        /// The region the SDK resolved.
        region: String,
        /// Security Hub, when acting through a Security Hub source (BatchUpdateFindings).
        hub: Option<aws_sdk_securityhub::Client>,
    },
    /// The demo fleet's simulated account (thing groups and certificates in the cache).
    Demo,
}

pub(super) fn call_error<E, R>(e: &aws_sdk_iot::error::SdkError<E, R>) -> CallError
where
    E: aws_sdk_iot::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_iot::error::SdkError;
    match e {
        SdkError::ServiceError(s) => CallError {
            code: s.err().code().unwrap_or("Unknown").to_string(),
            message: s.err().message().unwrap_or_default().to_string(),
            lost: false,
        },
        SdkError::TimeoutError(_) => CallError {
            code: "Timeout".into(),
            message: aws::describe("call", e),
            lost: true,
        },
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => CallError {
            code: "ConnectionLost".into(),
            message: aws::describe("call", e),
            lost: true,
        },
        other => CallError {
            code: "ClientError".into(),
            message: aws::describe("call", other),
            lost: false,
        },
    }
}

/// BatchUpdateFindings of one finding (the arm of [`Backend::call`] for Security Hub): its
/// workflow status and note; an unprocessed finding is the call's failure.
async fn batch_update_findings(
    hub: Option<&aws_sdk_securityhub::Client>,
    step: &Step,
) -> std::result::Result<String, CallError> {
    use aws_sdk_securityhub::operation::RequestId as _;
    use aws_sdk_securityhub::types::{
        AwsSecurityFindingIdentifier, NoteUpdate, WorkflowStatus, WorkflowUpdate,
    };
    let (
        Some(hub),
        Step::BatchUpdateFindings {
            product_arn,
            id,
            workflow_status,
            note,
            updated_by,
        },
    ) = (hub, step)
    else {
        return Err(CallError {
            code: "NoSecurityHubSource".into(),
            message: "this action goes through a Security Hub source".into(),
            lost: false,
        });
    };
    let ident = AwsSecurityFindingIdentifier::builder()
        .id(id)
        .product_arn(product_arn)
        .build();
    let note = NoteUpdate::builder()
        .text(note)
        .updated_by(updated_by)
        .build();
    let out = hub
        .batch_update_findings()
        .finding_identifiers(ident)
        .workflow(
            WorkflowUpdate::builder()
                .status(WorkflowStatus::from(workflow_status.as_str()))
                .build(),
        )
        .note(note)
        .send()
        .await
        .map_err(|e| call_error(&e))?;
    if let Some(u) = out.unprocessed_findings().first() {
        return Err(CallError {
            code: u.error_code().unwrap_or("Unprocessed").to_string(),
            message: u.error_message().unwrap_or_default().to_string(),
            lost: false,
        });
    }
    Ok(out.request_id().unwrap_or_default().to_string())
}

pub(super) fn request_id<T: aws_sdk_iot::operation::RequestId>(o: &T) -> String {
    o.request_id().unwrap_or_default().to_string()
}

impl Backend {
    /// Where actions on this cache go: the named Device Defender source's account, else the
    /// only one configured; with none, the demo fleet's simulated account (on a demo cache) or
    /// the default credential chain.
    pub async fn for_cache(store: &Store, source: Option<&str>) -> Result<Self> {
        let defenders: Vec<(String, AwsSettings)> = sources::list(store)?
            .into_iter()
            .filter_map(|s| match s.settings {
                SourceSettings::Defender(d) => Some((s.name, d.aws)),
                _ => None,
            })
            .collect();
        if let Some(name) = source {
            let (_, settings) = defenders.iter().find(|(n, _)| n == name).ok_or_else(|| {
                Error::NotFound(format!("no Device Defender source named {name:?}"))
            })?;
            return Ok(Self::aws(name, settings).await);
        }
        match defenders.as_slice() {
            [(name, settings)] => Ok(Self::aws(name, settings).await),
            [] if store.meta("demo")?.as_deref() == Some("true") => Ok(Self::Demo),
            [] => Ok(Self::aws(DEFAULT_CHAIN, &AwsSettings::default()).await),
            several => Err(Error::InvalidInput(format!(
                "several Device Defender sources ({}): name the one to act through (ddesk: --source)",
                several.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Where actions on `thing` (a stored key) go. A thing of a known account is acted on only
    /// through a Device Defender source of that account (and region, where both are known):
    /// the named one must be, and with none such the action is refused, saying what to add.
    /// A thing of unknown account goes where [`Backend::for_cache`] says.
    pub async fn for_thing(
        store: &Store,
        source: Option<&str>,
        thing: Option<&str>,
    ) -> Result<Self> {
        use crate::model::scope::ThingKey;
        let Some(key) = thing.map(ThingKey::parse).filter(|k| k.account.is_some()) else {
            return Self::for_cache(store, source).await;
        };
        Self::for_scoped(store, source, key.name, &key.scope()).await
    }

    /// Where actions on an audit finding go: as for a thing ([`Backend::for_thing`]), by the
    /// finding's account and region (Security Hub's, or its source's) when known.
    pub async fn for_finding(store: &Store, source: Option<&str>, finding: &str) -> Result<Self> {
        let scope = store
            .findings(None, None)?
            .into_iter()
            .find(|f| f.finding_id == finding)
            .and_then(|f| {
                crate::model::scope::Scope::new(f.account.as_deref(), f.region.as_deref()).ok()
            })
            .filter(crate::model::scope::Scope::is_known);
        match scope {
            Some(scope) => {
                Self::for_scoped(store, source, &format!("audit finding {finding}"), &scope).await
            }
            None => Self::for_cache(store, source).await,
        }
    }

    /// Where actions on `what` of a known account (`scope`) go: only through a Device Defender
    /// source of that account (and region, where both are known).
    async fn for_scoped(
        store: &Store,
        source: Option<&str>,
        what: &str,
        scope: &crate::model::scope::Scope,
    ) -> Result<Self> {
        let (account, region) = (scope.account.as_deref(), scope.region.as_deref());
        let defenders: Vec<sources::Source> = sources::list(store)?
            .into_iter()
            .filter(|s| matches!(s.settings, SourceSettings::Defender(_)))
            .collect();
        let serves = |s: &sources::Source| {
            s.scope.account.as_deref() == account
                && match (region, s.scope.region.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        };
        let settings = |s: &sources::Source| match &s.settings {
            SourceSettings::Defender(d) => d.aws.clone(),
            _ => AwsSettings::default(),
        };
        if let Some(name) = source {
            let s = defenders.iter().find(|s| s.name == name).ok_or_else(|| {
                Error::NotFound(format!("no Device Defender source named {name:?}"))
            })?;
            if !serves(s) {
                return Err(Error::InvalidInput(format!(
                    "{} belongs to {}, but source {name:?} acts in {}: nothing was planned",
                    what, scope, s.scope
                )));
            }
            return Ok(Self::aws(name, &settings(s)).await);
        }
        let serving: Vec<&sources::Source> = defenders.iter().filter(|s| serves(s)).collect();
        match serving.as_slice() {
            [one] => Ok(Self::aws(&one.name, &settings(one)).await),
            [] => Err(Error::InvalidInput(format!(
                "{} belongs to {}, and no Device Defender source of that account is configured: add one (`ddesk sources add defender --name N --region {} --profile P`) and sync it once, so its account is learned",
                what,
                scope,
                region.unwrap_or("R")
            ))),
            several => Err(Error::InvalidInput(format!(
                "several Device Defender sources act in {} ({}): name the one to act through (ddesk: --source)",
                scope,
                several.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The AWS backend from a source's settings (`source` names it, or [`DEFAULT_CHAIN`]).
    pub async fn aws(source: &str, settings: &AwsSettings) -> Self {
        let sdk = aws::sdk_config(settings).await;
        Self::Aws {
            api: DefenderSource::from_config(&sdk),
            sts: aws_sdk_sts::Client::new(&sdk),
            source: source.to_string(),
            region: sdk
                .region()
                .map_or_else(|| "(no region)".to_string(), |r| r.to_string()),
            hub: None,
        }
    }

    /// Where a push to Security Hub goes: the named Security Hub source, else the only one
    /// configured (its account — the hub's, a delegated administrator's — is the target).
    pub async fn for_hub(store: &Store, source: Option<&str>) -> Result<Self> {
        let hubs: Vec<(String, AwsSettings)> = sources::list(store)?
            .into_iter()
            .filter_map(|s| match s.settings {
                SourceSettings::SecurityHub(h) => Some((s.name, h.aws)),
                _ => None,
            })
            .filter(|(n, _)| source.is_none_or(|want| want == n))
            .collect();
        let (name, settings) = match hubs.as_slice() {
            [one] => one,
            [] => {
                return Err(Error::InvalidInput(match source {
                    Some(n) => format!("no Security Hub source named {n:?}"),
                    None => "no Security Hub source is configured: add one (`ddesk sources add security-hub`) to push to it".into(),
                }))
            }
            several => {
                return Err(Error::InvalidInput(format!(
                    "several Security Hub sources ({}): name the one to push through (ddesk: --source)",
                    several.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
        };
        let sdk = aws::sdk_config(settings).await;
        let Self::Aws {
            api,
            sts,
            source,
            region,
            ..
        } = Self::aws(name, settings).await
        else {
            unreachable!("Backend::aws is an AWS backend")
        };
        Ok(Self::Aws {
            api,
            sts,
            source,
            region,
            hub: Some(aws_sdk_securityhub::Client::new(&sdk)),
        })
    }

    /// Where actions go: account and caller (one STS GetCallerIdentity), region and source.
    pub async fn target(&self) -> Result<Target> {
        match self {
            Self::Demo => Ok(Target {
                account: "demo".into(),
                region: "demo".into(),
                source: "demo".into(),
                caller: "demo".into(),
            }),
            Self::Aws {
                sts,
                source,
                region,
                ..
            } => {
                let me = sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| Error::Source(aws::failure("STS GetCallerIdentity", &e)))?;
                Ok(Target {
                    account: me.account().unwrap_or("unknown").to_string(),
                    region: region.clone(),
                    source: source.clone(),
                    caller: me.arn().unwrap_or("unknown").to_string(),
                })
            }
        }
    }

    pub(super) fn iot(&self) -> Option<&aws_sdk_iot::Client> {
        match self {
            Self::Aws { api, .. } => Some(api.client()),
            Self::Demo => None,
        }
    }

    pub(super) fn is_demo(&self) -> bool {
        matches!(self, Self::Demo)
    }

    /// Who is acting.
    pub async fn actor(&self) -> Result<Actor> {
        // From the OS account database (getpwuid on Unix, GetUserNameW on Windows), not from
        // $USER, which any process can set.
        let os_user = whoami::username().unwrap_or_else(|_| "unknown".into());
        let aws = match self {
            Self::Demo => "demo".to_string(),
            Self::Aws { sts, .. } => sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| Error::Source(aws::failure("STS GetCallerIdentity", &e)))?
                .arn()
                .unwrap_or("unknown")
                .to_string(),
        };
        Ok(Actor { aws, os_user })
    }

    /// A thing's thing groups.
    pub async fn groups(&self, store: &Store, thing: &str) -> Result<Vec<String>> {
        match self {
            Self::Demo => Ok(store
                .thing_groups(thing)?
                .into_iter()
                .map(|(g, _, _)| g)
                .collect()),
            Self::Aws { api, .. } => Ok(api
                .thing_groups(crate::model::scope::name_of(thing))
                .await?
                .into_iter()
                .map(|(g, _)| g)
                .collect()),
        }
    }

    pub(super) async fn group_exists(&self, store: &Store, group: &str) -> Result<bool> {
        match self {
            Self::Demo => Ok(store.meta(&format!("demo_group:{group}"))?.is_some()),
            Self::Aws { api, .. } => match api
                .client()
                .describe_thing_group()
                .thing_group_name(group)
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if aws::error_code(&e).as_deref() == Some("ResourceNotFoundException") => {
                    Ok(false)
                }
                Err(e) => Err(Error::Source(aws::failure("DescribeThingGroup", &e))),
            },
        }
    }

    /// A thing's principals (certificate ARNs); none on the demo account.
    pub async fn principals(&self, thing: &str) -> Result<Vec<String>> {
        match self {
            Self::Demo => Ok(Vec::new()),
            Self::Aws { api, .. } => {
                api.thing_principals(crate::model::scope::name_of(thing))
                    .await
            }
        }
    }

    /// The certificates among a thing's `principals`, with their status.
    pub async fn certificates(
        &self,
        store: &Store,
        thing: &str,
        principals: &[String],
    ) -> Result<Vec<Cert>> {
        match self {
            Self::Demo => {
                let id = demo_cert(thing);
                let status = store
                    .meta(&format!("demo_cert:{id}"))?
                    .unwrap_or_else(|| "ACTIVE".into());
                Ok(vec![Cert { id, status }])
            }
            Self::Aws { api, .. } => {
                let mut out = Vec::new();
                for id in principals
                    .iter()
                    .filter_map(|p| defender::certificate_id(p))
                {
                    let d = api
                        .client()
                        .describe_certificate()
                        .certificate_id(id)
                        .send()
                        .await
                        .map_err(|e| Error::Source(aws::failure("DescribeCertificate", &e)))?;
                    let status = d
                        .certificate_description()
                        .and_then(|c| c.status())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    out.push(Cert {
                        id: id.to_string(),
                        status,
                    });
                }
                out.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(out)
            }
        }
    }

    /// Policies on the thing's `principals` that let it connect under any client id.
    pub(super) async fn client_id_warnings(&self, principals: &[String]) -> Vec<String> {
        let Self::Aws { api, .. } = self else {
            return Vec::new();
        };
        let iot = api.client();
        let mut out = Vec::new();
        for p in principals {
            let Ok(attached) = iot.list_attached_policies().target(p).send().await else {
                continue;
            };
            for pol in attached.policies() {
                let Some(name) = pol.policy_name() else {
                    continue;
                };
                let Ok(doc) = iot.get_policy().policy_name(name).send().await else {
                    continue;
                };
                if allows_any_client_id(doc.policy_document().unwrap_or_default()) {
                    out.push(format!(
                        "policy {name} on the thing's certificate allows iot:Connect with any client id: a device can connect under another client id and bypass thing-group policies, so quarantine may not hold; consider also deactivating the certificate"
                    ));
                }
            }
        }
        out
    }

    /// Performs one call; returns the AWS request id. Over 120 lines because it is one match
    /// with an arm per AWS call a [`Step`] makes, each arm that call's SDK builder and nothing
    /// else: the closed set of what an action can do to AWS, read in one place.
    pub(super) async fn call(
        &self,
        store: &mut Store,
        step: &Step,
    ) -> std::result::Result<String, CallError> {
        match self {
            Self::Demo => demo_call(store, step).map(|()| "demo".into()),
            Self::Aws { api, hub, .. } => match step {
                Step::BatchUpdateFindings { .. } => batch_update_findings(hub.as_ref(), step).await,
                Step::PutVerificationStateOnViolation {
                    violation_id,
                    state,
                    description,
                } => {
                    let id = api
                        .client()
                        .put_verification_state_on_violation()
                        .violation_id(violation_id)
                        .verification_state(aws_sdk_iot::types::VerificationState::from(
                            state.as_str(),
                        ))
                        .set_verification_state_description(description.clone())
                        .send()
                        .await
                        .map(|o| request_id(&o))
                        .map_err(|e| call_error(&e))?;
                    // The screens show it at once (the next sync reads the same from AWS).
                    let _ = store.set_violation_verification(
                        violation_id,
                        state.as_str(),
                        description.as_deref(),
                    );
                    Ok(id)
                }
                Step::CreateThingGroup { group } => api
                    .client()
                    .create_thing_group()
                    .thing_group_name(group)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::CreatePolicy { policy, document } => api
                    .client()
                    .create_policy()
                    .policy_name(policy)
                    .policy_document(document)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::AttachPolicy { policy, group } => {
                    let arn = api
                        .client()
                        .describe_thing_group()
                        .thing_group_name(group)
                        .send()
                        .await
                        .map_err(|e| call_error(&e))?
                        .thing_group_arn()
                        .unwrap_or_default()
                        .to_string();
                    api.client()
                        .attach_policy()
                        .policy_name(policy)
                        .target(arn)
                        .send()
                        .await
                        .map(|o| request_id(&o))
                        .map_err(|e| call_error(&e))
                }
                Step::AddThingToThingGroup {
                    thing,
                    group,
                    override_dynamic_groups,
                } => api
                    .client()
                    .add_thing_to_thing_group()
                    .thing_name(thing)
                    .thing_group_name(group)
                    .override_dynamic_groups(*override_dynamic_groups)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::RemoveThingFromThingGroup { thing, group } => api
                    .client()
                    .remove_thing_from_thing_group()
                    .thing_name(thing)
                    .thing_group_name(group)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::UpdateCertificate {
                    certificate_id,
                    new_status,
                } => api
                    .client()
                    .update_certificate()
                    .certificate_id(certificate_id)
                    .new_status(new_status.as_str().into())
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::StartDetectMitigationActionsTask {
                    task_id,
                    violation_id,
                    action,
                    client_request_token,
                } => api
                    .client()
                    .start_detect_mitigation_actions_task()
                    .task_id(task_id)
                    .target(
                        aws_sdk_iot::types::DetectMitigationActionsTaskTarget::builder()
                            .violation_ids(violation_id)
                            .build(),
                    )
                    .actions(action)
                    .client_request_token(client_request_token)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
                Step::StartAuditMitigationActionsTask {
                    task_id,
                    finding_id,
                    check,
                    action,
                    client_request_token,
                } => api
                    .client()
                    .start_audit_mitigation_actions_task()
                    .task_id(task_id)
                    .target(
                        aws_sdk_iot::types::AuditMitigationActionsTaskTarget::builder()
                            .finding_ids(finding_id)
                            .build(),
                    )
                    .audit_check_to_actions_mapping(check, vec![action.clone()])
                    .client_request_token(client_request_token)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| call_error(&e)),
            },
        }
    }
}

pub(super) fn demo_cert(thing: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(format!("demo-cert:{thing}")))
}

pub(super) fn demo_call(store: &mut Store, step: &Step) -> std::result::Result<(), CallError> {
    let fail = |e: crate::store::StoreError| CallError {
        code: "DemoStoreError".into(),
        message: e.to_string(),
        lost: false,
    };
    match step {
        Step::PutVerificationStateOnViolation {
            violation_id,
            state,
            description,
        } => store
            .set_violation_verification(violation_id, state.as_str(), description.as_deref())
            .map_err(fail),
        Step::CreateThingGroup { group } => store
            .set_meta(&format!("demo_group:{group}"), "1")
            .map_err(fail),
        Step::CreatePolicy { .. } | Step::AttachPolicy { .. } => Ok(()),
        Step::AddThingToThingGroup { thing, group, .. } => {
            let mut groups: Vec<(String, Option<String>)> = store
                .thing_groups(thing)
                .map_err(fail)?
                .into_iter()
                .map(|(g, a, _)| (g, a))
                .collect();
            if !groups.iter().any(|(g, _)| g == group) {
                groups.push((group.clone(), None));
            }
            store.set_thing_groups(thing, &groups).map_err(fail)
        }
        Step::RemoveThingFromThingGroup { thing, group } => {
            let groups: Vec<(String, Option<String>)> = store
                .thing_groups(thing)
                .map_err(fail)?
                .into_iter()
                .filter(|(g, _, _)| g != group)
                .map(|(g, a, _)| (g, a))
                .collect();
            store.set_thing_groups(thing, &groups).map_err(fail)
        }
        Step::UpdateCertificate {
            certificate_id,
            new_status,
        } => store
            .set_meta(&format!("demo_cert:{certificate_id}"), new_status)
            .map_err(fail),
        Step::StartDetectMitigationActionsTask { .. }
        | Step::StartAuditMitigationActionsTask { .. } => Ok(()),
        Step::BatchUpdateFindings { .. } => Err(CallError {
            code: "NoSecurityHubSource".into(),
            message: "the demo account has no Security Hub".into(),
            lost: false,
        }),
    }
}
