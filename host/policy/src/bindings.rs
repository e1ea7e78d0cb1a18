//! The interfaces of `baton:policy@0.1.1` (wit/policy.wit), bound once for the
//! host: every world imports some of them, and [`crate::caps`] implements them.
//! Also how the crate's own types become WIT values.
//!
//! Only interfaces are bound here, never a world: a world's exports are the
//! business of its module in [`crate::worlds`].

use crate::context;

#[allow(unsafe_code, missing_debug_implementations, clippy::all)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit",
        interfaces: "
            import baton:policy/types@0.1.1;
            import baton:policy/log@0.1.1;
            import baton:policy/clock@0.1.1;
            import baton:policy/probe@0.1.1;
            import baton:policy/system@0.1.1;
            import baton:policy/vrrp@0.1.1;
            import baton:policy/remedy@0.1.1;
            import baton:policy/notices@0.1.1;
            import baton:policy/brain@0.1.1;
        ",
    });
}

pub(crate) use generated::baton::policy::{brain, clock, log, notices, probe, remedy, system, types, vrrp};

impl From<context::VrrpState> for types::VrrpState {
    fn from(s: context::VrrpState) -> Self {
        match s {
            context::VrrpState::Initialize => types::VrrpState::Initialize,
            context::VrrpState::Backup => types::VrrpState::Backup,
            context::VrrpState::Master => types::VrrpState::Master,
            context::VrrpState::Fault => types::VrrpState::Fault,
        }
    }
}

impl From<&context::InstanceStatus> for types::InstanceStatus {
    fn from(i: &context::InstanceStatus) -> Self {
        types::InstanceStatus {
            name: i.name.clone(),
            interface: i.interface.clone(),
            vrid: i.vrid,
            state: i.state.into(),
            base_priority: i.base_priority,
            effective_priority: i.effective_priority,
            master: i.master.clone(),
            vips: i.vips.clone(),
            holding_vips: i.holding_vips,
        }
    }
}

impl From<&context::Facts> for types::Facts {
    fn from(f: &context::Facts) -> Self {
        types::Facts {
            router_id: f.router_id.clone(),
            instance: (&f.instance).into(),
            run: f.run,
            last_healthy: f.last_healthy,
        }
    }
}

impl From<&context::HookNotice> for notices::Notice {
    fn from(n: &context::HookNotice) -> Self {
        notices::Notice {
            kind: match n.kind {
                context::NoticeKind::Transition => notices::NoticeKind::Transition,
                context::NoticeKind::Track => notices::NoticeKind::Track,
                context::NoticeKind::DaemonStart => notices::NoticeKind::DaemonStart,
                context::NoticeKind::DaemonStop => notices::NoticeKind::DaemonStop,
                context::NoticeKind::Reload => notices::NoticeKind::Reload,
                context::NoticeKind::Test => notices::NoticeKind::Test,
            },
            router_id: n.router_id.clone(),
            at_unix_ms: n.at_unix_ms,
            instance: n.instance.clone(),
            from: n.from.map(Into::into),
            to: n.to.map(Into::into),
            reason: n.reason.clone(),
            base_priority: n.base_priority,
            effective_priority: n.effective_priority,
            vips: n.vips.clone(),
            track: n.track.clone(),
            ok: n.ok,
            detail: n.detail.clone(),
            json: n.json.clone(),
        }
    }
}

impl From<&context::Evidence> for brain::Evidence {
    fn from(e: &context::Evidence) -> Self {
        brain::Evidence {
            instance: (&e.instance).into(),
            own_mac: e.own_mac.clone(),
            peers: e
                .peers
                .iter()
                .map(|p| brain::Peer {
                    address: p.address.clone(),
                    last_priority: p.last_priority,
                    last_heard_ms_ago: p.last_heard_ms_ago,
                    paths: p
                        .paths
                        .iter()
                        .map(|path| brain::PeerPath {
                            path: path.path.clone(),
                            last_heard_ms_ago: path.last_heard_ms_ago,
                        })
                        .collect(),
                })
                .collect(),
            answers: e
                .answers
                .iter()
                .map(|a| brain::VipAnswer {
                    vip: a.vip.clone(),
                    others: a.others.clone(),
                    probed_ms_ago: a.probed_ms_ago,
                })
                .collect(),
            run: e.run,
            last_decision: e.last_decision.clone(),
        }
    }
}
