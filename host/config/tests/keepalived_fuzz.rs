//! Inputs the fuzzer (fuzz/, target keepalived_conf) found: each must give
//! errors, not a hang, a panic or an out-of-memory. Each runs on a thread
//! with a deadline so that a regression fails instead of hanging the suite.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// The diagnostics for `text`; a failure when parsing panics or takes over 20 s.
fn errors_within_deadline(text: &'static str) -> Vec<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = baton_config::parse_keepalived_isolated(text);
        let _ = tx.send(
            r.err()
                .unwrap_or_default()
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>(),
        );
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(errs) => errs,
        Err(RecvTimeoutError::Disconnected) => panic!("parsing {text:?} panicked"),
        Err(RecvTimeoutError::Timeout) => panic!("parsing {text:?} did not finish within 20 s"),
    }
}

/// A definition that names itself twice doubles at each substitution:
/// 2^32 copies at the nesting limit. (fuzz: timeout-a763fa19, minimised)
#[test]
fn self_doubling_definition_is_an_error() {
    let errs = errors_within_deadline("$B=${B}${B}\n$B\n");
    assert!(errs.iter().any(|e| e.contains("more than")), "{errs:?}");
}

/// `~SEQ` at the ends of i64: `n += step` past i64::MAX (a panic in a debug
/// build, a wrap to i64::MIN and no end in release), and `end - start`
/// past it (the count check wrapped to a negative count and let it through).
#[test]
fn seq_at_the_ends_of_i64_does_not_overflow() {
    errors_within_deadline("~SEQ(N, 9223372036854775806, 1, 9223372036854775807) b\n");
    let errs = errors_within_deadline("~SEQ(N, -9223372036854775807, 9223372036854775807) b\n");
    assert!(errs.iter().any(|e| e.contains("too many")), "{errs:?}");
    let errs = errors_within_deadline("~SEQ(N, 9223372036854775807, -1, -9223372036854775807) b\n");
    assert!(errs.iter().any(|e| e.contains("too many")), "{errs:?}");
}

/// `include {a,b}{a,b}...`: the braces double the patterns at each pair,
/// 2^25 globs for 25 pairs. (fuzz run 4 died at 2.89 M executions; this
/// input, found reading the code after it, hung the target for over 5 s)
#[test]
fn include_braces_that_double_are_bounded() {
    let text: &'static str = Box::leak(format!("include {}\n", "{a,b}".repeat(25)).into_boxed_str());
    let errs = errors_within_deadline(text);
    assert!(
        errs.iter()
            .any(|e| e.contains("expand to more than 256 patterns")),
        "{errs:?}"
    );
}

/// Nested `~SEQ`s: the inner one made its (up to a million) values for
/// every value of the outer one before the work budget counted any of them.
/// (fuzz run 5: a timeout on `~SEQ(deludeN,888888, 1) { n${Nfrom_sub} ...`)
#[test]
fn nested_seqs_are_bounded_by_the_work_budget() {
    let errs = errors_within_deadline("~SEQ(a,888888) ~SEQ(b,888888) x $a $b\n");
    assert!(
        errs.iter()
            .any(|e| e.contains("more than") || e.contains("too many")),
        "{errs:?}"
    );
}
