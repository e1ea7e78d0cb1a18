//! `log.log`: messages cut at 4 KiB each, and capped in count and bytes per evaluation.
//!
//! State: the evaluation's [`LogSink`]. Nothing to allow or deny: the caps bound it.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::log as wit;
use crate::context::LogLevel;

/// Longest message kept (bytes; cut on a char boundary).
pub const MESSAGE_CAP: usize = 4096;
/// Most bytes kept per evaluation, all messages together.
pub const TOTAL_CAP: usize = 64 * 1024;
/// Most messages kept per evaluation.
pub const COUNT_CAP: usize = 256;

/// Collects one evaluation's log lines within the caps.
#[derive(Debug, Default)]
pub struct LogSink {
    entries: Vec<(LogLevel, String)>,
    bytes: usize,
    dropped: u64,
}

/// Cuts `s` to at most `cap` bytes on a char boundary, marking the cut.
pub fn truncate(mut s: String, cap: usize) -> String {
    if s.len() > cap {
        let mut end = cap;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(" [...]");
    }
    s
}

impl LogSink {
    pub fn push(&mut self, level: LogLevel, message: String) {
        let message = truncate(message, MESSAGE_CAP);
        if self.entries.len() >= COUNT_CAP || self.bytes + message.len() > TOTAL_CAP {
            self.dropped += 1;
            return;
        }
        self.bytes += message.len();
        self.entries.push((level, message));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The kept lines, plus one line saying how many were dropped, if any.
    pub fn finish(mut self) -> Vec<(LogLevel, String)> {
        if self.dropped > 0 {
            self.entries.push((
                LogLevel::Warn,
                format!("[{} log messages dropped: per-evaluation cap]", self.dropped),
            ));
        }
        self.entries
    }
}

impl wit::Host for LogSink {
    fn log(&mut self, level: wit::Level, message: String) {
        let level = match level {
            wit::Level::Trace => LogLevel::Trace,
            wit::Level::Debug => LogLevel::Debug,
            wit::Level::Info => LogLevel::Info,
            wit::Level::Warn => LogLevel::Warn,
            wit::Level::Error => LogLevel::Error,
        };
        self.push(level, message);
    }
}

/// Links `baton:policy/log` to the [`LogSink`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut LogSink,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<LogSink>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_levels_map_to_host_levels() {
        use wit::Host as _;
        let mut s = LogSink::default();
        for l in [
            wit::Level::Trace,
            wit::Level::Debug,
            wit::Level::Info,
            wit::Level::Warn,
            wit::Level::Error,
        ] {
            s.log(l, format!("{l:?}"));
        }
        let levels: Vec<LogLevel> = s.finish().into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            levels,
            [
                LogLevel::Trace,
                LogLevel::Debug,
                LogLevel::Info,
                LogLevel::Warn,
                LogLevel::Error
            ]
        );
    }

    #[test]
    fn long_message_is_cut() {
        let mut s = LogSink::default();
        s.push(LogLevel::Info, "é".repeat(10_000));
        let out = s.finish();
        assert_eq!(out.len(), 1);
        assert!(out[0].1.len() <= MESSAGE_CAP + 6);
        assert!(out[0].1.ends_with("[...]"));
    }

    #[test]
    fn totals_are_capped() {
        let mut s = LogSink::default();
        for _ in 0..10_000 {
            s.push(LogLevel::Debug, "x".repeat(100));
        }
        let out = s.finish();
        assert_eq!(out.len(), COUNT_CAP + 1);
        assert!(out.last().unwrap().1.contains("dropped"));
        let mut s = LogSink::default();
        for _ in 0..100 {
            s.push(LogLevel::Debug, "y".repeat(MESSAGE_CAP));
        }
        let total: usize = s.finish().iter().map(|(_, m)| m.len()).sum();
        assert!(total <= TOTAL_CAP + 100);
    }
}
