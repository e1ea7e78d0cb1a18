// The files the every-key configs name, written under `dir` (included by
// the emitter's unit tests and tests/config_emit.rs).
fn write_every_key_files(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    for file in [
        "policies/web.wasm",
        "hooks/route.wasm",
        "builtin:odd.wasm",
        "../ca.pem",
    ] {
        let p = dir.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"not read by the config").unwrap();
    }
    // HMAC keys: a keyring and a single key, private as they must be.
    for (file, keys) in [
        ("keys/vrrp.key", format!("1 {}\n2 {}\n", "ab".repeat(32), "cd".repeat(32))),
        ("../keys/one.key", "ef".repeat(48)),
        ("../keys/ka.key", format!("hex:{}\n", "01".repeat(32))),
    ] {
        let p = dir.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, keys).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
