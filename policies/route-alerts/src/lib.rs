//! A transition hook: pages on the transitions that need a human, mutes the
//! notice kinds nobody reads, and leaves everything else to Baton's defaults.
//!
//! - A notice whose kind is in `quiet` is dropped: nothing is sent.
//! - A transition into one of `page-states` goes to the `page` sink with the
//!   subject `PAGE: <instance> is now <STATE> on <router-id>` and a body with
//!   the reason, the priorities and the VIPs, and to `email` as Baton would
//!   send it.
//! - Anything else: Baton's default routing.
//!
//! Settings: `page` (a sink name, default `pager`), `page-states`
//! (comma-separated states, default `master,fault`), `quiet` (comma-separated
//! notice kinds such as `track,reload`, default none). A bad setting is logged
//! and the notice routed by default, so a typo never silences alerts.

use std::fmt::Write as _;

use baton_guest::{Hook, InstanceStatus, Notice, NoticeKind, Outgoing, Result, Route, Settings, VrrpState};

struct RouteAlerts;

impl Hook for RouteAlerts {
    fn route(settings: &Settings, notice: &Notice, instances: &[InstanceStatus]) -> Result<Route> {
        let quiet: Vec<NoticeKind> = list(settings.get_or("quiet", ""))?;
        if quiet.contains(&notice.kind) {
            baton_guest::debug!("{} notice muted by `quiet`", notice.kind);
            return Ok(Route::nothing());
        }
        let page = settings.get_or("page", "pager").trim();
        if page.is_empty() {
            return Err("setting `page` is empty: name a sink".into());
        }
        let page_states: Vec<VrrpState> = list(settings.get_or("page-states", "master,fault"))?;
        match notice.to {
            Some(to) if notice.kind == NoticeKind::Transition && page_states.contains(&to) => {
                let instance = notice.instance.as_deref().unwrap_or("-");
                Ok(Route::Send(vec![
                    Outgoing::to(page)
                        .subject(format!("PAGE: {instance} is now {to} on {}", notice.router_id))
                        .body(page_body(notice, instances)),
                    Outgoing::to("email"),
                ]))
            }
            _ => Ok(Route::Default),
        }
    }
}

/// A comma-separated setting, each item parsed; empty items are skipped.
fn list<T: std::str::FromStr<Err = baton_guest::Error>>(raw: &str) -> Result<Vec<T>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// The page: what happened and why, then the priorities and VIPs (from the
/// notice, else from the instance as the notice left it).
fn page_body(notice: &Notice, instances: &[InstanceStatus]) -> String {
    let instance = notice.instance.as_deref().unwrap_or("-");
    let status = instances.iter().find(|i| i.name == instance);
    let state = |s: Option<VrrpState>| s.map_or("?".to_string(), |s| s.to_string());
    let mut body = String::new();
    let _ = writeln!(
        body,
        "{instance} on {}: {} -> {}",
        notice.router_id,
        state(notice.from),
        state(notice.to)
    );
    let _ = writeln!(
        body,
        "reason:    {}",
        notice.reason.as_deref().unwrap_or("(none given)")
    );
    let effective = notice.effective_priority.or(status.map(|s| s.effective_priority));
    let base = notice.base_priority.or(status.map(|s| s.base_priority));
    let priority = |p: Option<u8>| p.map_or("?".to_string(), |p| p.to_string());
    let _ = writeln!(
        body,
        "priority:  {} (base {})",
        priority(effective),
        priority(base)
    );
    let vips = if notice.vips.is_empty() {
        status.map(|s| s.vips.clone()).unwrap_or_default()
    } else {
        notice.vips.clone()
    };
    let vips = if vips.is_empty() {
        "(none)".to_string()
    } else {
        vips.join(", ")
    };
    let _ = writeln!(body, "vips:      {vips}");
    body
}

baton_guest::export_hook!(RouteAlerts);
