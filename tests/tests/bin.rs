//! `baton_bin()` finds (or builds) the daemon binary the end-to-end tests run.

use std::os::unix::fs::PermissionsExt;

#[test]
fn baton_bin_is_an_executable() {
    let bin = baton_e2e::baton_bin();
    let meta = std::fs::metadata(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert!(
        meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        "{}",
        bin.display()
    );
    // Built once per process.
    assert_eq!(baton_e2e::baton_bin(), bin);
}
