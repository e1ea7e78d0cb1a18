//! Front ends: each reads one config language into the model: TOML
//! ([`toml`]) and keepalived.conf ([`keepalived`]), onto the same model and
//! the same validation.
//!
//! A front end checks only what is about its language: the syntax, the
//! type of each value, unknown keys (with did-you-mean and keepalived-name
//! hints from [`crate::schema`]), and the conversions into the model's types
//! (a duration string, a VIP, a sha256 digest, an integer that must fit a
//! `u8`). It builds a draft [`Config`] of every table it could read (with a
//! placeholder where a value was wrong, marked bad in its [`Origins`]) and
//! records where in its text each place of the model is. [`finish`] hands the
//! draft to [`crate::validate`], the one semantic validation, and maps what
//! that reports back through the origins to byte offsets of the text.

pub(crate) mod keepalived;
pub(crate) mod syntax;
pub(crate) mod toml;

use std::collections::HashMap;

use crate::Config;
use crate::origin::{FieldPath, Item, Origins};
use crate::schema::instance;
use crate::validate;

/// Where each instance's keys are (offsets in the front end's text), for
/// the cross-node check's messages: `name`, `vrid`, `priority`, ...
pub(crate) type Places = Vec<HashMap<&'static str, usize>>;

/// The instance keys the cross-node check points at.
const PLACED: [&crate::schema::Key; 9] = [
    &instance::NAME,
    &instance::VRID,
    &instance::PRIORITY,
    &instance::ADVERT_INTERVAL,
    &instance::VERSION,
    &instance::AUTH,
    &instance::VIPS,
    &instance::UNICAST_SRC,
    &instance::UNICAST_PEERS,
];

/// Where the draft's instances and their keys are.
pub(crate) fn places(draft: &Config, origins: &Origins<'_>) -> Places {
    (0..draft.instances.len())
        .map(|i| {
            PLACED
                .iter()
                .map(|k| (k.name, origins.offset(&FieldPath::key(Item::Instance(i), k))))
                .collect()
        })
        .collect()
}

/// Validates a front end's draft; `errs` are the front end's own errors, as
/// (byte offset, message). Every error, in text order, or the config.
pub(crate) fn finish(
    draft: Config,
    origins: &Origins<'_>,
    mut errs: Vec<(usize, String)>,
) -> Result<Config, Vec<(usize, String)>> {
    match validate::validate(draft, origins) {
        Ok(config) if errs.is_empty() => return Ok(config),
        Ok(_) => {}
        Err(problems) => errs.extend(problems.into_iter().map(|p| (origins.offset(&p.at), p.message))),
    }
    errs.sort_by_key(|(at, _)| *at);
    errs.dedup();
    Err(errs)
}
