//! Where the model's values are in a config file: the validation reports
//! against a place in the model ([`FieldPath`]: instance #3 key `vrid`,
//! policy #0 key `allow` item 2), and a front end, which recorded where in
//! its text each place is ([`Origins`]), maps it back to a line and column.

use std::collections::{HashMap, HashSet};

use crate::front::keepalived::source::Sources;
use crate::schema::{self, Key, Section};

/// An item of the model: the top level, one of its tables, or a table
/// inside an instance. Indices are positions in the model's vectors
/// (`Config::instances[i]`, its `tracks[j]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Top,
    /// `[garp]`.
    Garp,
    Policy(usize),
    Check(usize),
    Remedy(usize),
    Instance(usize),
    /// An instance's `garp = { .. }`.
    InstanceGarp(usize),
    /// An instance's `auth = { .. }`.
    Auth(usize),
    Track(usize, usize),
    SplitBrain(usize),
    /// An instance's `[[instance.heartbeat]]`.
    Heartbeat(usize, usize),
    /// `[notify]`.
    Notify,
    Webhook(usize),
    NotifyCommand(usize),
    /// `[notify.hook]`.
    Hook,
    /// An instance's `track_interfaces` element written as a table.
    TrackInterface(usize, usize),
    /// `[[sync_group]]`.
    SyncGroup(usize),
}

impl Item {
    /// The section whose keys it has.
    pub(crate) fn section(self) -> &'static Section {
        match self {
            Item::Top => &schema::top::SECTION,
            Item::Garp => &schema::garp::SECTION,
            Item::Policy(_) => &schema::policy::SECTION,
            Item::Check(_) => &schema::check::SECTION,
            Item::Remedy(_) => &schema::remedy::SECTION,
            Item::Instance(_) => &schema::instance::SECTION,
            Item::InstanceGarp(_) => &schema::garp::IN_INSTANCE,
            Item::Auth(_) => &schema::auth::SECTION,
            Item::Track(..) => &schema::track::SECTION,
            Item::SplitBrain(_) => &schema::split_brain::SECTION,
            Item::Heartbeat(..) => &schema::heartbeat::SECTION,
            Item::Notify => &schema::notify::SECTION,
            Item::Webhook(_) => &schema::webhook::SECTION,
            Item::NotifyCommand(_) => &schema::notify_command::SECTION,
            Item::Hook => &schema::hook::SECTION,
            Item::TrackInterface(..) => &schema::track_interface::SECTION,
            Item::SyncGroup(_) => &schema::sync_group::SECTION,
        }
    }

    /// The instance it belongs to, if any: an error in it is the instance's.
    pub(crate) fn instance(self) -> Option<usize> {
        match self {
            Item::Instance(i)
            | Item::InstanceGarp(i)
            | Item::Auth(i)
            | Item::Track(i, _)
            | Item::SplitBrain(i)
            | Item::Heartbeat(i, _)
            | Item::TrackInterface(i, _) => Some(i),
            _ => None,
        }
    }
}

/// What part of a key's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Sub {
    Whole,
    /// One element of an array (its index in the model's vector).
    Index(usize),
    /// One setting of a `config` table.
    Setting(String),
}

/// A place in the model: an item, or one of its keys, or part of a key's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FieldPath {
    pub item: Item,
    /// `None`: the item itself (its table header).
    pub key: Option<&'static str>,
    pub sub: Sub,
}

impl FieldPath {
    /// The item itself.
    pub(crate) fn item(item: Item) -> FieldPath {
        FieldPath {
            item,
            key: None,
            sub: Sub::Whole,
        }
    }

    pub(crate) fn key(item: Item, key: &Key) -> FieldPath {
        FieldPath {
            item,
            key: Some(key.name),
            sub: Sub::Whole,
        }
    }

    pub(crate) fn index(item: Item, key: &Key, i: usize) -> FieldPath {
        FieldPath {
            sub: Sub::Index(i),
            ..FieldPath::key(item, key)
        }
    }

    pub(crate) fn setting(item: Item, key: &Key, name: &str) -> FieldPath {
        FieldPath {
            sub: Sub::Setting(name.to_string()),
            ..FieldPath::key(item, key)
        }
    }

    /// What messages call it: `track.weight`, `config.url`; its section
    /// when it names no key.
    pub(crate) fn label(&self) -> String {
        let section = self.item.section();
        match (self.key, &self.sub) {
            (Some(k), Sub::Setting(s)) => format!("{}{k}.{s}", section.prefix),
            (Some(k), _) => format!("{}{k}", section.prefix),
            (None, _) => section.what.to_string(),
        }
    }

    /// The key (or item) it is part of.
    fn parent(&self) -> Option<FieldPath> {
        match (&self.sub, self.key) {
            (Sub::Whole, None) => None,
            (Sub::Whole, Some(_)) => Some(FieldPath::item(self.item)),
            _ => Some(FieldPath {
                sub: Sub::Whole,
                ..self.clone()
            }),
        }
    }
}

/// What a front end knows about the places of the model it built: where
/// each is in its text (a byte offset), which values it could not take (and
/// said why), which items had errors of its own.
#[derive(Debug)]
pub(crate) struct Origins<'t> {
    lines: Lines<'t>,
    at: HashMap<FieldPath, usize>,
    /// What the text calls a place, where it is not the model's name
    /// (keepalived's `virtual_router_id` for `vrid`).
    names: HashMap<FieldPath, String>,
    bad: HashSet<FieldPath>,
    flawed: HashSet<Item>,
}

impl<'t> Origins<'t> {
    pub(crate) fn new(text: &'t str) -> Origins<'t> {
        Origins::with_lines(Lines::One(LineIndex::new(text)))
    }

    /// For a front end that reads several files into one offset space.
    pub(crate) fn many(sources: &'t Sources) -> Origins<'t> {
        Origins::with_lines(Lines::Many(sources))
    }

    fn with_lines(lines: Lines<'t>) -> Origins<'t> {
        Origins {
            lines,
            names: HashMap::new(),
            at: HashMap::new(),
            bad: HashSet::new(),
            flawed: HashSet::new(),
        }
    }

    /// `path` is at byte `offset` of the text.
    pub(crate) fn place(&mut self, path: FieldPath, offset: usize) {
        self.at.entry(path).or_insert(offset);
    }

    /// The text calls `path` `name`: messages say so.
    pub(crate) fn name(&mut self, path: FieldPath, name: &str) {
        self.names.insert(path, name.to_string());
    }

    /// How messages name `path`: the text's name for it, or the model's.
    pub(crate) fn label(&self, path: &FieldPath) -> String {
        match self.names.get(path) {
            Some(name) => name.clone(),
            None => path.label(),
        }
    }

    /// The front end could not take the value at `path` and said why.
    pub(crate) fn mark_bad(&mut self, path: FieldPath) {
        self.bad.insert(path);
    }

    /// The front end reported an error in `item` (and so in its instance).
    pub(crate) fn flaw(&mut self, item: Item) {
        self.flawed.insert(item);
        if let Some(i) = item.instance() {
            self.flawed.insert(Item::Instance(i));
        }
    }

    /// Whether the text gives `path` (a key that is not given has its default).
    pub(crate) fn given(&self, path: &FieldPath) -> bool {
        self.at.contains_key(path)
    }

    pub(crate) fn is_bad(&self, path: &FieldPath) -> bool {
        self.bad.contains(path)
    }

    pub(crate) fn is_flawed(&self, item: Item) -> bool {
        self.flawed.contains(&item)
    }

    /// Where `path` is; a place not in the text is reported where its key,
    /// or else its item, is.
    pub(crate) fn offset(&self, path: &FieldPath) -> usize {
        let mut p = Some(path.clone());
        while let Some(q) = p {
            if let Some(at) = self.at.get(&q) {
                return *at;
            }
            p = q.parent();
        }
        0
    }

    /// The 1-based line of `path`, for messages that point at another place.
    pub(crate) fn line(&self, path: &FieldPath) -> usize {
        match &self.lines {
            Lines::One(ix) => ix.line_col(self.offset(path)).0,
            Lines::Many(s) => s.line(self.offset(path)),
        }
    }
}

/// How offsets become lines: one text, or several files.
#[derive(Debug)]
enum Lines<'t> {
    One(LineIndex<'t>),
    Many(&'t Sources),
}

/// Maps byte offsets to 1-based line and column (columns count characters).
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = self.text[start..offset].trim_end_matches('\r').chars().count();
        (line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_characters() {
        let text = "ab\néx = 1\r\n\nz";
        let ix = LineIndex::new(text);
        assert_eq!(ix.line_col(0), (1, 1));
        assert_eq!(ix.line_col(2), (1, 3));
        assert_eq!(ix.line_col(3), (2, 1));
        // 'é' is two bytes, one column.
        assert_eq!(ix.line_col(5), (2, 2));
        // Inside a character: its start.
        assert_eq!(ix.line_col(4), (2, 1));
        assert_eq!(ix.line_col(text.len()), (4, 2));
        assert_eq!(ix.line_col(text.len() + 10), (4, 2));
        assert_eq!(LineIndex::new("").line_col(0), (1, 1));
    }

    #[test]
    fn a_place_not_in_the_text_is_its_keys_or_items() {
        let mut o = Origins::new("[[instance]]\nvips = [\"a\"]\n");
        let inst = Item::Instance(0);
        o.place(FieldPath::item(inst), 0);
        o.place(FieldPath::key(inst, &schema::instance::VIPS), 20);
        o.place(FieldPath::index(inst, &schema::instance::VIPS, 0), 21);
        assert_eq!(o.offset(&FieldPath::index(inst, &schema::instance::VIPS, 0)), 21);
        assert_eq!(o.offset(&FieldPath::index(inst, &schema::instance::VIPS, 5)), 20);
        assert_eq!(o.offset(&FieldPath::key(inst, &schema::instance::VRID)), 0);
        assert_eq!(o.line(&FieldPath::key(inst, &schema::instance::VIPS)), 2);
        assert!(o.given(&FieldPath::key(inst, &schema::instance::VIPS)));
        assert!(!o.given(&FieldPath::key(inst, &schema::instance::VRID)));
        o.flaw(Item::Track(0, 1));
        assert!(o.is_flawed(inst) && o.is_flawed(Item::Track(0, 1)) && !o.is_flawed(Item::Top));
    }
}
