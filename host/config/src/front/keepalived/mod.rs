//! The keepalived.conf front end: keepalived's configuration language, as
//! far as VRRP goes, read into the same model as the TOML front end and
//! checked by the same validation.
//!
//! Three stages: [`lex`] (files, includes and keepalived's preprocessor into
//! words and braces), [`tree`] (statements and their blocks), and the
//! readers of each block (`global`, `script`, `instance`), which map
//! keepalived's keywords onto the model and record where each came from.
//! Where keepalived runs on after a mistake (an unbalanced brace, an unknown
//! keyword, a bad value, a `track_script` naming no `vrrp_script`, an
//! `include` that matches nothing), Baton refuses, at FILE:LINE:COL.
//! Where meaning moves (a `vrrp_script` that becomes a builtin policy, a
//! `state` that Baton does not need), the reader leaves a note, which
//! `baton convert` prints as a comment. A script that matches no builtin
//! runs through builtin:exec only when allowed (`--allow-exec`), and
//! `baton check` notes each one at its place.

mod global;
mod hmac;
mod instance;
pub(crate) mod lex;
mod read;
mod script;
pub(crate) mod source;
mod sync;
mod tree;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::origin::{Item, Origins};
use crate::{Check, Config, InstanceConfig, Notify, NotifyCommand, Policy, Remedy, SyncGroup};

use source::{Files, Sources};
use tree::Stmt;

/// What reading a keepalived.conf gave: the files read, the config or every
/// error (offset in `sources`, message), the notes for `baton convert`, and
/// the notes `baton check` prints (offset, message): each script that runs
/// through builtin:exec.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub sources: Sources,
    pub result: Result<Config, Vec<(usize, String)>>,
    pub notes: Vec<(Item, String)>,
    /// Where each instance's keys are.
    pub places: super::Places,
    /// Each instance's `state` (MASTER / BACKUP), by name.
    pub states: HashMap<String, String>,
    pub check_notes: Vec<(usize, String)>,
}

/// Reads `path` (and what it includes) through `files`. `config_id` is
/// what `@ID` lines are compared with; `allow_exec`: a script that matches
/// no builtin runs through builtin:exec instead of being refused.
pub(crate) fn parse(files: &dyn Files, path: &Path, config_id: &str, allow_exec: bool) -> Parsed {
    let lexed = lex::lex(files, path, config_id);
    let (stmts, brace_errors) = tree::build(lexed.toks);
    let sources = lexed.sources;
    let mut errs = lexed.errors;
    errs.extend(brace_errors);
    let (result, notes, places, states, check_notes) = {
        let mut rd = Reader::new(&sources, files);
        rd.errs = errs;
        rd.allow_exec = allow_exec;
        let draft = rd.config(path, &stmts, config_id);
        let places = super::places(&draft, &rd.origins);
        let result = super::finish(draft, &rd.origins, std::mem::take(&mut rd.errs));
        (result, rd.notes, places, rd.states, rd.check_notes)
    };
    Parsed {
        sources,
        result,
        notes,
        places,
        states,
        check_notes,
    }
}

/// Whether a config file's text is keepalived's rather than TOML: its first
/// word (after comments) is a keepalived top-level keyword or `include`, or
/// it opens a block with `{` on a line that is no TOML.
pub(crate) fn looks_like_keepalived(text: &str) -> bool {
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let first = line
            .split(|c: char| c.is_whitespace() || c == '{')
            .next()
            .unwrap_or("");
        // No TOML line starts with `@`, `$` or `~`, or ends with `{` but
        // an inline table after `=`.
        return global::TOP_LEVEL.contains(&first)
            || first.starts_with(['@', '$', '~'])
            || (line.ends_with('{') && !line.contains('='));
    }
    false
}

/// The draft being built and where its parts came from.
pub(super) struct Reader<'s> {
    files: &'s dyn Files,
    sources: &'s Sources,
    errs: Vec<(usize, String)>,
    origins: Origins<'s>,
    notes: Vec<(Item, String)>,
    states: HashMap<String, String>,
    globals: global::Globals,
    scripts: script::Scripts,
    policies: Vec<Policy>,
    checks: Vec<Check>,
    remedies: Vec<Remedy>,
    commands: Vec<NotifyCommand>,
    instances: Vec<InstanceConfig>,
    sync_groups: Vec<SyncGroup>,
    /// Scripts that match no builtin run through builtin:exec.
    allow_exec: bool,
    /// Node-wide decisions of trackers, for once every instance is read.
    pending: Vec<script::Pending>,
    check_notes: Vec<(usize, String)>,
}

impl<'s> Reader<'s> {
    fn new(sources: &'s Sources, files: &'s dyn Files) -> Reader<'s> {
        Reader {
            files,
            sources,
            errs: Vec::new(),
            origins: Origins::many(sources),
            notes: Vec::new(),
            states: HashMap::new(),
            globals: global::Globals::default(),
            scripts: script::Scripts::default(),
            policies: Vec::new(),
            checks: Vec::new(),
            remedies: Vec::new(),
            commands: Vec::new(),
            instances: Vec::new(),
            sync_groups: Vec::new(),
            allow_exec: false,
            pending: Vec::new(),
            check_notes: Vec::new(),
        }
    }

    pub(super) fn err(&mut self, at: usize, message: impl Into<String>) {
        self.errs.push((at, message.into()));
    }

    pub(super) fn note(&mut self, item: Item, message: impl Into<String>) {
        self.notes.push((item, message.into()));
    }

    /// The whole file: declarations first (global_defs, vrrp_script and the
    /// other trackers, which instances may name before they appear), then
    /// the instances and sync groups.
    fn config(&mut self, path: &Path, stmts: &[Stmt], config_id: &str) -> Config {
        self.origins.place(crate::origin::FieldPath::item(Item::Top), 0);
        let stmts = read::split_lines(stmts, global::TOP_ARITY);
        for s in &stmts {
            match s.key.text.as_str() {
                "global_defs" => self.global_defs(s),
                "vrrp_script" | "vrrp_track_file" | "vrrp_track_process" => self.tracker(s),
                _ => {}
            }
        }
        for s in &stmts {
            match s.key.text.as_str() {
                "global_defs" | "vrrp_script" | "vrrp_track_file" | "vrrp_track_process" => {}
                "vrrp_instance" => self.instance(s),
                "vrrp_sync_group" => self.sync_group(s),
                _ => self.top_level_refusal(s),
            }
        }
        // A group's tracks go to its members, which may come after it.
        let groups = stmts.iter().filter(|s| s.key.text == "vrrp_sync_group");
        for (g, s) in groups.enumerate() {
            self.sync_group_tracks(s, g);
        }
        self.node_wide_scripts();
        let router_id = self.globals.router_id.clone().unwrap_or_else(crate::hostname);
        let mut notify = self.globals.notify(&router_id);
        notify.commands = std::mem::take(&mut self.commands);
        self.finish_notify(&mut notify);
        Config {
            path: path.to_path_buf(),
            format: crate::Format::Keepalived {
                config_id: config_id.to_string(),
                allow_exec: self.allow_exec,
            },
            router_id,
            socket: PathBuf::from(crate::DEFAULT_SOCKET),
            log_file: None,
            policy_cache: PathBuf::from(crate::DEFAULT_POLICY_CACHE),
            startup_delay: self.globals.startup_delay.unwrap_or_default(),
            insecure_registries: Vec::new(),
            garp: self.globals.garp4(),
            policies: std::mem::take(&mut self.policies),
            checks: std::mem::take(&mut self.checks),
            remedies: std::mem::take(&mut self.remedies),
            notify,
            instances: std::mem::take(&mut self.instances),
            sync_groups: std::mem::take(&mut self.sync_groups),
        }
    }

    fn finish_notify(&mut self, notify: &mut Notify) {
        if !notify.email.is_empty() && notify.smtp_server.is_none() {
            // keepalived's default smtp_server is none: mail is not sent.
            let at = self.globals.email_at.unwrap_or(0);
            self.err(
                at,
                "notification_email: no smtp_server in global_defs to send it through \
                 (keepalived would drop the mail without a word)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_is_told_from_toml_by_its_first_line() {
        for ka in [
            "! Configuration File for keepalived\nglobal_defs {\n",
            "\u{feff}vrrp_instance VI_1 {",
            "# c\n\ninclude /etc/keepalived/*.conf\n",
            "$PRIO=150\n",
            "@lb01 $PRIO=150\n",
            "~SEQ(N, 3) x\n",
            "my_block {\n",
        ] {
            assert!(looks_like_keepalived(ka), "{ka:?}");
        }
        for toml in [
            "router_id = \"lb01\"\n",
            "# keepalived's global_defs\n[[instance]]\nname = \"VI_1\"\n",
            "auth = {\n",
            "",
            "! only a comment\n",
        ] {
            assert!(!looks_like_keepalived(toml), "{toml:?}");
        }
    }
}
