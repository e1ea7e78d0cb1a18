//! Compatibility: a guest built against `baton:policy@0.1.0` as released
//! (wit/compat/0.1.0, no SDK) loads and runs on this host, whose WIT has
//! grown since (additively, within the 0.1 line). Keep this fixture building
//! and loading as long as the host serves 0.1.

mod common;

use std::time::Duration;

use baton_policy::{EvalContext, Grants};
use common::{HttpServer, facts, hostile};

#[test]
fn a_guest_of_the_first_release_still_loads_and_decides() {
    let bytes = baton_policy_builtins::hostile("compat-0.1.0").expect("the 0.1.0 fixture is built");
    // It really is a 0.1.0 guest: its imports name that version.
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.contains("baton:policy/probe@0.1.0"),
        "imports of another version"
    );
    assert!(!text.contains("baton:policy/probe@0.1.1"));
    let p = hostile("compat-0.1.0");
    let web = HttpServer::start();
    let grants = Grants::default()
        .allow_net(&format!("127.0.0.1:{}", web.port))
        .unwrap();
    let eval = |path: &str| {
        p.evaluate(
            EvalContext::new(facts())
                .with_settings([("url", format!("http://127.0.0.1:{}/{path}", web.port))])
                .with_grants(grants.clone())
                .with_budget(Duration::from_secs(1)),
        )
    };
    let ev = eval("ok");
    assert!(ev.is_healthy(), "{ev:?}");
    let ev = eval("down");
    assert_eq!(
        ev.failure_reason().as_deref(),
        Some(format!("GET http://127.0.0.1:{}/down: status 503", web.port).as_str())
    );
    assert!(
        ev.logs.iter().any(|(_, m)| m.contains("0.1.0 guest checking")),
        "{:?}",
        ev.logs
    );
}
