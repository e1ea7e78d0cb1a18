//! The token stream as keepalived reads it: statements (a keyword and its
//! values, up to the end of a line or a brace), each with the block that a
//! `{` after it opens, on its line or a later one.

use super::lex::{Tok, Word};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stmt {
    pub key: Word,
    pub args: Vec<Word>,
    pub block: Option<Block>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// Where its `{` is.
    pub open: usize,
    pub stmts: Vec<Stmt>,
}

impl Stmt {
    /// The statement's first value.
    pub(crate) fn arg(&self, i: usize) -> Option<&Word> {
        self.args.get(i)
    }
}

/// The statements of the stream, and errors (offset, message) for braces
/// that do not balance.
pub(crate) fn build(toks: Vec<Tok>) -> (Vec<Stmt>, Vec<(usize, String)>) {
    let mut errors = Vec::new();
    // The blocks being read: the top level first.
    let mut stack: Vec<(usize, Vec<Stmt>)> = vec![(0, Vec::new())];
    let mut words: Vec<Word> = Vec::new();
    for tok in toks {
        match tok {
            Tok::Word(w) => words.push(w),
            Tok::End => end_statement(&mut stack, &mut words),
            Tok::Open(at) => {
                end_statement(&mut stack, &mut words);
                let open_to = stack
                    .last()
                    .and_then(|(_, s)| s.last())
                    .is_some_and(|s| s.block.is_none());
                if !open_to {
                    errors.push((
                        at,
                        "`{` with no keyword before it to open a block for".to_string(),
                    ));
                }
                stack.push((at, Vec::new()));
            }
            Tok::Close(at) => {
                end_statement(&mut stack, &mut words);
                if stack.len() == 1 {
                    errors.push((at, "`}` closes no block: the braces do not balance".to_string()));
                    continue;
                }
                close(&mut stack);
            }
        }
    }
    end_statement(&mut stack, &mut words);
    while stack.len() > 1 {
        let open = stack.last().map_or(0, |(at, _)| *at);
        errors.push((
            open,
            "this `{` is never closed: the braces do not balance".to_string(),
        ));
        close(&mut stack);
    }
    let top = stack.pop().map(|(_, s)| s).unwrap_or_default();
    (top, errors)
}

fn end_statement(stack: &mut [(usize, Vec<Stmt>)], words: &mut Vec<Word>) {
    let mut it = std::mem::take(words).into_iter();
    if let Some(key) = it.next() {
        let stmts = &mut stack.last_mut().expect("the top level is never popped").1;
        stmts.push(Stmt {
            key,
            args: it.collect(),
            block: None,
        });
    }
}

/// Ends the innermost block: it becomes its keyword's (or, after an error,
/// its statements are kept in the enclosing block).
fn close(stack: &mut Vec<(usize, Vec<Stmt>)>) {
    let (open, stmts) = stack.pop().expect("a block is open");
    let outer = &mut stack.last_mut().expect("the top level is never popped").1;
    match outer.last_mut() {
        Some(owner) if owner.block.is_none() => owner.block = Some(Block { open, stmts }),
        _ => outer.extend(stmts),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::lex::lex;
    use super::super::source::MemFiles;
    use super::*;

    fn build_text(text: &str) -> (Vec<Stmt>, Vec<(usize, String)>) {
        let l = lex(&MemFiles::with(&[("/k.conf", text)]), Path::new("/k.conf"), "x");
        build(l.toks)
    }

    #[test]
    fn blocks_belong_to_the_keyword_before_them() {
        let (stmts, errs) =
            build_text("vrrp_instance VI_1\n{\n  track_script { a\n b }\n  state MASTER\n}\nnext\n");
        assert_eq!(errs, []);
        assert_eq!(stmts.len(), 2);
        let b = stmts[0].block.as_ref().unwrap();
        assert_eq!(b.stmts[0].key.text, "track_script");
        let inner: Vec<&str> = b.stmts[0]
            .block
            .as_ref()
            .unwrap()
            .stmts
            .iter()
            .map(|s| s.key.text.as_str())
            .collect();
        assert_eq!(inner, ["a", "b"]);
        assert_eq!(b.stmts[1].args[0].text, "MASTER");
    }

    #[test]
    fn unbalanced_braces_are_errors_where_they_are() {
        let (_, errs) = build_text("a {\n}\n}\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].1.contains("closes no block"));
        assert_eq!(errs[0].0, 6);
        let (stmts, errs) = build_text("a {\n b {\n}\nc\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].1.contains("never closed"));
        assert_eq!(errs[0].0, 2);
        assert_eq!(stmts.len(), 1);
        let (_, errs) = build_text("{ x }\na { } { }\n");
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.1.contains("no keyword before it")));
    }
}
