//! Healthy while network interface `interface` is up with carrier.
//!
//! Settings: `interface` (required).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, system};

struct InterfaceUp;

impl Policy for InterfaceUp {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let interface = settings.require("interface")?;
        Ok(if system::interface_up(interface)? {
            healthy()
        } else {
            failed(format!("{interface} is down"))
        })
    }
}

baton_guest::export_health!(InterfaceUp);
