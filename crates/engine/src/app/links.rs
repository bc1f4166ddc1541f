//! OS deep links: `defender-desk://thing/<name>?from=<ms>&to=<ms>` opens a thing in the running
//! window, so a Splunk alert, a ticket or a chat message can link straight to it.
//!
//! A link is read strictly into a [`LinkTarget`] — a thing and an optional window — and the only
//! thing the app does with one is navigate: no path, query key or value can name an action,
//! a file or another screen's input. Anything else is refused with a reason (and logged).

use url::Url;

use super::*;

/// The URL scheme the app registers with the OS.
pub const SCHEME: &str = "defender-desk";

/// Where a link goes: one thing, optionally a window of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LinkTarget {
    /// The thing (any characters AWS IoT allows, 1–128 bytes).
    pub thing: String,
    /// Window start, epoch ms.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub from: Option<Millis>,
    /// Window end, epoch ms.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub to: Option<Millis>,
}

/// Reads a deep link; refuses anything but a thing and a valid window.
pub fn parse_link(link: &str) -> Result<LinkTarget> {
    let bad = |why: &str| Error::InvalidInput(format!("not a Defender Desk link ({why})"));
    if link.len() > 2048 {
        return Err(bad("longer than 2048 bytes"));
    }
    let url = Url::parse(link).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != SCHEME {
        return Err(bad("another scheme"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
        return Err(bad("credentials or a port"));
    }
    if url.host_str() != Some("thing") {
        return Err(bad("only thing links are supported"));
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let [name] = segments.as_slice() else {
        return Err(bad("a link names exactly one thing"));
    };
    let thing = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .map_err(|_| bad("the thing name is not UTF-8"))?
        .into_owned();
    crate::model::limits::check_name("thing", &thing).map_err(|e| bad(&e))?;
    let (mut from, mut to) = (None, None);
    for (k, v) in url.query_pairs() {
        let ms = || -> Result<Millis> {
            let ms: Millis = v
                .parse()
                .map_err(|_| bad("from/to are epoch milliseconds"))?;
            if !(0..=time::MAX_MS).contains(&ms) {
                return Err(bad("from/to out of range"));
            }
            Ok(ms)
        };
        match k.as_ref() {
            "from" if from.is_none() => from = Some(ms()?),
            "to" if to.is_none() => to = Some(ms()?),
            other => return Err(bad(&format!("unknown or repeated parameter {other:?}"))),
        }
    }
    match (from, to) {
        (Some(f), Some(t)) if f >= t => Err(bad("from is not before to")),
        (Some(_), None) | (None, Some(_)) => Err(bad("from and to go together")),
        _ => Ok(LinkTarget { thing, from, to }),
    }
}

/// The deep link to a thing (and window), for the app's *Copy link*.
pub fn thing_link(thing: &str, from: Option<Millis>, to: Option<Millis>) -> String {
    let name = percent_encoding::utf8_percent_encode(thing, percent_encoding::NON_ALPHANUMERIC);
    match (from, to) {
        (Some(f), Some(t)) => format!("{SCHEME}://thing/{name}?from={f}&to={t}"),
        _ => format!("{SCHEME}://thing/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_a_thing_and_its_window() {
        assert_eq!(
            parse_link("defender-desk://thing/cam-lobby-017?from=1000&to=2000").unwrap(),
            LinkTarget {
                thing: "cam-lobby-017".into(),
                from: Some(1000),
                to: Some(2000)
            }
        );
        // Any thing name round-trips through the link the app copies.
        for name in ["cam 1/é?x=1&y", "<img src=x>", "a%2Fb", "日本"] {
            let link = thing_link(name, Some(5), Some(9));
            assert_eq!(parse_link(&link).unwrap().thing, name, "{link}");
        }
    }

    #[test]
    fn a_crafted_link_is_refused_and_can_only_navigate() {
        for link in [
            "javascript:alert(1)",
            "https://thing/cam-1",
            "defender-desk://quarantine/cam-1",
            "defender-desk://thing/cam-1/release",
            "defender-desk://thing/",
            "defender-desk://thing/cam-1?action=quarantine",
            "defender-desk://thing/cam-1?from=1&from=2&to=3",
            "defender-desk://thing/cam-1?from=9&to=1",
            "defender-desk://thing/cam-1?from=1",
            "defender-desk://thing/cam-1?from=-5&to=1",
            "defender-desk://thing/cam-1?from=1&to=99999999999999999999",
            "defender-desk://user:pw@thing/cam-1",
            "defender-desk://thing:8080/cam-1",
        ] {
            assert!(parse_link(link).is_err(), "{link}");
        }
        let long = format!("defender-desk://thing/{}", "x".repeat(129));
        assert!(parse_link(&long).is_err());
    }
}
