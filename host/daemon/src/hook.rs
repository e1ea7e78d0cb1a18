//! The transition hook of `[notify.hook]`: loaded (type-checked against the
//! transition-hook world) at start and at each reload, and asked, on a
//! blocking thread, where each notice goes. Its answers and errors are the
//! node's to apply.

use std::sync::Arc;
use std::time::Duration;

use baton_config::{Config, PolicySource};
use baton_node::InstanceFacts;
use baton_notify::{Kind, Notice, Outgoing, Route};
use baton_policy::{HookNotice, LoadedHook, NoticeKind, PolicyEngine, VrrpState};

use crate::io::policy_instance;

/// A loaded hook with its settings and budget.
pub struct LoadedHookConfig {
    hook: Arc<LoadedHook>,
    settings: Vec<(String, String)>,
    budget: Duration,
}

impl std::fmt::Debug for LoadedHookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedHookConfig")
            .field("hook", &self.hook.name())
            .field("budget", &self.budget)
            .finish()
    }
}

/// The config's hook, loaded; `None` without one.
pub fn load(engine: &PolicyEngine, cfg: &Config) -> Result<Option<Arc<LoadedHookConfig>>, String> {
    let Some(h) = &cfg.notify.hook else {
        return Ok(None);
    };
    let (name, bytes, pin) = match &h.source {
        PolicySource::Path(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("[notify.hook]: reading {}: {e}", path.display()))?;
            let name = path
                .file_stem()
                .map_or_else(|| "hook".to_string(), |s| s.to_string_lossy().into_owned());
            (name, bytes, h.sha256)
        }
        PolicySource::Oci(r) => {
            let pin = h.sha256.or_else(|| r.digest());
            let bytes = crate::checks::oci_bytes(r, pin, cfg).map_err(|e| format!("[notify.hook]: {e}"))?;
            let name = r.repository.rsplit('/').next().unwrap_or("hook").to_string();
            (name, bytes, pin)
        }
        PolicySource::Builtin(_) => {
            return Err(format!(
                "[notify.hook]: {} is no transition hook (give a .wasm file)",
                h.source
            ));
        }
    };
    let hook = engine
        .load_hook(&name, &bytes, pin)
        .map_err(|e| format!("[notify.hook] {}: {e}", h.source))?;
    tracing::info!("transition hook {name} loaded (sha256 {})", hook.sha256_hex());
    Ok(Some(Arc::new(LoadedHookConfig {
        hook,
        settings: h.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        budget: h.timeout,
    })))
}

/// A notice's state name as the hook world has it (`baton policy test`'s parser).
fn state(s: Option<&str>) -> Option<VrrpState> {
    s.and_then(|s| crate::checks::parse_state(s).ok())
}

/// The notice as the hook world has it; `None` for a kind it has no word
/// for (the notifier does not ask the hook about those).
fn hook_notice(n: &Notice) -> Option<HookNotice> {
    Some(HookNotice {
        kind: match n.kind {
            Kind::Transition => NoticeKind::Transition,
            Kind::Track => NoticeKind::Track,
            Kind::DaemonStart => NoticeKind::DaemonStart,
            Kind::DaemonStop => NoticeKind::DaemonStop,
            Kind::Reload => NoticeKind::Reload,
            Kind::Test => NoticeKind::Test,
            Kind::SplitBrain | Kind::Heartbeat | Kind::SyncGroup | Kind::Spoof => return None,
        },
        router_id: n.router_id.clone(),
        at_unix_ms: n.at_unix_ms,
        instance: n.instance.clone(),
        from: state(n.from.as_deref()),
        to: state(n.to.as_deref()),
        reason: n.reason.clone(),
        base_priority: n.base_priority,
        effective_priority: n.effective_priority,
        vips: n.vips.clone(),
        track: n.track.clone(),
        ok: n.ok,
        detail: n.detail.clone(),
        json: n.json(),
    })
}

impl LoadedHookConfig {
    /// Asks the hook about `notice`. Blocking (at most about the budget).
    pub fn route(&self, notice: &Notice, instances: &[InstanceFacts]) -> Result<Route, String> {
        let Some(hn) = hook_notice(notice) else {
            return Ok(Route::Default);
        };
        let instances: Vec<_> = instances.iter().map(policy_instance).collect();
        let ev = self.hook.route(&self.settings, &hn, &instances, self.budget);
        for (level, msg) in &ev.logs {
            tracing::info!("hook {}: [{level:?}] {msg}", self.hook.name());
        }
        match ev.result {
            Ok(baton_policy::Route::Default) => Ok(Route::Default),
            Ok(baton_policy::Route::Send(out)) => Ok(Route::Send(
                out.into_iter()
                    .map(|o| Outgoing {
                        sink: o.sink,
                        subject: o.subject,
                        body: o.body,
                    })
                    .collect(),
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}
