//! A precise one-shot timer for the daemon loop. tokio's timers round up to
//! whole milliseconds; at 10 ms adverts that is a tenth of an interval, so
//! VRRP deadlines go through a timerfd (nanosecond resolution) instead.

use std::io;
use std::time::Instant;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

/// One timerfd on CLOCK_MONOTONIC (the clock of `std::time::Instant`).
#[derive(Debug)]
pub struct Timer {
    fd: AsyncFd<Fd>,
}

/// nix's TimerFd offers AsFd; tokio's AsyncFd wants AsRawFd.
#[derive(Debug)]
struct Fd(TimerFd);

impl std::os::fd::AsRawFd for Fd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl Timer {
    pub fn new() -> io::Result<Timer> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("timerfd_create: {e}")))?;
        Ok(Timer {
            fd: crate::sys::async_fd(Fd(fd))?,
        })
    }

    /// Completes at `deadline` (at once if it has passed). Dropping the
    /// future before then is fine: the next call re-arms the timer.
    pub async fn sleep_until(&self, deadline: Instant) -> io::Result<()> {
        let d = deadline.saturating_duration_since(Instant::now());
        if d.is_zero() {
            return Ok(());
        }
        self.fd
            .get_ref()
            .0
            .set(
                Expiration::OneShot(TimeSpec::from_duration(d)),
                TimerSetTimeFlags::empty(),
            )
            .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("timerfd_settime: {e}")))?;
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().0.wait().map_err(io::Error::from)) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => return Err(e),
                // Readiness left over from an earlier, dropped sleep.
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn fires_at_the_deadline_with_sub_millisecond_precision() {
        let t = Timer::new().unwrap();
        let mut late = Vec::new();
        for _ in 0..40 {
            let deadline = Instant::now() + Duration::from_micros(2500);
            t.sleep_until(deadline).await.unwrap();
            late.push(Instant::now().saturating_duration_since(deadline));
            assert!(Instant::now() >= deadline);
        }
        late.sort();
        // tokio::time::sleep rounds up to its 1 ms tick: half a millisecond
        // late on the median. The worst sample is the scheduler's (the
        // other tests of this binary run beside it), so it is not asserted.
        let (median, p90) = (late[20], late[36]);
        assert!(
            median < Duration::from_micros(300) && p90 < Duration::from_millis(1),
            "lateness median {median:?}, 90th percentile {p90:?} (all {late:?})"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_sleep_does_not_wake_the_next_one_early() {
        let t = Timer::new().unwrap();
        let short = Instant::now() + Duration::from_millis(1);
        // Start a sleep and abandon it after its timer fired.
        let _ = tokio::time::timeout(Duration::from_millis(3), async {
            tokio::time::sleep(Duration::from_millis(2)).await;
            t.sleep_until(short + Duration::from_secs(10)).await
        })
        .await;
        let deadline = Instant::now() + Duration::from_millis(20);
        t.sleep_until(deadline).await.unwrap();
        assert!(Instant::now() >= deadline);
    }
}
