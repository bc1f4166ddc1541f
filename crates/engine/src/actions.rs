//! Response actions: quarantine (a static thing group with a deny-all policy), release (back to
//! exactly the snapshot taken before), certificate deactivation with its undo, and the account's
//! mitigation actions on a violation or an audit finding.
//!
//! Every action is a [`Plan`] first — the exact API calls on the exact resources, with the prior
//! state and pre-flight warnings — which the caller shows for confirmation (`--dry-run` stops
//! there). [`execute`] then appends the intent to the hash-chained log *before* the first call
//! and the outcome (with AWS request ids or error codes) *after*; a call whose response was lost
//! is checked against AWS before it is logged. If the process dies in between, [`reconcile`]
//! (run at every start) reads the thing's real state and records what really happened.
//!
//! On the demo fleet the same code runs against a simulated account kept in the cache, and
//! every record says `demo: true`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sources::defender::{self, DefenderSource};
use crate::sources::{self, aws, AwsSettings, SourceSettings};
use crate::store::{outcome_of, Store};
use crate::{Error, Result};

/// Minimum length of a reason.
pub const MIN_REASON: usize = 10;

/// The deny-all policy attached to a quarantine group.
pub const DENY_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;

/// One API call of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call")]
pub enum Step {
    /// Create the quarantine group.
    CreateThingGroup {
        /// Group.
        group: String,
    },
    /// Create the deny-all policy.
    CreatePolicy {
        /// Policy name.
        policy: String,
        /// Policy document.
        document: String,
    },
    /// Attach the policy to the group.
    AttachPolicy {
        /// Policy name.
        policy: String,
        /// Group the policy is attached to.
        group: String,
    },
    /// Add the thing to a group.
    AddThingToThingGroup {
        /// Thing.
        thing: String,
        /// Group.
        group: String,
        /// Evict a dynamic group membership if the thing is in 10 groups.
        override_dynamic_groups: bool,
    },
    /// Remove the thing from a group.
    RemoveThingFromThingGroup {
        /// Thing.
        thing: String,
        /// Group.
        group: String,
    },
    /// Set a certificate's status.
    UpdateCertificate {
        /// Certificate id.
        certificate_id: String,
        /// `ACTIVE` or `INACTIVE`.
        new_status: String,
    },
    /// Run mitigation actions on a violation.
    StartDetectMitigationActionsTask {
        /// Task id (derived from the action, target and minute).
        task_id: String,
        /// Violation.
        violation_id: String,
        /// Mitigation action name.
        action: String,
        /// Idempotency token, persisted in the intent before the call.
        client_request_token: String,
    },
    /// Run a mitigation action on an audit finding.
    StartAuditMitigationActionsTask {
        /// Task id.
        task_id: String,
        /// Finding.
        finding_id: String,
        /// The finding's check.
        check: String,
        /// Mitigation action name.
        action: String,
        /// Idempotency token.
        client_request_token: String,
    },
}

/// A certificate and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cert {
    /// Certificate id.
    pub id: String,
    /// `ACTIVE`, `INACTIVE`, `REVOKED`, …
    pub status: String,
}

/// The state an action changes, read before it, so the undo restores exactly this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prior {
    /// The thing's thing groups.
    pub groups: Vec<String>,
    /// The thing's certificates.
    pub certificates: Vec<Cert>,
}

/// What an action will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// `quarantine`, `release` or `mitigate`.
    pub action: String,
    /// The thing acted on.
    pub thing: Option<String>,
    /// The quarantine group.
    pub group: Option<String>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// Pre-flight warnings.
    pub warnings: Vec<String>,
    /// State before the action.
    pub prior: Prior,
    /// Whether this runs against the simulated demo account.
    pub demo: bool,
    /// Where it runs: set when planned ([`Backend::target`]); execution refuses any other
    /// account, region, source or caller. Absent in plans logged before targets existed.
    #[serde(default)]
    pub target: Option<Target>,
}

/// The account an action runs against, as the analyst confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Target {
    /// AWS account id (`demo` for the simulated account).
    pub account: String,
    /// Region (`demo` for the simulated account).
    pub region: String,
    /// The Device Defender source acted through, `default credential chain`, or `demo`.
    pub source: String,
    /// The caller's ARN (STS GetCallerIdentity).
    pub caller: String,
}

impl Plan {
    /// The calls as lines a person can check before confirming.
    pub fn preview(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::CreateThingGroup { group } => format!("CreateThingGroup {group}"),
                Step::CreatePolicy { policy, document } => {
                    format!("CreatePolicy {policy} with document {document}")
                }
                Step::AttachPolicy { policy, group } => {
                    format!("AttachPolicy {policy} to thing group {group}")
                }
                Step::AddThingToThingGroup {
                    thing,
                    group,
                    override_dynamic_groups,
                } => format!(
                    "AddThingToThingGroup thing {thing} -> group {group} (overrideDynamicGroups={override_dynamic_groups})"
                ),
                Step::RemoveThingFromThingGroup { thing, group } => {
                    format!("RemoveThingFromThingGroup thing {thing} <- group {group}")
                }
                Step::UpdateCertificate {
                    certificate_id,
                    new_status,
                } => format!("UpdateCertificate {certificate_id} newStatus={new_status}"),
                Step::StartDetectMitigationActionsTask {
                    task_id,
                    violation_id,
                    action,
                    ..
                } => format!(
                    "StartDetectMitigationActionsTask {task_id}: action {action} on violation {violation_id}"
                ),
                Step::StartAuditMitigationActionsTask {
                    task_id,
                    finding_id,
                    check,
                    action,
                    ..
                } => format!(
                    "StartAuditMitigationActionsTask {task_id}: action {action} on finding {finding_id} ({check})"
                ),
            })
            .collect()
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallError {
    /// AWS error code, or `ConnectionLost` / `Timeout` when no response came.
    pub code: String,
    /// Message.
    pub message: String,
    /// Whether the response was lost (the call may or may not have taken effect).
    pub lost: bool,
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The AWS caller identity (STS GetCallerIdentity ARN), or `demo`.
    pub aws: String,
    /// The OS user.
    pub os_user: String,
}

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
    },
    /// The demo fleet's simulated account (thing groups and certificates in the cache).
    Demo,
}

fn call_error<E, R>(e: &aws_sdk_iot::error::SdkError<E, R>) -> CallError
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

fn request_id<T: aws_sdk_iot::operation::RequestId>(o: &T) -> String {
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
        }
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
                    .map_err(|e| Error::Source(aws::describe("STS GetCallerIdentity", &e)))?;
                Ok(Target {
                    account: me.account().unwrap_or("unknown").to_string(),
                    region: region.clone(),
                    source: source.clone(),
                    caller: me.arn().unwrap_or("unknown").to_string(),
                })
            }
        }
    }

    fn iot(&self) -> Option<&aws_sdk_iot::Client> {
        match self {
            Self::Aws { api, .. } => Some(api.client()),
            Self::Demo => None,
        }
    }

    fn is_demo(&self) -> bool {
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
                .map_err(|e| Error::Source(aws::describe("STS GetCallerIdentity", &e)))?
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
                .thing_groups(thing)
                .await?
                .into_iter()
                .map(|(g, _)| g)
                .collect()),
        }
    }

    async fn group_exists(&self, store: &Store, group: &str) -> Result<bool> {
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
                Err(e) => Err(Error::Source(aws::describe("DescribeThingGroup", &e))),
            },
        }
    }

    /// A thing's principals (certificate ARNs); none on the demo account.
    pub async fn principals(&self, thing: &str) -> Result<Vec<String>> {
        match self {
            Self::Demo => Ok(Vec::new()),
            Self::Aws { api, .. } => api.thing_principals(thing).await,
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
                        .map_err(|e| Error::Source(aws::describe("DescribeCertificate", &e)))?;
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
    async fn client_id_warnings(&self, principals: &[String]) -> Vec<String> {
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

    /// Performs one call; returns the AWS request id.
    async fn call(&self, store: &mut Store, step: &Step) -> std::result::Result<String, CallError> {
        match self {
            Self::Demo => demo_call(store, step).map(|()| "demo".into()),
            Self::Aws { api, .. } => match step {
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

    /// The account's mitigation actions usable on `target` (ListMitigationActions): a Detect
    /// violation takes only `ADD_THINGS_TO_THING_GROUP` actions, an audit finding every type.
    /// The demo account has a simulated set ([`DEMO_DETECT_ACTIONS`], [`DEMO_AUDIT_ACTIONS`]).
    pub async fn mitigation_actions(&self, target: MitigationFor) -> Result<Vec<String>> {
        match (self, target) {
            (Self::Demo, MitigationFor::Violation) => {
                Ok(DEMO_DETECT_ACTIONS.iter().map(|a| a.to_string()).collect())
            }
            (Self::Demo, MitigationFor::Finding) => {
                let mut all: Vec<String> = DEMO_DETECT_ACTIONS
                    .iter()
                    .chain(DEMO_AUDIT_ACTIONS)
                    .map(|a| a.to_string())
                    .collect();
                all.sort();
                Ok(all)
            }
            (Self::Aws { api, .. }, MitigationFor::Violation) => {
                api.mitigation_actions(Some(DETECT_ACTION_TYPE)).await
            }
            (Self::Aws { api, .. }, MitigationFor::Finding) => api.mitigation_actions(None).await,
        }
    }

    /// Follows a mitigation task to its end: final status and per-target executions.
    async fn follow(&self, step: &Step, patience: std::time::Duration) -> Value {
        let Some(iot) = self.iot() else {
            return json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL", "demo": true}]});
        };
        let deadline = std::time::Instant::now() + patience;
        loop {
            // The task's status, or why it could not be read (and whether it does not exist).
            let status: std::result::Result<String, (String, bool)> = match step {
                Step::StartDetectMitigationActionsTask { task_id, .. } => iot
                    .describe_detect_mitigation_actions_task()
                    .task_id(task_id)
                    .send()
                    .await
                    .map(|d| {
                        d.task_summary()
                            .and_then(|t| t.task_status())
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default()
                    })
                    .map_err(|e| {
                        let missing =
                            aws::error_code(&e).as_deref() == Some("ResourceNotFoundException");
                        (
                            aws::describe("DescribeDetectMitigationActionsTask", &e),
                            missing,
                        )
                    }),
                Step::StartAuditMitigationActionsTask { task_id, .. } => iot
                    .describe_audit_mitigation_actions_task()
                    .task_id(task_id)
                    .send()
                    .await
                    .map(|d| {
                        d.task_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default()
                    })
                    .map_err(|e| {
                        let missing =
                            aws::error_code(&e).as_deref() == Some("ResourceNotFoundException");
                        (
                            aws::describe("DescribeAuditMitigationActionsTask", &e),
                            missing,
                        )
                    }),
                _ => return Value::Null,
            };
            match status {
                // A task that does not exist will not appear by waiting.
                Err((error, true)) => return json!({"status": error, "found": false}),
                Ok(status) if status != "IN_PROGRESS" => {
                    return json!({"status": status, "executions": self.executions(step).await});
                }
                Ok(status) if std::time::Instant::now() >= deadline => {
                    return json!({"status": status, "finished": false,
                                  "executions": self.executions(step).await});
                }
                // Describe failed (denied, throttled past the SDK's retries): not seen.
                Err((error, false)) if std::time::Instant::now() >= deadline => {
                    return json!({"status": "UNKNOWN", "error": error, "finished": false});
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
    }

    async fn executions(&self, step: &Step) -> Value {
        let Some(iot) = self.iot() else {
            return Value::Null;
        };
        match step {
            Step::StartDetectMitigationActionsTask { task_id, .. } => {
                match iot
                    .list_detect_mitigation_actions_executions()
                    .task_id(task_id)
                    .send()
                    .await
                {
                    Ok(l) => l
                        .actions_executions()
                        .iter()
                        .map(|x| {
                            json!({"thing": x.thing_name(), "violation_id": x.violation_id(),
                                   "action": x.action_name(),
                                   "status": x.status().map(|s| s.as_str()),
                                   "error_code": x.error_code(), "message": x.message()})
                        })
                        .collect(),
                    Err(e) => json!(aws::describe("ListDetectMitigationActionsExecutions", &e)),
                }
            }
            Step::StartAuditMitigationActionsTask {
                task_id,
                finding_id,
                ..
            } => match iot
                .list_audit_mitigation_actions_executions()
                .task_id(task_id)
                .finding_id(finding_id)
                .send()
                .await
            {
                Ok(l) => l
                    .actions_executions()
                    .iter()
                    .map(|x| {
                        json!({"finding_id": x.finding_id(), "action": x.action_name(),
                               "status": x.status().map(|s| s.as_str()),
                               "error_code": x.error_code(), "message": x.message()})
                    })
                    .collect(),
                Err(e) => json!(aws::describe("ListAuditMitigationActionsExecutions", &e)),
            },
            _ => Value::Null,
        }
    }
}

fn demo_cert(thing: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(format!("demo-cert:{thing}")))
}

fn demo_call(store: &mut Store, step: &Step) -> std::result::Result<(), CallError> {
    let fail = |e: crate::store::StoreError| CallError {
        code: "DemoStoreError".into(),
        message: e.to_string(),
        lost: false,
    };
    match step {
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
    }
}

/// Whether a policy document allows `iot:Connect` for any client id.
pub fn allows_any_client_id(document: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    let as_list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        v @ Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && as_list(&s["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "iot:Connect" | "iot:*" | "*"))
            && as_list(&s["Resource"])
                .iter()
                .any(|r| r == "*" || r.ends_with(":client/*") || r.contains("${iot:ClientId}"))
    })
}

fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().chars().count() < MIN_REASON
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Error::InvalidInput(format!(
            "a reason of at least {MIN_REASON} characters is required (it goes into the action log)"
        )));
    }
    Ok(())
}

/// Plans a quarantine: snapshot, warnings, and the calls (group creation only with `create_group`).
pub async fn plan_quarantine(
    backend: &Backend,
    store: &Store,
    thing: &str,
    group: &str,
    create_group: bool,
    deactivate_certificate: bool,
) -> Result<Plan> {
    crate::sources::splunk::validate_thing(thing)?;
    crate::sources::splunk::validate_thing(group)
        .map_err(|_| Error::InvalidInput(format!("{group:?} is not a valid thing group name")))?;
    let groups = backend.groups(store, thing).await?;
    let principals = backend.principals(thing).await?;
    let certificates = backend.certificates(store, thing, &principals).await?;
    let mut warnings = backend.client_id_warnings(&principals).await;
    let mut steps = Vec::new();
    if groups.iter().any(|g| g == group) {
        warnings.push(format!(
            "{thing} is already in {group} (already quarantined)"
        ));
    }
    if !backend.group_exists(store, group).await? {
        if create_group {
            let policy = format!("{group}-DenyAll");
            steps.push(Step::CreateThingGroup {
                group: group.to_string(),
            });
            steps.push(Step::CreatePolicy {
                policy: policy.clone(),
                document: DENY_ALL_POLICY.to_string(),
            });
            steps.push(Step::AttachPolicy {
                policy,
                group: group.to_string(),
            });
        } else {
            warnings.push(format!(
                "there is no thing group {group} yet: confirm its creation with a deny-all policy ({DENY_ALL_POLICY}) by passing --create-group"
            ));
        }
    }
    if !groups.iter().any(|g| g == group) {
        steps.push(Step::AddThingToThingGroup {
            thing: thing.to_string(),
            group: group.to_string(),
            override_dynamic_groups: true,
        });
    }
    if deactivate_certificate {
        for c in certificates.iter().filter(|c| c.status == "ACTIVE") {
            steps.push(Step::UpdateCertificate {
                certificate_id: c.id.clone(),
                new_status: "INACTIVE".into(),
            });
        }
    }
    Ok(Plan {
        action: "quarantine".into(),
        thing: Some(thing.to_string()),
        group: Some(group.to_string()),
        steps,
        warnings,
        prior: Prior {
            groups,
            certificates,
        },
        demo: backend.is_demo(),
        target: None,
    })
}

/// The first quarantine of a thing that succeeded and was not released since.
fn open_quarantine(store: &Store, thing: &str) -> Result<Option<Plan>> {
    let log = store.action_log()?;
    let succeeded = |seq: i64| {
        outcome_of(&log, seq).is_some_and(|o| {
            o.record["status"]
                .as_str()
                .is_some_and(|s| s.starts_with("succeeded"))
        })
    };
    let mut open = None;
    for r in &log {
        if r.record["type"] != "intent" || r.record["plan"]["thing"] != thing || !succeeded(r.seq) {
            continue;
        }
        match r.record["plan"]["action"].as_str() {
            // The first quarantine since the last release: a repeated quarantine snapshots a
            // thing that is already in the group, and restoring that would keep it there.
            Some("quarantine") if open.is_none() => {
                open = serde_json::from_value::<Plan>(r.record["plan"].clone()).ok()
            }
            Some("release") => open = None,
            _ => {}
        }
    }
    Ok(open)
}

/// Plans a release: back to the snapshot of the thing's open quarantine.
pub async fn plan_release(backend: &Backend, store: &Store, thing: &str) -> Result<Plan> {
    crate::sources::splunk::validate_thing(thing)?;
    let quarantine = open_quarantine(store, thing)?.ok_or_else(|| {
        Error::InvalidInput(format!(
            "{thing} has no quarantine in the action log to release"
        ))
    })?;
    let group = quarantine.group.clone().unwrap_or_default();
    let now_groups = backend.groups(store, thing).await?;
    let principals = backend.principals(thing).await?;
    let now_certs = backend.certificates(store, thing, &principals).await?;
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    // A release always leaves the quarantine group, whatever the snapshot says.
    if now_groups.contains(&group) {
        steps.push(Step::RemoveThingFromThingGroup {
            thing: thing.to_string(),
            group: group.clone(),
        });
    } else {
        warnings.push(format!("{thing} is no longer in {group}"));
    }
    for g in &quarantine.prior.groups {
        if g != &group && !now_groups.contains(g) {
            steps.push(Step::AddThingToThingGroup {
                thing: thing.to_string(),
                group: g.clone(),
                override_dynamic_groups: false,
            });
        }
    }
    for c in &quarantine.prior.certificates {
        if let Some(now) = now_certs.iter().find(|n| n.id == c.id) {
            if now.status != c.status && matches!(c.status.as_str(), "ACTIVE" | "INACTIVE") {
                steps.push(Step::UpdateCertificate {
                    certificate_id: c.id.clone(),
                    new_status: c.status.clone(),
                });
            }
        }
    }
    Ok(Plan {
        action: "release".into(),
        thing: Some(thing.to_string()),
        group: Some(group),
        steps,
        warnings,
        prior: Prior {
            groups: now_groups,
            certificates: now_certs,
        },
        demo: backend.is_demo(),
        target: None,
    })
}

/// What to run a mitigation action on.
#[derive(Debug, Clone)]
pub enum MitigationTarget {
    /// A Detect violation.
    Violation(String),
    /// An audit finding.
    Finding(String),
}

impl MitigationTarget {
    /// Which kind of target it is.
    pub fn kind(&self) -> MitigationFor {
        match self {
            Self::Violation(_) => MitigationFor::Violation,
            Self::Finding(_) => MitigationFor::Finding,
        }
    }
}

/// The kind of target a mitigation action is asked to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum MitigationFor {
    /// A Detect violation (only `ADD_THINGS_TO_THING_GROUP` actions apply).
    Violation,
    /// An audit finding (every action type applies).
    Finding,
}

/// The one action type Detect runs on violations.
pub const DETECT_ACTION_TYPE: &str = "ADD_THINGS_TO_THING_GROUP";

/// The demo account's `ADD_THINGS_TO_THING_GROUP` action (usable on violations and findings).
pub const DEMO_DETECT_ACTIONS: &[&str] = &["demo-isolate-in-quarantine-group"];

/// The demo account's other actions (findings only).
pub const DEMO_AUDIT_ACTIONS: &[&str] = &[
    "demo-deactivate-device-certificate",
    "demo-publish-finding-to-sns",
];

/// Plans a mitigation action on a violation or finding (both must be in the cache).
pub async fn plan_mitigation(
    backend: &Backend,
    store: &Store,
    target: &MitigationTarget,
    action: &str,
) -> Result<Plan> {
    crate::sources::splunk::validate_token_like("action", action)?;
    let minute = crate::time::now() / 60_000;
    let token = uuid_like(&format!("{target:?}{action}{minute}"));
    let (thing, step) = match target {
        MitigationTarget::Violation(id) => {
            let v = store
                .violations(None, false)?
                .into_iter()
                .find(|v| &v.violation_id == id)
                .ok_or_else(|| {
                    Error::NotFound(format!("no violation {id:?} in the cache (sync first)"))
                })?;
            (
                Some(v.thing),
                Step::StartDetectMitigationActionsTask {
                    task_id: format!("ddesk-{action}-{}-{minute}", &id[..id.len().min(40)]),
                    violation_id: id.clone(),
                    action: action.to_string(),
                    client_request_token: token,
                },
            )
        }
        MitigationTarget::Finding(id) => {
            let f = store
                .findings(None, None)?
                .into_iter()
                .find(|f| &f.finding_id == id)
                .ok_or_else(|| {
                    Error::NotFound(format!("no audit finding {id:?} in the cache (sync first)"))
                })?;
            (
                None,
                Step::StartAuditMitigationActionsTask {
                    task_id: format!("ddesk-{action}-{}-{minute}", &id[..id.len().min(40)]),
                    finding_id: id.clone(),
                    check: f.check,
                    action: action.to_string(),
                    client_request_token: token,
                },
            )
        }
    };
    let kind = target.kind();
    let defined = backend.mitigation_actions(kind).await?;
    if !defined.iter().any(|a| a == action) {
        let usable = match kind {
            MitigationFor::Violation => {
                format!(" usable on a violation (type {DETECT_ACTION_TYPE})")
            }
            MitigationFor::Finding => String::new(),
        };
        return Err(Error::NotFound(format!(
            "no mitigation action {action:?}{usable} in the account; defined: {}",
            if defined.is_empty() {
                "none".to_string()
            } else {
                defined.join(", ")
            }
        )));
    }
    Ok(Plan {
        action: "mitigate".into(),
        thing,
        group: None,
        steps: vec![step],
        warnings: Vec::new(),
        prior: Prior::default(),
        demo: backend.is_demo(),
        target: None,
    })
}

fn uuid_like(seed: &str) -> String {
    use sha2::Digest;
    let h = format!("{:x}", sha2::Sha256::digest(seed));
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The result of an executed plan.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Sequence number of the intent record.
    pub intent: i64,
    /// Sequence number of the outcome record.
    pub outcome: i64,
    /// `succeeded` or `failed`.
    pub status: String,
    /// Per call: request id or error.
    pub steps: Vec<Value>,
    /// Mitigation task result, when one ran.
    pub task: Value,
}

/// Executes a plan: intent logged, calls made in order (stopping at the first failure), outcome
/// logged. A call whose response was lost is checked against AWS before it is logged.
pub async fn execute(
    store: &mut Store,
    backend: &Backend,
    plan: &Plan,
    reason: &str,
    actor: &Actor,
) -> Result<Outcome> {
    check_reason(reason)?;
    if let Some(planned) = &plan.target {
        let now = backend.target().await?;
        if &now != planned {
            return Err(Error::InvalidInput(format!(
                "the plan was made for account {} in {} (source {}, caller {}) but would run against account {} in {} (source {}, caller {}): nothing was done — plan the action again",
                planned.account, planned.region, planned.source, planned.caller,
                now.account, now.region, now.source, now.caller
            )));
        }
    }
    if plan.steps.is_empty() {
        return Err(Error::InvalidInput(format!(
            "the {} plan has no step: nothing to do, nothing logged{}",
            plan.action,
            if plan.warnings.is_empty() {
                String::new()
            } else {
                format!(" ({})", plan.warnings.join("; "))
            }
        )));
    }
    // Claimed in the same transaction: no other process reconciles this intent while it runs.
    let intent = store.append_intent(
        &json!({
            "type": "intent",
            "reason": reason,
            "who": actor,
            "plan": plan,
            "calls": plan.preview(),
            "demo": plan.demo,
        }),
        EXECUTE_LEASE,
    )?;
    let mut steps = Vec::new();
    let mut status = "succeeded".to_string();
    let mut task = Value::Null;
    for (i, step) in plan.steps.iter().enumerate() {
        let result = backend.call(store, step).await;
        // Fault injection for the crash test: die between the call and the log. Compiled into
        // debug builds only (the tests'); a release build has no such switch.
        #[cfg(debug_assertions)]
        if std::env::var_os("DDESK_FAULT_CRASH_AFTER_CALL").is_some() {
            std::process::abort();
        }
        match result {
            Ok(request_id) => {
                steps.push(json!({"step": i, "ok": true, "request_id": request_id}));
                if matches!(
                    step,
                    Step::StartDetectMitigationActionsTask { .. }
                        | Step::StartAuditMitigationActionsTask { .. }
                ) {
                    task = backend.follow(step, FOLLOW_PATIENCE).await;
                    match judge_task(&task) {
                        Seen::Applied => {}
                        Seen::NotApplied(_) => status = "failed".into(),
                        Seen::Unknown(why) => status = format!("unknown ({why})"),
                    }
                }
            }
            Err(e) if e.lost => {
                // The call may have taken effect: look before logging.
                let applied = match (step, plan.thing.as_deref()) {
                    (Step::AddThingToThingGroup { group, .. }, Some(thing)) => backend
                        .groups(store, thing)
                        .await
                        .ok()
                        .map(|g| g.contains(group)),
                    (Step::RemoveThingFromThingGroup { group, .. }, Some(thing)) => backend
                        .groups(store, thing)
                        .await
                        .ok()
                        .map(|g| !g.contains(group)),
                    _ => None,
                };
                steps.push(
                    json!({"step": i, "ok": applied == Some(true), "error_code": e.code,
                                  "message": e.message, "verified_after_lost_response": applied}),
                );
                if applied != Some(true) {
                    status = "failed".into();
                    break;
                }
            }
            Err(e) => {
                steps.push(
                    json!({"step": i, "ok": false, "error_code": e.code, "message": e.message}),
                );
                status = "failed".into();
                break;
            }
        }
    }
    let outcome = store.append_action(&json!({
        "type": "outcome",
        "intent": intent.seq,
        "status": status,
        "steps": steps,
        "task": task,
        "demo": plan.demo,
    }))?;
    store.release_intent(intent.seq)?;
    anchor_now(store).await;
    if let (Some(thing), Backend::Aws { .. }) = (plan.thing.as_deref(), backend) {
        if let Ok(groups) = backend.groups(store, thing).await {
            let g: Vec<_> = groups.into_iter().map(|g| (g, None)).collect();
            let _ = store.set_thing_groups(thing, &g);
        }
    }
    Ok(Outcome {
        intent: intent.seq,
        outcome: outcome.seq,
        status,
        steps,
        task,
    })
}

/// Records what really happened to every intent that has no outcome (the app died between the
/// call and the log). Returns the outcome records written.
pub async fn reconcile(store: &mut Store, backend: &Backend) -> Result<Vec<Value>> {
    let log = store.action_log()?;
    let mut written = Vec::new();
    for r in &log {
        if r.record["type"] != "intent" || outcome_of(&log, r.seq).is_some() {
            continue;
        }
        let Ok(plan) = serde_json::from_value::<Plan>(r.record["plan"].clone()) else {
            continue;
        };
        if plan.demo != backend.is_demo() {
            continue;
        }
        // One process per intent: one still acting on it (or reconciling it) holds the claim.
        if !store.claim_intent(r.seq, RECONCILE_LEASE)? {
            continue;
        }
        let observed = observe(store, backend, &plan).await;
        let (verdict, steps) = judge(&plan, &observed);
        let status = match &verdict {
            Seen::Applied => "succeeded (reconciled)".to_string(),
            Seen::NotApplied(why) => format!("failed (reconciled: {why})"),
            Seen::Unknown(why) => format!("unknown (reconciled: {why})"),
        };
        let rec = json!({
            "type": "outcome",
            "intent": r.seq,
            "status": status,
            "reconciled": true,
            "steps": steps,
            "observed": observed.to_json(),
            "demo": plan.demo,
        });
        match store.append_action(&rec) {
            Ok(_) => written.push(rec),
            // Another process logged it first: its outcome stands.
            Err(crate::store::StoreError::OutcomeExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        store.release_intent(r.seq)?;
    }
    if !written.is_empty() {
        anchor_now(store).await;
    }
    Ok(written)
}

/// Sends what the anchor lacks; a failure is logged and retried later, never raised.
async fn anchor_now(store: &Store) {
    match crate::anchor::push(store).await {
        Ok(r) if r.error.is_some() => tracing::warn!(error = ?r.error, "action log anchor behind"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "action log anchor not reached"),
    }
}

/// How long an executing process holds its intent (its calls and following a mitigation task).
const EXECUTE_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How long reconciling one intent may take.
const RECONCILE_LEASE: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How long an execution follows a mitigation task before logging it as unknown.
const FOLLOW_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// What one step (or the whole plan) was seen to have done.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Its effect is there.
    Applied,
    /// Its effect is not there (or AWS says it failed).
    NotApplied(String),
    /// It could not be told.
    Unknown(String),
}

/// What reconciling read of the account, once per plan.
#[derive(Debug, Default)]
struct Observed {
    groups: Option<std::result::Result<Vec<String>, String>>,
    certificates: Option<std::result::Result<Vec<Cert>, String>>,
    tasks: Vec<Value>,
}

impl Observed {
    fn to_json(&self) -> Value {
        fn read<T: Serialize>(x: &Option<std::result::Result<T, String>>) -> Value {
            match x {
                None => Value::Null,
                Some(Ok(v)) => json!(v),
                Some(Err(e)) => json!({ "error": e }),
            }
        }
        json!({
            "groups": read(&self.groups),
            "certificates": read(&self.certificates),
            "tasks": self.tasks,
        })
    }
}

/// Reads what the plan's steps change: group membership, certificate statuses, task status
/// (once, no waiting: a reconcile never waits out a task).
async fn observe(store: &Store, backend: &Backend, plan: &Plan) -> Observed {
    let thing = plan.thing.clone().unwrap_or_default();
    let mut seen = Observed::default();
    let needs = |f: fn(&Step) -> bool| plan.steps.iter().any(f);
    if needs(|s| {
        matches!(
            s,
            Step::AddThingToThingGroup { .. } | Step::RemoveThingFromThingGroup { .. }
        )
    }) {
        seen.groups = Some(
            backend
                .groups(store, &thing)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    if needs(|s| matches!(s, Step::UpdateCertificate { .. })) {
        let certs = match backend.principals(&thing).await {
            Ok(p) => backend.certificates(store, &thing, &p).await,
            Err(e) => Err(e),
        };
        seen.certificates = Some(certs.map_err(|e| e.to_string()));
    }
    for step in &plan.steps {
        if matches!(
            step,
            Step::StartDetectMitigationActionsTask { .. }
                | Step::StartAuditMitigationActionsTask { .. }
        ) {
            seen.tasks
                .push(backend.follow(step, std::time::Duration::ZERO).await);
        }
    }
    seen
}

/// The verdict on every step of `plan` from what was observed, and on the plan: applied only
/// when every step is; not applied when one is seen not to be; unknown otherwise.
fn judge(plan: &Plan, seen: &Observed) -> (Seen, Vec<Value>) {
    let mut tasks = seen.tasks.iter();
    let mut seen_steps = Vec::new();
    for step in &plan.steps {
        let v = match step {
            Step::AddThingToThingGroup { group, .. }
            | Step::RemoveThingFromThingGroup { group, .. } => {
                let adding = matches!(step, Step::AddThingToThingGroup { .. });
                match &seen.groups {
                    Some(Ok(groups)) if groups.contains(group) == adding => Seen::Applied,
                    Some(Ok(_)) if adding => Seen::NotApplied(format!("not in {group}")),
                    Some(Ok(_)) => Seen::NotApplied(format!("still in {group}")),
                    Some(Err(e)) => Seen::Unknown(format!("groups not read: {e}")),
                    None => Seen::Unknown("groups not read".into()),
                }
            }
            Step::UpdateCertificate {
                certificate_id,
                new_status,
            } => match &seen.certificates {
                Some(Ok(certs)) => match certs.iter().find(|c| &c.id == certificate_id) {
                    Some(c) if &c.status == new_status => Seen::Applied,
                    Some(c) => Seen::NotApplied(format!(
                        "certificate {certificate_id} is {}, not {new_status}",
                        c.status
                    )),
                    None => Seen::Unknown(format!("certificate {certificate_id} not found")),
                },
                Some(Err(e)) => Seen::Unknown(format!("certificates not read: {e}")),
                None => Seen::Unknown("certificates not read".into()),
            },
            Step::StartDetectMitigationActionsTask { .. }
            | Step::StartAuditMitigationActionsTask { .. } => tasks
                .next()
                .map_or(Seen::Unknown("task not read".into()), judge_task),
            // Not read back. The executor runs the steps in order and stops at the first
            // failure, so a later membership the thing did not have before shows these ran.
            Step::CreateThingGroup { .. }
            | Step::CreatePolicy { .. }
            | Step::AttachPolicy { .. } => {
                let later_joined = plan.steps.iter().any(|s| match s {
                    Step::AddThingToThingGroup { group, .. } => {
                        !plan.prior.groups.contains(group)
                            && matches!(&seen.groups, Some(Ok(g)) if g.contains(group))
                    }
                    _ => false,
                });
                if later_joined {
                    Seen::Applied
                } else {
                    Seen::Unknown("group or policy creation not read back".into())
                }
            }
        };
        seen_steps.push(v);
    }
    let verdicts = seen_steps
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Seen::Applied => json!({"step": i, "applied": true}),
            Seen::NotApplied(w) => json!({"step": i, "applied": false, "why": w}),
            Seen::Unknown(w) => json!({"step": i, "applied": null, "why": w}),
        })
        .collect();
    let failed = seen_steps.iter().find(|v| matches!(v, Seen::NotApplied(_)));
    let unknown = seen_steps.iter().find(|v| matches!(v, Seen::Unknown(_)));
    let verdict = failed.or(unknown).cloned().unwrap_or(Seen::Applied);
    (verdict, verdicts)
}

/// A mitigation task as read: success only when the task is SUCCESSFUL/COMPLETED and every
/// target's execution is too; FAILED, CANCELED, a missing task or a failed target is not
/// applied; anything else (still running, not readable) is unknown.
fn judge_task(task: &Value) -> Seen {
    if task["found"] == false {
        return Seen::NotApplied("the task does not exist".into());
    }
    let status = task["status"].as_str().unwrap_or("UNKNOWN");
    match status {
        "SUCCESSFUL" | "COMPLETED" => {}
        "FAILED" | "CANCELED" | "CANCELLED" => return Seen::NotApplied(format!("task {status}")),
        _ if task["error"].is_string() => {
            return Seen::Unknown(format!(
                "task not readable: {}",
                task["error"].as_str().unwrap_or_default()
            ))
        }
        other => return Seen::Unknown(format!("task {other}")),
    }
    let Some(executions) = task["executions"].as_array() else {
        return Seen::Unknown("task SUCCESSFUL but its per-target executions were not read".into());
    };
    for x in executions {
        match x["status"].as_str() {
            Some("SUCCESSFUL" | "COMPLETED") => {}
            Some("IN_PROGRESS" | "PENDING") => {
                return Seen::Unknown("a target's execution is still running".into())
            }
            other => {
                return Seen::NotApplied(format!(
                    "a target's execution is {}{}",
                    other.unwrap_or("unknown"),
                    x["error_code"]
                        .as_str()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ))
            }
        }
    }
    Seen::Applied
}

#[cfg(test)]
mod empty_plan_tests {
    use super::*;

    #[test]
    fn a_plan_without_steps_is_refused_and_not_logged() {
        // Regression: an empty release plan ran and was logged as succeeded.
        let mut store = Store::open_in_memory().unwrap();
        let plan = Plan {
            action: "release".into(),
            thing: Some("cam-1".into()),
            group: Some("Quarantine".into()),
            steps: Vec::new(),
            warnings: vec!["cam-1 is no longer in Quarantine".into()],
            prior: Prior::default(),
            demo: true,
            target: None,
        };
        let actor = Actor {
            aws: "demo".into(),
            os_user: "analyst".into(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(execute(
            &mut store,
            &Backend::Demo,
            &plan,
            "false positive after vendor check",
            &actor,
        ));
        assert!(matches!(out, Err(Error::InvalidInput(m)) if m.contains("no step")));
        assert!(store.action_log().unwrap().is_empty());
    }

    #[test]
    fn a_plan_runs_only_against_the_account_it_names() {
        // Regression: the app looked the backend up again at execute time and ran the plan on
        // whatever it found (a real plan on the demo account, or the reverse).
        let mut store = Store::open_in_memory().unwrap();
        let plan = Plan {
            action: "quarantine".into(),
            thing: Some("cam-1".into()),
            group: Some("Quarantine".into()),
            steps: vec![Step::AddThingToThingGroup {
                thing: "cam-1".into(),
                group: "Quarantine".into(),
                override_dynamic_groups: true,
            }],
            warnings: Vec::new(),
            prior: Prior::default(),
            demo: false,
            target: Some(Target {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                source: "prod".into(),
                caller: "arn:aws:iam::123456789012:user/analyst".into(),
            }),
        };
        let actor = Actor {
            aws: "demo".into(),
            os_user: "analyst".into(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(execute(
            &mut store,
            &Backend::Demo,
            &plan,
            "botnet traffic seen on the camera",
            &actor,
        ));
        assert!(
            matches!(&out, Err(Error::InvalidInput(m)) if m.contains("123456789012") && m.contains("nothing was done")),
            "{out:?}"
        );
        assert!(store.action_log().unwrap().is_empty());
    }

    #[test]
    fn the_os_user_comes_from_the_os_not_from_the_environment() {
        // Regression: `USER=root ddesk quarantine ...` logged "root".
        let real = whoami::username().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        std::env::set_var("USER", "spoofed-user-name");
        let actor = rt.block_on(Backend::Demo.actor()).unwrap();
        assert_eq!(actor.os_user, real);
        assert_ne!(actor.os_user, "spoofed-user-name");
    }
}

#[cfg(test)]
mod reconcile_tests {
    use super::*;

    #[test]
    fn only_a_successful_task_with_every_target_successful_is_applied() {
        // Regression: any task that existed was logged "succeeded (reconciled)", FAILED included.
        let t = |v: Value| judge_task(&v);
        assert_eq!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL"}]})),
            Seen::Applied
        );
        assert_eq!(
            t(json!({"status": "COMPLETED", "executions": [{"status": "COMPLETED"}]})),
            Seen::Applied
        );
        assert!(matches!(
            t(json!({"status": "FAILED"})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "CANCELED"})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL"}, {"status": "FAILED", "error_code": "AccessDenied"}]})),
            Seen::NotApplied(w) if w.contains("FAILED (AccessDenied)")
        ));
        assert!(matches!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SKIPPED"}]})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "IN_PROGRESS", "finished": false})),
            Seen::Unknown(_)
        ));
        // Regression: a denied Describe waited 120 s and then logged success.
        assert!(matches!(
            t(json!({"status": "UNKNOWN", "error": "AccessDeniedException", "finished": false})),
            Seen::Unknown(w) if w.contains("AccessDenied")
        ));
        assert!(matches!(
            t(json!({"status": "x", "found": false})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(
                json!({"status": "SUCCESSFUL", "executions": "ListDetectMitigationActionsExecutions: denied"})
            ),
            Seen::Unknown(_)
        ));
    }

    fn quarantine_with_certificate() -> Plan {
        Plan {
            action: "quarantine".into(),
            thing: Some("cam-1".into()),
            group: Some("Quarantine".into()),
            steps: vec![
                Step::AddThingToThingGroup {
                    thing: "cam-1".into(),
                    group: "Quarantine".into(),
                    override_dynamic_groups: true,
                },
                Step::UpdateCertificate {
                    certificate_id: "c1".into(),
                    new_status: "INACTIVE".into(),
                },
            ],
            warnings: Vec::new(),
            prior: Prior {
                groups: vec!["edge".into()],
                certificates: vec![Cert {
                    id: "c1".into(),
                    status: "ACTIVE".into(),
                }],
            },
            demo: false,
            target: None,
        }
    }

    #[test]
    fn every_step_of_a_plan_is_verified_not_only_the_first() {
        // Regression: a quarantine with --deactivate-certificate that crashed after
        // AddThingToThingGroup reconciled as succeeded with the certificate still ACTIVE.
        let plan = quarantine_with_certificate();
        let cert = |status: &str| {
            Some(Ok(vec![Cert {
                id: "c1".into(),
                status: status.into(),
            }]))
        };
        let seen = Observed {
            groups: Some(Ok(vec!["edge".into(), "Quarantine".into()])),
            certificates: cert("ACTIVE"),
            tasks: Vec::new(),
        };
        let (verdict, steps) = judge(&plan, &seen);
        assert!(
            matches!(&verdict, Seen::NotApplied(w) if w.contains("is ACTIVE, not INACTIVE")),
            "{verdict:?}"
        );
        assert_eq!(steps[0]["applied"], true);
        assert_eq!(steps[1]["applied"], false);
        let seen = Observed {
            certificates: cert("INACTIVE"),
            ..seen
        };
        assert_eq!(judge(&plan, &seen).0, Seen::Applied);
        let unread = Observed {
            certificates: Some(Err("AccessDenied".into())),
            ..seen
        };
        assert!(matches!(judge(&plan, &unread).0, Seen::Unknown(_)));
    }
}
