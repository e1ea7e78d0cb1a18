//! Transition hooks: the [`Hook`] trait, [`export_hook!`](crate::export_hook)
//! and helpers on the `notices` types ([`Outgoing::to`], [`Route::nothing`],
//! [`NoticeKind`] names).

use std::fmt;
use std::str::FromStr;

use crate::hook_bindings;
use crate::{Error, InstanceStatus, Notice, NoticeKind, Outgoing, Result, Route, Settings};

/// What a transition hook implements. `route` is called once per notice (a
/// transition, a track change, the daemon starting or stopping, a reload, a
/// test), on the daemon's notification task, in a fresh instance.
pub trait Hook {
    /// Decides where `notice` goes and what it says; `instances` is every
    /// instance of this node as the notice left it.
    ///
    /// `Err(e)` is logged at warn and answered as [`Route::Default`]: a hook
    /// that cannot decide (a bad setting, say) never silences Baton's own
    /// notifications.
    fn route(settings: &Settings, notice: &Notice, instances: &[InstanceStatus]) -> Result<Route>;
}

impl<T: Hook> hook_bindings::Guest for T {
    fn route(settings: Vec<(String, String)>, notice: Notice, instances: Vec<InstanceStatus>) -> Route {
        let settings = Settings::from(settings);
        T::route(&settings, &notice, &instances).unwrap_or_else(|e| {
            crate::warn!("{e}; sending the default notifications");
            Route::Default
        })
    }
}

/// Exports a [`Hook`] implementation as this component's `route` (world
/// `transition-hook`).
///
/// ```rust
/// use baton_guest::{Hook, InstanceStatus, Notice, NoticeKind, Outgoing, Result, Route, Settings};
///
/// struct PageOnMaster;
///
/// impl Hook for PageOnMaster {
///     fn route(settings: &Settings, notice: &Notice, _instances: &[InstanceStatus]) -> Result<Route> {
///         if notice.kind != NoticeKind::Transition {
///             return Ok(Route::Default);
///         }
///         let to = notice.to.map(|s| s.to_string()).unwrap_or_default();
///         Ok(Route::Send(vec![
///             Outgoing::to(settings.get_or("page", "pager"))
///                 .subject(format!("{} is now {to}", notice.router_id)),
///             Outgoing::to("email"),
///         ]))
///     }
/// }
///
/// baton_guest::export_hook!(PageOnMaster);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_hook {
    ($ty:ident) => {
        $crate::hook_bindings::__export_hook_bindings!($ty with_types_in $crate::hook_bindings);
    };
}

impl Outgoing {
    /// A message to sink `sink` ("email", a `[[notify.webhook]]` or a
    /// `[[notify.command]]` name) with Baton's default subject and body.
    pub fn to(sink: impl Into<String>) -> Outgoing {
        Outgoing {
            sink: sink.into(),
            subject: None,
            body: None,
        }
    }

    /// Sets the mail subject (webhooks and commands ignore it).
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Outgoing {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the mail body, or the webhook's payload as sent.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Outgoing {
        self.body = Some(body.into());
        self
    }
}

impl Route {
    /// Sends nothing for this notice: `Send([])`.
    pub fn nothing() -> Route {
        Route::Send(Vec::new())
    }
}

impl NoticeKind {
    /// Every kind, in the WIT's order.
    pub const ALL: [NoticeKind; 6] = [
        NoticeKind::Transition,
        NoticeKind::Track,
        NoticeKind::DaemonStart,
        NoticeKind::DaemonStop,
        NoticeKind::Reload,
        NoticeKind::Test,
    ];

    /// The WIT name: `transition`, `track`, `daemon-start`, `daemon-stop`,
    /// `reload`, `test`.
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::Transition => "transition",
            NoticeKind::Track => "track",
            NoticeKind::DaemonStart => "daemon-start",
            NoticeKind::DaemonStop => "daemon-stop",
            NoticeKind::Reload => "reload",
            NoticeKind::Test => "test",
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The WIT name, or the JSON document's (`daemon_start`), in any case.
impl FromStr for NoticeKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<NoticeKind> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        NoticeKind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.name()).collect();
                Error(format!(
                    "unknown notice kind {s:?} (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_builder() {
        let o = Outgoing::to("pager").subject("PAGE").body("down");
        assert_eq!(o.sink, "pager");
        assert_eq!(o.subject.as_deref(), Some("PAGE"));
        assert_eq!(o.body.as_deref(), Some("down"));
        let o = Outgoing::to("email");
        assert!(o.subject.is_none() && o.body.is_none());
        assert!(matches!(Route::nothing(), Route::Send(v) if v.is_empty()));
    }

    #[test]
    fn notice_kinds_by_name() {
        for k in NoticeKind::ALL {
            assert_eq!(k.to_string().parse::<NoticeKind>(), Ok(k));
        }
        assert_eq!("Daemon_Start".parse(), Ok(NoticeKind::DaemonStart));
        assert_eq!(" reload ".parse(), Ok(NoticeKind::Reload));
        let e = "bogus".parse::<NoticeKind>().unwrap_err();
        assert!(e.message().starts_with("unknown notice kind \"bogus\""), "{e}");
    }
}
