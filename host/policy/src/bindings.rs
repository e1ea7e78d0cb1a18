//! The interfaces of `baton:policy@0.1.0` (wit/policy.wit), bound once for the
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
            import baton:policy/types@0.1.0;
            import baton:policy/log@0.1.0;
            import baton:policy/clock@0.1.0;
            import baton:policy/probe@0.1.0;
            import baton:policy/system@0.1.0;
            import baton:policy/vrrp@0.1.0;
            import baton:policy/remedy@0.1.0;
        ",
    });
}

pub(crate) use generated::baton::policy::{clock, log, probe, remedy, system, types, vrrp};

impl From<&context::InstanceStatus> for types::InstanceStatus {
    fn from(i: &context::InstanceStatus) -> Self {
        types::InstanceStatus {
            name: i.name.clone(),
            interface: i.interface.clone(),
            vrid: i.vrid,
            state: match i.state {
                context::VrrpState::Initialize => types::VrrpState::Initialize,
                context::VrrpState::Backup => types::VrrpState::Backup,
                context::VrrpState::Master => types::VrrpState::Master,
                context::VrrpState::Fault => types::VrrpState::Fault,
            },
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
