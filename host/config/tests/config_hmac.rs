//! `auth = { type = "hmac", key_file = ... }`: keys read from a file only
//! its owner may read, one key or a keyring with the active one named, the
//! rollout modes and replay rules; every mistake at its place.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use baton_config::KeySource;
use baton_vrrp::{AntiReplay, Auth, HmacMode};

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("baton-hmac-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn key_file(d: &Dir, name: &str, text: &str, mode: u32) -> PathBuf {
    let p = d.0.join(name);
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// An instance (line 7 is its auth) in `d`.
fn conf(auth: &str, version: u8) -> String {
    format!(
        "router_id = \"lb01\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\nversion = {version}\n{auth}\nvips = [\"192.0.2.3/24\"]\n"
    )
}

fn parse(d: &Dir, text: &str) -> Result<baton_config::Config, Vec<String>> {
    baton_config::parse(text, &d.0.join("t.toml")).map_err(|e| e.iter().map(ToString::to_string).collect())
}

fn one_error(d: &Dir, text: &str, col: usize, fragment: &str) {
    let errs = parse(d, text).expect_err("an error");
    let file = d.0.join("t.toml");
    common::assert_one_error(&errs, &file.display().to_string(), 7, col, fragment);
}

const K1: &str = "5a1c2e3f40516273849596a7b8c9dae0f10213243546576879809aabbccddeef";

#[test]
fn one_key_signs_with_keepalived_s_defaults_v2_and_v3() {
    let d = dir("one");
    key_file(&d, "vrrp.key", &format!("{K1}\n"), 0o600);
    for version in [2, 3] {
        let c = parse(
            &d,
            &conf("auth = { type = \"hmac\", key_file = \"vrrp.key\" }", version),
        )
        .unwrap();
        let i = &c.instances[0];
        let Auth::Hmac(h) = &i.auth else {
            panic!("{:?}", i.auth)
        };
        assert_eq!((h.active, h.keys.len(), h.window), (1, 1, 5));
        assert_eq!((h.mode, h.anti_replay), (HmacMode::Enforce, AntiReplay::Time));
        assert_eq!(i.auth_keys, Some(KeySource::Keyring(d.0.join("vrrp.key"))));
        // The key bytes never show in the config's debug form.
        assert!(!format!("{:?}", c).contains("5a1c2e"));
    }
}

#[test]
fn a_keyring_names_its_active_key_and_the_rollout_settings() {
    let d = dir("ring");
    key_file(
        &d,
        "ring.key",
        &format!("# rotation\n1 {K1}\n2 hex:{}\n", "ab".repeat(40)),
        0o600,
    );
    let c = parse(
        &d,
        &conf(
            "auth = { type = \"hmac\", key_file = \"ring.key\", active = 2, mode = \"receive-only\", anti_replay = \"monotonic\", time_window = \"20s\" }",
            3,
        ),
    )
    .unwrap();
    let Auth::Hmac(h) = &c.instances[0].auth else {
        panic!()
    };
    assert_eq!(h.keys.iter().map(|k| k.id).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!((h.active, h.window), (2, 20));
    assert_eq!(
        (h.mode, h.anti_replay),
        (HmacMode::ReceiveOnly, AntiReplay::Monotonic)
    );
    // Converted back, the same settings.
    let text = baton_config::to_toml(&c, &d.0);
    assert!(
        text.contains("auth = { type = \"hmac\", key_file = \"ring.key\", active = 2, mode = \"receive-only\", anti_replay = \"monotonic\", time_window = \"20s\" }"),
        "{text}"
    );
    fs::write(d.0.join("t.toml"), &text).unwrap();
    assert_eq!(parse(&d, &text).unwrap().instances, c.instances);
}

#[test]
fn mistakes_are_refused_at_their_place() {
    let d = dir("bad");
    key_file(&d, "open.key", K1, 0o644);
    key_file(&d, "ring.key", &format!("1 {K1}\n2 {K1}\n"), 0o600);
    key_file(&d, "short.key", "abcd", 0o600);
    let at = |f: &str| conf(&format!("auth = {{ type = \"hmac\", key_file = \"{f}\" }}"), 3);
    one_error(
        &d,
        &at("open.key"),
        36,
        "has mode 0644: others may read or write it (chmod 600",
    );
    one_error(&d, &at("missing.key"), 36, "No such file or directory");
    one_error(&d, &at("short.key"), 36, "a key is 32 to 64 bytes");
    one_error(
        &d,
        &at("ring.key"),
        8,
        "several keys: say which signs with `active`",
    );
    one_error(
        &d,
        &conf(
            "auth = { type = \"hmac\", key_file = \"ring.key\", active = 3 }",
            3,
        ),
        57,
        "key 3 is not one of the keys (they are 1, 2)",
    );
    one_error(
        &d,
        &conf("auth = { type = \"hmac\" }", 3),
        8,
        "needs a `key_file`",
    );
    one_error(
        &d,
        &conf(
            "auth = { type = \"pass\", password = \"1\", key_file = \"ring.key\" }",
            2,
        ),
        52,
        "auth.key_file: only with type = \"hmac\"",
    );
    one_error(
        &d,
        &conf(
            "auth = { type = \"hmac\", key_file = \"ring.key\", active = 1, mode = \"strict\" }",
            3,
        ),
        67,
        "`strict` is not",
    );
}

#[test]
fn a_world_readable_key_is_never_read_into_the_config() {
    let d = dir("never");
    key_file(&d, "open.key", K1, 0o604);
    let errs = parse(
        &d,
        &conf("auth = { type = \"hmac\", key_file = \"open.key\" }", 3),
    )
    .unwrap_err();
    assert!(errs.iter().all(|e| !e.contains(K1)), "{errs:?}");
    assert!(Path::new(&d.0.join("open.key")).exists());
}

const K2: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011";

/// A keepalived.conf whose instance has `hmac` as its auth_hmac block's body.
fn keepalived(hmac: &str) -> String {
    format!(
        "global_defs {{\n  router_id lb01\n}}\nvrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  advert_int 2\n  auth_hmac {{\n{hmac}\n  }}\n  virtual_ipaddress {{\n    192.0.2.3/24\n  }}\n}}\n"
    )
}

fn load(path: &Path) -> Result<baton_config::Config, Vec<String>> {
    baton_config::load_with(path, &Default::default())
        .map_err(|e| e.iter().map(ToString::to_string).collect())
}

fn hmac_of(c: &baton_config::Config) -> baton_vrrp::Hmac {
    match &c.instances[0].auth {
        Auth::Hmac(h) => h.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn keepalived_auth_hmac_gives_what_the_toml_keyring_gives_and_converts_back() {
    let d = dir("ka");
    fs::create_dir_all(d.0.join("keys")).unwrap();
    // keepalived's syntax in the key file: `hex:` and a line end.
    key_file(&d, "keys/k1", &format!("hex:{K1}\r\n"), 0o600);
    let ka_conf = key_file(
        &d,
        "keepalived.conf",
        &keepalived(&format!(
            "    key 1 file:keys/k1\n    key 2 hex:{K2}\n    key 3 \"an ASCII key of thirty-two bytes\"\n    active_key 2\n    mode permissive\n    anti_replay monotonic\n"
        )),
        0o600,
    );
    let ka = load(&ka_conf).unwrap();
    let h = hmac_of(&ka);
    assert_eq!(
        (h.active, h.mode, h.anti_replay),
        (2, HmacMode::Permissive, AntiReplay::Monotonic)
    );
    // keepalived's default window: three whole advert intervals, at least 5 s.
    assert_eq!(h.window, 6);
    // The same keys as Baton's keyring holds them.
    let ascii: String = b"an ASCII key of thirty-two bytes"
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    key_file(&d, "ring.key", &format!("1 {K1}\n2 {K2}\n3 {ascii}\n"), 0o600);
    let toml = parse(
        &d,
        &conf(
            "auth = { type = \"hmac\", key_file = \"ring.key\", active = 2, mode = \"permissive\", anti_replay = \"monotonic\", time_window = \"6s\" }",
            2,
        ),
    )
    .unwrap();
    assert_eq!(hmac_of(&toml), h);
    assert!(!format!("{ka:?}").contains("00112233") && !format!("{ka:?}").contains("ASCII key"));

    // Converted: the same key lines, and the TOML loads to the same keys.
    let out = baton_config::convert_keepalived(&ka_conf, &Default::default()).unwrap();
    let want = format!("keys = [\"1 file:keys/k1\", \"2 hex:{K2}\", \"3 an ASCII key of thirty-two bytes\"]");
    assert!(out.contains(&want), "{out}");
    let converted = key_file(&d, "converted.toml", &out, 0o600);
    assert_eq!(hmac_of(&load(&converted).unwrap()), h);
}

#[test]
fn a_key_written_inline_needs_a_private_config_and_a_key_file_a_private_file() {
    let d = dir("ka-modes");
    let conf = key_file(
        &d,
        "keepalived.conf",
        &keepalived(&format!("    key 1 hex:{K1}\n")),
        0o644,
    );
    let errs = load(&conf).unwrap_err();
    let at = format!("{}:8:3: ", conf.display());
    assert!(
        errs.len() == 1
            && errs[0].starts_with(&at)
            && errs[0].contains("has mode 0644")
            && errs[0].contains("holds an HMAC key"),
        "{errs:?}"
    );
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(hmac_of(&load(&conf).unwrap()).keys.len(), 1);

    // A key file others may read: refused at its value, and not read.
    key_file(&d, "k1", K1, 0o640);
    let conf = key_file(&d, "keepalived.conf", &keepalived("    key 1 file:k1\n"), 0o644);
    let errs = load(&conf).unwrap_err();
    common::assert_one_error(
        &errs,
        &conf.display().to_string(),
        9,
        11,
        "has mode 0640: others may read",
    );
}

#[test]
fn keepalived_auth_hmac_mistakes_are_refused_at_their_place() {
    let d = dir("ka-errors");
    let file = d.0.join("keepalived.conf");
    let one = |body: &str, line: usize, col: usize, fragment: &str| {
        fs::write(&file, keepalived(body)).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        let errs = load(&file).unwrap_err();
        common::assert_one_error(&errs, &file.display().to_string(), line, col, fragment);
    };
    one(
        &format!("    key 1 hex:{K1}\n    active_key 3"),
        10,
        16,
        "active_key 3 names no key (the block has 1)",
    );
    one(
        &format!("    key 1 hex:{K1}\n    key 1 hex:{K2}"),
        10,
        9,
        "id 1 is given twice",
    );
    one(
        &format!("    key 1 hex:{K1}\n    key 2 hex:{K2}"),
        8,
        3,
        "several keys: say which signs with `active_key`",
    );
    one(
        "    key 1 hex:abcd",
        9,
        11,
        "key 1 has 2 bytes: a key is 32 to 64 bytes",
    );
    one(
        "    key 1 \"shorter than 32\"",
        9,
        11,
        "auth_hmac: key 1 has 15 bytes",
    );
    one(&format!("    key 0 hex:{K1}"), 9, 9, "`0` is no key id");
    one(
        &format!("    key 1 hex:{K1}\n    mode lax"),
        10,
        10,
        "`lax` is not enforce, permissive or receive-only",
    );
    one(
        &format!("    key 1 hex:{K1}\n    time_window 301"),
        10,
        17,
        "out of range (1 to 300)",
    );
    one(
        &format!("    key 1 hex:{K1}\n    anti_replay never"),
        10,
        17,
        "is not time or monotonic",
    );
    one(
        &format!("    key 1 hex:{K1}\n    active_ky 1"),
        10,
        5,
        "did you mean `active_key`?",
    );
    one("    key 2 file:missing", 9, 11, "No such file");
    one("", 8, 3, "auth_hmac: no key");
    // keepalived refuses a password with it too.
    fs::write(
        &file,
        keepalived(&format!(
            "    key 1 hex:{K1}\n  }}\n  authentication {{\n    auth_type PASS\n    auth_pass 1111"
        )),
    )
    .unwrap();
    let errs = load(&file).unwrap_err();
    common::assert_one_error(
        &errs,
        &file.display().to_string(),
        8,
        3,
        "has an `authentication` block too",
    );
}

#[test]
fn toml_keys_are_keepalived_s_key_lines() {
    let d = dir("toml-keys");
    key_file(&d, "k1", &format!("hex:{K1}\n"), 0o600);
    let c = parse(
        &d,
        &conf(
            &format!("auth = {{ type = \"hmac\", keys = [\"1 file:k1\", \"2 hex:{K2}\"], active = 1 }}"),
            3,
        ),
    )
    .unwrap();
    assert_eq!(hmac_of(&c).keys.len(), 2);
    one_error(
        &d,
        &conf(
            "auth = { type = \"hmac\", key_file = \"k1\", keys = [\"1 file:k1\"] }",
            3,
        ),
        49,
        "`key_file` or `keys`, not both",
    );
    one_error(
        &d,
        &conf(
            "auth = { type = \"hmac\", keys = [\"1 file:k1\", \"1 file:k1\"] }",
            3,
        ),
        46,
        "key id 1 is given twice",
    );
}
