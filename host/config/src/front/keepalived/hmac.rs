//! `auth_hmac { key ID VALUE; active_key ID; mode ..; anti_replay ..;
//! time_window S }` (keepalived 2.4): HMAC-SHA256 adverts, in the wire
//! format of Baton's own `auth = { type = "hmac" }`. Keys are read as the
//! config is: a `file:` key's file must be private, and so must the file
//! of a key written inline.

use baton_vrrp::{AntiReplay, Auth, Hmac, HmacKey, HmacMode};

use super::Reader;
use super::read::{Arity, split_lines};
use super::tree::Stmt;
use crate::origin::{FieldPath, Item};
use crate::schema::instance;
use crate::{InstanceConfig, KeyLine, KeySource, secret};

const HMAC_ARITY: Arity = &[
    ("key", 2),
    ("active_key", 1),
    ("mode", 1),
    ("anti_replay", 1),
    ("time_window", 1),
];

/// What the block gave, before the defaults that depend on the instance.
#[derive(Default)]
struct Given {
    lines: Vec<KeyLine>,
    /// `key` lines, good or not.
    given: usize,
    keys: Vec<HmacKey>,
    active: Option<(u8, usize)>,
    mode: Option<(HmacMode, usize)>,
    anti_replay: AntiReplay,
    window: Option<u32>,
}

impl Reader<'_> {
    /// The instance's `auth_hmac`, if it has one: read once the rest of
    /// the instance is (its default window follows `advert_int`).
    pub(super) fn auth_hmac(&mut self, stmts: &[Stmt], i: usize, inst: &mut InstanceConfig) {
        let mut blocks = stmts.iter().filter(|k| k.key.text == "auth_hmac");
        let Some(k) = blocks.next() else { return };
        for again in blocks {
            self.err(again.key.at, "auth_hmac: given twice in one vrrp_instance");
        }
        let before = self.errs.len();
        self.no_more(k, 0);
        self.place(Item::Instance(i), &instance::AUTH, k.key.at, "auth_hmac");
        self.origins.place(FieldPath::item(Item::Auth(i)), k.key.at);
        if inst.auth != Auth::None {
            self.err(
                k.key.at,
                "auth_hmac: the instance has an `authentication` block too; keep one \
                 (with auth_hmac VRRPv2 sends no password)",
            );
        }
        let Some(b) = self.block(k) else { return };
        let mut g = Given::default();
        for a in split_lines(&b.stmts, HMAC_ARITY) {
            self.hmac_key(&a, &mut g);
        }
        let active = self.active_key(k, &g);
        let mode = match g.mode {
            Some((m, at)) if self.globals.strict && m != HmacMode::Enforce => {
                self.err(
                    at,
                    "auth_hmac: vrrp_strict allows only `mode enforce` (keepalived enforces it anyway)",
                );
                HmacMode::Enforce
            }
            Some((m, _)) => m,
            None => HmacMode::Enforce,
        };
        inst.auth = Auth::Hmac(Hmac {
            keys: g.keys,
            active,
            mode,
            anti_replay: g.anti_replay,
            window: g
                .window
                .unwrap_or_else(|| Hmac::default_window(inst.advert_interval)),
        });
        inst.auth_keys = Some(KeySource::Each(g.lines));
        if self.errs.len() > before {
            // Said here: the model's own check would say it again.
            self.origins.flaw(Item::Auth(i));
        }
    }

    /// One keyword of the block.
    fn hmac_key(&mut self, a: &Stmt, g: &mut Given) {
        match a.key.text.as_str() {
            "key" => {
                g.given += 1;
                self.no_block(a);
                self.no_more(a, 2);
                let (Some(id), Some(value)) = (a.args.first(), a.args.get(1)) else {
                    self.err(
                        a.key.at,
                        "key: needs an id and a value (key 1 file:/etc/keepalived/vrrp.key)",
                    );
                    return;
                };
                let (file, _, _) = self.sources.locate(value.at);
                let dir = file.parent().map(|d| d.to_path_buf()).unwrap_or_default();
                let line = match secret::key_line(&id.text, &value.text, &dir, &file) {
                    Ok(l) => l,
                    Err(e) => return self.err(id.at, format!("key: {e}")),
                };
                if g.lines.iter().any(|l| l.id == line.id) {
                    return self.err(id.at, format!("key: id {} is given twice", line.id));
                }
                let files = self.files;
                match secret::key_of(&line, &|p| files.read_key(p)) {
                    Ok(key) => g.keys.push(key),
                    Err(e) => self.err(value.at, format!("auth_hmac: {e}")),
                }
                g.lines.push(line);
            }
            "active_key" => {
                let at = a.args.first().map_or(a.key.at, |w| w.at);
                g.active = self.int_of(a, 1, 255).map(|n| (n as u8, at));
            }
            "mode" => {
                let Some(w) = self.one(a) else { return };
                let mode = match w.text.as_str() {
                    "enforce" => HmacMode::Enforce,
                    "permissive" => HmacMode::Permissive,
                    "receive-only" => HmacMode::ReceiveOnly,
                    other => {
                        let message = format!("mode: `{other}` is not enforce, permissive or receive-only");
                        return self.err(w.at, message);
                    }
                };
                g.mode = Some((mode, w.at));
            }
            "anti_replay" => {
                let Some(w) = self.one(a) else { return };
                g.anti_replay = match w.text.as_str() {
                    "time" => AntiReplay::Time,
                    "monotonic" => AntiReplay::Monotonic,
                    other => {
                        return self.err(w.at, format!("anti_replay: `{other}` is not time or monotonic"));
                    }
                };
            }
            "time_window" => g.window = self.int_of(a, 1, 300).map(|n| n as u32),
            _ => self.unknown(a, "auth_hmac", HMAC_ARITY),
        }
    }

    /// `active_key`, which must name a key (keepalived would run
    /// unauthenticated instead); without it, the only key.
    fn active_key(&mut self, k: &Stmt, g: &Given) -> u8 {
        let ids: Vec<u8> = g.lines.iter().map(|l| l.id).collect();
        match (g.active, ids.as_slice()) {
            (Some((id, _)), _) if ids.contains(&id) || ids.is_empty() => id,
            (Some((id, at)), _) => {
                let have: Vec<String> = ids.iter().map(u8::to_string).collect();
                self.err(
                    at,
                    format!("active_key {id} names no key (the block has {})", have.join(", ")),
                );
                id
            }
            (None, [only]) => *only,
            (None, []) if g.given > 0 => 1,
            (None, []) => {
                self.err(
                    k.key.at,
                    "auth_hmac: no key (key 1 file:/etc/keepalived/vrrp.key)",
                );
                1
            }
            (None, _) => {
                self.err(
                    k.key.at,
                    "auth_hmac: several keys: say which signs with `active_key`",
                );
                ids[0]
            }
        }
    }
}
