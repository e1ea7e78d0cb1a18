//! Baton's split-brain extensions to the state machine (beyond the RFCs):
//! probe before claim (a Backup whose Master_Down_Timer fires asks who else
//! answers for the VIPs before it takes them) and holds (a demoted instance
//! is a listening Backup that never becomes Master until the hold clears).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use baton_vrrp::{Action, Advert, CLAIM_TIMEOUT, Command, Config, Instance, Reason, State, Version};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// Master_Down_Interval at priority 100, 1 s adverts.
const MDI: Duration = Duration::from_micros(3_609_375);

fn started(probe: bool) -> (Instance, Instant) {
    let mut cfg = Config::new(51, ip(10), vec![ip(100)]);
    cfg.probe_before_claim = probe;
    let mut i = Instance::new(cfg).expect("config");
    let t0 = Instant::now();
    i.handle_command(t0, Command::Start);
    drain(&mut i);
    (i, t0)
}

fn drain(i: &mut Instance) -> Vec<Action> {
    while i.poll_transmit().is_some() {}
    std::iter::from_fn(|| i.poll_action()).collect()
}

fn advert(priority: u8) -> Advert {
    Advert {
        version: Version::V3,
        vrid: 51,
        priority,
        interval: 100,
        auth_type: 0,
        auth_data: [0; 8],
        addrs: vec![ip(100)],
    }
}

#[test]
fn a_claim_waits_for_the_probe_and_a_clear_one_becomes_master() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    assert_eq!(
        i.state(),
        State::Backup,
        "no transition before the probe's answer"
    );
    assert!(drain(&mut i).contains(&Action::ProbeVips));
    assert_eq!(i.poll_timeout(), Some(t0 + MDI + CLAIM_TIMEOUT));
    i.handle_command(
        t0 + MDI + Duration::from_millis(20),
        Command::Claim { clear: true },
    );
    assert_eq!(i.state(), State::Master);
    assert_eq!(
        i.last_transition().map(|t| t.reason.clone()),
        Some(Reason::MasterDown)
    );
    assert!(drain(&mut i).iter().any(|a| matches!(a, Action::AddVips { .. })));
}

#[test]
fn a_refused_claim_stays_backup_and_probes_again_after_an_interval() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    drain(&mut i);
    let t1 = t0 + MDI + Duration::from_millis(20);
    i.handle_command(t1, Command::Claim { clear: false });
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.counters().claims_refused, 1);
    assert_eq!(i.counters().transitions, 1, "only the start's");
    assert_eq!(i.poll_timeout(), Some(t1 + MDI));
    i.handle_timeout(t1 + MDI);
    assert!(drain(&mut i).contains(&Action::ProbeVips));
}

#[test]
fn an_advert_during_the_probe_wins_over_the_claim() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    drain(&mut i);
    let t1 = t0 + MDI + Duration::from_millis(5);
    i.handle_packet(t1, ip(11), &advert(150)).expect("taken");
    i.handle_command(t1 + Duration::from_millis(15), Command::Claim { clear: true });
    assert_eq!(i.state(), State::Backup, "the Master heard meanwhile decides");
}

#[test]
fn an_unanswered_probe_goes_ahead_at_its_timeout() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    drain(&mut i);
    i.handle_timeout(t0 + MDI + CLAIM_TIMEOUT);
    assert_eq!(
        i.state(),
        State::Master,
        "a silent prober must not stop a failover"
    );
    assert_eq!(i.counters().claim_timeouts, 1);
}

#[test]
fn a_hold_demotes_a_master_and_keeps_it_a_listening_backup_until_it_clears() {
    let (mut i, t0) = started(false);
    i.handle_timeout(t0 + MDI);
    assert_eq!(i.state(), State::Master);
    drain(&mut i);
    let t1 = t0 + MDI + Duration::from_secs(1);
    i.handle_command(
        t1,
        Command::SetHold {
            cause: "split-brain".into(),
            active: true,
        },
    );
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        i.last_transition().map(|t| t.reason.clone()),
        Some(Reason::Demoted {
            cause: "split-brain".into()
        })
    );
    assert!(drain(&mut i).contains(&Action::RemoveVips));
    assert_eq!(i.counters().priority_zero_tx, 1, "it resigned");
    // Its timer fires while held: no transition.
    i.handle_timeout(t1 + MDI);
    assert_eq!(i.state(), State::Backup);
    assert!(i.held());
    let t2 = t1 + MDI + Duration::from_millis(1);
    i.handle_command(
        t2,
        Command::SetHold {
            cause: "split-brain".into(),
            active: false,
        },
    );
    assert!(!i.held());
    let next = i.poll_timeout().expect("its timer runs");
    i.handle_timeout(next);
    assert_eq!(i.state(), State::Master, "rejoins by itself");
}

#[test]
fn a_hold_during_a_probe_cancels_the_claim_and_keeps_the_timer() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    drain(&mut i);
    let t1 = t0 + MDI + Duration::from_millis(5);
    i.handle_command(
        t1,
        Command::SetHold {
            cause: "x".into(),
            active: true,
        },
    );
    i.handle_command(t1, Command::Claim { clear: true });
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.poll_timeout(), Some(t1 + MDI));
}

#[test]
fn a_claim_a_hold_stopped_is_a_wish_to_be_master_that_proceeds_when_the_hold_clears() {
    let (mut i, t0) = started(false);
    let hold = |active| Command::SetHold {
        cause: "sync group G".into(),
        active,
    };
    i.handle_command(t0, hold(true));
    assert!(!i.wants_master(), "its timer has not fired");
    i.handle_timeout(t0 + MDI);
    assert_eq!(i.state(), State::Backup);
    assert!(i.wants_master(), "held when its timer fired");
    drain(&mut i);
    let t1 = t0 + MDI + Duration::from_millis(3);
    i.handle_command(t1, hold(false));
    assert_eq!(i.state(), State::Master, "claims at once, not an interval later");
    assert!(!i.wants_master());
}

#[test]
fn an_accepted_master_advert_ends_the_wish() {
    let (mut i, t0) = started(false);
    i.handle_command(
        t0,
        Command::SetHold {
            cause: "g".into(),
            active: true,
        },
    );
    i.handle_timeout(t0 + MDI);
    assert!(i.wants_master());
    i.handle_packet(t0 + MDI + Duration::from_millis(1), ip(200), &advert(200))
        .expect("taken");
    assert!(!i.wants_master(), "a higher-priority Master is alive");
    i.handle_command(
        t0 + MDI + Duration::from_millis(2),
        Command::SetHold {
            cause: "g".into(),
            active: false,
        },
    );
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn a_prober_wants_to_be_master_and_a_hold_during_its_probe_keeps_the_wish() {
    let (mut i, t0) = started(true);
    i.handle_timeout(t0 + MDI);
    assert!(i.wants_master(), "waiting for the probe's answer");
    let t1 = t0 + MDI + Duration::from_millis(5);
    let hold = |active| Command::SetHold {
        cause: "g".into(),
        active,
    };
    i.handle_command(t1, hold(true));
    assert!(i.wants_master() && i.state() == State::Backup);
    i.handle_command(t1, hold(false));
    assert!(
        drain(&mut i).contains(&Action::ProbeVips),
        "claims again, probing first"
    );
}
