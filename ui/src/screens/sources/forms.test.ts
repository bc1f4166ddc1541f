// Each kind's form sends the typed settings the engine stores: blank optional fields left out
// (the engine's defaults apply), values trimmed, the secret never inside the settings.
import { describe, expect, it } from "vitest";
import { DEFAULT_SOURCETYPE, FORMS } from "./forms";

describe("source forms", () => {
  it("S3: bucket and prefix, AWS fields only when given, path style for an endpoint of its own", () => {
    expect(FORMS.s3.settings({ bucket: " dd-export ", prefix: "metrics/", region: "" })).toEqual({
      kind: "s3",
      bucket: "dd-export",
      prefix: "metrics/",
      path_style: false,
      region: undefined,
      profile: undefined,
      endpoint_url: undefined,
    });
    const local = FORMS.s3.settings({ bucket: "b", endpoint_url: "http://127.0.0.1:5000" });
    expect(local).toMatchObject({ path_style: true, endpoint_url: "http://127.0.0.1:5000", prefix: "" });
    expect(JSON.parse(JSON.stringify(local))).not.toHaveProperty("region");
  });

  it("Splunk: the sample's sourcetype unless one is given; the token is the form's secret, not a setting", () => {
    const s = FORMS.splunk.settings({ url: "https://splunk.example:8089", index: "iot", token: "t0ken" });
    expect(s).toEqual({
      kind: "splunk",
      url: "https://splunk.example:8089",
      index: "iot",
      sourcetype: DEFAULT_SOURCETYPE,
      ca_bundle: undefined,
    });
    expect(JSON.stringify(s)).not.toContain("t0ken");
    expect(FORMS.splunk.secret).toBe("token");
    expect(FORMS.splunk.settings({ sourcetype: "iot:device-reports" })).toMatchObject({ sourcetype: "iot:device-reports" });
  });

  it("S3 and Splunk: what the source carries, known families only; blank reads every family", () => {
    expect(FORMS.s3.settings({ bucket: "b", carries: " device-reports , exports, alerts" })).toMatchObject({
      carries: ["device-reports", "alerts"],
    });
    expect(JSON.parse(JSON.stringify(FORMS.s3.settings({ bucket: "b", carries: " " })))).not.toHaveProperty("carries");
    expect(FORMS.splunk.settings({ url: "https://s:8089", index: "i", carries: "export" })).toMatchObject({ carries: ["export"] });
  });

  it("Device Defender: only the AWS fields, and no secret", () => {
    expect(FORMS.defender.settings({ profile: "soc" })).toEqual({
      kind: "defender",
      region: undefined,
      profile: "soc",
      endpoint_url: undefined,
    });
    expect(FORMS.defender.secret).toBeUndefined();
  });

  it("Security Hub: only the AWS fields, and no secret", () => {
    expect(FORMS["security-hub"].settings({ region: "eu-west-1" })).toEqual({
      kind: "security-hub",
      region: "eu-west-1",
      profile: undefined,
      endpoint_url: undefined,
    });
    expect(FORMS["security-hub"].secret).toBeUndefined();
  });
});
