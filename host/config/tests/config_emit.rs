//! The TOML emitter (`to_toml`): what it writes parses back into the same
//! model, for every example and for configs that set every key; and it
//! reads as a person would write it.

use std::fs;
use std::path::{Path, PathBuf};

use baton_config::{self as config, Config, to_toml};

include!("emit/files.rs");

const EVERY_KEY: &str = include_str!("emit/every_key.toml");
const IPV6: &str = include_str!("emit/ipv6.toml");

fn parse(text: &str, path: &Path) -> Config {
    match config::parse(text, path) {
        Ok(c) => c,
        Err(errs) => {
            let errs: Vec<String> = errs.iter().map(ToString::to_string).collect();
            panic!("{}:\n{}\n--- text:\n{text}", path.display(), errs.join("\n"));
        }
    }
}

/// `c`, written for `path`'s directory, read back from `path`; and what
/// was written, which writing the result again must give unchanged.
fn round_trip(c: &Config, path: &Path) -> (Config, String) {
    let dir = path.parent().expect("a directory");
    let text = to_toml(c, dir);
    let back = parse(&text, path);
    assert_eq!(to_toml(&back, dir), text, "writing is not stable");
    (back, text)
}

/// A fresh directory `conf` (inside one for this test, removed when it is
/// dropped) with the files the test configs name.
struct Scratch {
    root: PathBuf,
    dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn scratch(name: &str) -> Scratch {
    let root = std::env::temp_dir().join(format!("baton-emit-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let dir = root.join("conf");
    write_every_key_files(&dir);
    Scratch { root, dir }
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_round_trips() {
    let files = examples();
    assert!(files.len() >= 8, "examples found: {files:?}");
    for path in files {
        let c = parse(&fs::read_to_string(&path).unwrap(), &path);
        let (back, text) = round_trip(&c, &path);
        assert_eq!(back, c, "{}:\n{text}", path.display());
    }
}

#[test]
fn every_key_round_trips() {
    for (name, text) in [("every", EVERY_KEY), ("ipv6", IPV6)] {
        let s = scratch(name);
        let path = s.dir.join("lb01.toml");
        let c = parse(text, &path);
        let (back, out) = round_trip(&c, &path);
        assert_eq!(back, c, "{name}:\n{out}");
    }
}

#[test]
fn paths_under_the_directory_are_relative_others_as_they_are() {
    let s = scratch("paths");
    let path = s.dir.join("lb01.toml");
    let c = parse(EVERY_KEY, &path);
    let (_, text) = round_trip(&c, &path);
    for line in [
        "socket = \"run/baton.sock\"",
        "log_file = \"/var/log/baton/baton.log\"",
        "policy_cache = \"cache/policies\"",
        "ca = \"../ca.pem\"",
        "source = \"policies/web.wasm\"",
        "source = \"hooks/route.wasm\"",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    // Written for another directory: the same files, by their full paths.
    let other = scratch("paths-elsewhere");
    let elsewhere = other.dir.join("other.toml");
    let text = to_toml(&c, elsewhere.parent().unwrap());
    let socket = format!(
        "socket = {:?}",
        path.with_file_name("run/baton.sock").display().to_string()
    );
    assert!(text.lines().any(|l| l == socket), "no `{socket}` in:\n{text}");
    let mut back = parse(&text, &elsewhere);
    back.path = c.path.clone();
    assert_eq!(back, c);
}

#[test]
fn a_file_named_like_a_builtin_stays_a_file() {
    let s = scratch("odd");
    let path = s.dir.join("lb01.toml");
    let c = parse(IPV6, &path);
    let (_, text) = round_trip(&c, &path);
    assert!(text.contains("source = \"./builtin:odd.wasm\"\n"), "{text}");
}

#[test]
fn the_seed_reads_as_a_person_writes_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-ch4/lb01.toml");
    let c = parse(&fs::read_to_string(&path).unwrap(), &path);
    let text = to_toml(&c, path.parent().unwrap());
    // The example less its comments, and less `advert_interval = "1s"`: the default.
    let expected = "\
router_id = \"lb01\"

[[instance]]
name = \"VI_1\"
interface = \"eth0\"
vrid = 50
priority = 150
version = 2
auth = { type = \"pass\", password = \"1111\" }
vips = [\"192.0.2.3\"]
";
    assert_eq!(text, expected);
}

#[test]
fn the_check_example_keeps_its_tables_and_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-check-web/lb01.toml");
    let c = parse(&fs::read_to_string(&path).unwrap(), &path);
    let text = to_toml(&c, path.parent().unwrap());
    let lines: Vec<&str> = text.lines().collect();
    for line in [
        "command = [\"systemctl\", \"restart\", \"nginx\"]",
        // Integers unquoted, as the example writes them (the model keeps them as text).
        "config = { expect = 200, timeout-ms = 15, url = \"http://127.0.0.1:80/\" }",
        "remedies = [\"restart-nginx\"]",
        "interval = \"20ms\"",
        "timeout = \"5s\"",
        "advert_interval = \"100ms\"",
        "vips = [\"192.0.2.3/24 dev eth0 label eth0:1\"]",
        "check = \"web\"",
        "weight = -60",
    ] {
        assert!(lines.contains(&line), "no `{line}` in:\n{text}");
    }
    // The remedy's timeout is the default; a track of a check says only its own keys.
    assert!(!text.contains("timeout = \"10s\""), "{text}");
    let tracks: Vec<&str> = text.split("[[instance.track]]\n").skip(1).collect();
    assert_eq!(
        tracks,
        [
            "check = \"web\"\nweight = -60\nrise = 2\nfall = 2\n\n",
            "check = \"nginx\"\nweight = -60\n"
        ]
    );
}

#[test]
fn defaults_written_out_are_left_out() {
    let text = "\
router_id = \"lb01\"
socket = \"/run/baton/baton.sock\"
policy_cache = \"/var/cache/baton/policies\"
[garp]
delay = \"5s\"
repeat = 5
interval = \"0s\"
refresh = \"0s\"
[notify]
smtp_connect_timeout = \"30s\"
smtp_tls = \"none\"
queue = 64
deadline = \"5m\"
flap_burst = 3
flap_window = \"1m\"
email_from = \"baton@lb01\"
[[policy]]
name = \"web\"
source = \"builtin:http-status\"
[[instance]]
name = \"VI_1\"
interface = \"eth0\"
vrid = 50
priority = 100
advert_interval = \"1s\"
version = 3
preempt = true
preempt_delay = \"0s\"
accept = true
auth = { type = \"none\" }
vips = [\"192.0.2.3/32 dev eth0\"]
v3_checksum = \"pseudo-header\"
check_adv_addr = true
garp = { delay = \"5s\" }
[[instance.track]]
policy = \"web\"
interval = \"1s\"
timeout = \"1s\"
weight = 0
rise = 1
fall = 1
init_fail = false
";
    let path = Path::new("/etc/baton/lb01.toml");
    let c = parse(text, path);
    let out = to_toml(&c, Path::new("/etc/baton"));
    let expected = "\
router_id = \"lb01\"

[[policy]]
name = \"web\"
source = \"builtin:http-status\"

[[instance]]
name = \"VI_1\"
interface = \"eth0\"
vrid = 50
vips = [\"192.0.2.3\"]

[[instance.track]]
policy = \"web\"
";
    assert_eq!(out, expected);
    assert_eq!(parse(&out, path), c);
}

#[test]
fn vmac_routes_and_excluded_vips_are_written_as_a_person_writes_them() {
    let text = "\
router_id = \"lb01\"
[[instance]]
name = \"VI_1\"
interface = \"eth0\"
vrid = 51
vips = [\"192.0.2.3/24 brd 192.0.2.255 scope global\"]
excluded_vips = [\"198.51.100.50\", \"2001:db8::50/64 scope link\"]
routes = [\"198.51.100.0/24  gw 192.0.2.1\", \"blackhole 198.51.100.128/25\"]
use_vmac = true
vmac_xmit_base = false
";
    let path = Path::new("/etc/baton/lb01.toml");
    let c = parse(text, path);
    let (back, out) = round_trip(&c, path);
    assert_eq!(back, c);
    for line in [
        "vips = [\"192.0.2.3/24 brd 192.0.2.255 scope global\"]",
        "excluded_vips = [\"198.51.100.50\", \"2001:db8::50/64 scope link\"]",
        "routes = [\"198.51.100.0/24 via 192.0.2.1\", \"blackhole 198.51.100.128/25\"]",
        "use_vmac = true",
    ] {
        assert!(out.contains(line), "{line} not in:\n{out}");
    }
    assert!(!out.contains("vmac_xmit_base"), "a default is written:\n{out}");
    let named = parse(&text.replace("use_vmac = true", "use_vmac = \"vip51\""), path);
    let (_, out) = round_trip(&named, path);
    assert!(out.contains("use_vmac = \"vip51\""), "{out}");
}

#[test]
fn bad_vmac_and_route_values_are_errors_at_their_place() {
    let base = "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\nvips = [\"192.0.2.3\"]\n";
    let cases = [
        ("use_vmac = 3", "expected true or an interface name"),
        ("use_vmac = \"a/b\"", "which Linux does not allow"),
        ("use_vmac = \"eth0\"", "cannot be named like its interface"),
        ("routes = [\"198.51.100.1/24\"]", "host bits set"),
        (
            "routes = [\"198.51.100.0/24 via 2001:db8::1\"]",
            "not of the family",
        ),
        ("excluded_vips = [\"192.0.2.3\"]", "listed twice"),
        ("vips = [\"192.0.2.4 scope far\"]", "scope `far`"),
        ("vmac_xmit_base = true", "without `use_vmac`"),
        ("use_vmac = false\nvmac_xmit_base = true", "without `use_vmac`"),
    ];
    for (line, want) in cases {
        let text = format!("{base}{line}\n").replacen("vips = [\"192.0.2.3\"]\nvips", "vips", 1);
        let errs = match config::parse(&text, Path::new("/t/b.toml")) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(ToString::to_string).collect(),
        };
        assert!(
            errs.iter().any(|e| e.contains(want)),
            "{line}: want {want}, got {errs:#?}"
        );
        assert!(
            errs.iter()
                .all(|e| e.contains(":6:") || e.contains(":5:") || e.contains(":7:")),
            "{line}: {errs:#?}"
        );
    }
}

#[test]
fn a_macvlan_belongs_to_one_instance() {
    let one = |name: &str, vrid: u8, iface: &str, vmac: &str| {
        format!(
            "[[instance]]\nname = \"{name}\"\ninterface = \"{iface}\"\nvrid = {vrid}\nvips = [\"192.0.2.{vrid}\"]\n{vmac}\n"
        )
    };
    let errs = |text: String| match config::parse(&text, Path::new("/t/b.toml")) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(ToString::to_string).collect::<Vec<_>>(),
    };
    let twice = errs(one("A", 1, "eth0", "use_vmac = \"vip\"") + &one("B", 2, "eth0", "use_vmac = \"vip\""));
    assert_eq!(twice.len(), 1, "{twice:#?}");
    assert!(
        twice[0].contains("macvlan `vip` is also instance `A`'s"),
        "{twice:#?}"
    );
    let iface = errs(one("A", 1, "eth0", "use_vmac = \"eth1\"") + &one("B", 2, "eth1", ""));
    assert!(
        iface
            .iter()
            .any(|e| e.contains("macvlan `eth1` is also instance `B`'s")),
        "{iface:#?}"
    );
    assert!(
        errs(one("A", 1, "eth0", "use_vmac = true") + &one("B", 2, "eth0", "use_vmac = true")).is_empty()
    );
}
