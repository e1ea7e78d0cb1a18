//! Sync groups and weighted links in both front ends: what they read into,
//! and their mistakes as errors at LINE:COL.

use std::path::Path;

use baton_config::{Config, TrackInterface};

fn toml(text: &str) -> Result<Config, Vec<String>> {
    baton_config::parse(text, Path::new("/t/lb01.toml")).map_err(|d| {
        d.iter()
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
            .collect()
    })
}

fn keepalived(text: &str) -> Result<Config, Vec<String>> {
    baton_config::parse_keepalived(text, Path::new("/t/keepalived.conf"), "lb01").map_err(|d| {
        d.iter()
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
            .collect()
    })
}

fn instance(name: &str, vrid: u8, extra: &str) -> String {
    format!(
        "[[instance]]\nname = \"{name}\"\ninterface = \"eth0\"\nvrid = {vrid}\nvips = [\"192.0.2.{vrid}\"]\n{extra}\n"
    )
}

#[test]
fn track_interfaces_take_names_and_weighted_tables() {
    let c = toml(&instance(
        "VI_1",
        1,
        "track_interfaces = [\"eth1\", { name = \"eth2\", weight = -20 }]\ntrack_primary = false",
    ))
    .unwrap();
    let i = &c.instances[0];
    assert_eq!(
        i.track_interfaces,
        [
            TrackInterface::fault("eth1"),
            TrackInterface {
                name: "eth2".into(),
                weight: -20
            }
        ]
    );
    assert!(!i.track_primary);
}

#[test]
fn link_mistakes_are_errors_at_their_place() {
    let e = toml(&instance(
        "VI_1",
        1,
        "track_interfaces = [{ name = \"eth2\", weight = -300 }, { weight = 1 }, 5]",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        [
            "6:47: track_interfaces.weight: -300 is out of range (must be -254..=254)",
            "6:55: track_interfaces: missing `name` (e.g. name = \"eth1\")",
            "6:71: track_interfaces: expected an interface name or a table, found an integer",
        ]
    );
    let e = toml(&instance("VI_1", 1, "dont_track_primary = true")).unwrap_err();
    assert!(e[0].contains("`track_primary = false`"), "{e:?}");
}

#[test]
fn sync_group_mistakes_are_errors_at_their_place() {
    let two = instance("VI_1", 1, "") + &instance("VI_2", 2, "");
    let text = format!(
        "{two}[[sync_group]]\nname = \"G1\"\ninstances = [\"VI_1\", \"VI_3\"]\n\
         [[sync_group]]\nname = \"G2\"\ninstances = [\"VI_1\"]\n"
    );
    let e = toml(&text).unwrap_err();
    assert_eq!(
        e,
        [
            "15:22: sync_group.instances: no [[instance]] named `VI_3` (did you mean `VI_1`?)",
            "18:13: sync_group.instances: a sync group needs at least two instances (one alone is not synced with anything)",
            "18:14: sync_group.instances: `VI_1` is already in sync group `G1` (line 15); an instance can be in one group only",
        ]
    );
}

#[test]
fn a_weight_in_a_sync_group_member_needs_tracking_weight() {
    let extra = "track_interfaces = [{ name = \"eth1\", weight = -20 }]";
    let members = instance("VI_1", 1, extra) + &instance("VI_2", 2, "");
    let group = "[[sync_group]]\nname = \"G\"\ninstances = [\"VI_1\", \"VI_2\"]\n";
    let e = toml(&format!("{members}{group}")).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("6:47: track_interfaces.weight: instance is in sync group `G`"),
        "{e:?}"
    );
    let c = toml(&format!("{members}{group}tracking_weight = true\n")).unwrap();
    assert!(c.sync_groups[0].tracking_weight);
}

const KA_INSTANCES: &str = "vrrp_script chk {\n    script \"killall -0 nginx\"\n    weight -30\n}\n\
    vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.1\n    }\n    \
    track_interface {\n        eth1 weight -20\n    }\n    dont_track_primary\n}\n\
    vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 2\n    virtual_ipaddress {\n        192.0.2.2\n    }\n}\n";

#[test]
fn keepalived_track_interface_weights_and_dont_track_primary() {
    let c = keepalived(KA_INSTANCES).unwrap();
    let i = &c.instances[0];
    assert_eq!(
        i.track_interfaces,
        [TrackInterface {
            name: "eth1".into(),
            weight: -20
        }]
    );
    assert!(!i.track_primary);
}

#[test]
fn keepalived_sync_group_reads_members_notify_and_tracks_for_every_member() {
    let text = format!(
        "{KA_INSTANCES}vrrp_sync_group VG_1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n    \
         notify_master \"/usr/local/bin/to-master.sh lb\"\n    smtp_alert false\n    \
         track_interface {{\n        eth2\n    }}\n    track_script {{\n        chk\n    }}\n}}\n"
    );
    let c = keepalived(&text).unwrap();
    let g = &c.sync_groups[0];
    assert_eq!(
        (g.name.as_str(), g.instances.clone()),
        ("VG_1", vec!["VI_1".into(), "VI_2".into()])
    );
    assert_eq!(g.notify.smtp_alert, Some(false));
    let cmd = c.notify.command(g.notify.master.as_deref().unwrap()).unwrap();
    assert_eq!(cmd.command, ["/usr/local/bin/to-master.sh", "lb"]);
    for i in &c.instances {
        assert!(
            i.track_interfaces
                .iter()
                .any(|t| t.name == "eth2" && t.weight == 0),
            "{i:?}"
        );
        assert_eq!(i.tracks.len(), 1);
        assert_eq!(
            i.tracks[0].weight, 0,
            "no sync_group_tracking_weight: the group faults"
        );
    }
    // VI_1's own weighted link too, as keepalived does.
    assert_eq!(c.instances[0].track_interfaces[0].weight, 0);
    // And `baton convert` writes it so that it reads back the same.
    let dir = std::env::temp_dir().join(format!("baton-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, &text).unwrap();
    let out = baton_config::convert_keepalived(&path, &Default::default()).unwrap();
    assert!(
        out.contains("[[sync_group]]\nname = \"VG_1\"\ninstances = [\"VI_1\", \"VI_2\"]"),
        "{out}"
    );
    assert!(out.contains("keepalived ignores the weights"), "{out}");
    let mut back = baton_config::parse(&out, &dir.join("converted.toml")).unwrap();
    back.path = c.path.clone();
    back.format = c.format.clone();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(back.sync_groups, c.sync_groups);
    assert_eq!(back.instances, c.instances);
}

#[test]
fn keepalived_sync_group_tracking_weight_keeps_the_weights() {
    let text = format!(
        "{KA_INSTANCES}vrrp_sync_group VG_1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n    \
         sync_group_tracking_weight\n}}\n"
    );
    let c = keepalived(&text).unwrap();
    assert!(c.sync_groups[0].tracking_weight);
    assert_eq!(c.instances[0].track_interfaces[0].weight, -20);
}

#[test]
fn keepalived_sync_group_mistakes_are_errors_at_their_place() {
    let text = format!(
        "{KA_INSTANCES}vrrp_sync_group VG_1 {{\n    group {{\n        VI_1\n        VI_9\n    }}\n}}\n\
         vrrp_sync_group VG_2 {{\n    group {{\n        VI_1\n    }}\n    no_such_thing\n}}\n"
    );
    let e = keepalived(&text).unwrap_err();
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("26:9: group: no [[instance]] named `VI_9`")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("31:9: group: `VI_1` is already in sync group `VG_1` (line 25)")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("30:5: group: a sync group needs at least two")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("33:5:") && m.contains("no_such_thing")),
        "{e:?}"
    );
}

#[test]
fn the_own_interface_is_tracked_once_and_a_weight_on_it_needs_track_primary_false() {
    let c = toml(&instance("VI_1", 1, "track_interfaces = [\"eth0\", \"eth1\"]")).unwrap();
    assert_eq!(c.instances[0].track_interfaces, [TrackInterface::fault("eth1")]);
    let weighted = "track_primary = false\ntrack_interfaces = [{ name = \"eth0\", weight = -50 }]";
    let c = toml(&instance("VI_1", 1, weighted)).unwrap();
    let w = TrackInterface {
        name: "eth0".into(),
        weight: -50,
    };
    assert_eq!(c.instances[0].track_interfaces, [w]);
}
