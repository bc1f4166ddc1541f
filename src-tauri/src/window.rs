//! The main window's place on screen: as it was last time (tauri's `window-state` plugin keeps
//! size, position and maximised state in the app's config dir, written here too shortly after
//! each move or resize, so a crash does not lose it), made to fit
//! the monitors there are now — never larger than the work area of the monitor it is on, never
//! smaller than the layout's minimum, never off-screen (a monitor unplugged since, a laptop
//! that was docked to a larger one). The first run opens at the configured size, fitted and
//! centred. [`fit`] is the rule, in plain numbers, tested without a display.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tauri::{Manager, PhysicalPosition, PhysicalSize, WebviewWindow, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// The first window's size (logical pixels; `width`/`height` in tauri.conf.json).
pub const FIRST_SIZE: (f64, f64) = (1440.0, 900.0);
/// The layout's minimum (`minWidth`/`minHeight` in tauri.conf.json).
pub const MIN_SIZE: (f64, f64) = (960.0, 600.0);

/// How long after the last move or resize the window's state is written.
const SAVE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// A rectangle in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    fn overlap(&self, o: &Rect) -> u64 {
        let w = (i64::from(self.x) + i64::from(self.w)).min(i64::from(o.x) + i64::from(o.w))
            - i64::from(self.x).max(i64::from(o.x));
        let h = (i64::from(self.y) + i64::from(self.h)).min(i64::from(o.y) + i64::from(o.h))
            - i64::from(self.y).max(i64::from(o.y));
        if w <= 0 || h <= 0 {
            0
        } else {
            (w * h) as u64
        }
    }
}

/// Where a window of `window` (outer size and place) goes given the monitors' work areas
/// (`areas`, the primary first) and the layout's minimum size: on the monitor it overlaps most
/// (the primary when it overlaps none, or is new: `centre`), at most that work area's size and
/// at least `min` (unless the work area itself is smaller), wholly inside it, centred when
/// `centre`. `None` when there is no monitor to fit.
pub fn fit(window: Rect, areas: &[Rect], min: (u32, u32), centre: bool) -> Option<Rect> {
    let best = areas
        .iter()
        .map(|a| (a.overlap(&window), a))
        .max_by_key(|(o, _)| *o)?;
    let (area, centre) = match best {
        (0, _) => (areas.first()?, true),
        (_, a) => (a, centre),
    };
    let w = window.w.min(area.w).max(min.0.min(area.w));
    let h = window.h.min(area.h).max(min.1.min(area.h));
    let (x, y) = if centre {
        (
            area.x + ((area.w - w) / 2) as i32,
            area.y + ((area.h - h) / 2) as i32,
        )
    } else {
        (
            window.x.clamp(area.x, area.x + (area.w - w) as i32),
            window.y.clamp(area.y, area.y + (area.h - h) as i32),
        )
    };
    Some(Rect { x, y, w, h })
}

/// What the window-state plugin saved of the main window (its file's fields that matter here:
/// inner size, outer position, maximised; physical pixels).
#[derive(Debug, serde::Deserialize)]
struct Saved {
    width: u32,
    height: u32,
    x: i32,
    y: i32,
    #[serde(default)]
    maximized: bool,
}

/// The share of the work area the first window takes at most (its configured size otherwise).
const FIRST_SHARE: f64 = 0.9;

/// Places the main window where it was last time (size, position, maximised: the plugin's
/// file), fitted to the screens there are now, or — the first time — at its configured size
/// fitted into 90 % of the primary work area and centred; then shows it (the configuration
/// opens it hidden, so it never flashes at a size that does not fit). An unmapped window's own
/// size and place are not known yet (GTK answers nonsense), so they are never asked.
pub fn place(window: &WebviewWindow, size: (f64, f64), min: (f64, f64)) -> tauri::Result<()> {
    let saved: Option<Saved> = window
        .app_handle()
        .path()
        .app_config_dir()
        .ok()
        .and_then(|d| std::fs::read(d.join(tauri_plugin_window_state::DEFAULT_FILENAME)).ok())
        .and_then(|b| serde_json::from_slice::<std::collections::HashMap<String, Saved>>(&b).ok())
        .and_then(|mut m| m.remove(window.label()))
        .filter(|s| s.width > 0 && s.height > 0);
    let primary = window.primary_monitor()?;
    let scale = primary.as_ref().map_or(1.0, |m| m.scale_factor());
    let mut areas = Vec::new();
    for m in primary.iter().chain(window.available_monitors()?.iter()) {
        let a = m.work_area();
        let r = Rect {
            x: a.position.x,
            y: a.position.y,
            w: a.size.width,
            h: a.size.height,
        };
        if !areas.contains(&r) {
            areas.push(r);
        }
    }
    let min = ((min.0 * scale) as u32, (min.1 * scale) as u32);
    let (asked, first) = match &saved {
        Some(s) => (
            Rect {
                x: s.x,
                y: s.y,
                w: s.width,
                h: s.height,
            },
            false,
        ),
        None => {
            let share = areas.first().map_or((u32::MAX, u32::MAX), |a| {
                (
                    (f64::from(a.w) * FIRST_SHARE) as u32,
                    (f64::from(a.h) * FIRST_SHARE) as u32,
                )
            });
            (
                Rect {
                    x: 0,
                    y: 0,
                    w: ((size.0 * scale) as u32).min(share.0),
                    h: ((size.1 * scale) as u32).min(share.1),
                },
                true,
            )
        }
    };
    if let Some(to) = fit(asked, &areas, min, first) {
        window.set_size(PhysicalSize::new(to.w, to.h))?;
        window.set_position(PhysicalPosition::new(to.x, to.y))?;
        tracing::debug!(?asked, ?to, ?areas, first, "main window placed");
    }
    if saved.is_some_and(|s| s.maximized) {
        window.maximize()?;
    }
    window.show()?;
    window.set_focus()
}

/// Writes the window's state shortly after each move or resize (the plugin writes it only when
/// the app exits cleanly: a crash, a kill or a power cut would lose it).
pub fn keep(window: &WebviewWindow) {
    let generation = Arc::new(AtomicU64::new(0));
    let app = window.app_handle().clone();
    window.on_window_event(move |e| {
        if !matches!(e, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
            return;
        }
        let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
        let (generation, app) = (Arc::clone(&generation), app.clone());
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SAVE_AFTER).await;
            if generation.load(Ordering::SeqCst) == mine {
                if let Err(e) = app.save_window_state(StateFlags::all()) {
                    tracing::warn!(error = %e, "saving the window's state failed");
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAPTOP: Rect = Rect {
        x: 0,
        y: 0,
        w: 1280,
        h: 770,
    };
    const MIN: (u32, u32) = (960, 600);

    #[test]
    fn the_sizes_are_the_configurations() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let w = &conf["app"]["windows"][0];
        assert_eq!(
            (w["width"].as_f64(), w["height"].as_f64()),
            (Some(FIRST_SIZE.0), Some(FIRST_SIZE.1))
        );
        assert_eq!(
            (w["minWidth"].as_f64(), w["minHeight"].as_f64()),
            (Some(MIN_SIZE.0), Some(MIN_SIZE.1))
        );
        assert_eq!(w["visible"], false, "shown by window::place once placed");
    }

    /// docs/packaging.md's promises, as configured: Windows installs WebView2 without internet,
    /// the Linux packages are both built, and they depend on WebKitGTK 4.1.
    #[test]
    fn the_bundles_are_what_packaging_md_says() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let b = &conf["bundle"];
        assert_eq!(
            b["windows"]["webviewInstallMode"]["type"],
            "offlineInstaller"
        );
        let targets: Vec<&str> = b["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        for t in ["deb", "rpm", "msi", "nsis", "dmg", "app"] {
            assert!(targets.contains(&t), "{t} not in {targets:?}");
        }
        assert!(b["linux"]["rpm"]["depends"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("webkit2gtk4.1")));
        assert_eq!(b["license"], "Apache-2.0");
    }

    #[test]
    fn the_first_window_fits_a_small_laptop_centred() {
        let asked = Rect {
            x: 0,
            y: 0,
            w: 1440,
            h: 900,
        };
        assert_eq!(
            fit(asked, &[LAPTOP], MIN, true),
            Some(Rect {
                x: 0,
                y: 0,
                w: 1280,
                h: 770
            })
        );
        let big = Rect {
            x: 0,
            y: 0,
            w: 1920,
            h: 1050,
        };
        assert_eq!(
            fit(asked, &[big], MIN, true),
            Some(Rect {
                x: 240,
                y: 75,
                w: 1440,
                h: 900
            })
        );
    }

    #[test]
    fn a_window_left_on_an_unplugged_monitor_comes_back() {
        // Last run it was on a second monitor to the right; that monitor is gone.
        let saved = Rect {
            x: 2200,
            y: 100,
            w: 1700,
            h: 1000,
        };
        let to = fit(saved, &[LAPTOP], MIN, false).unwrap();
        assert_eq!((to.w, to.h), (1280, 770));
        assert_eq!((to.x, to.y), (0, 0));
        // Half off the edge of the one it is on: pulled wholly onto it, its size kept.
        let half = Rect {
            x: 900,
            y: -200,
            w: 1000,
            h: 640,
        };
        assert_eq!(
            fit(half, &[LAPTOP], MIN, false),
            Some(Rect {
                x: 280,
                y: 0,
                w: 1000,
                h: 640
            })
        );
    }

    #[test]
    fn a_window_stays_where_it_was_and_at_least_the_minimum() {
        let right = Rect {
            x: 1920,
            y: 0,
            w: 2560,
            h: 1400,
        };
        let there = Rect {
            x: 2000,
            y: 50,
            w: 1200,
            h: 800,
        };
        assert_eq!(
            fit(there, &[LAPTOP, right], MIN, false),
            Some(there),
            "on the second monitor, fitting"
        );
        let tiny = Rect {
            x: 10,
            y: 10,
            w: 300,
            h: 200,
        };
        let to = fit(tiny, &[LAPTOP], MIN, false).unwrap();
        assert_eq!((to.w, to.h), MIN);
        assert!(fit(tiny, &[], MIN, false).is_none());
    }
}
