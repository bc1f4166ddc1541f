// The Add-source form of each kind of source: its fields, what it expects to find, and the
// typed settings it sends. `FORMS` is keyed by the generated `SourceKind` union, so a kind
// added in Rust does not type-check here until it has its form.
import type { Carried, SourceKind, SourceSettings } from "../../bindings";

/** The sourcetype of the AWS Splunk sample (the engine's `default_sourcetype`). */
export const DEFAULT_SOURCETYPE = "aws-iot-device-defender";

/** What the analyst typed, by field name (a missing or blank field was left empty). */
export type Fields = Partial<Record<string, string>>;

/** One field's input: its value and how it changes. */
export type Bind = (name: string) => { value: string; onChange: (e: React.ChangeEvent<HTMLInputElement>) => void };

export interface KindForm {
  /** The kind's name in the Kind list. */
  label: string;
  /** What a source of this kind is expected to hold — with or without AWS Detect. */
  expects: string;
  /** The kind's own inputs. */
  Inputs: (props: { bind: Bind }) => React.ReactElement;
  /** The settings the fields make (blank optional fields left out: the engine's defaults apply). */
  settings: (fields: Fields) => SourceSettings;
  /** The field holding the kind's secret (kept in the OS keychain only), when it keeps one. */
  secret?: string;
}

/** A field's trimmed value, or `undefined` when it was left blank. */
export const given = (fields: Fields, name: string): string | undefined => {
  const v = fields[name]?.trim();
  return v ? v : undefined;
};

/** Region, profile and endpoint: AWS's default credential chain fills what is left blank. */
function AwsInputs({ bind }: { bind: Bind }) {
  return (
    <>
      <label>
        Region <input placeholder="from the credential chain" {...bind("region")} />
      </label>
      <label>
        Profile <input placeholder="default" {...bind("profile")} />
      </label>
      <label>
        Endpoint URL <input placeholder="AWS" {...bind("endpoint_url")} />
      </label>
    </>
  );
}

/** The families of documents a source may carry (`ddesk sources add … --carries`). */
const FAMILIES: readonly Carried[] = ["export", "device-reports", "alerts", "api"];

/** The families typed (comma-separated), known ones only; blank: every family is read. */
export const carries = (f: Fields): Carried[] | undefined => {
  const typed = given(f, "carries")
    ?.split(",")
    .map((c) => c.trim())
    .filter((c): c is Carried => (FAMILIES as readonly string[]).includes(c));
  return typed?.length ? typed : undefined;
};

/** What the source carries: a record of another family is refused and reported. */
function CarriesInput({ bind }: { bind: Bind }) {
  return (
    <label>
      Carries (comma-separated: {FAMILIES.join(", ")}; blank: all) <input placeholder="device-reports" {...bind("carries")} />
    </label>
  );
}

const aws = (f: Fields) => ({ region: given(f, "region"), profile: given(f, "profile"), endpoint_url: given(f, "endpoint_url") });

export const FORMS: Record<SourceKind, KindForm> = {
  s3: {
    label: "S3 (Firehose metrics export)",
    expects:
      "A bucket that Kinesis Firehose writes to (records run together, gzip or not): Device Defender metrics exports, " +
      "Detect violations and Audit findings — or, for an account without Detect, the raw device metrics reports and " +
      "lifecycle events that IoT rules deliver (SELECT *, topic() AS topic FROM '$aws/things/+/defender/metrics/+' and " +
      "SELECT * FROM '$aws/events/presence/+/+'). The prefix is the delivery stream's.",
    Inputs: ({ bind }) => (
      <>
        <label>
          Bucket <input {...bind("bucket")} />
        </label>
        <label>
          Prefix <input {...bind("prefix")} />
        </label>
        <CarriesInput bind={bind} />
        <AwsInputs bind={bind} />
      </>
    ),
    // An S3-compatible store at an endpoint of its own is addressed by path, as `ddesk sources
    // add s3 --path-style` does for it.
    settings: (f) => ({
      kind: "s3",
      bucket: given(f, "bucket") ?? "",
      prefix: f.prefix?.trim() ?? "",
      path_style: given(f, "endpoint_url") !== undefined,
      carries: carries(f),
      ...aws(f),
    }),
  },
  splunk: {
    label: "Splunk (REST search)",
    expects:
      "An index searched through Splunk's REST API (port 8089): the AWS Splunk sample's events, or device reports and " +
      "lifecycle events an IoT rule sends through an HTTP Event Collector action — give the sourcetype the rule sets.",
    secret: "token",
    Inputs: ({ bind }) => (
      <>
        <label>
          URL <input placeholder="https://splunk.example:8089" {...bind("url")} />
        </label>
        <label>
          Index <input {...bind("index")} />
        </label>
        <label>
          Token (kept in the OS keychain only) <input type="password" autoComplete="off" {...bind("token")} />
        </label>
        <label>
          CA bundle (PEM file, for a self-signed certificate) <input placeholder="/etc/ssl/splunk-ca.pem" {...bind("ca_bundle")} />
        </label>
        <label>
          Sourcetype <input placeholder={DEFAULT_SOURCETYPE} {...bind("sourcetype")} />
        </label>
        <CarriesInput bind={bind} />
        <p className="muted">Only https is accepted (http only to this machine): the token never crosses the network in clear text.</p>
      </>
    ),
    settings: (f) => ({
      kind: "splunk",
      url: given(f, "url") ?? "",
      index: given(f, "index") ?? "",
      sourcetype: given(f, "sourcetype") ?? DEFAULT_SOURCETYPE,
      ca_bundle: given(f, "ca_bundle"),
      carries: carries(f),
    }),
  },
  defender: {
    label: "Device Defender API",
    expects:
      "The Device Defender API of an account: Detect violations (where Detect is enabled), Audit findings and mitigation " +
      "history, security profiles' behaviors, and the registry's thing types and groups for the peer comparison.",
    Inputs: ({ bind }) => <AwsInputs bind={bind} />,
    settings: (f) => ({ kind: "defender", ...aws(f) }),
  },
  athena: {
    label: "Athena (screen a large fleet where it lies)",
    expects:
      "A Glue table over the S3 metrics export, created once with the statement `ddesk athena ddl` prints. A sync screens " +
      "the whole fleet in Athena and keeps only the candidates and their evidence; each query's scan is estimated first " +
      "and refused above the limit. The endpoint is Athena's.",
    Inputs: ({ bind }) => (
      <>
        <label>
          Database <input placeholder="defender" {...bind("database")} />
        </label>
        <label>
          Table <input placeholder="metrics_export" {...bind("table")} />
        </label>
        <label>
          Query results to <input placeholder="s3://bucket/athena-results/" {...bind("output")} />
        </label>
        <label>
          Workgroup <input placeholder="primary" {...bind("workgroup")} />
        </label>
        <label>
          Most GB one query may scan <input placeholder="10" inputMode="decimal" {...bind("max_scan_gb")} />
        </label>
        <AwsInputs bind={bind} />
      </>
    ),
    settings: (f) => ({
      kind: "athena",
      database: given(f, "database") ?? "defender",
      table: given(f, "table") ?? "metrics_export",
      output: given(f, "output") ?? "",
      workgroup: given(f, "workgroup"),
      layout: "export",
      // A blank or unreadable limit is the engine's default of 10 GB.
      max_scan_bytes: Math.round((Number(given(f, "max_scan_gb") ?? "10") || 10) * 1e9),
      candidates: 1000,
      ...aws(f),
    }),
  },
  "security-hub": {
    label: "AWS Security Hub (Device Defender's findings)",
    expects:
      "Device Defender's findings where the SOC collects them: Detect violations, audit findings and check summaries of " +
      "every account and region the hub's finding aggregator sees (give the aggregation region). Only Device Defender's " +
      "two products are read, incrementally, and kept past Security Hub's 90 days.",
    Inputs: ({ bind }) => <AwsInputs bind={bind} />,
    settings: (f) => ({ kind: "security-hub", ...aws(f) }),
  },
};
