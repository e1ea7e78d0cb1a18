//! keepalived's preprocessor and tokenizer: files and their includes in,
//! one stream of words and braces out, each word with the offset it came
//! from (a word made by a parameter comes from the `$` that named it).
//!
//! Per physical line, in keepalived's order: a `\` continues a multi-line
//! definition; comments (`!`, `#`, not inside `"`) go; an `@ID` line is
//! kept (without the `@ID`) only when ID is the config id (`@^ID`: when it
//! is not); `$NAME=VALUE` defines; `~SEQ(..)` and `~LST(..)` repeat the rest
//! of the line; `$NAME` and `${NAME}` are replaced (again and again, at use,
//! not at definition); `include PATTERN` reads the files it matches (`*`,
//! `?`, `[..]` and `{a,b}`), relative to the including file's directory.
//! Then the words: split at blanks; `"` quotes (the quotes go, the blanks
//! stay, `ab" c"d` is one word `ab cd`); an unquoted `{` or `}` is a token
//! of its own, so `track_script { chk }` is four.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::source::{Files, MAX_PATTERNS, Sources, expand_braces};

/// A character and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ch {
    c: char,
    at: usize,
}

type Text = Vec<Ch>;

/// Separates the lines of a multi-line definition's value.
const LINE_SEP: char = '\n';

/// How deep includes, `~SEQ`/`~LST` and substitutions may nest.
const MAX_DEPTH: usize = 32;
/// How many tokens the expansions may make in all (a runaway `~SEQ` is an
/// error, not an out-of-memory).
const MAX_TOKENS: usize = 4_000_000;
/// How many characters the preprocessor may handle and make in all: without
/// it `$B=${B}${B}` doubles at each of the MAX_DEPTH levels (2^32 copies),
/// and nested `~SEQ`s over lines that make no word never reach MAX_TOKENS.
/// Smaller under the fuzzer, so an input that reaches it stays cheap.
#[allow(unexpected_cfgs)]
const MAX_WORK: usize = if cfg!(fuzzing) { 1 << 16 } else { 1 << 24 };

/// A word of the config, after quoting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// Offset of its first character (in [`Sources`]' space).
    pub at: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(Word),
    /// An unquoted `{`, at this offset.
    Open(usize),
    /// An unquoted `}`.
    Close(usize),
    /// The end of a line: the words since the last end, brace or start are
    /// one statement.
    End,
}

/// What reading a keepalived.conf gave.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    pub sources: Sources,
    pub toks: Vec<Tok>,
    /// (offset, message), in the order found.
    pub errors: Vec<(usize, String)>,
}

/// A `$NAME` definition.
#[derive(Clone, Debug)]
struct Def {
    value: Text,
}

struct Lexer<'f> {
    files: &'f dyn Files,
    config_id: String,
    out: Lexed,
    defs: HashMap<String, Def>,
    /// The files being read, innermost last (for `${_PWD}` and cycles).
    stack: Vec<PathBuf>,
    /// The definition whose continuation lines are being read.
    multiline: Option<String>,
    over: bool,
    /// Characters handled so far, against MAX_WORK.
    work: usize,
}

/// Reads `path` and everything it includes. `config_id` is what `@ID`
/// lines are compared with (keepalived's `-i`, default the host name up to
/// its first dot).
pub(crate) fn lex(files: &dyn Files, path: &Path, config_id: &str) -> Lexed {
    let mut lx = Lexer {
        files,
        config_id: config_id.to_string(),
        out: Lexed::default(),
        defs: HashMap::new(),
        stack: Vec::new(),
        multiline: None,
        over: false,
        work: 0,
    };
    match files.read(path) {
        Ok(text) => lx.file(path.to_path_buf(), text),
        Err(e) => {
            lx.out.sources.add(path.to_path_buf(), String::new());
            lx.out
                .errors
                .push((0, format!("cannot read {}: {e}", path.display())));
        }
    }
    lx.out
}

impl Lexer<'_> {
    fn error(&mut self, at: usize, message: impl Into<String>) {
        self.out.errors.push((at, message.into()));
    }

    fn file(&mut self, path: PathBuf, text: String) {
        let index = self.out.sources.add(path.clone(), text);
        self.stack.push(path);
        let src = self.out.sources.get(index);
        let base = src.base;
        // Lines with their offsets; copied out so the sources can grow.
        let lines: Vec<(usize, String)> = line_spans(&src.text)
            .map(|(start, line)| (base + start, line.to_string()))
            .collect();
        for (at, line) in lines {
            if self.over {
                break;
            }
            let text: Text = line.char_indices().map(|(i, c)| Ch { c, at: at + i }).collect();
            self.physical_line(text);
        }
        self.multiline = None;
        self.stack.pop();
    }

    fn physical_line(&mut self, line: Text) {
        let mut line = decomment(&line);
        if let Some(name) = self.multiline.clone() {
            let more = line.last().is_some_and(|c| c.c == '\\');
            if more {
                line.pop();
                trim_end(&mut line);
            }
            let def = self
                .defs
                .get_mut(&name)
                .expect("a multi-line definition is defined");
            if !line.is_empty() {
                if !def.value.is_empty() {
                    let at = line[0].at;
                    def.value.push(Ch { c: LINE_SEP, at });
                }
                def.value.extend(line);
            }
            if !more {
                self.multiline = None;
            }
            return;
        }
        if !line.is_empty() {
            self.logical_line(line, 0);
        }
    }

    /// One line after comments: conditionals, definitions, sequences,
    /// substitution, include, words.
    fn logical_line(&mut self, line: Text, depth: usize) {
        if !self.charge(line.first().map_or(0, |c| c.at), line.len() + 1) {
            return;
        }
        if depth > MAX_DEPTH {
            let at = line.first().map_or(0, |c| c.at);
            self.error(
                at,
                "parameter substitution does not end (does a definition use itself?)",
            );
            return;
        }
        let Some(mut line) = self.conditional(line) else {
            return;
        };
        trim_start(&mut line);
        if line.is_empty() {
            return;
        }
        if line[0].c == '$' && self.definition(&line) {
            return;
        }
        if starts_with(&line, "~SEQ") || starts_with(&line, "~LST") {
            self.repeat(line, depth);
            return;
        }
        if let Some(pieces) = self.substitute(&line) {
            // No decommenting again: `${_HASH}` is a `#` that stays.
            for piece in pieces {
                self.logical_line(piece, depth + 1);
            }
            return;
        }
        if self.include(&line) {
            return;
        }
        self.words(&line);
    }

    /// Counts `n` more characters of work; false (after one error) once
    /// the whole exceeds MAX_WORK, or the tokens MAX_TOKENS.
    fn charge(&mut self, at: usize, n: usize) -> bool {
        self.work += n;
        if self.work > MAX_WORK && !self.over {
            self.over = true;
            self.error(
                at,
                format!("the config expands to more than {MAX_WORK} characters"),
            );
        }
        !self.over
    }

    /// `@ID rest`: the rest when ID is the config id (`@^ID`: when not).
    fn conditional(&self, line: Text) -> Option<Text> {
        if line.first().map(|c| c.c) != Some('@') {
            return Some(line);
        }
        let negate = line.get(1).map(|c| c.c) == Some('^');
        let start = if negate { 2 } else { 1 };
        let end = line.iter().position(|c| c.c == ' ' || c.c == '\t')?;
        let id: String = line[start..end.max(start)].iter().map(|c| c.c).collect();
        ((id == self.config_id) != negate).then(|| line[end..].to_vec())
    }

    /// `$NAME=VALUE`: true when it is one (and it is recorded).
    fn definition(&mut self, line: &Text) -> bool {
        let name_len = line[1..]
            .iter()
            .take_while(|c| c.c.is_ascii_alphanumeric() || c.c == '_')
            .count();
        let eq = 1 + name_len;
        if name_len == 0 || line[1].c.is_ascii_digit() || line.get(eq).map(|c| c.c) != Some('=') {
            return false;
        }
        let name: String = line[1..eq].iter().map(|c| c.c).collect();
        let mut value = line[eq + 1..].to_vec();
        trim_start(&mut value);
        let more = value.last().is_some_and(|c| c.c == '\\');
        if more {
            value.pop();
            trim_end(&mut value);
        }
        if more {
            self.multiline = Some(name.clone());
        }
        self.defs.insert(name, Def { value });
        true
    }

    /// `~SEQ(VAR, START, STEP, END) rest` / `~LST(VAR, V1, V2..) rest`: the
    /// rest once per value, with `$VAR` set to it.
    fn repeat(&mut self, line: Text, depth: usize) {
        let at = line[0].at;
        let Some(close) = matching_paren(&line) else {
            self.error(at, "~SEQ/~LST without its closing `)`");
            return;
        };
        let spec: String = line[5..close].iter().map(|c| c.c).collect();
        let mut rest = line[close + 1..].to_vec();
        trim_start(&mut rest);
        // Each value costs the rest of the line: nested ~SEQs must not make
        // a million values per value of the outer one before the budget
        // sees any of it.
        let per_value = rest.len() + 1;
        let left = (MAX_WORK.saturating_sub(self.work) / per_value).max(1);
        let bindings = if starts_with(&line, "~SEQ(") || starts_with(&line, "~SEQx(") {
            let hex = line.get(4).map(|c| c.c) == Some('x');
            let spec = if hex { &spec[1..] } else { &spec[..] };
            seq_bindings(spec, hex, left.min(1_000_000))
        } else if starts_with(&line, "~LST(") {
            lst_bindings(&spec)
        } else {
            Err("expected ~SEQ(VAR, START, STEP, END), ~SEQx(..) or ~LST(VAR, V1, V2, ..)".to_string())
        };
        let bindings = match bindings {
            Ok(b) => b,
            Err(why) => {
                self.error(at, why);
                return;
            }
        };
        if !self.charge(at, bindings.len() * per_value) {
            return;
        }
        for binding in bindings {
            if self.over {
                return;
            }
            for (name, value) in binding {
                let value = value.chars().map(|c| Ch { c, at }).collect();
                self.defs.insert(name, Def { value });
            }
            self.logical_line(rest.clone(), depth + 1);
        }
    }

    /// The line with its defined parameters replaced, split into its lines
    /// (a multi-line value makes several); `None` when it names none.
    fn substitute(&mut self, line: &Text) -> Option<Vec<Text>> {
        if !line.iter().any(|c| c.c == '$') {
            return None;
        }
        let mut out = Text::new();
        let mut changed = false;
        let mut i = 0;
        while i < line.len() {
            if line[i].c == '$'
                && let Some((value, len)) = self.reference(line, i)
            {
                let at = line[i].at;
                if !self.charge(at, value.len()) {
                    return Some(Vec::new());
                }
                out.extend(value.iter().map(|c| Ch { c: c.c, at }));
                i += len;
                changed = true;
                continue;
            }
            out.push(line[i]);
            i += 1;
        }
        changed.then(|| out.split(|c| c.c == LINE_SEP).map(<[Ch]>::to_vec).collect())
    }

    /// The value of the reference at `line[i]` (a `$`) and its length.
    fn reference(&self, line: &Text, i: usize) -> Option<(Text, usize)> {
        let braced = line.get(i + 1).map(|c| c.c) == Some('{');
        let start = i + 1 + usize::from(braced);
        let len = line[start..]
            .iter()
            .take_while(|c| c.c.is_ascii_alphanumeric() || c.c == '_')
            .count();
        let end = start + len;
        if len == 0 {
            return None;
        }
        if braced {
            if line.get(end).map(|c| c.c) != Some('}') {
                return None;
            }
        } else if line.get(end).is_some_and(|c| c.c != ' ' && c.c != '\t') {
            return None;
        }
        let name: String = line[start..end].iter().map(|c| c.c).collect();
        let value = self.value_of(&name, line[i].at)?;
        Some((value, end - i + usize::from(braced)))
    }

    fn value_of(&self, name: &str, at: usize) -> Option<Text> {
        let text = |s: &str| s.chars().map(|c| Ch { c, at }).collect::<Text>();
        match name {
            "_PWD" => {
                let dir = self
                    .stack
                    .last()
                    .and_then(|p| p.parent())
                    .unwrap_or(Path::new("."));
                // Absolute, as keepalived's (it is where scripts are found).
                let dir = match std::env::current_dir() {
                    Ok(cwd) if dir.is_relative() => normalize(&cwd.join(dir)),
                    _ => normalize(dir),
                };
                Some(text(&dir.display().to_string()))
            }
            "_INSTANCE" => Some(text(&self.config_id)),
            // Characters that would otherwise start a comment.
            "_HASH" => Some(vec![Ch { c: '#', at }]),
            "_BANG" => Some(vec![Ch { c: '!', at }]),
            _ => self.defs.get(name).map(|d| d.value.clone()),
        }
    }

    /// `include PATTERN`: true when the line is one (its files are read).
    fn include(&mut self, line: &Text) -> bool {
        let words = split_words(line);
        let Some((first, _)) = words.first() else {
            return false;
        };
        if !matches!(
            first.text.as_str(),
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
        ) {
            return false;
        }
        let kw_at = first.at;
        let Some((pattern, _)) = words.get(1) else {
            self.error(kw_at, "include: expected a file name or pattern");
            return true;
        };
        if let Some((extra, _)) = words.get(2) {
            self.error(
                extra.at,
                format!(
                    "include takes one file name or pattern, not also `{}`",
                    extra.text
                ),
            );
        }
        if self.stack.len() > MAX_DEPTH {
            self.error(
                pattern.at,
                "include: too deeply nested (does a file include itself?)",
            );
            return true;
        }
        let dir = self
            .stack
            .last()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut matched = Vec::new();
        let Some(alternatives) = expand_braces(&pattern.text) else {
            let msg = format!(
                "include `{}`: its braces expand to more than {MAX_PATTERNS} patterns",
                pattern.text
            );
            self.error(pattern.at, msg);
            return true;
        };
        for alt in alternatives {
            let full = normalize(&if Path::new(&alt).is_absolute() {
                PathBuf::from(&alt)
            } else {
                dir.join(&alt)
            });
            match self.files.glob(&full.to_string_lossy()) {
                Ok(found) => matched.extend(found),
                Err(why) => self.error(pattern.at, format!("include `{}`: {why}", pattern.text)),
            }
        }
        if matched.is_empty() {
            let msg = format!(
                "include `{}` matches no file (in {})",
                pattern.text,
                dir.display()
            );
            self.error(pattern.at, msg);
        }
        for path in matched {
            if self.stack.contains(&path) {
                self.error(
                    pattern.at,
                    format!("include `{}`: {} includes itself", pattern.text, path.display()),
                );
                continue;
            }
            match self.files.read(&path) {
                Ok(text) => self.file(path, text),
                Err(e) => self.error(
                    pattern.at,
                    format!("include: cannot read {}: {e}", path.display()),
                ),
            }
        }
        true
    }

    /// The line's words and braces.
    fn words(&mut self, line: &Text) {
        let toks = &mut self.out.toks;
        let mut word = String::new();
        let mut word_at = None;
        let mut quote: Option<usize> = None;
        let flush = |toks: &mut Vec<Tok>, word: &mut String, word_at: &mut Option<usize>| {
            if let Some(at) = word_at.take() {
                toks.push(Tok::Word(Word {
                    text: std::mem::take(word),
                    at,
                }));
            }
        };
        for (i, ch) in line.iter().enumerate() {
            match ch.c {
                '"' => {
                    word_at.get_or_insert(ch.at);
                    quote = if quote.is_some() { None } else { Some(ch.at) };
                }
                _ if quote.is_some() => word.push(ch.c),
                ' ' | '\t' | '\r' => flush(toks, &mut word, &mut word_at),
                // `${NAME}` left by an undefined parameter is a word, not braces.
                '{' if i > 0 && line[i - 1].c == '$' => word.push('{'),
                '}' if word.contains("${") && !word.ends_with('}') => word.push('}'),
                '{' | '}' => {
                    flush(toks, &mut word, &mut word_at);
                    toks.push(if ch.c == '{' {
                        Tok::Open(ch.at)
                    } else {
                        Tok::Close(ch.at)
                    });
                }
                c => {
                    word_at.get_or_insert(ch.at);
                    word.push(c);
                }
            }
        }
        if let Some(at) = quote {
            self.out
                .errors
                .push((at, "this quote is not closed on its line".to_string()));
        }
        flush(toks, &mut word, &mut word_at);
        toks.push(Tok::End);
        if toks.len() > MAX_TOKENS {
            self.over = true;
            self.out.errors.push((
                line[0].at,
                format!("the config expands to more than {MAX_TOKENS} words"),
            ));
        }
    }
}

/// `a/b/../c` as `a/c`, without asking the file system (for messages and
/// for telling a file that includes itself).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// A file's lines, without their `\n` or `\r\n`, with their start offsets.
fn line_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let at = start;
        start += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (at, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// The line without its comment and outer blanks. `!` and `#` start a
/// comment anywhere outside `"`; `\!` and `\#` outside quotes are the
/// characters themselves. A final `\` (a continuation) is kept.
fn decomment(line: &[Ch]) -> Text {
    let mut out = Text::new();
    let mut quoted = false;
    let mut i = 0;
    while i < line.len() {
        let ch = line[i];
        match ch.c {
            '"' => quoted = !quoted,
            '\\' if !quoted && matches!(line.get(i + 1).map(|c| c.c), Some('#' | '!')) => {
                out.push(line[i + 1]);
                i += 2;
                continue;
            }
            '!' | '#' if !quoted => break,
            _ => {}
        }
        out.push(ch);
        i += 1;
    }
    trim_start(&mut out);
    trim_end(&mut out);
    out
}

fn is_blank(c: &Ch) -> bool {
    matches!(c.c, ' ' | '\t' | '\r' | '\u{feff}')
}

fn trim_start(t: &mut Text) {
    let n = t.iter().take_while(|c| is_blank(c)).count();
    t.drain(..n);
}

fn trim_end(t: &mut Text) {
    while t.last().is_some_and(is_blank) {
        t.pop();
    }
}

fn starts_with(t: &[Ch], prefix: &str) -> bool {
    t.len() >= prefix.len() && t.iter().zip(prefix.chars()).all(|(a, b)| a.c == b)
}

/// Plain blank-separated words (for `include`), with no quoting.
fn split_words(t: &[Ch]) -> Vec<(Word, usize)> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if is_blank(&t[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < t.len() && !is_blank(&t[i]) {
            i += 1;
        }
        let text = t[start..i].iter().filter(|c| c.c != '"').map(|c| c.c).collect();
        words.push((
            Word {
                text,
                at: t[start].at,
            },
            start,
        ));
    }
    words
}

/// The index of the `)` closing the first `(`.
fn matching_paren(t: &[Ch]) -> Option<usize> {
    let open = t.iter().position(|c| c.c == '(')?;
    let mut depth = 0;
    for (i, c) in t.iter().enumerate().skip(open) {
        match c.c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

type Binding = Vec<(String, String)>;

fn var_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is no parameter name"))
    }
}

fn seq_number(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (neg, digits) = s.strip_prefix('-').map_or((false, s), |d| (true, d));
    let n = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .map_err(|_| format!("~SEQ: `{s}` is not a number"))?;
    Ok(if neg { -n } else { n })
}

/// `VAR, [START,] [STEP,] END`.
fn seq_bindings(spec: &str, hex: bool, max: usize) -> Result<Vec<Binding>, String> {
    let parts: Vec<&str> = spec.split(',').collect();
    let var = var_name(parts[0])?;
    let nums = parts[1..]
        .iter()
        .map(|p| seq_number(p))
        .collect::<Result<Vec<i64>, String>>()?;
    let (start, step, end) = match nums[..] {
        [end] => (if end < 0 { -1 } else { 1 }, if end < 0 { -1 } else { 1 }, end),
        [start, end] => (start, if end < start { -1 } else { 1 }, end),
        [start, step, end] => (start, step, end),
        _ => {
            return Err(
                "~SEQ takes a variable and one to three numbers: (VAR, START, STEP, END)".to_string(),
            );
        }
    };
    if step == 0 {
        return Err("~SEQ: a step of 0 never ends".to_string());
    }
    // In i128: `end - start` overflows i64 at its ends (and wrapped past this check).
    let count = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
    if count > max as i128 {
        return Err(format!(
            "~SEQ: {count} values are too many (the config may expand to {MAX_WORK} characters; {max} values are left)"
        ));
    }
    let mut out = Vec::new();
    let mut n = start;
    while (step > 0 && n <= end) || (step < 0 && n >= end) {
        let v = if hex { format!("{n:x}") } else { n.to_string() };
        out.push(vec![(var.clone(), v)]);
        // Stops at i64's end instead of overflowing (and wrapping: no end).
        let Some(next) = n.checked_add(step) else { break };
        n = next;
    }
    Ok(out)
}

/// `VAR, V1, V2, ..` or `{VAR1, VAR2}, {A1, A2}, {B1, B2}, ..`.
fn lst_bindings(spec: &str) -> Result<Vec<Binding>, String> {
    let groups = lst_groups(spec)?;
    let Some((vars, values)) = groups.split_first() else {
        return Err("~LST takes a variable and at least one value".to_string());
    };
    let vars = vars.iter().map(|v| var_name(v)).collect::<Result<Vec<_>, _>>()?;
    if values.is_empty() {
        return Err("~LST takes at least one value".to_string());
    }
    values
        .iter()
        .map(|vals| {
            if vals.len() != vars.len() {
                return Err(format!(
                    "~LST: {} values for {} variables",
                    vals.len(),
                    vars.len()
                ));
            }
            Ok(vars
                .iter()
                .cloned()
                .zip(vals.iter().map(|v| v.trim().to_string()))
                .collect())
        })
        .collect()
}

/// The comma-separated items of a ~LST, each `{a, b}` group as several.
fn lst_groups(spec: &str) -> Result<Vec<Vec<String>>, String> {
    let mut groups = Vec::new();
    let mut rest = spec.trim();
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('{') {
            let close = inner.find('}').ok_or("~LST: a `{` group is not closed")?;
            groups.push(inner[..close].split(',').map(str::to_string).collect());
            rest = inner[close + 1..].trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            groups.push(vec![rest[..end].to_string()]);
            rest = rest[end..].strip_prefix(',').unwrap_or("").trim_start();
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::super::source::MemFiles;
    use super::super::tree;
    use super::*;

    /// Each statement as its words, braces as `{` and `}`.
    fn render(toks: &[Tok]) -> Vec<String> {
        let mut out = Vec::new();
        let mut line = Vec::new();
        let flush = |line: &mut Vec<String>, out: &mut Vec<String>| {
            if !line.is_empty() {
                out.push(line.join(" "));
                line.clear();
            }
        };
        for t in toks {
            match t {
                Tok::Word(w) => line.push(w.text.clone()),
                Tok::End => flush(&mut line, &mut out),
                Tok::Open(_) | Tok::Close(_) => {
                    flush(&mut line, &mut out);
                    out.push(if matches!(t, Tok::Open(_)) { "{" } else { "}" }.to_string());
                }
            }
        }
        flush(&mut line, &mut out);
        out
    }

    fn lexed(files: &[(&str, &str)], id: &str) -> Lexed {
        lex(&MemFiles::with(files), Path::new("/k/keepalived.conf"), id)
    }

    fn words(text: &str) -> Vec<String> {
        let l = lexed(&[("/k/keepalived.conf", text)], "lb01");
        assert_eq!(l.errors, [], "{text}");
        render(&l.toks)
    }

    fn errors(text: &str) -> Vec<String> {
        let l = lexed(&[("/k/keepalived.conf", text)], "lb01");
        l.errors.into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn comments_go_anywhere_but_inside_quotes() {
        let text = "! a comment\n# another\nvrrp_instance VI_1 { # after a brace\n  state MASTER ! after a value\n  \
                    auth_pass \"a#b!c\"#\n  x \\#y\n}\n";
        assert_eq!(
            words(text),
            [
                "vrrp_instance VI_1",
                "{",
                "state MASTER",
                "auth_pass a#b!c",
                "x #y",
                "}"
            ]
        );
    }

    #[test]
    fn quotes_keep_blanks_and_go() {
        assert_eq!(
            words("script \"killall -0 nginx\"\n"),
            ["script killall -0 nginx"]
        );
        let l = lexed(&[("/k/keepalived.conf", "a abcd\" efg h jkl \"mnop \"\"\n")], "x");
        let w: Vec<&str> = l
            .toks
            .iter()
            .filter_map(|t| {
                if let Tok::Word(w) = t {
                    Some(w.text.as_str())
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(w, ["a", "abcd efg h jkl mnop", ""]);
        assert_eq!(words("notify \"/bin/x {a}\"\n"), ["notify /bin/x {a}"]);
    }

    #[test]
    fn braces_split_lines_and_may_stand_alone() {
        assert_eq!(words("track_script { chk }"), ["track_script", "{", "chk", "}"]);
        assert_eq!(
            words("vrrp_instance VI_1\n{\n\tstate MASTER\n}\n"),
            ["vrrp_instance VI_1", "{", "state MASTER", "}"]
        );
        assert_eq!(words("a{b}c"), ["a", "{", "b", "}", "c"]);
    }

    #[test]
    fn line_endings_tabs_and_utf8_are_plain_text() {
        let text = "global_defs {\r\n\trouter_id\tlb01\r\n} # 注释：路由标识\r\nvrrp_instance VI_1 {}";
        assert_eq!(
            words(text),
            [
                "global_defs",
                "{",
                "router_id lb01",
                "}",
                "vrrp_instance VI_1",
                "{",
                "}"
            ]
        );
        assert_eq!(words("\u{feff}router_id x"), ["router_id x"]);
    }

    #[test]
    fn conditional_lines_match_the_config_id() {
        let text =
            "@lb01 priority 150\n@lb02 priority 100\n@^lb01 state BACKUP\n@^lb02 state MASTER\n@lb01\n";
        assert_eq!(words(text), ["priority 150", "state MASTER"]);
    }

    #[test]
    fn parameters_are_replaced_at_use() {
        let text = "$BASE=192.0.2.${SUB}\n$SUB=1\nvip ${BASE}0/24\n$SUB=2\nvip ${BASE}0/24\n$P=150\npriority $P\n\
                    x $P_NOT ${UNDEFINED}y \"$1\"\n$EMPTY=\na${EMPTY}b\n";
        assert_eq!(
            words(text),
            [
                "vip 192.0.2.10/24",
                "vip 192.0.2.20/24",
                "priority 150",
                "x $P_NOT ${UNDEFINED}y $1",
                "ab"
            ]
        );
        assert_eq!(
            words("$IF_MAIN=@lb01\n$IF_MAIN priority 240\n$NOT=@lb02\n$NOT priority 1\n"),
            ["priority 240"]
        );
        assert_eq!(
            words("a ${_HASH}b ${_BANG}c ${_INSTANCE} ${_PWD}\n"),
            ["a #b !c lb01 /k"]
        );
    }

    #[test]
    fn multi_line_definitions_nest() {
        let text = "$INST= \\\nvrrp_instance VI_${NUM} { \\\n    virtual_router_id ${NUM} \\\n    $INNER \\\n}\n\
                    $INNER=priority 1${NUM}0\n$NUM=1\n$INST\n$NUM=2\n$INST\n";
        assert_eq!(
            words(text),
            [
                "vrrp_instance VI_1",
                "{",
                "virtual_router_id 1",
                "priority 110",
                "}",
                "vrrp_instance VI_2",
                "{",
                "virtual_router_id 2",
                "priority 120",
                "}",
            ]
        );
    }

    #[test]
    fn seq_and_lst_repeat_the_rest_of_the_line() {
        assert_eq!(
            words("~SEQ(N, 0, 3) ip 10.0.${N}.1\n"),
            ["ip 10.0.0.1", "ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]
        );
        assert_eq!(
            words("~SEQx(S, 0x90, 0x10, 0xc0) fe80::${S}:1\n"),
            ["fe80::90:1", "fe80::a0:1", "fe80::b0:1", "fe80::c0:1"]
        );
        assert_eq!(words("~SEQ(N, 3) n${N}\n"), ["n1", "n2", "n3"]);
        assert_eq!(words("~SEQ(N, 3, 1) n${N}\n"), ["n3", "n2", "n1"]);
        assert_eq!(
            words("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n"),
            ["192.168.10.1", "192.168.20.4"]
        );
        assert_eq!(
            words("~LST(A, x, y) ~LST(B, 1, 2) ${A}${B}\n"),
            ["x1", "x2", "y1", "y2"]
        );
        assert_eq!(
            words("~LST({A,B},{1,2}) ~SEQ(C,5,2,7) ${A}${B}${C}\n"),
            ["125", "127"]
        );
        for bad in [
            "~SEQ(N, 1, 0, 3) x\n",
            "~SEQ(1N, 3) x\n",
            "~SEQ(N, x) y\n",
            "~LST(A) x\n",
            "~SEQ(N, 3 x\n",
            "~LST({A,B},{1}) x\n",
        ] {
            assert_eq!(errors(bad).len(), 1, "{bad}");
        }
    }

    #[test]
    fn runaway_expansion_is_an_error() {
        assert!(errors("$A=x $A\n$A\n")[0].contains("does not end"));
        let big = "~SEQ(A, 1, 1000) ~SEQ(B, 1, 1000) ~SEQ(C, 1, 1000) w\n";
        assert!(errors(big).iter().any(|e| e.contains("more than")));
    }

    #[test]
    fn includes_glob_and_brace_relative_to_the_including_file() {
        let files = [
            (
                "/k/keepalived.conf",
                "include conf.d/*.conf\nvrrp_instance X {\n  include {a,b}.inc\n}\n",
            ),
            ("/k/conf.d/2.conf", "two\n"),
            ("/k/conf.d/1.conf", "one\ninclude ../sub/x\n"),
            ("/k/conf.d/skip.txt", "no\n"),
            ("/k/sub/x", "from_sub\n"),
            ("/k/a.inc", "state MASTER\n"),
            ("/k/b.inc", "priority 150\n"),
        ];
        let l = lexed(&files, "x");
        assert_eq!(l.errors, []);
        assert_eq!(
            render(&l.toks),
            [
                "one",
                "from_sub",
                "two",
                "vrrp_instance X",
                "{",
                "state MASTER",
                "priority 150",
                "}"
            ]
        );
        let (stmts, errs) = tree::build(l.toks);
        assert_eq!(errs, []);
        assert_eq!(stmts.last().unwrap().block.as_ref().unwrap().stmts.len(), 2);
        // Each word knows its file and line.
        let w = stmts.iter().find(|s| s.key.text == "from_sub").unwrap();
        assert_eq!(l.sources.locate(w.key.at), (PathBuf::from("/k/sub/x"), 1, 1));
    }

    #[test]
    fn an_include_that_matches_nothing_or_itself_is_an_error() {
        let l = lexed(&[("/k/keepalived.conf", "x\ninclude nothing/*.conf\n")], "x");
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].1.contains("matches no file"), "{:?}", l.errors);
        assert_eq!(
            l.sources.locate(l.errors[0].0),
            (PathBuf::from("/k/keepalived.conf"), 2, 9)
        );
        let l = lexed(&[("/k/keepalived.conf", "include keepalived.conf\n")], "x");
        assert!(l.errors[0].1.contains("includes itself"), "{:?}", l.errors);
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        assert_eq!(
            errors("script \"killall -0 nginx\n"),
            ["this quote is not closed on its line"]
        );
    }
}
