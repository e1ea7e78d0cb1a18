//! The policies built into the binary, named `builtin:NAME` in a policy's
//! `source`: their names are spelled here and nowhere else in the crate.

use std::fmt;

/// A policy shipped in the binary (`source = "builtin:NAME"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `process-alive`: a process of a given name runs.
    ProcessAlive,
    /// `tcp-port`: a TCP connection to `host`:`port` opens.
    TcpPort,
    /// `http-status`: a GET of `url` answers the expected status.
    HttpStatus,
    /// `file`: a file's contents decide (keepalived's `track_file`).
    File,
    /// `interface-up`: a link is up.
    InterfaceUp,
    /// `exec`: the `[[remedy]]` named by `remedy` exits 0 (keepalived's
    /// `vrrp_script` with its exit-code semantics; opt-in from keepalived.conf).
    Exec,
    /// `split-brain-peer-http`: asks each peer over HTTP (`port`, `path`) whether
    /// it still serves (the seed's check_brain.sh); the daemon grants each peer.
    SplitBrainPeerHttp,
    /// `split-brain-arp`: looks for another owner of the VIPs on the wire.
    SplitBrainArp,
}

impl Builtin {
    /// Every builtin, in the order the documentation lists them.
    pub const ALL: [Builtin; 8] = [
        Builtin::ProcessAlive,
        Builtin::TcpPort,
        Builtin::HttpStatus,
        Builtin::File,
        Builtin::InterfaceUp,
        Builtin::Exec,
        Builtin::SplitBrainPeerHttp,
        Builtin::SplitBrainArp,
    ];

    pub fn all() -> &'static [Builtin] {
        &Builtin::ALL
    }

    /// The NAME of `builtin:NAME`.
    pub const fn name(self) -> &'static str {
        match self {
            Builtin::ProcessAlive => "process-alive",
            Builtin::TcpPort => "tcp-port",
            Builtin::HttpStatus => "http-status",
            Builtin::File => "file",
            Builtin::InterfaceUp => "interface-up",
            Builtin::Exec => "exec",
            Builtin::SplitBrainPeerHttp => "split-brain-peer-http",
            Builtin::SplitBrainArp => "split-brain-arp",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// A split-brain policy (used in `[instance.split_brain]`), not a health check.
    pub const fn is_split_brain(self) -> bool {
        matches!(self, Builtin::SplitBrainPeerHttp | Builtin::SplitBrainArp)
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of [`Builtin::ALL`], in that order.
pub const NAMES: [&str; Builtin::ALL.len()] = {
    let mut names = [""; Builtin::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Builtin::ALL[i].name();
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Builtin::all() {
            assert_eq!(Builtin::from_name(b.name()), Some(*b));
            assert_eq!(b.to_string(), b.name());
        }
        assert_eq!(NAMES.len(), Builtin::ALL.len());
        assert_eq!(Builtin::from_name("http-stats"), None);
        assert_eq!(Builtin::from_name("builtin:file"), None);
        let split: Vec<Builtin> = Builtin::all()
            .iter()
            .copied()
            .filter(|b| b.is_split_brain())
            .collect();
        assert_eq!(split, [Builtin::SplitBrainPeerHttp, Builtin::SplitBrainArp]);
    }
}
