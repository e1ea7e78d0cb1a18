//! Hostile: sleeps through WASI, as an ordinary program does
//! (`std::thread::sleep`: a monotonic-clock timer and a wait in
//! `wasi:io/poll`, inside the host, where epoch interruption cannot reach),
//! then answers healthy and logs how long the sleeps took on the guest's
//! own clock (`std::time::Instant`, the WASI monotonic clock).
//!
//! Settings: `ms` per sleep (default 3000), `times` (default 1), and
//! `clock = "instant"` to wait with `clock_nanosleep(TIMER_ABSTIME)`
//! (wasi-libc's `subscribe-instant`) instead of `std::thread::sleep`
//! (`subscribe-duration`).

use std::time::{Duration, Instant};

use baton_guest::{Facts, Policy, Result, Settings, Verdict, healthy};

struct Sleeper;

/// wasi-libc's `struct timespec`.
#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i32,
}

unsafe extern "C" {
    /// wasi-libc's `CLOCK_MONOTONIC` is `&_CLOCK_MONOTONIC`.
    static _CLOCK_MONOTONIC: u8;
    fn clock_gettime(clock: *const u8, ts: *mut Timespec) -> i32;
    fn clock_nanosleep(clock: *const u8, flags: i32, req: *const Timespec, rem: *mut Timespec) -> i32;
}

/// wasi-libc's `TIMER_ABSTIME`.
const TIMER_ABSTIME: i32 = 1;

/// Sleeps until `d` from now on the monotonic clock, by an absolute deadline.
fn sleep_until(d: Duration) -> std::result::Result<(), String> {
    // SAFETY: wasi-libc's own clock and plain C structs.
    unsafe {
        let clock = &raw const _CLOCK_MONOTONIC;
        let mut now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        if clock_gettime(clock, &mut now) != 0 {
            return Err("clock_gettime failed".into());
        }
        let ns = now.tv_nsec as u64 + d.subsec_nanos() as u64;
        let at = Timespec {
            tv_sec: now.tv_sec + d.as_secs() as i64 + (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i32,
        };
        match clock_nanosleep(clock, TIMER_ABSTIME, &at, std::ptr::null_mut()) {
            0 => Ok(()),
            e => Err(format!("clock_nanosleep: error {e}")),
        }
    }
}

impl Policy for Sleeper {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let ms: u64 = settings.parse_or("ms", 3000)?;
        let times: u64 = settings.parse_or("times", 1)?;
        let instant = settings.get_or("clock", "duration") == "instant";
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        for _ in 0..times {
            if instant {
                sleep_until(d).map_err(baton_guest::Error::new)?;
            } else {
                std::thread::sleep(d);
            }
        }
        baton_guest::info!("slept {} ms", start.elapsed().as_millis());
        Ok(healthy())
    }
}

baton_guest::export_health!(Sleeper);
