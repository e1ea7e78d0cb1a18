//! toml's syntax errors made into ones an operator can act on: an unclosed
//! `[`, `{` or quote is reported where it was opened, and the errors it
//! causes further on are not reported.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::origin::LineIndex;

/// What an unclosed construct is, from toml's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unclosed {
    Array,
    InlineTable,
    String,
}

fn classify(message: &str) -> Option<Unclosed> {
    if message.starts_with("unclosed array,") {
        Some(Unclosed::Array)
    } else if message.starts_with("unclosed inline table") {
        Some(Unclosed::InlineTable)
    } else if message.starts_with("invalid basic string")
        || message.starts_with("invalid literal string")
        || message.starts_with("invalid multi-line basic string")
        || message.starts_with("invalid multi-line literal string")
    {
        Some(Unclosed::String)
    } else {
        None
    }
}

/// Every value span in the recovered document, for finding what an error
/// at the end of an unclosed construct belongs to.
fn spans(table: &DeTable<'_>, out: &mut Vec<Range<usize>>) {
    for (_, v) in table.iter() {
        value_spans(v, out);
    }
}

fn value_spans(v: &Spanned<DeValue<'_>>, out: &mut Vec<Range<usize>>) {
    out.push(v.span());
    match v.get_ref() {
        DeValue::Array(a) => a.iter().for_each(|x| value_spans(x, out)),
        DeValue::Table(t) => spans(t, out),
        _ => {}
    }
}

/// The syntax errors to report, as (byte offset, message), in file order.
pub(crate) fn errors(text: &str, doc: &DeTable<'_>, errors: &[toml::de::Error]) -> Vec<(usize, String)> {
    let mut all_spans = Vec::new();
    spans(doc, &mut all_spans);
    let opener_of = |end: usize, open: &[&str]| -> Option<Range<usize>> {
        // The innermost value that ends where the error is and starts with
        // the opening token.
        all_spans
            .iter()
            .filter(|s| s.end == end && s.start < end)
            .filter(|s| open.iter().any(|o| text[s.start..].starts_with(o)))
            .max_by_key(|s| s.start)
            .cloned()
    };
    struct Found {
        at: usize,
        /// The region whose other errors are consequences of this one.
        region: Range<usize>,
        kind: Option<Unclosed>,
        message: String,
    }
    let mut found: Vec<Found> = Vec::new();
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message();
        let kind = classify(msg);
        let f = match kind {
            Some(Unclosed::String) => {
                let opener = opener_of(span.end, &["\"", "'"]);
                let at = opener.as_ref().map_or(span.start, |r| r.start);
                let quote = text[at..].chars().next().filter(|c| *c == '"' || *c == '\'');
                let quote = quote.map_or_else(
                    || {
                        if msg.contains("literal") {
                            "'".to_string()
                        } else {
                            "\"".to_string()
                        }
                    },
                    String::from,
                );
                let (what, quotes) = if msg.contains("multi-line") {
                    ("multi-line string", quote.repeat(3))
                } else {
                    ("string", quote)
                };
                Found {
                    at,
                    region: at..span.end,
                    kind,
                    message: format!("unclosed {what}: this `{quotes}` has no closing `{quotes}`"),
                }
            }
            Some(k @ (Unclosed::Array | Unclosed::InlineTable)) => {
                let (name, open, close) = if k == Unclosed::Array {
                    ("array", "[", "]")
                } else {
                    ("inline table", "{", "}")
                };
                match opener_of(span.end, &[open]) {
                    Some(r) => Found {
                        at: r.start,
                        region: r.clone(),
                        kind,
                        message: format!("unclosed {name}: this `{open}` has no matching `{close}`"),
                    },
                    None => Found {
                        at: span.start,
                        region: span.clone(),
                        kind,
                        message: format!("unclosed {name}: missing `{close}`"),
                    },
                }
            }
            None => {
                let message = if msg == "duplicate key" {
                    let key = text.get(span.clone()).unwrap_or("").trim();
                    format!("duplicate key `{key}`")
                } else if msg.starts_with("unclosed table,") {
                    "unclosed table header: missing `]`".to_string()
                } else if msg.starts_with("unclosed array table,") {
                    "unclosed array-of-tables header: missing `]]`".to_string()
                } else {
                    msg.to_string()
                };
                let mut at = span.start;
                if msg.starts_with("unclosed table,") || msg.starts_with("unclosed array table,") {
                    // Point at the header's `[`, at the start of its line.
                    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
                    let indent = text[line_start..].len() - text[line_start..].trim_start().len();
                    at = line_start + indent;
                }
                Found {
                    at,
                    region: at..at,
                    kind: None,
                    message,
                }
            }
        };
        found.push(f);
    }
    // An unclosed container that holds an unclosed string is that string's
    // doing; of nested unclosed containers the innermost is the culprit.
    let strings: Vec<usize> = found
        .iter()
        .filter(|f| f.kind == Some(Unclosed::String))
        .map(|f| f.at)
        .collect();
    let containers: Vec<Range<usize>> = found
        .iter()
        .filter(|f| matches!(f.kind, Some(Unclosed::Array | Unclosed::InlineTable)))
        .map(|f| f.region.clone())
        .collect();
    let mut keep: Vec<&Found> = Vec::new();
    for f in &found {
        let inside = |r: &Range<usize>| r.start < f.at && f.at <= r.end;
        let suppressed = match f.kind {
            Some(Unclosed::String) => false,
            Some(_) => {
                strings.iter().any(|s| f.region.start < *s && *s <= f.region.end)
                    || containers
                        .iter()
                        .any(|c| *c != f.region && f.region.start < c.start && c.end <= f.region.end)
            }
            None => {
                containers.iter().any(inside)
                    || found
                        .iter()
                        .filter(|s| s.kind == Some(Unclosed::String))
                        .any(|s| s.at < f.at && f.at <= s.region.end)
            }
        };
        if !suppressed {
            keep.push(f);
        }
    }
    keep.sort_by_key(|f| f.at);
    keep.dedup_by(|a, b| a.at == b.at);
    // One error per line: the first; the others on it are usually its echoes.
    let index = LineIndex::new(text);
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut last_line = 0;
    for f in keep {
        let line = index.line_col(f.at).0;
        if line != last_line {
            out.push((f.at, f.message.clone()));
            last_line = line;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> Vec<(usize, String)> {
        let (doc, errs) = DeTable::parse_recoverable(text);
        errors(text, doc.get_ref(), &errs)
    }

    #[test]
    fn cascades_are_folded_into_their_cause() {
        // toml reports five errors here; the cause is the `[` at offset 4.
        let r = report("a = [1, 2\nb = 3\n");
        assert_eq!(
            r,
            vec![(4, "unclosed array: this `[` has no matching `]`".to_string())]
        );
        let r = report("a = [\"x\", \"y\nb=1\n");
        assert_eq!(
            r,
            vec![(10, "unclosed string: this `\"` has no closing `\"`".to_string())]
        );
    }
}
