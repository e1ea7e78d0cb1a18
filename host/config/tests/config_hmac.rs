//! `auth = { type = "hmac", key_file = ... }`: keys read from a file only
//! its owner may read, one key or a keyring with the active one named, the
//! rollout modes and replay rules; every mistake at its place.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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
        assert_eq!(i.auth_key_file.as_deref(), Some(d.0.join("vrrp.key").as_path()));
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
        "key 3 is not in the key file (it has 1, 2)",
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
