//! What the config test files share.

/// `errs` is exactly one diagnostic, at `file:line:col`, containing `fragment`.
#[track_caller]
pub fn assert_one_error(errs: &[String], file: &str, line: usize, col: usize, fragment: &str) {
    assert_eq!(errs.len(), 1, "expected one error, got:\n{}", errs.join("\n"));
    let prefix = format!("{file}:{line}:{col}: ");
    assert!(
        errs[0].starts_with(&prefix) && errs[0].contains(fragment),
        "expected `{prefix}...{fragment}...`, got:\n{}",
        errs[0]
    );
}
