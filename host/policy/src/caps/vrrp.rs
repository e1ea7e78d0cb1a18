//! `vrrp.instances`: this node's VRRP instances as the daemon last saw them.
//!
//! State: the snapshot the evaluation was given ([`VrrpStatus`]). Nothing to
//! allow or deny: it is a read-only view of this node, no I/O.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{types, vrrp as wit};
use crate::context::InstanceStatus;

/// The `vrrp` of one evaluation.
#[derive(Debug, Default)]
pub struct VrrpStatus {
    pub instances: Arc<Vec<InstanceStatus>>,
}

impl wit::Host for VrrpStatus {
    fn instances(&mut self) -> Vec<types::InstanceStatus> {
        self.instances.iter().map(Into::into).collect()
    }
}

/// Links `baton:policy/vrrp` to the [`VrrpStatus`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut VrrpStatus,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<VrrpStatus>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::VrrpState;
    use wit::Host as _;

    #[test]
    fn instances_as_given() {
        let mut s = VrrpStatus {
            instances: Arc::new(vec![InstanceStatus {
                name: "VI_1".into(),
                interface: "eth0".into(),
                vrid: 51,
                state: VrrpState::Backup,
                base_priority: 100,
                effective_priority: 90,
                master: Some("192.0.2.1".into()),
                vips: vec!["192.0.2.3/24".into()],
                holding_vips: false,
            }]),
        };
        let got = s.instances();
        assert_eq!(got.len(), 1);
        let i = &got[0];
        assert_eq!(
            (i.name.as_str(), i.interface.as_str(), i.vrid),
            ("VI_1", "eth0", 51)
        );
        assert!(matches!(i.state, types::VrrpState::Backup));
        assert_eq!((i.base_priority, i.effective_priority), (100, 90));
        assert_eq!(i.master.as_deref(), Some("192.0.2.1"));
        assert_eq!(i.vips, ["192.0.2.3/24"]);
        assert!(!i.holding_vips);
        assert!(VrrpStatus::default().instances().is_empty());
    }
}
