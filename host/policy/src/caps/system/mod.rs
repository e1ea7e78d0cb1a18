//! `system`: read-only facts about this machine, one module each: [`process`]
//! (process-count, process-running), [`address`] (address-held), [`interface`]
//! (interface-up), [`file`](mod@file) (read-file).
//!
//! State: the engine's shared [`ProcessTable`], the grants (for read-file) and the
//! deadline ([`SystemState`]). Only read-file has an allowlist ([`file::allowed`],
//! `allow-files`); the others answer about anything, bounded by the budget
//! (process scans) or by what they read (a sysfs file, the address list).

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{CapGetter, CapView, Deadline, HasCapView};
use crate::bindings::{system as wit, types};
use crate::grants::Grants;
use crate::script::Script;

pub mod address;
pub mod file;
pub mod interface;
pub mod process;

pub use process::ProcessTable;

/// The `system` of one evaluation.
#[derive(Debug)]
pub struct SystemState {
    /// Shared by every evaluation of an engine: it remembers the processes it found.
    pub processes: Arc<ProcessTable>,
    pub grants: Arc<Grants>,
    pub deadline: Deadline,
    /// Answers instead of the system, after the same checks.
    pub script: Option<Arc<Script>>,
}

impl wit::Host for CapView<'_, SystemState> {
    fn process_count(&mut self, name: String) -> u32 {
        match &self.state.script {
            Some(s) => s.process_count(&name),
            None => self.state.processes.count(&name, self.state.deadline),
        }
    }

    fn process_running(&mut self, name: String, at_least: u32) -> bool {
        match &self.state.script {
            Some(s) => s.process_running(&name, at_least),
            None => self.state.processes.running(&name, at_least, self.state.deadline),
        }
    }

    fn address_held(&mut self, address: String) -> bool {
        match &self.state.script {
            Some(s) => s.address_held(&address),
            None => address::held(&address),
        }
    }

    fn interface_up(&mut self, name: String) -> Result<bool, types::ProbeError> {
        let r = match &self.state.script {
            Some(s) => s.interface_up(&name),
            None => interface::up(&name),
        };
        self.audit.note(&format!("interface-up {name}"), r)
    }

    fn read_file(&mut self, path: String, max_bytes: u32) -> Result<Option<Vec<u8>>, types::ProbeError> {
        let r = match &self.state.script {
            Some(s) => file::allowed(&self.state.grants, &path).and_then(|()| s.read_file(&path, max_bytes)),
            None => file::read(&self.state.grants, &path, max_bytes),
        };
        self.audit.note(&format!("read-file {path}"), r)
    }
}

/// Links `baton:policy/system` to the [`SystemState`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: CapGetter<T, SystemState>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasCapView<SystemState>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wit::Host as _;

    fn state(grants: Grants) -> SystemState {
        SystemState {
            processes: Default::default(),
            grants: Arc::new(grants),
            deadline: Deadline::after(Duration::from_secs(1)),
            script: None,
        }
    }

    /// Only a refused read-file is a denial; a bad interface name is a failure.
    #[test]
    fn only_refusals_are_audited() {
        let mut s = state(Grants::default());
        let mut audit = crate::caps::tests::audit();
        let mut v = CapView::new(&mut s, &mut audit);
        assert!(matches!(
            v.read_file("/etc/hostname".into(), 10),
            Err(types::ProbeError::Denied(_))
        ));
        assert!(matches!(
            v.interface_up("../x".into()),
            Err(types::ProbeError::Failed(_))
        ));
        assert!(matches!(v.interface_up("lo".into()), Ok(true)));
        assert!(v.address_held("127.0.0.1".into()));
        assert!(v.process_running("no-such-process-baton".into(), 0));
        assert_eq!(v.process_count("no-such-process-baton".into()), 0);
        assert_eq!(
            audit.denials(),
            ["read-file /etc/hostname: /etc/hostname: not in allow-files"]
        );
    }
}
