//! The progress line of a transfer (bytes, rate, time left), redrawn on stderr when it
//! is a terminal, and the summary printed when the transfer ends.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(200);

/// One transfer's progress.
#[derive(Debug)]
pub(crate) struct Progress {
    name: String,
    /// Bytes already there when the transfer started (a resumed transfer).
    resumed: u64,
    total: u64,
    done: u64,
    start: Instant,
    last_draw: Option<Instant>,
    draw: bool,
}

impl Progress {
    /// A transfer of `name`, `total` bytes of which `resumed` are already there.
    pub(crate) fn new(name: &str, resumed: u64, total: u64) -> Self {
        Self {
            name: name.to_owned(),
            resumed,
            total,
            done: resumed,
            start: Instant::now(),
            last_draw: None,
            draw: std::io::stderr().is_terminal(),
        }
    }

    /// `n` more bytes moved.
    pub(crate) fn add(&mut self, n: u64) {
        self.done += n;
        if !self.draw {
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        self.last_draw = Some(now);
        let line = line(
            &self.name,
            self.done,
            self.total,
            self.done - self.resumed,
            now - self.start,
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Clears the line; returns the summary (`NAME: BYTES bytes in S s (RATE)`).
    pub(crate) fn finish(&self) -> String {
        if self.last_draw.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
        let elapsed = self.start.elapsed();
        let moved = self.done - self.resumed;
        format!(
            "{} bytes in {:.2} s ({})",
            self.done,
            elapsed.as_secs_f64(),
            rate(moved, elapsed)
        )
    }
}

/// `NAME  12.0 MiB / 200.0 MiB  6%  45.2 MiB/s  00:04 left`.
pub(crate) fn line(name: &str, done: u64, total: u64, moved: u64, elapsed: Duration) -> String {
    let percent = (done.saturating_mul(100))
        .checked_div(total)
        .unwrap_or(100)
        .min(100);
    let per_second = bytes_per_second(moved, elapsed);
    let left = match per_second {
        Some(r) if r > 0.0 => clock(total.saturating_sub(done) as f64 / r),
        _ => "--:--".to_owned(),
    };
    format!(
        "{name}  {} / {}  {percent}%  {}  {left} left",
        bytes(done),
        bytes(total),
        rate(moved, elapsed)
    )
}

fn bytes_per_second(moved: u64, elapsed: Duration) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    (secs > 0.0).then(|| moved as f64 / secs)
}

/// A rate: `45.2 MiB/s`, or `-` before any time has passed.
pub(crate) fn rate(moved: u64, elapsed: Duration) -> String {
    match bytes_per_second(moved, elapsed) {
        Some(r) => format!("{}/s", bytes(r as u64)),
        None => "-".to_owned(),
    }
}

/// A size in binary units: `512 B`, `1.5 KiB`, `12.0 MiB`, `1.00 GiB`.
pub(crate) fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else if f < KIB * KIB * KIB {
        format!("{:.1} MiB", f / (KIB * KIB))
    } else {
        format!("{:.2} GiB", f / (KIB * KIB * KIB))
    }
}

/// Seconds as `MM:SS`, or `H:MM:SS` from an hour.
pub(crate) fn clock(seconds: f64) -> String {
    let s = seconds.ceil().max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_rates_and_times_read_as_a_person_would() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12 << 20), "12.0 MiB");
        assert_eq!(bytes(3 << 30), "3.00 GiB");
        assert_eq!(rate(10 << 20, Duration::from_secs(2)), "5.0 MiB/s");
        assert_eq!(rate(10, Duration::ZERO), "-");
        assert_eq!(clock(0.2), "00:01");
        assert_eq!(clock(75.0), "01:15");
        assert_eq!(clock(3725.0), "1:02:05");
    }

    #[test]
    fn the_line_shows_bytes_percent_rate_and_time_left() {
        let l = line(
            "big.iso",
            50 << 20,
            200 << 20,
            50 << 20,
            Duration::from_secs(5),
        );
        assert_eq!(
            l,
            "big.iso  50.0 MiB / 200.0 MiB  25%  10.0 MiB/s  00:15 left"
        );
        // Resumed: the rate counts only what this run moved.
        let l = line("r", 150 << 20, 200 << 20, 50 << 20, Duration::from_secs(5));
        assert!(l.ends_with("75%  10.0 MiB/s  00:05 left"), "{l}");
        let l = line("e", 0, 0, 0, Duration::ZERO);
        assert_eq!(l, "e  0 B / 0 B  100%  -  --:-- left");
    }
}
