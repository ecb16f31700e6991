//! `net time \\server`: the server's clock from srvsvc NetrRemoteTOD (MS-SRVS 3.1.4.21,
//! opnum 28), and how far it is from this host's.

use std::time::{SystemTime, UNIX_EPOCH};

use adjoin_rpc::ndr::WideString;
use adjoin_rpc::srvsvc::{
    NetrRemoteTodRequest, NetrRemoteTodResponse, Opnum, TimeOfDayInfo, WinError,
};
use adjoin_rpc::uuid::SyntaxId;
use chrono::{DateTime, FixedOffset, Utc};

use super::NetError;
use super::args::{TimeArgs, server_name};
use super::connect::{connect_pipe, domain_controller};
use super::table::COMPLETED;

/// The server's clock as read, and the local clock in the middle of the call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerTime {
    /// The server's time, UTC.
    pub(crate) utc: DateTime<Utc>,
    /// The server's time zone, minutes west of UTC (`tod_timezone`).
    pub(crate) minutes_west: i32,
    /// Server minus local, in seconds (positive: the server is ahead).
    pub(crate) skew: f64,
}

impl ServerTime {
    /// The reading of `tod` taken when the local clock said `local` (seconds since the
    /// epoch). `tod_elapsedt` gives whole seconds and `tod_hunds` the hundredths.
    pub(crate) fn new(tod: &TimeOfDayInfo, local: f64) -> Self {
        let hunds = tod.hunds.min(99);
        let utc = DateTime::from_timestamp(i64::from(tod.elapsed), hunds * 10_000_000)
            .unwrap_or_default();
        let server = f64::from(tod.elapsed) + f64::from(hunds) / 100.0;
        // MS-SRVS 2.2.4.105: -1 means the time zone is unknown; anything beyond a day
        // is not a time zone either.
        let minutes_west = if tod.timezone.unsigned_abs() <= 24 * 60 {
            tod.timezone
        } else {
            0
        };
        Self {
            utc,
            minutes_west,
            skew: ((server - local) * 100.0).round() / 100.0,
        }
    }

    /// The server's local time.
    fn local(&self) -> DateTime<FixedOffset> {
        let offset = FixedOffset::west_opt(self.minutes_west * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is an offset"));
        self.utc.with_timezone(&offset)
    }

    /// What `net time` prints.
    pub(crate) fn render(&self, server: &str) -> String {
        let when = self.local().format("%-m/%-d/%Y %-I:%M:%S %p");
        let sign = if self.skew >= 0.0 { "+" } else { "-" };
        let lead = if self.skew >= 0.0 {
            "ahead of"
        } else {
            "behind"
        };
        format!(
            "Current time at \\\\{server} is {when}\n\
             Skew from the local clock: {sign}{:.2} seconds (the server is {lead} this host)\n\
             {COMPLETED}\n",
            self.skew.abs()
        )
    }

    fn json(&self, server: &str) -> serde_json::Value {
        serde_json::json!({
            "server": server,
            "time": self.utc.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "local_time": self.local().to_rfc3339(),
            "elapsed": self.utc.timestamp(),
            "timezone_minutes_west": self.minutes_west,
            "skew_seconds": self.skew,
        })
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

pub(crate) async fn run(args: TimeArgs) -> Result<(), NetError> {
    let (server, known) = match &args.server {
        Some(s) => (server_name(s), None),
        None => domain_controller(None, &args.remote)?,
    };
    let mut pipe = connect_pipe(
        &server,
        known,
        &args.remote,
        "srvsvc",
        "srvsvc",
        SyntaxId::SRVSVC,
    )
    .await?;
    let request = NetrRemoteTodRequest {
        server_name: Some(WideString::new(format!(r"\\{server}"))),
    };
    let before = now();
    let resp: NetrRemoteTodResponse = pipe
        .call("NetrRemoteTOD", Opnum::NETR_REMOTE_TOD.value(), &request)
        .await?;
    let after = now();
    pipe.close().await;
    let tod = match (resp.status, resp.buffer) {
        (WinError::SUCCESS, Some(tod)) => tod,
        (WinError::ACCESS_DENIED, _) => {
            return Err(NetError::AccessDenied {
                what: format!("\\\\{server} refused NetrRemoteTOD"),
            });
        }
        (status, _) => {
            return Err(NetError::Call {
                call: "NetrRemoteTOD".into(),
                server,
                detail: status.to_string(),
            });
        }
    };
    let time = ServerTime::new(&tod, (before + after) / 2.0);
    if args.json {
        println!("{:#}", time.json(&server));
    } else {
        print!("{}", time.render(&server));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tod(elapsed: u32, hunds: u32, timezone: i32) -> TimeOfDayInfo {
        TimeOfDayInfo {
            elapsed,
            hunds,
            timezone,
            ..TimeOfDayInfo::default()
        }
    }

    #[test]
    fn the_time_and_skew_as_windows_prints_them() {
        // 2026-12-04 10:15:32 UTC.
        let t = ServerTime::new(&tod(1_796_379_332, 50, 0), 1_796_379_330.0);
        assert_eq!(t.skew, 2.5);
        assert_eq!(
            t.render("dc1"),
            "Current time at \\\\dc1 is 12/4/2026 10:15:32 AM\n\
             Skew from the local clock: +2.50 seconds (the server is ahead of this host)\n\
             The command completed successfully.\n"
        );
        let v = t.json("dc1");
        assert_eq!(v["skew_seconds"], 2.5);
        assert_eq!(v["elapsed"], 1_796_379_332);
        assert_eq!(v["time"], "2026-12-04T10:15:32.500Z");
    }

    #[test]
    fn the_server_time_zone_and_a_clock_behind() {
        // Minutes west: 300 is UTC-5.
        let t = ServerTime::new(&tod(1_796_379_332, 0, 300), 1_796_379_333.25);
        assert_eq!(t.skew, -1.25);
        let text = t.render("s");
        assert!(text.contains("is 12/4/2026 5:15:32 AM"), "{text}");
        assert!(
            text.contains("-1.25 seconds (the server is behind"),
            "{text}"
        );
        // Junk from the peer is not a time zone (and must not overflow).
        assert_eq!(ServerTime::new(&tod(0, 0, i32::MIN), 0.0).minutes_west, 0);
    }
}
