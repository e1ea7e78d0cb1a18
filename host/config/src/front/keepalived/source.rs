//! The files a keepalived.conf reads (the main one and its includes) and
//! where in them each offset is. Every file gets its own range of one offset
//! space, so a word keeps a single `usize` origin, as in the TOML front end,
//! whichever file it came from.

use std::io;
use std::path::{Path, PathBuf};

use crate::origin::LineIndex;

/// What the parser reads files through: the file system, or (in tests and
/// the fuzzer) a map of names to texts.
pub(crate) trait Files {
    /// The file's text; an error says why it cannot be read.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// The files matching a glob pattern (no braces: those are expanded
    /// before), sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String>;
    /// A key file's text (`auth_hmac`'s `key ID file:PATH`): from the disk,
    /// where it must be private.
    fn read_key(&self, path: &Path) -> Result<String, String> {
        crate::secret::read_private(path, crate::secret::KEEPALIVED_KEY_MAX)
    }
}

/// The real file system.
#[derive(Debug, Default)]
pub(crate) struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid UTF-8 at line {line}: a config file must be UTF-8 text"),
            )
        })
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let paths = glob::glob(pattern).map_err(|e| format!("bad pattern: {e}"))?;
        let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
        found.sort();
        Ok(found)
    }
}

/// One file read, at its range of the offset space.
#[derive(Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub base: usize,
    pub text: String,
}

/// Every file read, in the order read.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// Adds a file; returns its index. Its offsets start one past the end of
    /// the last file's, so an offset at a file's very end is still its own.
    pub(crate) fn add(&mut self, path: PathBuf, text: String) -> usize {
        let base = self.files.last().map_or(0, |f| f.base + f.text.len() + 1);
        self.files.push(Source { path, base, text });
        self.files.len() - 1
    }

    /// The files read (the main one first), each once.
    pub(crate) fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for f in &self.files {
            if !out.contains(&f.path) {
                out.push(f.path.clone());
            }
        }
        out
    }

    pub(crate) fn get(&self, index: usize) -> &Source {
        &self.files[index]
    }

    /// The file an offset is in, and the offset within it.
    fn file_of(&self, at: usize) -> Option<(&Source, usize)> {
        let i = self.files.partition_point(|f| f.base <= at).checked_sub(1)?;
        let f = &self.files[i];
        Some((f, (at - f.base).min(f.text.len())))
    }

    /// The file, 1-based line and column (in characters) of an offset.
    pub(crate) fn locate(&self, at: usize) -> (PathBuf, usize, usize) {
        match self.file_of(at) {
            Some((f, off)) => {
                let (line, col) = LineIndex::new(&f.text).line_col(off);
                (f.path.clone(), line, col)
            }
            None => (PathBuf::new(), 1, 1),
        }
    }

    /// The 1-based line of an offset in its file.
    pub(crate) fn line(&self, at: usize) -> usize {
        self.locate(at).1
    }
}

/// Most patterns one `include` may expand to: `{a,b}` repeated doubles
/// them each time.
pub(crate) const MAX_PATTERNS: usize = 256;

/// Expands csh-style braces: `a{b,c{d,e}}f` gives `abf`, `acdf`, `acef`. A
/// brace without a comma, or unbalanced, is kept as it is (glob() does so).
/// `None` past [`MAX_PATTERNS`].
pub(crate) fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let mut budget = MAX_PATTERNS;
    expand(pattern, &mut budget)
}

fn expand(pattern: &str, budget: &mut usize) -> Option<Vec<String>> {
    // Every call is at least one pattern's work.
    *budget = budget.checked_sub(1)?;
    let bytes = pattern.as_bytes();
    let Some(open) = bytes.iter().position(|&b| b == b'{') else {
        return Some(vec![pattern.to_string()]);
    };
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let (head, rest) = pattern.split_at(open);
    let Some(close) = close.filter(|_| !commas.is_empty()) else {
        // Not an alternation: keep this brace, expand what follows it.
        return Some(
            expand(&rest[1..], budget)?
                .into_iter()
                .map(|t| format!("{head}{{{t}"))
                .collect(),
        );
    };
    let tail = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &pattern[w[0] + 1..w[1]];
        for t in expand(&format!("{alt}{tail}"), budget)? {
            out.push(format!("{head}{t}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_name_their_file_line_and_column() {
        let mut s = Sources::default();
        s.add("a.conf".into(), "x\nyz\n".into());
        s.add("b.conf".into(), "é1\n".into());
        assert_eq!(s.locate(0), (PathBuf::from("a.conf"), 1, 1));
        assert_eq!(s.locate(3), (PathBuf::from("a.conf"), 2, 2));
        // The end of a.conf (offset 5) is still a.conf's; b.conf starts at 6.
        assert_eq!(s.locate(5).0, PathBuf::from("a.conf"));
        assert_eq!(s.locate(6), (PathBuf::from("b.conf"), 1, 1));
        assert_eq!(s.locate(8), (PathBuf::from("b.conf"), 1, 2));
    }

    #[test]
    fn braces_expand_like_csh() {
        assert_eq!(expand_braces("a{b,c}d").unwrap(), ["abd", "acd"]);
        assert_eq!(
            expand_braces("{foo/{,cat,dog},bar}").unwrap(),
            ["foo/", "foo/cat", "foo/dog", "bar"]
        );
        assert_eq!(
            expand_braces("x{1,2}{a,b}").unwrap(),
            ["x1a", "x1b", "x2a", "x2b"]
        );
        assert_eq!(expand_braces("plain").unwrap(), ["plain"]);
        assert_eq!(expand_braces("a{b}c").unwrap(), ["a{b}c"]);
        assert_eq!(expand_braces("a{b,c").unwrap(), ["a{b,c"]);
        assert_eq!(expand_braces("{}{x,y}").unwrap(), ["{}x", "{}y"]);
        // Doubling at each `{a,b}`: refused past the budget, not after 2^25.
        assert_eq!(expand_braces(&"{a,b}".repeat(7)).map(|v| v.len()), Some(128));
        assert_eq!(expand_braces(&"{a,b}".repeat(25)), None);
        assert!(expand_braces(&"{".repeat(4000)).is_none());
    }
}

/// Files in memory, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct MemFiles(pub std::collections::BTreeMap<PathBuf, String>);

#[cfg(test)]
impl MemFiles {
    pub(crate) fn with(files: &[(&str, &str)]) -> MemFiles {
        MemFiles(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        )
    }
}

#[cfg(test)]
impl Files for MemFiles {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let pat = glob::Pattern::new(pattern).map_err(|e| format!("bad pattern: {e}"))?;
        Ok(self.0.keys().filter(|p| pat.matches_path(p)).cloned().collect())
    }

    fn read_key(&self, path: &Path) -> Result<String, String> {
        self.read(path)
            .map_err(|e| format!("key file {}: {e}", path.display()))
    }
}
