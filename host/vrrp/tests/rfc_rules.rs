//! One test per protocol rule of the instance state machine, each naming the
//! RFC section it pins down: RFC 9568 (VRRPv3) and RFC 3768 (VRRPv2).
//!
//! Every test drives an [`Instance`] on a virtual clock: `t0` is the instant it
//! was created and all times are offsets from it, so timer values are checked
//! exactly (to the nanosecond) through `poll_timeout`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use baton_vrrp::{
    Action, Advert, Auth, Command, Config, ConfigError, DropReason, Instance, Reason, State, Transition,
    Transmit, Version,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// 192.0.2.`last` (RFC 5737 documentation range).
fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// 2001:db8::`last` (RFC 3849 documentation range).
fn ip6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// Our primary address.
const ME: u8 = 10;
/// A peer whose primary address is numerically lower than ours. (As strings,
/// "192.0.2.9" > "192.0.2.10": only an integer comparison gets this right.)
const LO: u8 = 9;
/// A peer whose primary address is numerically higher than ours.
const HI: u8 = 11;

const VRID: u8 = 51;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Master_Down_Interval at the defaults (priority 100, 1 s): 3 s + 609.375 ms.
const MDI_100: Duration = Duration::from_micros(3_609_375);

/// Builder over [`Config`], starting from RFC defaults.
struct Cfg(Config);

impl Cfg {
    /// v3, IPv4, priority 100, 1 s, preempt, two VIPs.
    fn v3() -> Cfg {
        Cfg(Config::new(VRID, ip(ME), vec![ip(100), ip(101)]))
    }

    /// v2, IPv4, priority 100, 1 s, no auth, two VIPs.
    fn v2() -> Cfg {
        let mut c = Cfg::v3();
        c.0.version = Version::V2;
        c
    }

    /// v3, IPv6, priority 100, 1 s.
    fn v6() -> Cfg {
        Cfg(Config::new(VRID, ip6(0x10), vec![ip6(0x100)]))
    }

    fn prio(mut self, p: u8) -> Cfg {
        self.0.priority = p;
        self
    }

    fn interval(mut self, d: Duration) -> Cfg {
        self.0.advert_interval = d;
        self
    }

    fn nopreempt(mut self) -> Cfg {
        self.0.preempt = false;
        self
    }

    fn preempt_delay(mut self, d: Duration) -> Cfg {
        self.0.preempt_delay = d;
        self
    }

    fn accept(mut self, on: bool) -> Cfg {
        self.0.accept_mode = on;
        self
    }

    fn auth(mut self, a: Auth) -> Cfg {
        self.0.auth = a;
        self
    }

    fn check_adv_addr(mut self, on: bool) -> Cfg {
        self.0.check_adv_addr = on;
        self
    }

    fn build(self) -> Config {
        self.0
    }
}

fn pass(p: &str) -> Auth {
    Auth::pass(p).expect("valid test password")
}

/// The wire form of a v2 auth config.
fn auth_wire(a: &Auth) -> (u8, [u8; 8]) {
    match a {
        Auth::None | Auth::Hmac(_) => (0, [0; 8]),
        Auth::Pass(d) => (1, *d),
    }
}

/// An instance on a virtual clock.
struct Router {
    inst: Instance,
    t0: Instant,
}

impl Router {
    /// Created, still in Initialize.
    fn new(cfg: Config) -> Router {
        Router {
            inst: Instance::new(cfg).expect("valid test config"),
            t0: Instant::now(),
        }
    }

    /// Started at t0; its startup output is drained.
    fn started(cfg: Config) -> Router {
        let mut r = Router::new(cfg);
        r.cmd(Duration::ZERO, Command::Start);
        r.drain();
        r
    }

    /// Started at t0 (priority < 255), Master_Down_Timer fired: Master, drained.
    fn master(cfg: Config) -> Router {
        let mut r = Router::started(cfg);
        assert_eq!(r.state(), State::Backup);
        let mdi = r.timeout().expect("master down timer");
        r.tick(mdi);
        assert_eq!(r.state(), State::Master);
        r.drain();
        r
    }

    fn at(&self, d: Duration) -> Instant {
        self.t0 + d
    }

    fn cmd(&mut self, d: Duration, c: Command) {
        let now = self.at(d);
        self.inst.handle_command(now, c);
    }

    fn rx(&mut self, d: Duration, src: IpAddr, a: &Advert) {
        let now = self.at(d);
        // Drops are counted; the tests read the counters.
        let _ = self.inst.handle_packet(now, src, a);
    }

    fn tick(&mut self, d: Duration) {
        let now = self.at(d);
        self.inst.handle_timeout(now);
    }

    fn state(&self) -> State {
        self.inst.state()
    }

    /// poll_timeout as an offset from t0.
    fn timeout(&self) -> Option<Duration> {
        self.inst.poll_timeout().map(|t| t - self.t0)
    }

    fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.inst.poll_transmit()).collect()
    }

    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.inst.poll_action()).collect()
    }

    /// Everything queued: the adverts sent and the actions.
    fn drain(&mut self) -> (Vec<Advert>, Vec<Action>) {
        let tx = self.transmits();
        for t in &tx {
            assert_eq!(
                t.src,
                self.inst.config().primary_addr,
                "adverts leave from the primary address"
            );
        }
        (tx.into_iter().map(|t| t.advert).collect(), self.actions())
    }

    /// Asserts nothing was queued.
    fn assert_quiet(&mut self) {
        assert_eq!(self.drain(), (vec![], vec![]), "no output expected");
    }

    /// An advert another router of this virtual router would send.
    fn peer(&self, priority: u8) -> Advert {
        let c = self.inst.config();
        let (auth_type, auth_data) = match c.version {
            Version::V2 => auth_wire(&c.auth),
            Version::V3 => (0, [0; 8]),
        };
        Advert {
            version: c.version,
            vrid: c.vrid,
            priority,
            interval: wire_interval(c.version, c.advert_interval),
            auth_type,
            auth_data,
            addrs: c.vips.clone(),
        }
    }

    /// The advert this router is expected to send with `priority`.
    fn own(&self, priority: u8) -> Advert {
        self.peer(priority)
    }

    fn changed(&self, d: Duration, from: State, to: State, reason: Reason) -> Action {
        Action::StateChanged(Transition {
            at: self.at(d),
            from,
            to,
            reason,
        })
    }
}

fn wire_interval(v: Version, d: Duration) -> u16 {
    match v {
        Version::V2 => d.as_secs() as u16,
        Version::V3 => (d.as_millis() / 10) as u16,
    }
}

fn with_interval(mut a: Advert, interval: u16) -> Advert {
    a.interval = interval;
    a
}

// ---------------------------------------------------------------------------
// RFC 9568 §6.4.1 Initialize: Startup
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_4_1_startup_non_owner_becomes_backup_with_master_down_timer() {
    let mut r = Router::new(Cfg::v3().build());
    assert_eq!(r.state(), State::Initialize);
    assert_eq!(r.timeout(), None, "no timer before Startup");
    r.cmd(Duration::ZERO, Command::Start);
    assert_eq!(r.state(), State::Backup);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty(), "a Backup sends nothing: {tx:?}");
    assert_eq!(
        actions,
        vec![r.changed(Duration::ZERO, State::Initialize, State::Backup, Reason::Startup)]
    );
    // Master_Down_Timer = 3 * Master_Adver_Interval + Skew_Time = 3 s + 609.375 ms.
    assert_eq!(r.inst.master_adver_interval(), secs(1));
    assert_eq!(r.inst.skew_time(), us(609_375));
    assert_eq!(r.inst.master_down_interval(), MDI_100);
    assert_eq!(r.timeout(), Some(MDI_100));
    // A second Start changes nothing.
    r.cmd(ms(10), Command::Start);
    r.assert_quiet();
    assert_eq!(r.timeout(), Some(MDI_100));
}

#[test]
fn rfc3768_6_4_1_startup_v2_non_owner_becomes_backup() {
    let mut r = Router::new(Cfg::v2().prio(200).build());
    r.cmd(Duration::ZERO, Command::Start);
    assert_eq!(r.state(), State::Backup);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(Duration::ZERO, State::Initialize, State::Backup, Reason::Startup)]
    );
    // Skew = 56/256 s = 218.75 ms.
    assert_eq!(r.timeout(), Some(secs(3) + us(218_750)));
}

#[test]
fn rfc9568_6_4_1_startup_owner_becomes_master_immediately() {
    let mut r = Router::new(Cfg::v3().prio(255).build());
    r.cmd(Duration::ZERO, Command::Start);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(255)], "owner advertises priority 255 at once");
    assert_eq!(tx[0].interval, 100, "Max Adver Int in centiseconds");
    assert_eq!(
        actions,
        vec![
            r.changed(Duration::ZERO, State::Initialize, State::Master, Reason::Owner),
            // §6.1: the owner always accepts, whatever accept_mode says.
            Action::AddVips { accept: true },
        ]
    );
    // Adver_Timer = Advertisement_Interval.
    assert_eq!(r.timeout(), Some(secs(1)));
    assert_eq!(r.inst.counters().became_master, 1);
    assert_eq!(r.inst.counters().adverts_tx, 1);
    let m = r.inst.master().expect("master info");
    assert_eq!((m.addr, m.priority), (ip(ME), 255));
}

// ---------------------------------------------------------------------------
// RFC 9568 §6.1 / RFC 3768 §6.1 Skew_Time and Master_Down_Interval
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_1_skew_time_v3_is_256_minus_prio_times_master_adver_interval_over_256() {
    // (priority, Advertisement_Interval, Skew_Time, Master_Down_Interval)
    let cases = [
        (100, secs(1), us(609_375), us(3_609_375)),
        (
            254,
            secs(1),
            us(7_812) + Duration::from_nanos(500),
            us(3_007_812) + Duration::from_nanos(500),
        ),
        (
            1,
            secs(1),
            us(996_093) + Duration::from_nanos(750),
            us(3_996_093) + Duration::from_nanos(750),
        ),
        (200, secs(2), us(437_500), us(6_437_500)),
        (
            100,
            ms(500),
            us(304_687) + Duration::from_nanos(500),
            us(1_804_687) + Duration::from_nanos(500),
        ),
        (
            100,
            ms(10),
            us(6_093) + Duration::from_nanos(750),
            us(36_093) + Duration::from_nanos(750),
        ),
        (128, ms(40_950), us(20_475_000), ms(3 * 40_950) + us(20_475_000)),
    ];
    for (prio, interval, skew, mdi) in cases {
        let r = Router::started(Cfg::v3().prio(prio).interval(interval).build());
        assert_eq!(r.inst.skew_time(), skew, "skew prio {prio} interval {interval:?}");
        assert_eq!(
            r.inst.master_down_interval(),
            mdi,
            "MDI prio {prio} interval {interval:?}"
        );
        assert_eq!(r.timeout(), Some(mdi), "timer prio {prio} interval {interval:?}");
    }
}

#[test]
fn rfc3768_6_1_skew_time_v2_is_256_minus_prio_over_256_seconds() {
    // v2: Skew_Time does not scale with the interval.
    let cases = [
        (100, secs(1), us(609_375)),
        (100, secs(3), us(609_375)),
        (254, secs(1), us(7_812) + Duration::from_nanos(500)),
        (1, secs(10), us(996_093) + Duration::from_nanos(750)),
    ];
    for (prio, interval, skew) in cases {
        let r = Router::started(Cfg::v2().prio(prio).interval(interval).build());
        assert_eq!(r.inst.skew_time(), skew, "skew prio {prio} interval {interval:?}");
        assert_eq!(r.inst.master_down_interval(), 3 * interval + skew);
        assert_eq!(r.timeout(), Some(3 * interval + skew));
    }
}

// ---------------------------------------------------------------------------
// RFC 9568 §6.4.2 Backup
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_4_2_master_down_timer_fires_backup_becomes_master() {
    let mut r = Router::started(Cfg::v3().build());
    // One nanosecond early: nothing.
    r.tick(MDI_100 - Duration::from_nanos(1));
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    r.tick(MDI_100);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(100)]);
    assert_eq!(
        actions,
        vec![
            r.changed(MDI_100, State::Backup, State::Master, Reason::MasterDown),
            Action::AddVips { accept: false },
        ]
    );
    // Adver_Timer = Advertisement_Interval.
    assert_eq!(r.timeout(), Some(MDI_100 + secs(1)));
    assert_eq!(r.inst.counters().became_master, 1);
}

#[test]
fn rfc9568_6_4_2_higher_or_equal_priority_advert_resets_master_down_timer() {
    let mut r = Router::started(Cfg::v3().build());
    let higher = r.peer(150);
    r.rx(secs(2), ip(HI), &higher);
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    assert_eq!(r.timeout(), Some(secs(2) + MDI_100));
    let m = r.inst.master().expect("master learnt");
    assert_eq!((m.addr, m.priority, m.last_seen), (ip(HI), 150, r.at(secs(2))));

    // Equal priority, even from a lower address, also resets it.
    let equal = r.peer(100);
    r.rx(secs(4), ip(LO), &equal);
    assert_eq!(r.timeout(), Some(secs(4) + MDI_100));
    // The old deadline passes: still Backup.
    r.tick(secs(2) + MDI_100);
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    assert_eq!(r.inst.counters().adverts_rx, 2);
}

#[test]
fn rfc3768_6_4_2_v2_backup_resets_timer_with_own_interval() {
    let mut r = Router::started(Cfg::v2().interval(secs(2)).build());
    let mdi = secs(6) + us(609_375);
    assert_eq!(r.timeout(), Some(mdi));
    let a = r.peer(200);
    assert_eq!(a.interval, 2);
    r.rx(secs(1), ip(HI), &a);
    assert_eq!(r.timeout(), Some(secs(1) + mdi));
    assert_eq!(r.inst.master_adver_interval(), secs(2));
}

#[test]
fn rfc9568_6_4_2_v3_backup_learns_master_adver_interval_from_advert() {
    // We are configured 100 cs; the Master advertises 50 cs.
    let mut r = Router::started(Cfg::v3().build());
    let a = with_interval(r.peer(150), 50);
    r.rx(secs(1), ip(HI), &a);
    assert_eq!(r.inst.master_adver_interval(), ms(500));
    // Skew = 156 * 500 ms / 256 = 304.6875 ms; MDI = 1.5 s + skew.
    assert_eq!(r.inst.skew_time(), us(304_687) + Duration::from_nanos(500));
    let mdi = us(1_804_687) + Duration::from_nanos(500);
    assert_eq!(r.inst.master_down_interval(), mdi);
    assert_eq!(r.timeout(), Some(secs(1) + mdi));

    // The Master goes silent: we take over, advertising our own interval.
    r.tick(secs(1) + mdi);
    assert_eq!(r.state(), State::Master);
    let (tx, _) = r.drain();
    assert_eq!(tx.len(), 1);
    assert_eq!(
        tx[0].interval, 100,
        "a Master advertises its own Advertisement_Interval"
    );
    assert_eq!(r.timeout(), Some(secs(1) + mdi + secs(1)));
    assert_eq!(
        r.inst.master_adver_interval(),
        secs(1),
        "reset to ours once Master"
    );
}

#[test]
fn rfc9568_6_4_2_priority_zero_sets_timer_to_skew_time_reason_master_resigned() {
    let mut r = Router::started(Cfg::v3().build());
    let live = r.peer(200);
    r.rx(secs(1), ip(HI), &live);
    let resign = r.peer(0);
    r.rx(secs(2), ip(HI), &resign);
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    assert_eq!(
        r.timeout(),
        Some(secs(2) + us(609_375)),
        "Master_Down_Timer = Skew_Time"
    );
    assert_eq!(r.inst.counters().priority_zero_rx, 1);

    r.tick(secs(2) + us(609_375));
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(100)]);
    assert_eq!(
        actions,
        vec![
            r.changed(
                secs(2) + us(609_375),
                State::Backup,
                State::Master,
                Reason::MasterResigned { master: ip(HI) }
            ),
            Action::AddVips { accept: false },
        ]
    );
}

#[test]
fn rfc9568_6_4_2_priority_zero_skew_uses_learnt_master_adver_interval() {
    let mut r = Router::started(Cfg::v3().build());
    let live = with_interval(r.peer(200), 200);
    r.rx(secs(1), ip(HI), &live);
    let resign = with_interval(r.peer(0), 200);
    r.rx(secs(2), ip(HI), &resign);
    // Skew = 156 * 2 s / 256 = 1.21875 s.
    assert_eq!(r.timeout(), Some(secs(2) + us(1_218_750)));
}

#[test]
fn rfc9568_6_4_2_lower_priority_with_preempt_is_discarded_reason_preempt() {
    // §6.4.2 discards it and lets Master_Down_Timer run out; Baton discards it
    // and takes over after Skew_Time (609.375 ms at priority 100): the Master
    // is alive and outranked, so waiting longer changes nothing but the delay.
    let mut r = Router::started(Cfg::v3().build());
    let low = r.peer(50);
    let at = secs(1) + us(609_375);
    r.rx(secs(1), ip(HI), &low);
    assert_eq!(r.timeout(), Some(at), "discarded: preempt after Skew_Time");
    // More of its adverts do not postpone it.
    r.rx(secs(1) + ms(300), ip(HI), &low);
    assert_eq!(r.timeout(), Some(at));
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    r.tick(at);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(100)]);
    assert_eq!(
        actions,
        vec![
            r.changed(
                at,
                State::Backup,
                State::Master,
                Reason::Preempt {
                    master: ip(HI),
                    priority: 50
                }
            ),
            Action::AddVips { accept: false },
        ]
    );
}

#[test]
fn rfc9568_6_4_2_nopreempt_lower_priority_resets_timer_forever() {
    let mut r = Router::started(Cfg::v3().nopreempt().build());
    let low = r.peer(50);
    for k in 1..=100 {
        r.tick(secs(k));
        r.rx(secs(k), ip(LO), &low);
        assert_eq!(
            r.state(),
            State::Backup,
            "never takes over while adverts keep coming ({k})"
        );
        assert_eq!(r.timeout(), Some(secs(k) + MDI_100));
    }
    r.assert_quiet();
    let m = r.inst.master().expect("master");
    assert_eq!((m.addr, m.priority), (ip(LO), 50));
    // It goes silent: ordinary Master_Down.
    r.tick(secs(100) + MDI_100);
    assert_eq!(r.state(), State::Master);
    let (_, actions) = r.drain();
    assert_eq!(
        actions[0],
        r.changed(
            secs(100) + MDI_100,
            State::Backup,
            State::Master,
            Reason::MasterDown
        )
    );
}

#[test]
fn rfc9568_6_1_owner_preempts_even_with_preempt_false() {
    let mut r = Router::started(Cfg::v3().prio(255).nopreempt().build());
    assert_eq!(r.state(), State::Master);
    // A second owner with a higher address wins the tie (§6.4.3)...
    let other_owner = r.peer(255);
    r.rx(ms(500), ip(HI), &other_owner);
    assert_eq!(r.state(), State::Backup);
    r.drain();
    // Skew for 255 = 1/256 s = 3.90625 ms.
    let mdi = secs(3) + us(3_906) + Duration::from_nanos(250);
    assert_eq!(r.timeout(), Some(ms(500) + mdi));
    // ...then a lower-priority router advertises: an owner discards it even
    // though preempt is off, and takes over when the timer runs out.
    let low = r.peer(200);
    r.rx(secs(1), ip(LO), &low);
    // The other owner advertised 0.5 s ago and outranks it: its timer stands
    // (no early preemption while a higher router is known alive).
    let at = ms(500) + mdi;
    assert_eq!(r.timeout(), Some(at), "discarded");
    r.tick(at);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(255)]);
    assert_eq!(
        actions,
        vec![
            r.changed(
                at,
                State::Backup,
                State::Master,
                Reason::Preempt {
                    master: ip(LO),
                    priority: 200
                }
            ),
            Action::AddVips { accept: true },
        ]
    );
}

#[test]
fn keepalived_preempt_delay_accepts_lower_master_until_delay_then_preempts() {
    // RFC 9568 §6.4.2 with keepalived's preempt_delay: a lower-priority Master
    // is accepted (timer reset) for preempt_delay after it is first seen.
    let mut r = Router::started(Cfg::v3().preempt_delay(secs(5)).build());
    let low = r.peer(50);
    for k in 1..=5 {
        r.tick(secs(k));
        r.rx(secs(k), ip(LO), &low);
        assert_eq!(
            r.timeout(),
            Some(secs(k) + MDI_100),
            "within the delay: accepted ({k})"
        );
    }
    // The delay (from the first sighting at 1 s) is over at 6 s: discarded,
    // preempt after Skew_Time.
    r.tick(secs(6));
    r.rx(secs(6), ip(LO), &low);
    let at = secs(6) + us(609_375);
    assert_eq!(r.timeout(), Some(at), "delay over: discarded");
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    r.tick(at);
    assert_eq!(r.state(), State::Master);
    let (_, actions) = r.drain();
    assert_eq!(
        actions,
        vec![
            r.changed(
                at,
                State::Backup,
                State::Master,
                Reason::Preempt {
                    master: ip(LO),
                    priority: 50
                }
            ),
            Action::AddVips { accept: false },
        ]
    );
}

#[test]
fn keepalived_preempt_delay_restarts_after_a_higher_master() {
    // A higher-priority advert in between forgets the lower Master's first sighting.
    let mut r = Router::started(Cfg::v3().preempt_delay(secs(3)).build());
    let low = r.peer(50);
    let high = r.peer(150);
    r.rx(secs(1), ip(LO), &low); // deadline 4 s
    r.rx(secs(2), ip(HI), &high);
    r.rx(secs(5), ip(LO), &low); // first seen again: deadline 8 s
    assert_eq!(r.timeout(), Some(secs(5) + MDI_100));
    r.rx(secs(7), ip(LO), &low);
    assert_eq!(r.timeout(), Some(secs(7) + MDI_100));
    r.rx(secs(8), ip(LO), &low);
    assert_eq!(r.timeout(), Some(secs(8) + us(609_375)), "delay over: discarded");
}

// ---------------------------------------------------------------------------
// RFC 9568 §6.4.3 Master
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_4_3_adver_timer_sends_advert_every_interval_exact_cadence() {
    let mut r = Router::started(Cfg::v3().prio(255).interval(ms(250)).build());
    assert_eq!(r.timeout(), Some(ms(250)));
    // Early: nothing.
    r.tick(ms(249));
    r.assert_quiet();
    for k in 1..=20u64 {
        let due = ms(250 * k);
        assert_eq!(r.timeout(), Some(due));
        r.tick(due);
        let (tx, actions) = r.drain();
        assert_eq!(tx, vec![r.own(255)], "exactly one advert at {due:?}");
        assert_eq!(tx[0].interval, 25);
        assert!(actions.is_empty());
        assert_eq!(r.timeout(), Some(due + ms(250)));
    }
    // A driver a little late keeps the cadence.
    r.tick(ms(5_260));
    assert_eq!(r.drain().0.len(), 1);
    assert_eq!(r.timeout(), Some(ms(5_500)));
    assert_eq!(r.inst.counters().adverts_tx, 22);
}

#[test]
fn rfc3768_6_4_3_v2_master_adverts_carry_seconds_and_auth() {
    let mut r = Router::master(Cfg::v2().interval(secs(3)).auth(pass("s3cret")).build());
    let start = secs(9) + us(609_375);
    assert_eq!(r.timeout(), Some(start + secs(3)));
    r.tick(start + secs(3));
    let (tx, _) = r.drain();
    assert_eq!(tx.len(), 1);
    let a = &tx[0];
    assert_eq!(
        (a.version, a.vrid, a.priority, a.interval),
        (Version::V2, VRID, 100, 3)
    );
    assert_eq!(a.auth_type, 1);
    assert_eq!(&a.auth_data, b"s3cret\0\0");
    assert_eq!(a.addrs, vec![ip(100), ip(101)]);
    assert_eq!(r.timeout(), Some(start + secs(6)));
}

#[test]
fn rfc9568_6_4_3_v3_adverts_carry_no_auth() {
    let mut r = Router::started(Cfg::v3().prio(255).build());
    r.tick(secs(1));
    let (tx, _) = r.drain();
    assert_eq!((tx[0].auth_type, tx[0].auth_data), (0, [0; 8]));
}

#[test]
fn rfc9568_6_4_3_master_priority_zero_received_sends_advert_and_resets_timer() {
    let mut r = Router::master(Cfg::v3().build());
    assert_eq!(r.timeout(), Some(MDI_100 + secs(1)));
    let resign = r.peer(0);
    r.rx(secs(4), ip(HI), &resign);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(100)], "advert at once");
    assert!(actions.is_empty());
    assert_eq!(
        r.timeout(),
        Some(secs(5)),
        "Adver_Timer reset to Advertisement_Interval"
    );
}

#[test]
fn rfc9568_6_4_3_master_higher_priority_goes_backup_with_sender_interval() {
    let mut r = Router::master(Cfg::v3().build());
    let a = with_interval(r.peer(200), 200);
    r.rx(secs(4), ip(LO), &a);
    assert_eq!(r.state(), State::Backup);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty(), "no advert when stepping down: {tx:?}");
    assert_eq!(
        actions,
        vec![
            r.changed(
                secs(4),
                State::Master,
                State::Backup,
                Reason::HigherPriority {
                    master: ip(LO),
                    priority: 200
                }
            ),
            Action::RemoveVips,
        ]
    );
    // Master_Adver_Interval = 2 s (the sender's); skew = 156 * 2 s / 256.
    assert_eq!(r.inst.master_adver_interval(), secs(2));
    assert_eq!(r.timeout(), Some(secs(4) + secs(6) + us(1_218_750)));
    // Adver_Timer cancelled: its old deadline passes silently.
    r.tick(MDI_100 + secs(1));
    r.assert_quiet();
}

#[test]
fn rfc9568_6_4_3_master_equal_priority_higher_address_goes_backup() {
    let mut r = Router::master(Cfg::v3().build());
    let a = r.peer(100);
    r.rx(secs(4), ip(HI), &a);
    assert_eq!(r.state(), State::Backup);
    let (_, actions) = r.drain();
    assert_eq!(
        actions,
        vec![
            r.changed(
                secs(4),
                State::Master,
                State::Backup,
                Reason::HigherPriority {
                    master: ip(HI),
                    priority: 100
                }
            ),
            Action::RemoveVips,
        ]
    );
    assert_eq!(r.timeout(), Some(secs(4) + MDI_100));
}

#[test]
fn rfc9568_6_4_3_master_equal_priority_lower_address_is_discarded() {
    let mut r = Router::master(Cfg::v3().build());
    let a = r.peer(100);
    r.rx(secs(4), ip(LO), &a);
    assert_eq!(r.state(), State::Master);
    // Discarded, but the other Master is answered and the VIPs re-announced.
    let (tx, actions) = r.drain();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].priority, 100);
    assert_eq!(actions, vec![Action::AnnounceVips]);
    assert_eq!(r.timeout(), Some(secs(5)));
}

#[test]
fn rfc9568_6_4_3_master_equal_priority_ipv6_address_compared_as_integer() {
    let mut r = Router::master(Cfg::v6().build());
    let a = r.peer(100);
    // 2001:db8::f < 2001:db8::10 (ours) < 2001:db8::1:0
    r.rx(secs(4), ip6(0xf), &a);
    assert_eq!(r.state(), State::Master);
    let (_, actions) = r.drain();
    assert_eq!(actions, vec![Action::AnnounceVips], "the lower one is answered");
    let higher = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 0));
    r.rx(secs(4), higher, &a);
    assert_eq!(r.state(), State::Backup);
    let (_, actions) = r.drain();
    assert_eq!(
        actions,
        vec![
            r.changed(
                secs(4),
                State::Master,
                State::Backup,
                Reason::HigherPriority {
                    master: higher,
                    priority: 100
                }
            ),
            Action::RemoveVips,
        ]
    );
}

#[test]
fn rfc9568_6_4_3_master_lower_priority_is_discarded() {
    let mut r = Router::master(Cfg::v3().build());
    let a = r.peer(99);
    r.rx(secs(4), ip(HI), &a);
    assert_eq!(r.state(), State::Master);
    // keepalived's "forcing new election": answer at once, re-announce the VIPs,
    // and restart the advert cadence from now.
    let (tx, actions) = r.drain();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].priority, 100);
    assert_eq!(actions, vec![Action::AnnounceVips]);
    assert_eq!(r.timeout(), Some(secs(5)));
    // A second one within the interval (a flood) is only discarded.
    r.rx(secs(4) + Duration::from_millis(500), ip(HI), &a);
    r.assert_quiet();
    assert_eq!(r.timeout(), Some(secs(5)));
    // One interval later it is answered again.
    r.rx(secs(5), ip(HI), &a);
    let (tx, actions) = r.drain();
    assert_eq!((tx.len(), actions), (1, vec![Action::AnnounceVips]));
}

#[test]
fn rfc9568_6_4_3_master_shutdown_sends_priority_zero_and_removes_vips() {
    let mut r = Router::master(Cfg::v3().build());
    r.cmd(secs(4), Command::Shutdown);
    assert_eq!(r.state(), State::Initialize);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(0)]);
    assert_eq!(
        actions,
        vec![
            Action::RemoveVips,
            r.changed(secs(4), State::Master, State::Initialize, Reason::Shutdown),
        ]
    );
    assert_eq!(r.timeout(), None);
    assert_eq!(r.inst.counters().priority_zero_tx, 1);
    // Timers are gone and adverts are ignored.
    r.tick(secs(10));
    let a = r.peer(200);
    r.rx(secs(11), ip(HI), &a);
    r.assert_quiet();
    assert_eq!(r.state(), State::Initialize);
}

#[test]
fn rfc9568_6_4_2_backup_shutdown_cancels_master_down_timer() {
    let mut r = Router::started(Cfg::v3().build());
    r.cmd(secs(1), Command::Shutdown);
    assert_eq!(r.state(), State::Initialize);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(secs(1), State::Backup, State::Initialize, Reason::Shutdown)]
    );
    assert_eq!(r.timeout(), None);
    r.tick(secs(10));
    r.assert_quiet();
}

#[test]
fn rfc9568_6_4_1_start_after_shutdown_starts_afresh() {
    let mut r = Router::master(Cfg::v3().build());
    let a = with_interval(r.peer(200), 50);
    r.rx(secs(4), ip(HI), &a);
    r.cmd(secs(5), Command::Shutdown);
    r.drain();
    r.cmd(secs(6), Command::Start);
    assert_eq!(r.state(), State::Backup);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(secs(6), State::Initialize, State::Backup, Reason::Startup)]
    );
    // Master_Adver_Interval back to ours: the learnt 500 ms is forgotten.
    assert_eq!(r.timeout(), Some(secs(6) + MDI_100));
}

// ---------------------------------------------------------------------------
// RFC 3768 §7.1 / RFC 9568 §7.1 receive checks made by the instance
// ---------------------------------------------------------------------------

/// Feeds `bad` (from `src`) to `r` and asserts it is dropped for `reason`:
/// that one counter moves and nothing else (state, timer, master, output).
fn assert_dropped(r: &mut Router, d: Duration, src: IpAddr, bad: &Advert, reason: DropReason) {
    let state = r.state();
    let timeout = r.timeout();
    let master = r.inst.master();
    let mai = r.inst.master_adver_interval();
    let mut expected = r.inst.counters().clone();
    expected.drops.count(reason);
    r.rx(d, src, bad);
    assert_eq!(r.inst.counters(), &expected, "only drops[{reason}] moves");
    assert_eq!(r.state(), state);
    assert_eq!(r.timeout(), timeout);
    assert_eq!(r.inst.master(), master);
    assert_eq!(r.inst.master_adver_interval(), mai);
    r.assert_quiet();
}

/// Asserts `advert` is accepted and acted on, in Backup (timer reset) and
/// in Master (steps down: it carries priority 200).
fn assert_accepted(cfg: &Config, src: IpAddr, make: impl Fn(&Router) -> Advert) {
    let mut b = Router::started(cfg.clone());
    let a = make(&b);
    b.rx(secs(1), src, &a);
    assert_eq!(b.inst.counters().adverts_rx, 1);
    assert_eq!(b.inst.counters().drops.total(), 0);
    assert_eq!(
        b.timeout(),
        Some(secs(1) + b.inst.master_down_interval()),
        "timer reset"
    );
    let mut m = Router::master(cfg.clone());
    m.rx(secs(4), src, &a);
    assert_eq!(m.state(), State::Backup);
}

/// Runs [`assert_dropped`] in Backup and in Master, for an advert made from a
/// peer's priority-200 advert (which would change the state if accepted).
fn assert_dropped_everywhere(cfg: &Config, src: IpAddr, make: impl Fn(Advert) -> Advert, reason: DropReason) {
    let mut b = Router::started(cfg.clone());
    let bad = make(b.peer(200));
    assert_dropped(&mut b, secs(1), src, &bad, reason);
    assert_eq!(b.inst.counters().drops.get(reason), 1);
    assert_eq!(b.inst.counters().drops.total(), 1);
    let mut m = Router::master(cfg.clone());
    let bad = make(m.peer(200));
    assert_dropped(&mut m, secs(4), src, &bad, reason);
    assert_eq!(m.inst.counters().drops.total(), 1);
}

#[test]
fn rfc9568_7_1_control_well_formed_peer_advert_is_accepted() {
    assert_accepted(&Cfg::v3().build(), ip(HI), |r| r.peer(200));
    assert_accepted(&Cfg::v2().auth(pass("1111")).build(), ip(HI), |r| r.peer(200));
    assert_accepted(&Cfg::v6().build(), ip6(0x20), |r| r.peer(200));
}

#[test]
fn rfc9568_7_1_wrong_version_is_dropped() {
    // A v3 instance hears a v2 advert, and the other way round.
    assert_dropped_everywhere(
        &Cfg::v3().build(),
        ip(HI),
        |mut a| {
            a.version = Version::V2;
            a.interval = 1;
            a
        },
        DropReason::BadVersion,
    );
    assert_dropped_everywhere(
        &Cfg::v2().build(),
        ip(HI),
        |mut a| {
            a.version = Version::V3;
            a.interval = 100;
            a
        },
        DropReason::BadVersion,
    );
}

#[test]
fn rfc9568_7_1_wrong_vrid_is_dropped() {
    for cfg in [Cfg::v3().build(), Cfg::v2().build(), Cfg::v6().build()] {
        let src = if cfg.family() == baton_vrrp::Family::V6 {
            ip6(0x20)
        } else {
            ip(HI)
        };
        assert_dropped_everywhere(
            &cfg,
            src,
            |mut a| {
                a.vrid = VRID + 1;
                a
            },
            DropReason::UnknownVrid,
        );
    }
}

#[test]
fn rfc3768_7_1_auth_type_mismatch_is_dropped() {
    // We use PASS, the advert carries none.
    assert_dropped_everywhere(
        &Cfg::v2().auth(pass("1111")).build(),
        ip(HI),
        |mut a| {
            a.auth_type = 0;
            a.auth_data = [0; 8];
            a
        },
        DropReason::AuthMismatch,
    );
    // We use none, the advert carries PASS.
    assert_dropped_everywhere(
        &Cfg::v2().build(),
        ip(HI),
        |mut a| {
            a.auth_type = 1;
            a.auth_data = *b"1111\0\0\0\0";
            a
        },
        DropReason::AuthMismatch,
    );
    // An unknown auth type (2, the IP Authentication Header of RFC 2338).
    assert_dropped_everywhere(
        &Cfg::v2().auth(pass("1111")).build(),
        ip(HI),
        |mut a| {
            a.auth_type = 2;
            a
        },
        DropReason::AuthMismatch,
    );
}

#[test]
fn rfc2338_7_1_pass_password_mismatch_is_dropped() {
    let cfg = Cfg::v2().auth(pass("1111")).build();
    for wrong in [*b"1112\0\0\0\0", *b"1111\0\0\0x", *b"11111\0\0\0", [0; 8]] {
        assert_dropped_everywhere(
            &cfg,
            ip(HI),
            |mut a| {
                a.auth_data = wrong;
                a
            },
            DropReason::AuthMismatch,
        );
    }
}

#[test]
fn rfc3768_7_1_v2_interval_mismatch_is_dropped() {
    let cfg = Cfg::v2().build();
    for wrong in [2, 255] {
        assert_dropped_everywhere(
            &cfg,
            ip(HI),
            |a| with_interval(a, wrong),
            DropReason::IntervalMismatch,
        );
    }
    // v3 has no such check: the interval is learnt (see §6.4.2 tests).
    assert_accepted(&Cfg::v3().build(), ip(HI), |r| with_interval(r.peer(200), 37));
}

#[test]
fn rfc9568_7_1_address_list_mismatch_is_dropped() {
    let cfg = Cfg::v3().build();
    // Missing one, an extra one, a different one.
    let lists = [
        vec![ip(100)],
        vec![ip(100), ip(101), ip(102)],
        vec![ip(100), ip(102)],
    ];
    for addrs in lists {
        assert_dropped_everywhere(
            &cfg,
            ip(HI),
            |mut a| {
                a.addrs = addrs.clone();
                a
            },
            DropReason::AddressListMismatch,
        );
    }
    // v2 too (RFC 3768 §7.1).
    assert_dropped_everywhere(
        &Cfg::v2().build(),
        ip(HI),
        |mut a| {
            a.addrs = vec![ip(100)];
            a
        },
        DropReason::AddressListMismatch,
    );
    // Order does not matter.
    assert_accepted(&cfg, ip(HI), |r| {
        let mut a = r.peer(200);
        a.addrs.reverse();
        a
    });
}

#[test]
fn rfc9568_7_1_address_list_not_checked_when_check_adv_addr_off() {
    let cfg = Cfg::v3().check_adv_addr(false).build();
    assert_accepted(&cfg, ip(HI), |r| {
        let mut a = r.peer(200);
        a.addrs = vec![ip(102)];
        a
    });
}

#[test]
fn rfc3768_7_1_address_list_mismatch_from_owner_is_still_processed() {
    // RFC 3768 §7.1 (same text in RFC 9568 §7.1) after the MAY address check:
    // "If the packet was not generated by the address owner (Priority does
    // not equal 255 (decimal)), the receiver MUST drop the packet, otherwise
    // continue processing."
    for cfg in [Cfg::v3().build(), Cfg::v2().build()] {
        let mut b = Router::started(cfg.clone());
        let mut a = b.peer(255);
        a.addrs = vec![ip(100)];
        b.rx(secs(1), ip(HI), &a);
        assert_eq!(
            b.inst.counters().drops.total(),
            0,
            "{:?}",
            b.inst.counters().drops
        );
        assert_eq!(b.timeout(), Some(secs(1) + b.inst.master_down_interval()));
        let mut m = Router::master(cfg);
        m.rx(secs(4), ip(HI), &a);
        assert_eq!(m.state(), State::Backup, "the owner wins");
    }
}

#[test]
fn rfc9568_7_1_own_address_as_source_is_self_originated() {
    assert_dropped_everywhere(&Cfg::v3().build(), ip(ME), |a| a, DropReason::SelfOriginated);
    assert_dropped_everywhere(&Cfg::v6().build(), ip6(0x10), |a| a, DropReason::SelfOriginated);
}

#[test]
fn rfc9568_7_1_source_of_another_family_is_dropped() {
    assert_dropped_everywhere(&Cfg::v3().build(), ip6(0x20), |a| a, DropReason::BadSource);
}

// ---------------------------------------------------------------------------
// Priority: clamp(base + sum of weights, 1, 254); the owner is never adjusted
// (RFC 9568 §5.2.4: 255 is the owner's, 0 is for resigning)
// ---------------------------------------------------------------------------

fn weight(r: &mut Router, d: Duration, source: &str, w: i32) {
    r.cmd(
        d,
        Command::SetWeight {
            source: source.to_string(),
            weight: w,
        },
    );
}

#[test]
fn rfc9568_5_2_4_effective_priority_sums_weights_and_clamps() {
    let mut r = Router::started(Cfg::v3().build());
    assert_eq!(r.inst.effective_priority(), 100);
    weight(&mut r, ms(1), "a", 30);
    weight(&mut r, ms(1), "b", -10);
    assert_eq!(r.inst.effective_priority(), 120);
    weight(&mut r, ms(1), "a", 5); // replaces, not adds
    assert_eq!(r.inst.effective_priority(), 95);
    weight(&mut r, ms(1), "a", 0); // 0 removes
    assert_eq!(r.inst.effective_priority(), 90);
    weight(&mut r, ms(1), "c", 1_000);
    assert_eq!(r.inst.effective_priority(), 254, "never 255: that is the owner's");
    weight(&mut r, ms(1), "c", -1_000);
    assert_eq!(r.inst.effective_priority(), 1, "never 0: that is resigning");
    weight(&mut r, ms(1), "c", i32::MIN);
    weight(&mut r, ms(1), "d", i32::MIN);
    assert_eq!(r.inst.effective_priority(), 1, "no overflow");
    weight(&mut r, ms(1), "c", 0);
    weight(&mut r, ms(1), "d", 0);
    weight(&mut r, ms(1), "b", 0);
    assert_eq!(r.inst.effective_priority(), 100);
    // Weights change no state by themselves.
    r.assert_quiet();
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn rfc9568_5_2_4_owner_priority_never_adjusted() {
    let mut r = Router::started(Cfg::v3().prio(255).build());
    weight(&mut r, ms(1), "a", -100);
    assert_eq!(r.inst.effective_priority(), 255);
    weight(&mut r, ms(1), "b", 10);
    assert_eq!(r.inst.effective_priority(), 255);
    r.tick(secs(1));
    let (tx, _) = r.drain();
    assert_eq!(tx, vec![r.own(255)]);
}

#[test]
fn rfc9568_5_2_4_advert_carries_effective_priority() {
    let mut r = Router::master(Cfg::v3().build());
    weight(&mut r, secs(4), "link", 20);
    r.tick(MDI_100 + secs(1));
    assert_eq!(r.drain().0, vec![r.own(120)]);
    weight(&mut r, secs(5), "ping", -200);
    r.tick(MDI_100 + secs(2));
    assert_eq!(r.drain().0, vec![r.own(1)]);
    let m = r.inst.master().expect("self");
    assert_eq!(m.priority, 1);
}

#[test]
fn rfc9568_6_4_2_backup_elects_and_skews_with_effective_priority() {
    // 100 + 50 = 150: a 200 advert resets the timer with Skew = 106/256 s.
    let mut r = Router::started(Cfg::v3().build());
    weight(&mut r, ms(1), "t", 50);
    let a = r.peer(200);
    r.rx(secs(1), ip(HI), &a);
    assert_eq!(
        r.timeout(),
        Some(secs(4) + us(414_062) + Duration::from_nanos(500))
    );
    // 100 + 60 = 160 > 150: a 150 advert is now discarded (preempt).
    weight(&mut r, secs(2), "t", 60);
    let deadline = r.timeout();
    let b = r.peer(150);
    r.rx(secs(2), ip(LO), &b);
    // Discarded; the 200 advertised 1 s ago and is alive, so no early preemption.
    assert_eq!(r.timeout(), deadline);
    // Once the 200 has been silent for a Master_Down_Interval, the 150 is
    // preempted Skew_Time after its next advert (Skew for 160 = 96/256 s).
    let mut r = Router::started(Cfg::v3().build());
    weight(&mut r, ms(1), "t", 60);
    r.rx(secs(2), ip(LO), &b);
    assert_eq!(r.timeout(), Some(secs(2) + ms(375)));
}

#[test]
fn rfc9568_6_4_3_master_steps_down_to_advert_above_effective_priority() {
    // 100 - 60 = 40 < 50.
    let mut r = Router::master(Cfg::v3().build());
    weight(&mut r, secs(4), "t", -60);
    let a = r.peer(50);
    r.rx(secs(4), ip(LO), &a);
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn rfc9568_6_4_2_backup_no_longer_outranking_a_discarded_master_accepts_it() {
    // A Backup about to preempt a lower Master (its adverts discarded) drops
    // below it: that Master's last advert now counts as accepted, so the timer
    // runs from it again instead of preempting.
    let mut r = Router::started(Cfg::v3().build());
    let low = r.peer(90);
    r.rx(secs(1), ip(LO), &low);
    assert_eq!(
        r.timeout(),
        Some(secs(1) + us(609_375)),
        "discarded: preempt after Skew_Time"
    );
    weight(&mut r, ms(1500), "t", -20); // 80 < 90
    // Skew for 80: 176/256 s = 687.5 ms.
    assert_eq!(r.timeout(), Some(secs(1) + secs(3) + us(687_500)));
    r.tick(MDI_100);
    assert_eq!(r.state(), State::Backup);
    r.assert_quiet();
    // Equal priority counts as accepted too (§6.4.2 "greater than or equal").
    let mut r = Router::started(Cfg::v3().build());
    r.rx(secs(1), ip(LO), &low);
    weight(&mut r, ms(1500), "t", -10); // 90 == 90
    // Skew for 90: 166/256 s = 648.4375 ms.
    assert_eq!(
        r.timeout(),
        Some(secs(1) + secs(3) + us(648_437) + Duration::from_nanos(500))
    );
}

// ---------------------------------------------------------------------------
// Fault (keepalived's FAULT state, outside the RFC state machine)
// ---------------------------------------------------------------------------

fn fault(r: &mut Router, d: Duration, cause: &str, active: bool) {
    r.cmd(
        d,
        Command::SetFault {
            cause: cause.to_string(),
            active,
        },
    );
}

fn fault_reason(cause: &str) -> Reason {
    Reason::Fault {
        cause: cause.to_string(),
    }
}

#[test]
fn fault_from_master_resigns_with_priority_zero_and_removes_vips() {
    let mut r = Router::master(Cfg::v3().build());
    fault(&mut r, secs(4), "link", true);
    assert_eq!(r.state(), State::Fault);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(0)]);
    assert_eq!(
        actions,
        vec![
            Action::RemoveVips,
            r.changed(secs(4), State::Master, State::Fault, fault_reason("link")),
        ]
    );
    assert_eq!(r.timeout(), None);
    assert_eq!(r.inst.counters().priority_zero_tx, 1);
    assert_eq!(r.inst.faults().collect::<Vec<_>>(), vec!["link"]);
}

#[test]
fn fault_from_backup_stops_timers() {
    let mut r = Router::started(Cfg::v3().build());
    fault(&mut r, secs(1), "link", true);
    assert_eq!(r.state(), State::Fault);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(secs(1), State::Backup, State::Fault, fault_reason("link"))]
    );
    assert_eq!(r.timeout(), None);
    r.tick(secs(60));
    r.assert_quiet();
    assert_eq!(r.state(), State::Fault);
}

#[test]
fn fault_two_causes_both_must_clear_then_backup_with_fresh_timer() {
    let mut r = Router::started(Cfg::v3().build());
    fault(&mut r, secs(1), "link", true);
    fault(&mut r, secs(2), "ping", true);
    r.drain();
    // Raising one already raised is no transition either.
    fault(&mut r, secs(2), "ping", true);
    fault(&mut r, secs(3), "link", false);
    assert_eq!(r.state(), State::Fault);
    r.assert_quiet();
    assert_eq!(r.timeout(), None);
    // Clearing a cause that is not raised does nothing.
    fault(&mut r, secs(4), "nope", false);
    assert_eq!(r.state(), State::Fault);
    r.assert_quiet();
    fault(&mut r, secs(5), "ping", false);
    assert_eq!(r.state(), State::Backup);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(secs(5), State::Fault, State::Backup, Reason::FaultCleared)]
    );
    assert_eq!(r.timeout(), Some(secs(5) + MDI_100));
}

#[test]
fn fault_cleared_resets_learnt_master_adver_interval() {
    let mut r = Router::started(Cfg::v3().build());
    let a = with_interval(r.peer(200), 300);
    r.rx(secs(1), ip(HI), &a);
    assert_eq!(r.inst.master_adver_interval(), secs(3));
    fault(&mut r, secs(2), "link", true);
    fault(&mut r, secs(3), "link", false);
    assert_eq!(r.timeout(), Some(secs(3) + MDI_100));
}

#[test]
fn fault_cleared_owner_goes_straight_to_master() {
    let mut r = Router::started(Cfg::v3().prio(255).build());
    fault(&mut r, ms(100), "link", true);
    r.drain();
    fault(&mut r, ms(200), "link", false);
    assert_eq!(r.state(), State::Master);
    let (tx, actions) = r.drain();
    assert_eq!(tx, vec![r.own(255)]);
    assert_eq!(
        actions,
        vec![
            r.changed(ms(200), State::Fault, State::Master, Reason::FaultCleared),
            Action::AddVips { accept: true },
        ]
    );
    assert_eq!(r.timeout(), Some(ms(1_200)));
}

#[test]
fn fault_active_at_start_goes_straight_to_fault() {
    let mut r = Router::new(Cfg::v3().build());
    fault(&mut r, Duration::ZERO, "link", true);
    assert_eq!(r.state(), State::Initialize, "no transition before Start");
    r.assert_quiet();
    r.cmd(ms(10), Command::Start);
    assert_eq!(r.state(), State::Fault);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty());
    assert_eq!(
        actions,
        vec![r.changed(ms(10), State::Initialize, State::Fault, fault_reason("link"))]
    );
    assert_eq!(r.timeout(), None);
    fault(&mut r, secs(1), "link", false);
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.timeout(), Some(secs(1) + MDI_100));
}

#[test]
fn fault_owner_active_at_start_sends_nothing() {
    let mut r = Router::new(Cfg::v3().prio(255).build());
    fault(&mut r, Duration::ZERO, "link", true);
    r.cmd(ms(10), Command::Start);
    assert_eq!(r.state(), State::Fault);
    let (tx, actions) = r.drain();
    assert!(tx.is_empty(), "{tx:?}");
    assert!(!actions.iter().any(|a| matches!(a, Action::AddVips { .. })));
}

#[test]
fn fault_adverts_received_change_nothing() {
    let mut r = Router::started(Cfg::v3().build());
    fault(&mut r, secs(1), "link", true);
    r.drain();
    for (k, prio) in [(2, 200), (3, 0), (4, 50), (5, 255)] {
        let a = r.peer(prio);
        r.rx(secs(k), ip(HI), &a);
        r.tick(secs(k));
        assert_eq!(r.state(), State::Fault);
        assert_eq!(r.timeout(), None);
        r.assert_quiet();
    }
    assert_eq!(r.inst.counters().became_master, 0);
}

// ---------------------------------------------------------------------------
// RFC 9568 §6.1 Accept_Mode
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_1_accept_mode_follows_config_for_non_owner() {
    for on in [false, true] {
        let mut r = Router::started(Cfg::v3().accept(on).build());
        r.tick(MDI_100);
        let (_, actions) = r.drain();
        assert_eq!(actions[1], Action::AddVips { accept: on });
    }
}

#[test]
fn rfc9568_6_1_accept_mode_always_true_for_owner() {
    for on in [false, true] {
        let mut r = Router::new(Cfg::v3().prio(255).accept(on).build());
        r.cmd(Duration::ZERO, Command::Start);
        let (_, actions) = r.drain();
        assert_eq!(actions[1], Action::AddVips { accept: true });
    }
}

// ---------------------------------------------------------------------------
// Config::validate: what the wire can carry (RFC 3768 §5.3.7, RFC 9568 §5.2.7)
// ---------------------------------------------------------------------------

fn validate(c: Config) -> Result<(), ConfigError> {
    let r = c.validate();
    assert_eq!(Instance::new(c).err(), r.clone().err(), "Instance::new validates");
    r
}

#[test]
fn rfc3768_5_3_7_v2_interval_whole_seconds_1_to_255() {
    for ok in [secs(1), secs(2), secs(255)] {
        assert_eq!(validate(Cfg::v2().interval(ok).build()), Ok(()), "{ok:?}");
    }
    for bad in [
        Duration::ZERO,
        ms(500),
        ms(1_500),
        secs(256),
        secs(1) + Duration::from_nanos(1),
    ] {
        assert_eq!(
            validate(Cfg::v2().interval(bad).build()),
            Err(ConfigError::Interval(Version::V2, bad)),
            "{bad:?}"
        );
    }
}

#[test]
fn rfc9568_5_2_7_v3_interval_centiseconds_10ms_to_40_95s() {
    for ok in [ms(10), ms(20), ms(990), secs(1), ms(40_950)] {
        assert_eq!(validate(Cfg::v3().interval(ok).build()), Ok(()), "{ok:?}");
    }
    for bad in [
        Duration::ZERO,
        ms(5),
        ms(15),
        ms(1_001),
        ms(40_960),
        secs(41),
        ms(10) + Duration::from_nanos(1),
    ] {
        assert_eq!(
            validate(Cfg::v3().interval(bad).build()),
            Err(ConfigError::Interval(Version::V3, bad)),
            "{bad:?}"
        );
    }
}

#[test]
fn rfc9568_5_1_v2_over_ipv6_refused() {
    let mut c = Cfg::v6().build();
    c.version = Version::V2;
    assert_eq!(validate(c), Err(ConfigError::V2Ipv6));
}

#[test]
fn rfc9568_9_v3_with_auth_refused() {
    assert_eq!(
        validate(Cfg::v3().auth(pass("1111")).build()),
        Err(ConfigError::V3Auth)
    );
    assert_eq!(validate(Cfg::v2().auth(pass("1111")).build()), Ok(()));
}

#[test]
fn rfc9568_5_2_3_vrid_zero_refused() {
    let mut c = Cfg::v3().build();
    c.vrid = 0;
    assert_eq!(validate(c), Err(ConfigError::Vrid));
    let mut c = Cfg::v3().build();
    c.vrid = 255;
    assert_eq!(validate(c), Ok(()));
}

#[test]
fn rfc9568_5_2_4_priority_zero_refused() {
    assert_eq!(validate(Cfg::v3().prio(0).build()), Err(ConfigError::Priority));
    assert_eq!(validate(Cfg::v3().prio(1).build()), Ok(()));
    assert_eq!(validate(Cfg::v3().prio(255).build()), Ok(()));
}

#[test]
fn rfc9568_5_2_9_mixed_families_refused() {
    let mut c = Cfg::v3().build();
    c.vips.push(ip6(0x100));
    assert_eq!(validate(c), Err(ConfigError::MixedFamilies));
    // Primary address of one family, VIPs of the other.
    let mut c = Cfg::v3().build();
    c.vips = vec![ip6(0x100)];
    assert_eq!(validate(c), Err(ConfigError::MixedFamilies));
    let mut c = Cfg::v6().build();
    c.vips = vec![ip(100)];
    assert_eq!(validate(c), Err(ConfigError::MixedFamilies));
}

#[test]
fn rfc9568_5_2_5_vip_count_1_to_255() {
    let mut c = Cfg::v3().build();
    c.vips.clear();
    assert_eq!(validate(c), Err(ConfigError::NoVips));
    let mut c = Cfg::v6().build();
    c.vips = (1..=256).map(ip6).collect();
    assert_eq!(validate(c), Err(ConfigError::TooManyVips(256)));
    let mut c = Cfg::v6().build();
    c.vips = (1..=255).map(ip6).collect();
    assert_eq!(validate(c), Ok(()));
}

#[test]
fn rfc2338_5_3_6_pass_password_length_1_to_8() {
    assert_eq!(Auth::pass(""), Err(ConfigError::BadPassword(0)));
    assert_eq!(Auth::pass("123456789"), Err(ConfigError::BadPassword(9)));
    assert_eq!(Auth::pass("1"), Ok(Auth::Pass(*b"1\0\0\0\0\0\0\0")));
    assert_eq!(Auth::pass("12345678"), Ok(Auth::Pass(*b"12345678")));
    // Length is in octets, not characters.
    assert_eq!(Auth::pass("ééééé"), Err(ConfigError::BadPassword(10)));
}

// ---------------------------------------------------------------------------
// Two instances through the codec (RFC 9568 §6.4 end to end)
// ---------------------------------------------------------------------------

#[test]
fn rfc9568_6_4_two_routers_over_the_wire_higher_priority_wins() {
    use baton_vrrp::wire::{self, Family};
    use baton_vrrp::{ParseOptions, RxMeta};

    fn deliver(from: &mut Instance, to: &mut Instance, now: Instant) {
        while let Some(t) = from.poll_transmit() {
            let dst = Family::V4.multicast_group();
            let bytes = t
                .advert
                .emit(t.src, dst, from.config().v3_ipv4_checksum)
                .expect("emit");
            let meta = RxMeta {
                src: t.src,
                dst,
                ttl: 255,
            };
            let parsed = wire::parse(&bytes, &meta, &ParseOptions::default()).expect("parse");
            assert_eq!(parsed, t.advert);
            let _ = to.handle_packet(now, meta.src, &parsed);
        }
    }

    let t0 = Instant::now();
    let mut a = Instance::new(Config::new(VRID, ip(LO), vec![ip(100)])).expect("config");
    let mut b_cfg = Config::new(VRID, ip(HI), vec![ip(100)]);
    b_cfg.priority = 200;
    let mut b = Instance::new(b_cfg).expect("config");
    a.handle_command(t0, Command::Start);
    b.handle_command(t0, Command::Start);
    // Run both on one clock for 20 s, delivering every advert through emit/parse.
    let mut now = t0;
    let end = t0 + secs(20);
    while now < end {
        deliver(&mut a, &mut b, now);
        deliver(&mut b, &mut a, now);
        now = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .expect("a timer runs");
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    assert_eq!(b.state(), State::Master);
    assert_eq!(a.state(), State::Backup);
    assert_eq!(a.counters().became_master, 0);
    assert_eq!(b.counters().became_master, 1);
    assert_eq!(a.master().map(|m| (m.addr, m.priority)), Some((ip(HI), 200)));
    // b took over after its own Master_Down_Interval: 3 s + 56/256 s.
    assert_eq!(
        b.last_transition().map(|t| t.at - t0),
        Some(secs(3) + us(218_750))
    );
}

#[test]
fn baton_master_advertises_at_once_when_its_priority_changes() {
    // Not in the RFC (it only sends on Adver_Timer): a Master whose tracker
    // lowers its priority says so now, so a Backup that now outranks it can
    // preempt within its Skew_Time instead of a Master_Down_Interval later.
    let mut r = Router::master(Cfg::v3().build());
    r.drain();
    weight(&mut r, secs(4) + ms(250), "web", -60);
    let (tx, actions) = r.drain();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].priority, 40);
    assert!(actions.is_empty(), "{actions:?}");
    // The cadence restarts from the change.
    assert_eq!(r.timeout(), Some(secs(5) + ms(250)));
    // The same weight again changes nothing and sends nothing.
    weight(&mut r, secs(4) + ms(500), "web", -60);
    r.assert_quiet();
}
