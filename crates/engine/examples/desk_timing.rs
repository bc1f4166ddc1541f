//! Times the desktop app's two hot calls on a cache: the fleet triage (home screen) and a
//! thing's page (all charts rendered). `cargo run --release --example desk_timing -- CACHE [N]`
use std::sync::Arc;
use std::time::Instant;

use desk_engine::app::{Desk, Look, ThingRequest};
use desk_engine::secrets::MemorySecrets;

fn main() {
    let mut args = std::env::args().skip(1);
    let cache = std::path::PathBuf::from(args.next().expect("CACHE"));
    let n: usize = args.next().map_or(5, |s| s.parse().expect("N"));
    let tmp = std::env::temp_dir().join("ddesk-desk-timing");
    let desk = Desk::new(cache, tmp, Arc::new(MemorySecrets::default())).expect("desk");
    let t = Instant::now();
    let fleet = desk.fleet(7 * 86_400_000).expect("fleet");
    println!("fleet: {} things in {:?}", fleet.rows.len(), t.elapsed());
    for i in 0..n {
        let thing = fleet.rows[i % fleet.rows.len()].id.key.clone();
        let t = Instant::now();
        let page = desk
            .thing(&ThingRequest {
                thing: thing.clone(),
                from: None,
                to: None,
                look: Look {
                    width: 620,
                    height: 230,
                    tz: "UTC".into(),
                    theme: desk_engine::charts::Theme::Dark,
                    scale: None,
                },
            })
            .expect("thing");
        let bytes: usize = page.charts.iter().map(|c| c.image.len()).sum();
        let json = serde_json::to_string(&page).expect("json").len();
        println!(
            "thing {thing}: {} charts, {} KB of PNG data: URLs, {} KB JSON in {:?}",
            page.charts.len(),
            bytes / 1024,
            json / 1024,
            t.elapsed()
        );
    }
}
