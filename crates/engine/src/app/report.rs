//! The incident report for one thing: a standalone HTML file (no scripts, no remote content)
//! with the summary, timeline, charts, port diff, violations, findings and actions, every time
//! in the zone stated at the top. Every string from a device or AWS is HTML-escaped; charts are
//! embedded as `data:` images, so SVG text can never become markup.

use std::fmt::Write;

use crate::analysis::drift::Change;
use crate::app::{ActionView, ThingPage};
use crate::cases::Case;
use crate::charts::Zone;
use crate::store::FindingRow;
use crate::time::Millis;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn when(zone: &Zone, t: Option<Millis>) -> String {
    t.map_or_else(|| "—".into(), |t| zone.format(t, "%Y-%m-%d %H:%M:%S"))
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", escape(&c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// A finding's investigation in one cell: state, owner, notes with who and when; empty when
/// nobody has looked at it.
fn investigation(case: &Case, zone: &Zone) -> String {
    if case.updated.is_none() && case.notes.is_empty() {
        return String::new();
    }
    let mut cell = case.state.label().to_string();
    if let Some(o) = &case.owner {
        let _ = write!(cell, " · {o}");
    }
    for n in &case.notes {
        let _ = write!(cell, "; {} {}: {}", when(zone, Some(n.at)), n.who, n.text);
    }
    cell
}

/// Renders the report. `tz` is `UTC` or an IANA name (unknown names fall back to UTC and say so).
pub fn incident_html(
    page: &ThingPage,
    findings: &[(Case, FindingRow)],
    actions: &[ActionView],
    tz: &str,
) -> String {
    let zone = Zone::parse(tz).unwrap_or_default();
    let mut o = String::new();
    head(&mut o, page, &zone);
    story(&mut o, page, &zone);
    evidence(&mut o, page, &zone);
    records(&mut o, findings, actions, &zone);
    o.push_str("</body></html>\n");
    o
}

/// The document's head (a CSP that allows only inline style and data: images) and the title
/// block: window, zone, data mode, score, quarantine.
fn head(o: &mut String, page: &ThingPage, zone: &Zone) {
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <title>Incident report — {thing}</title>\n<style>\n\
         body{{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#111}} h1{{font-size:1.4em}}\n\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}} td,th{{border:1px solid #bbb;padding:3px 6px;font-size:.85em;text-align:left}}\n\
         .meta{{color:#444}} .none{{color:#666;font-style:italic}} img{{display:block;margin:.5em 0;max-width:100%}}\n\
         </style></head><body>\n",
        thing = escape(&page.id.thing)
    );
    let _ = write!(
        o,
        "<h1>Incident report: {thing}</h1>\n<p class=\"meta\">{scope}. Window {from} – {to} ({zone}). \
         Data: {mode} cache. Risk score {score:.1}. {q}</p>\n",
        thing = escape(&page.id.thing),
        scope = escape(&match (&page.id.account, &page.id.region) {
            (Some(a), Some(r)) => format!("Account {a}, region {r}"),
            (Some(a), None) => format!("Account {a}, region unknown"),
            (None, _) => "Account unknown".to_string(),
        }),
        from = escape(&when(zone, Some(page.from))),
        to = escape(&when(zone, Some(page.to))),
        zone = escape(&format!("all times {}", zone.name())),
        mode = page.status.mode.as_str(),
        score = page.score,
        q = if page.quarantined {
            "Quarantined."
        } else {
            "Not quarantined."
        }
    );
}

/// Why the thing is here and what was done about it: reasons, investigation, timeline, charts.
fn story(o: &mut String, page: &ThingPage, zone: &Zone) {
    o.push_str("<h2>Summary</h2>\n");
    table(
        o,
        &["Since", "Reason", "Categories"],
        page.reasons
            .iter()
            .map(|r| {
                vec![
                    when(zone, Some(r.since)),
                    r.text.clone(),
                    r.categories
                        .iter()
                        .map(|c| c.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
    );
    let _ = writeln!(
        o,
        "<h2>Investigation</h2>\n<p class=\"meta\">{state}{owner}{since}</p>",
        state = page.case.state.label(),
        owner = page
            .case
            .owner
            .as_deref()
            .map(|o| format!(", owner {}", escape(o)))
            .unwrap_or_default(),
        since = page
            .case
            .updated
            .map(|t| format!(", since {}", escape(&when(zone, Some(t)))))
            .unwrap_or_default(),
    );
    table(
        o,
        &["When", "Who", "Note"],
        page.case
            .notes
            .iter()
            .map(|n| vec![when(zone, Some(n.at)), n.who.clone(), n.text.clone()])
            .collect(),
    );
    o.push_str("<h2>Timeline</h2>\n");
    table(
        o,
        &["When", "Kind", "What"],
        page.timeline
            .iter()
            .map(|e| {
                vec![
                    when(zone, Some(e.t)),
                    e.kind.as_str().into(),
                    e.what.clone(),
                ]
            })
            .collect(),
    );
    o.push_str("<h2>Charts</h2>\n");
    for c in &page.charts {
        // The image is the engine's own data: URL (base64 of a PNG: nothing to escape in it).
        let _ = writeln!(
            o,
            "<img alt=\"{}\" width=\"{}\" height=\"{}\" src=\"{}\">",
            escape(&c.label),
            c.width,
            c.height,
            c.image
        );
    }
}

/// What the device's data shows: the listening-port diff and the Detect violations.
fn evidence(o: &mut String, page: &ThingPage, zone: &Zone) {
    o.push_str("<h2>Listening-port diff (window start → end)</h2>\n");
    table(
        o,
        &["Metric", "Member", "Change", "Attack surface"],
        page.diff
            .iter()
            .filter(|d| d.change != Change::Unchanged)
            .map(|d| {
                vec![
                    d.metric.clone(),
                    d.value.text(),
                    d.change.as_str().into(),
                    if d.attack_surface { "yes" } else { "" }.into(),
                ]
            })
            .collect(),
    );
    o.push_str("<h2>Violations</h2>\n");
    table(
        o,
        &[
            "Violation",
            "Behavior",
            "Profile",
            "Started",
            "Ended",
            "Last event",
        ],
        page.violations
            .iter()
            .map(|v| {
                vec![
                    v.violation_id.clone(),
                    v.behavior.clone(),
                    v.security_profile.clone(),
                    when(zone, v.started),
                    when(zone, v.ended),
                    v.last_event.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
}

/// The audit findings naming the thing (with their investigation) and the action log.
fn records(o: &mut String, findings: &[(Case, FindingRow)], actions: &[ActionView], zone: &Zone) {
    o.push_str("<h2>Audit findings</h2>\n");
    table(
        o,
        &[
            "Found",
            "Check",
            "Severity",
            "Resource",
            "Reason",
            "Investigation",
        ],
        findings
            .iter()
            .map(|(case, f)| {
                vec![
                    when(zone, f.found),
                    f.check.clone(),
                    f.severity.map(|s| s.to_string()).unwrap_or_default(),
                    f.resource.clone(),
                    f.reason.clone().unwrap_or_default(),
                    investigation(case, zone),
                ]
            })
            .collect(),
    );
    o.push_str("<h2>Actions</h2>\n");
    table(
        o,
        &["When", "Action", "Who", "Why", "Outcome"],
        actions
            .iter()
            .map(|a| {
                vec![
                    when(zone, Some(a.at)),
                    a.action.to_string(),
                    format!("{} ({})", a.who, a.os_user),
                    a.reason.clone(),
                    a.status.clone(),
                ]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<img src=x onerror=\"alert('1')\">&"),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }
}
