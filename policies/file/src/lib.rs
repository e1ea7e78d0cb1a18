//! File checks, keepalived's track_file style. The config's `allow-files`
//! must permit `path`. One of:
//!
//! * `exists = "true"` (the default) / `"false"`: healthy while the file is
//!   present / absent.
//! * `expect = "VALUE"`: healthy while the file's content, trimmed, equals
//!   VALUE (missing file: failed).
//! * `weight-from-content = "true"`: like keepalived's track_file, the file's
//!   integer content times `multiplier` (default 1) is the weight of this
//!   evaluation: a value >= 0 is healthy with that weight (adds to the
//!   priority), a negative one is failed with that weight (subtracts). A
//!   missing file counts as 0; a content that is not an integer fails.
//!
//! Settings: `path` (required), `exists`, `expect`, `weight-from-content`,
//! `multiplier` (default 1), `max-bytes` (default 4096).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, system};

struct File;

impl Policy for File {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let path = settings.require("path")?;
        let max_bytes = settings.get_u32("max-bytes")?.unwrap_or(4096);
        let content = system::read_file(path, max_bytes)?;

        if settings.get_bool("weight-from-content")?.unwrap_or(false) {
            let multiplier = settings.get_i32("multiplier")?.unwrap_or(1);
            let text = content
                .map(|c| String::from_utf8_lossy(&c).trim().to_owned())
                .unwrap_or_default();
            let value = if text.is_empty() {
                Ok(0)
            } else {
                text.parse::<i32>()
            };
            return Ok(match value {
                Ok(value) => {
                    let weight = value.saturating_mul(multiplier);
                    if weight >= 0 {
                        healthy()
                    } else {
                        failed(format!("{path}: {value}"))
                    }
                    .weight(weight)
                }
                Err(_) => failed(format!("{path}: content {text:?} is not an integer")),
            });
        }
        if let Some(expect) = settings.get("expect") {
            return Ok(match content {
                None => failed(format!("{path}: missing")),
                Some(content) => {
                    let text = String::from_utf8_lossy(&content);
                    if text.trim() == expect.trim() {
                        healthy()
                    } else {
                        failed(format!(
                            "{path}: {:?} (expected {:?})",
                            text.trim(),
                            expect.trim()
                        ))
                    }
                }
            });
        }
        let want_present = settings.get_bool("exists")?.unwrap_or(true);
        Ok(match (want_present, content.is_some()) {
            (true, true) | (false, false) => healthy(),
            (true, false) => failed(format!("{path}: missing")),
            (false, true) => failed(format!("{path}: present")),
        })
    }
}

baton_guest::export_health!(File);
