//! A health policy as a guest built against `baton:policy@0.1.0` (the WIT as
//! first released, frozen in wit/compat/0.1.0) would be: it imports the 0.1.0
//! interfaces, and must keep loading and running on every host of the 0.1
//! line. Healthy when a GET of `url` answers 200.

#[allow(unsafe_code, missing_debug_implementations, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit/compat/0.1.0",
        world: "baton:policy/health",
    });
}

use bindings::baton::policy::types::{Facts, ProbeError};
use bindings::baton::policy::{log, probe};
use bindings::{Guest, Health, Verdict};

struct V010;

fn failed(reason: String) -> Verdict {
    Verdict {
        health: Health::Failed(reason),
        weight: None,
    }
}

impl Guest for V010 {
    fn check(settings: Vec<(String, String)>, facts: Facts) -> Verdict {
        let Some(url) = settings.iter().find(|(k, _)| k == "url").map(|(_, v)| v.clone()) else {
            return failed("setting `url` is required".into());
        };
        log::log(
            log::Level::Debug,
            &format!("0.1.0 guest checking {url} for {}", facts.instance.name),
        );
        match probe::http_get(&url, 200, 0) {
            Ok(r) if r.status == 200 => Verdict {
                health: Health::Healthy,
                weight: None,
            },
            Ok(r) => failed(format!("GET {url}: status {}", r.status)),
            Err(ProbeError::Denied(why)) => failed(format!("GET {url}: denied: {why}")),
            Err(e) => failed(format!("GET {url}: {e:?}")),
        }
    }
}

bindings::export!(V010 with_types_in bindings);
