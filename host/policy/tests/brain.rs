//! The `split-brain` world: the builtins `split-brain-arp` and
//! `split-brain-peer-http` decide each branch of their rules from hand-made
//! evidence (the latter asking a real HTTP server through the grants),
//! components of the other worlds are refused at load time with the world they
//! lack, and a split-brain policy that loops is stopped at its deadline.

mod common;

use std::time::Duration;

use baton_policy::{
    BrainEvaluation, Decision, EvalContext, EvalError, Evidence, Grants, InstanceStatus, LoadedSplitBrain,
    LogLevel, Peer, PeerPath, PolicyError, VipAnswer, VrrpState,
};
use common::{HttpServer, closed_port, engine, hostile_split_brain, split_brain};
use sha2::{Digest, Sha256};

const OWN_MAC: &str = "02:00:00:00:00:11";
const OTHER_MAC: &str = "aa:bb:cc:dd:ee:ff";

/// VI_1 on this node, at `priority`: Master holding 192.0.2.3 as 192.0.2.11,
/// or (not `master`) a Backup without VIPs that does not know its master.
fn evidence(master: bool, priority: u8) -> Evidence {
    Evidence {
        instance: InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 50,
            state: if master {
                VrrpState::Master
            } else {
                VrrpState::Backup
            },
            base_priority: priority,
            effective_priority: priority,
            master: master.then(|| "192.0.2.11".into()),
            vips: vec!["192.0.2.3/24".into()],
            holding_vips: master,
        },
        own_mac: OWN_MAC.into(),
        peers: Vec::new(),
        answers: vec![answer("192.0.2.3", &[])],
        run: 7,
        last_decision: Some("stay".into()),
    }
}

/// A peer last heard `silent_ms` ago at `priority` (`None`: never heard).
fn peer(address: &str, priority: Option<u8>, silent_ms: u64) -> Peer {
    let heard = priority.map(|_| silent_ms);
    Peer {
        address: address.into(),
        last_priority: priority,
        last_heard_ms_ago: heard,
        paths: vec![PeerPath {
            path: "eth0 multicast".into(),
            last_heard_ms_ago: heard,
        }],
    }
}

fn answer(vip: &str, others: &[&str]) -> VipAnswer {
    VipAnswer {
        vip: vip.into(),
        others: others.iter().map(|m| m.to_string()).collect(),
        probed_ms_ago: Some(150),
    }
}

fn with(mut e: Evidence, peers: Vec<Peer>, answers: Vec<VipAnswer>) -> Evidence {
    e.peers = peers;
    e.answers = answers;
    e
}

fn demoted(mut e: Evidence) -> Evidence {
    e.last_decision = Some("demote".into());
    e
}

fn ctx(settings: &[(&str, &str)], grants: Grants) -> EvalContext {
    EvalContext::default()
        .with_settings(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .with_grants(grants)
        .with_budget(Duration::from_secs(2))
}

fn decide(p: &LoadedSplitBrain, settings: &[(&str, &str)], grants: Grants, e: &Evidence) -> Decision {
    let ev = p.decide(ctx(settings, grants), e);
    match ev.result {
        Ok(d) => d,
        Err(err) => panic!("{err} (logs {:?})", ev.logs),
    }
}

fn reason(d: &Decision) -> &str {
    d.reason().unwrap_or_default()
}

// ------------------------------------------------------------ split-brain-arp

fn arp(e: &Evidence) -> Decision {
    decide(&split_brain("split-brain-arp"), &[], Grants::default(), e)
}

#[test]
fn arp_stays_without_a_conflict() {
    let peers = vec![peer("192.0.2.12", Some(150), 20)];
    // Nobody else answers; or only this node (in any case); or nothing was probed.
    for answers in [
        vec![answer("192.0.2.3", &[])],
        vec![answer(
            "192.0.2.3",
            &["02:00:00:00:00:11".to_uppercase().as_str()],
        )],
        vec![],
    ] {
        let e = with(evidence(true, 100), peers.clone(), answers);
        assert_eq!(arp(&e), Decision::Stay, "{:?}", e.answers);
    }
}

#[test]
fn arp_demotes_when_the_likely_holder_outranks_us() {
    // VRRP is cut: both peers are silent, their priorities remembered. The
    // highest of them is taken to hold the VIP.
    let e = with(
        evidence(true, 100),
        vec![
            peer("192.0.2.13", Some(90), 60_000),
            peer("192.0.2.12", Some(150), 60_000),
            peer("192.0.2.14", None, 0),
        ],
        vec![answer("192.0.2.3", &[OTHER_MAC])],
    );
    let d = arp(&e);
    assert_eq!(
        d,
        Decision::Demote(
            "VIP 192.0.2.3 answered by aa:bb:cc:dd:ee:ff; peer 192.0.2.12 (priority 150) outranks us (100)"
                .into()
        )
    );
    println!("split-brain-arp: {}: {}", d.kind(), reason(&d));
}

#[test]
fn arp_alerts_when_we_outrank_the_holder() {
    let e = with(
        evidence(true, 150),
        vec![peer("192.0.2.12", Some(100), 5_000)],
        vec![
            answer("192.0.2.3", &[OTHER_MAC, "aa:bb:cc:dd:ee:01"]),
            answer("192.0.2.4", &[OTHER_MAC]),
        ],
    );
    let d = arp(&e);
    assert_eq!(
        d,
        Decision::Alert(
            "VIP 192.0.2.3 answered by aa:bb:cc:dd:ee:ff, aa:bb:cc:dd:ee:01 (and 1 more VIP); \
             we (150) outrank peer 192.0.2.12 (priority 100): keeping the VIPs"
                .into()
        )
    );
}

#[test]
fn arp_breaks_a_tie_by_the_higher_address() {
    let conflict = vec![answer("192.0.2.3", &[OTHER_MAC])];
    let e = with(
        evidence(true, 100),
        vec![peer("192.0.2.12", Some(100), 0)],
        conflict.clone(),
    );
    assert!(
        matches!(arp(&e), Decision::Demote(r) if r.contains("peer 192.0.2.12 (priority 100) outranks us (100)"))
    );
    let e = with(
        evidence(true, 100),
        vec![peer("192.0.2.9", Some(100), 0)],
        conflict,
    );
    assert!(matches!(arp(&e), Decision::Alert(r) if r.contains("we (100) outrank peer 192.0.2.9")));
}

#[test]
fn arp_alerts_when_no_priority_is_known_or_the_tie_cannot_be_broken() {
    let conflict = vec![answer("192.0.2.3", &[OTHER_MAC])];
    let e = with(
        evidence(true, 100),
        vec![peer("192.0.2.12", None, 0)],
        conflict.clone(),
    );
    assert_eq!(
        arp(&e),
        Decision::Alert(
            "VIP 192.0.2.3 answered by aa:bb:cc:dd:ee:ff; no peer's priority is known: keeping the VIPs"
                .into()
        )
    );
    // Holding the VIPs outside Master: our own address is unknown.
    let mut e = with(
        evidence(true, 100),
        vec![peer("192.0.2.12", Some(100), 0)],
        conflict,
    );
    e.instance.state = VrrpState::Backup;
    e.instance.master = None;
    assert!(matches!(arp(&e), Decision::Alert(r) if r.contains("our address is unknown")));
}

#[test]
fn arp_stays_demoted_while_another_mac_answers_then_rejoins() {
    let peers = vec![peer("192.0.2.12", Some(150), 60_000)];
    let e = demoted(with(
        evidence(false, 100),
        peers.clone(),
        vec![answer("192.0.2.3", &[]), answer("192.0.2.4", &[OTHER_MAC])],
    ));
    assert_eq!(
        arp(&e),
        Decision::Demote("VIP 192.0.2.4 answered by aa:bb:cc:dd:ee:ff: staying demoted".into())
    );
    let e = demoted(with(
        evidence(false, 100),
        peers,
        vec![answer("192.0.2.3", &[]), answer("192.0.2.4", &[])],
    ));
    assert_eq!(arp(&e), Decision::Stay);
}

#[test]
fn arp_backup_without_vips_stays() {
    let e = with(
        evidence(false, 100),
        vec![peer("192.0.2.12", Some(150), 0)],
        vec![answer("192.0.2.3", &[OTHER_MAC])],
    );
    assert_eq!(arp(&e), Decision::Stay);
}

#[test]
fn a_long_reason_is_cut_not_refused() {
    let macs: Vec<String> = (0..400)
        .map(|i| format!("aa:bb:cc:dd:{:02x}:{:02x}", i / 256, i % 256))
        .collect();
    let macs: Vec<&str> = macs.iter().map(String::as_str).collect();
    let e = with(
        evidence(true, 100),
        vec![peer("192.0.2.12", Some(150), 0)],
        vec![answer("192.0.2.3", &macs)],
    );
    let Decision::Demote(r) = arp(&e) else {
        panic!("expected a demotion");
    };
    assert!(r.len() <= 4096 + 6 && r.ends_with(" [...]"), "{} bytes", r.len());
    assert!(
        r.starts_with("VIP 192.0.2.3 answered by aa:bb:cc:dd:00:00, "),
        "{r}"
    );
}

// ------------------------------------------------------ split-brain-peer-http

/// The peer-http builtin, the server's port and the settings that ask `/ok` there.
struct PeerHttp {
    policy: std::sync::Arc<LoadedSplitBrain>,
    server: HttpServer,
}

impl PeerHttp {
    fn new() -> Self {
        PeerHttp {
            policy: split_brain("split-brain-peer-http"),
            server: HttpServer::start(),
        }
    }

    fn port(&self) -> String {
        self.server.port.to_string()
    }

    fn grants(&self) -> Grants {
        Grants::default()
            .allow_net(&format!("127.0.0.1:{}", self.server.port))
            .unwrap()
    }

    fn decide(&self, extra: &[(&str, &str)], e: &Evidence) -> Decision {
        let port = self.port();
        let mut settings = vec![("port", port.as_str()), ("path", "ok")];
        settings.extend_from_slice(extra);
        decide(&self.policy, &settings, self.grants(), e)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ok", self.server.port)
    }
}

#[test]
fn peer_http_demotes_when_a_serving_peer_outranks_us() {
    let t = PeerHttp::new();
    // The peer is silent (VRRP cut), but it still serves.
    let e = with(
        evidence(true, 100),
        vec![peer("127.0.0.1", Some(150), 60_000)],
        vec![],
    );
    let d = t.decide(&[], &e);
    assert_eq!(
        d,
        Decision::Demote(format!(
            "peer 127.0.0.1 (priority 150) serves (GET {}: 200) while we hold the VIPs, and outranks us (100)",
            t.url()
        ))
    );
    println!("split-brain-peer-http: {}: {}", d.kind(), reason(&d));
}

#[test]
fn peer_http_alerts_when_we_outrank_a_serving_peer() {
    let t = PeerHttp::new();
    let e = with(
        evidence(true, 150),
        vec![peer("127.0.0.1", Some(100), 60_000)],
        vec![],
    );
    assert_eq!(
        t.decide(&[], &e),
        Decision::Alert(format!(
            "peer 127.0.0.1 (GET {}: 200, priority 100) serves while we hold the VIPs; \
             none is known to outrank us (150): keeping the VIPs",
            t.url()
        ))
    );
}

#[test]
fn peer_http_breaks_a_tie_by_the_higher_address() {
    let t = PeerHttp::new();
    let mut e = with(evidence(true, 100), vec![peer("127.0.0.1", Some(100), 0)], vec![]);
    e.instance.master = Some("127.0.0.0".into());
    assert!(matches!(t.decide(&[], &e), Decision::Demote(_)));
    e.instance.master = Some("127.0.0.2".into());
    assert!(matches!(t.decide(&[], &e), Decision::Alert(_)));
}

#[test]
fn peer_http_stays_when_no_peer_answers_as_expected() {
    let t = PeerHttp::new();
    let e = with(evidence(true, 100), vec![peer("127.0.0.1", Some(150), 0)], vec![]);
    // 503 is not serving; unless 503 is what is expected.
    let port = t.port();
    let bad = [("port", port.as_str()), ("path", "/bad")];
    assert_eq!(decide(&t.policy, &bad, t.grants(), &e), Decision::Stay);
    let bad_expected = [bad[0], bad[1], ("expect", "503")];
    assert!(matches!(
        decide(&t.policy, &bad_expected, t.grants(), &e),
        Decision::Demote(r) if r.contains("/bad: 503)")
    ));
    // Nothing listens.
    let closed = closed_port().to_string();
    let grants = Grants::default().allow_net("127.0.0.1:*").unwrap();
    assert_eq!(
        decide(&t.policy, &[("port", closed.as_str())], grants, &e),
        Decision::Stay
    );
    // No peer at all.
    let e = with(evidence(true, 100), vec![], vec![]);
    assert_eq!(t.decide(&[], &e), Decision::Stay);
}

#[test]
fn peer_http_stays_demoted_while_an_outranking_peer_serves_then_rejoins() {
    let t = PeerHttp::new();
    let e = demoted(with(
        evidence(false, 100),
        vec![peer("127.0.0.1", Some(150), 60_000)],
        vec![],
    ));
    assert_eq!(
        t.decide(&[], &e),
        Decision::Demote(format!(
            "peer 127.0.0.1 (priority 150) still serves (GET {}: 200) and outranks us (100): staying demoted",
            t.url()
        ))
    );
    // Only a peer that outranks us keeps us demoted: one below us is not even
    // asked (no grant, no denial).
    let below = demoted(with(
        evidence(false, 100),
        vec![peer("127.0.0.1", Some(50), 0)],
        vec![],
    ));
    assert_eq!(decide(&t.policy, &[], Grants::default(), &below), Decision::Stay);
    // The peer stops serving: rejoin.
    let port = t.port();
    let ev = t
        .policy
        .decide(ctx(&[("port", port.as_str()), ("path", "/bad")], t.grants()), &e);
    assert_eq!(ev.result, Ok(Decision::Stay));
    assert!(
        ev.logs.iter().any(|(_, m)| m.contains("rejoining")),
        "{:?}",
        ev.logs
    );
}

#[test]
fn peer_http_backup_stays_without_asking() {
    let t = PeerHttp::new();
    let e = with(
        evidence(false, 100),
        vec![peer("127.0.0.1", Some(150), 0)],
        vec![],
    );
    // No grant: a probe would be denied, and fail the evaluation.
    assert_eq!(decide(&t.policy, &[], Grants::default(), &e), Decision::Stay);
}

#[test]
fn peer_http_probes_only_what_the_grants_allow() {
    let t = PeerHttp::new();
    let e = with(evidence(true, 100), vec![peer("127.0.0.1", Some(150), 0)], vec![]);
    let port = t.port();
    let ev = t
        .policy
        .decide(ctx(&[("port", port.as_str())], Grants::default()), &e);
    match &ev.result {
        Err(EvalError::CapabilityDenied(why)) => {
            assert!(why.contains("not in the allowlist"), "{why}");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[test]
fn peer_http_a_peer_never_heard_alerts_unless_its_priority_is_set() {
    let t = PeerHttp::new();
    let e = with(evidence(true, 100), vec![peer("127.0.0.1", None, 0)], vec![]);
    assert!(matches!(
        t.decide(&[], &e),
        Decision::Alert(r) if r.contains("priority unknown")
    ));
    // The seed's check_brain.sh runs on the backup, which knows the master's priority.
    assert!(matches!(
        t.decide(&[("peer-priority", "150")], &e),
        Decision::Demote(r) if r.contains("peer 127.0.0.1 (priority 150)")
    ));
}

#[test]
fn peer_http_a_bad_setting_is_logged_and_stays() {
    let t = PeerHttp::new();
    let e = with(evidence(true, 100), vec![peer("127.0.0.1", Some(150), 0)], vec![]);
    let ev: BrainEvaluation = t.policy.decide(ctx(&[("timeout-ms", "fast")], t.grants()), &e);
    assert_eq!(ev.result, Ok(Decision::Stay));
    assert!(
        ev.logs
            .iter()
            .any(|(l, m)| *l == LogLevel::Warn && m.contains("setting `timeout-ms`")),
        "{:?}",
        ev.logs
    );
}

// ------------------------------------------------------------- worlds, bounds

fn refused(err: PolicyError) -> (&'static str, String) {
    match err {
        PolicyError::Incompatible { world, reason, .. } => (world, reason),
        other => panic!("expected an incompatible component, got {other:?}"),
    }
}

#[test]
fn each_world_is_told_the_export_it_lacks() {
    let health = baton_policy_builtins::builtin("http-status").unwrap();
    let hook = baton_policy_builtins::example("route-alerts").unwrap();
    let brain = baton_policy_builtins::builtin("split-brain-arp").unwrap();
    let e = engine();

    let err = e.load_split_brain("http-status", health, None).unwrap_err();
    assert!(
        err.to_string().contains("world baton:policy/split-brain@0.1.1"),
        "{err}"
    );
    let (world, why) = refused(err);
    assert_eq!(world, "split-brain");
    assert!(
        why.contains("does not export `decide` (it exports `check`)"),
        "{why}"
    );
    let (world, why) = refused(e.load_split_brain("route-alerts", hook, None).unwrap_err());
    assert_eq!(world, "split-brain");
    assert!(why.contains("(it exports `route`)"), "{why}");

    let err = e.load("split-brain-arp", brain, None).unwrap_err();
    println!("refused: {err}");
    let (world, why) = refused(err);
    assert_eq!(world, "health");
    assert!(
        why.contains("does not export `check` (it exports `decide`)"),
        "{why}"
    );
    let (world, why) = refused(e.load_hook("split-brain-arp", brain, None).unwrap_err());
    assert_eq!(world, "transition-hook");
    assert!(
        why.contains("does not export `route` (it exports `decide`)"),
        "{why}"
    );
}

#[test]
fn no_component_of_another_world_loads_as_a_split_brain_policy() {
    for name in baton_policy_builtins::HOSTILE_NAMES {
        let bytes = baton_policy_builtins::hostile(name).unwrap();
        let (world, _) = refused(engine().load_split_brain(name, bytes, None).unwrap_err());
        assert_eq!(world, "split-brain", "{name}");
    }
    for name in baton_policy_builtins::HOSTILE_HOOK_NAMES {
        let bytes = baton_policy_builtins::hostile_hook(name).unwrap();
        assert!(engine().load_split_brain(name, bytes, None).is_err(), "{name}");
    }
    for name in baton_policy_builtins::HOSTILE_SPLIT_BRAIN_NAMES {
        let bytes = baton_policy_builtins::hostile_split_brain(name).unwrap();
        assert!(engine().load(name, bytes, None).is_err(), "{name}");
        assert!(engine().load_hook(name, bytes, None).is_err(), "{name}");
    }
}

#[test]
fn builtin_names_agree_with_the_config() {
    assert_eq!(baton_config::BUILTIN_POLICIES, baton_policy_builtins::NAMES);
    for name in baton_policy_builtins::NAMES {
        let b = baton_config::Builtin::from_name(name).unwrap();
        assert_eq!(
            b.is_split_brain(),
            baton_policy_builtins::is_split_brain(name),
            "{name}"
        );
    }
}

#[test]
fn a_split_brain_policy_is_pinned_and_shared() {
    let bytes = baton_policy_builtins::builtin("split-brain-peer-http").unwrap();
    let good: [u8; 32] = Sha256::digest(bytes).into();
    let a = engine().load_split_brain("brain-a", bytes, Some(good)).unwrap();
    let b = engine().load_split_brain("brain-b", bytes, None).unwrap();
    assert_eq!((a.name(), a.sha256()), ("brain-a", good));
    assert!(a.shares_code_with(&b));
    let mut bad = good;
    bad[0] ^= 1;
    assert!(matches!(
        engine().load_split_brain("brain-a", bytes, Some(bad)),
        Err(PolicyError::DigestMismatch { actual, .. }) if actual == a.sha256_hex()
    ));
}

#[test]
fn looping_split_brain_policy_stops_at_its_deadline() {
    let p = hostile_split_brain("brain-loop");
    let e = with(evidence(true, 100), vec![], vec![]);
    for budget in [Duration::from_millis(20), Duration::from_millis(200)] {
        let ev = p.decide(EvalContext::default().with_budget(budget), &e);
        assert_eq!(ev.result, Err(EvalError::DeadlineExceeded(budget)), "{ev:?}");
        assert!(ev.elapsed >= budget, "{:?}", ev.elapsed);
        assert!(
            ev.elapsed < budget + Duration::from_millis(50),
            "{:?} for {budget:?}",
            ev.elapsed
        );
        assert!(ev.fuel_consumed > 0);
        println!("brain-loop, budget {budget:?}: stopped after {:?}", ev.elapsed);
    }
}
