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
//! `baton convert` prints as a comment.

mod global;
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
/// error (offset in `sources`, message), and the notes for `baton convert`.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub sources: Sources,
    pub result: Result<Config, Vec<(usize, String)>>,
    pub notes: Vec<(Item, String)>,
}

/// Reads `path` (and what it includes) through `files`. `config_id` is
/// what `@ID` lines are compared with.
pub(crate) fn parse(files: &dyn Files, path: &Path, config_id: &str) -> Parsed {
    let lexed = lex::lex(files, path, config_id);
    let (stmts, brace_errors) = tree::build(lexed.toks);
    let sources = lexed.sources;
    let mut errs = lexed.errors;
    errs.extend(brace_errors);
    let (result, notes) = {
        let mut rd = Reader::new(&sources, files);
        rd.errs = errs;
        let draft = rd.config(path, &stmts, config_id);
        let result = super::finish(draft, &rd.origins, std::mem::take(&mut rd.errs));
        (result, rd.notes)
    };
    Parsed {
        sources,
        result,
        notes,
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
        return global::TOP_LEVEL.contains(&first)
            || first.starts_with('@')
            || first.starts_with('$') && !first.contains('=') && line.contains('=')
            || (line.ends_with('{') && !line.contains('='));
    }
    false
}

/// The draft being built and where its parts came from.
pub(super) struct Reader<'s> {
    files: &'s dyn Files,
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
}

impl<'s> Reader<'s> {
    fn new(sources: &'s Sources, files: &'s dyn Files) -> Reader<'s> {
        Reader {
            files,
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
        let router_id = self.globals.router_id.clone().unwrap_or_else(crate::hostname);
        let mut notify = self.globals.notify(&router_id);
        notify.commands = std::mem::take(&mut self.commands);
        self.finish_notify(&mut notify);
        Config {
            path: path.to_path_buf(),
            format: crate::Format::Keepalived {
                config_id: config_id.to_string(),
            },
            router_id,
            socket: PathBuf::from(crate::DEFAULT_SOCKET),
            log_file: None,
            policy_cache: PathBuf::from(crate::DEFAULT_POLICY_CACHE),
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
