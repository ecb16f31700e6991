//! Server statistics, as the seed's `lwio-cli --get-stats` showed them: connections,
//! sessions, tree connects and open files (now and at most since the last reset), and
//! requests and bytes per command. One set per process (one adjoind), updated with
//! relaxed atomics on every request: no lock on the request path.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::proto::Command;

/// SMB2 commands are 0x00 (NEGOTIATE) to 0x12 (OPLOCK_BREAK).
const COMMANDS: usize = 0x13;

/// A count now and its high-water mark.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicI64,
    max: AtomicI64,
}

impl Gauge {
    fn add(&self, delta: i64) {
        if delta == 0 {
            return;
        }
        let now = self.now.fetch_add(delta, Ordering::Relaxed) + delta;
        self.max.fetch_max(now, Ordering::Relaxed);
    }

    fn snapshot(&self) -> (u64, u64) {
        let now = self.now.load(Ordering::Relaxed).max(0).unsigned_abs();
        (now, self.max.load(Ordering::Relaxed).max(0).unsigned_abs())
    }

    /// The high-water mark starts again from the current count.
    fn reset(&self) {
        self.max
            .store(self.now.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct PerCommand {
    requests: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct ServerStats {
    connections: Gauge,
    sessions: Gauge,
    trees: Gauge,
    opens: Gauge,
    commands: [PerCommand; COMMANDS],
    /// Requests for a command past OPLOCK_BREAK (answered NOT_SUPPORTED).
    other: PerCommand,
}

/// What one connection holds, for [`ServerStats::held`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) sessions: usize,
    pub(crate) trees: usize,
    pub(crate) opens: usize,
}

/// A copy of the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// (now, most) connections.
    pub connections: (u64, u64),
    /// (now, most) authenticated or authenticating sessions.
    pub sessions: (u64, u64),
    /// (now, most) tree connects.
    pub trees: (u64, u64),
    /// (now, most) opens (files, directories and pipes).
    pub opens: (u64, u64),
    /// Per command with any traffic: name, requests, bytes in, bytes out.
    pub commands: Vec<(String, u64, u64, u64)>,
}

impl ServerStats {
    /// The process's counters.
    pub fn global() -> &'static Self {
        static STATS: OnceLock<ServerStats> = OnceLock::new();
        STATS.get_or_init(Self::default)
    }

    /// A connection opened (+1) or ended (-1).
    pub(crate) fn connection(&self, delta: i64) {
        self.connections.add(delta);
    }

    /// A connection's holdings changed from `before` to `after`.
    pub(crate) fn held(&self, before: Held, after: Held) {
        let delta = |a: usize, b: usize| {
            i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
        };
        self.sessions.add(delta(before.sessions, after.sessions));
        self.trees.add(delta(before.trees, after.trees));
        self.opens.add(delta(before.opens, after.opens));
    }

    /// One request of `command`: `bytes_in` received, `bytes_out` answered.
    pub(crate) fn request(&self, command: Command, bytes_in: usize, bytes_out: usize) {
        let slot = self
            .commands
            .get(usize::from(command.value()))
            .unwrap_or(&self.other);
        slot.requests.fetch_add(1, Ordering::Relaxed);
        slot.bytes_in.fetch_add(bytes_in as u64, Ordering::Relaxed);
        slot.bytes_out
            .fetch_add(bytes_out as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut commands = Vec::new();
        let rows = self
            .commands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let command = Command::from(u16::try_from(i).unwrap_or(u16::MAX));
                let name = command
                    .name()
                    .map_or_else(|| format!("0x{:04x}", command.value()), str::to_owned);
                (name, c)
            })
            .chain(std::iter::once(("other".to_owned(), &self.other)));
        for (name, c) in rows {
            let requests = c.requests.load(Ordering::Relaxed);
            if requests > 0 {
                commands.push((
                    name,
                    requests,
                    c.bytes_in.load(Ordering::Relaxed),
                    c.bytes_out.load(Ordering::Relaxed),
                ));
            }
        }
        StatsSnapshot {
            connections: self.connections.snapshot(),
            sessions: self.sessions.snapshot(),
            trees: self.trees.snapshot(),
            opens: self.opens.snapshot(),
            commands,
        }
    }

    /// Zeroes the per-command counters and restarts the high-water marks (the current
    /// counts stay: they are what the server holds).
    pub fn reset(&self) {
        for gauge in [&self.connections, &self.sessions, &self.trees, &self.opens] {
            gauge.reset();
        }
        for c in self.commands.iter().chain(std::iter::once(&self.other)) {
            c.requests.store(0, Ordering::Relaxed);
            c.bytes_in.store(0, Ordering::Relaxed);
            c.bytes_out.store(0, Ordering::Relaxed);
        }
    }
}

impl StatsSnapshot {
    /// The snapshot as JSON (numbers as numbers), for `adjoin stats --json`.
    pub fn to_json(&self) -> String {
        let gauge = |(now, max): (u64, u64)| format!(r#"{{"current":{now},"max":{max}}}"#);
        let commands: Vec<String> = self
            .commands
            .iter()
            .map(|(name, requests, bytes_in, bytes_out)| {
                format!(
                    r#"{{"command":"{name}","requests":{requests},"bytes_in":{bytes_in},"bytes_out":{bytes_out}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"connections":{},"sessions":{},"tree_connects":{},"open_files":{},"commands":[{}]}}"#,
            gauge(self.connections),
            gauge(self.sessions),
            gauge(self.trees),
            gauge(self.opens),
            commands.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_keep_their_high_water_mark_until_reset() {
        let stats = ServerStats::default();
        stats.connection(1);
        stats.connection(1);
        stats.connection(-1);
        let held = |sessions, trees, opens| Held {
            sessions,
            trees,
            opens,
        };
        stats.held(held(0, 0, 0), held(1, 2, 5));
        stats.held(held(1, 2, 5), held(1, 1, 0));
        stats.request(Command::READ, 49, 65_600);
        stats.request(Command::READ, 49, 100);
        stats.request(Command::from(0x99), 64, 73);
        let s = stats.snapshot();
        assert_eq!(s.connections, (1, 2));
        assert_eq!((s.sessions, s.trees, s.opens), ((1, 1), (1, 2), (0, 5)));
        assert_eq!(s.commands[0], ("READ".into(), 2, 98, 65_700));
        assert_eq!(s.commands[1].0, "other");
        assert!(
            s.to_json()
                .contains(r#""open_files":{"current":0,"max":5}"#)
        );
        stats.reset();
        let s = stats.snapshot();
        assert_eq!((s.connections, s.opens), ((1, 1), (0, 0)));
        assert!(s.commands.is_empty());
    }
}
