//! MS-SRVS calls about the server itself, as NDR argument lists: NetrServerGetInfo
//! (SERVER_INFO levels 100 and 101), NetrRemoteTOD (its clock), NetrServerDiskEnum (its
//! drives) and NetrServerTransportEnum (what it listens on).

use super::{Container, WinError, enum_struct, pointer_union};
use crate::error::DecodeError;
use crate::ndr::{ConformantArray, Ndr, NdrReader, NdrWriter, WideString};
use crate::{ndr_params, ndr_struct};

ndr_struct! {
    /// MS-SRVS 2.2.4.40 SERVER_INFO_100.
    ///
    /// ```text
    /// sv100_platform_id u32 | sv100_name referent u32
    /// ```
    pub struct ServerInfo100 {
        /// `sv100_platform_id` ([`PLATFORM_ID_NT`](super::PLATFORM_ID_NT)).
        pub platform_id: u32,
        /// `sv100_name` (the NetBIOS name).
        pub name: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.41 SERVER_INFO_101.
    ///
    /// ```text
    /// platform_id u32 | name ref | version_major u32 | version_minor u32
    /// | type u32 | comment ref
    /// ```
    pub struct ServerInfo101 {
        /// `sv101_platform_id`.
        pub platform_id: u32,
        /// `sv101_name`.
        pub name: Option<WideString>,
        /// `sv101_version_major`.
        pub version_major: u32,
        /// `sv101_version_minor`.
        pub version_minor: u32,
        /// `sv101_type` (`SV_TYPE_*`).
        pub server_type: u32,
        /// `sv101_comment`.
        pub comment: Option<WideString>,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.7 SERVER_INFO: the server at the level asked for.
    pub enum ServerInfo ("SERVER_INFO") {
        /// Level 100.
        Level100(ServerInfo100) = 100,
        /// Level 101.
        Level101(ServerInfo101) = 101,
    }
    unsupported {
        102, 103, 502, 503, 599, 1005, 1010, 1016, 1017, 1018, 1107, 1501, 1502, 1503,
        1506, 1510, 1511, 1512, 1513, 1514, 1515, 1516, 1518, 1523, 1528, 1529, 1530,
        1533, 1534, 1535, 1536, 1538, 1539, 1540, 1541, 1542, 1543, 1544, 1545, 1546,
        1547, 1548, 1549, 1550, 1552, 1553, 1554, 1555, 1556,
    }
}
ndr_params! {
    /// MS-SRVS 3.1.4.17 NetrServerGetInfo, `[in]`.
    pub struct NetrServerGetInfoRequest {
        /// `[in, string, unique] SRVSVC_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in] DWORD Level`.
        pub level: u32,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.17 NetrServerGetInfo, `[out]`.
    pub struct NetrServerGetInfoResponse {
        /// `[out, switch_is(Level)] LPSERVER_INFO InfoStruct`.
        pub info_struct: ServerInfo,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.105 TIME_OF_DAY_INFO: the server's clock, in UTC.
    ///
    /// ```text
    /// elapsedt u32 | msecs u32 | hours u32 | mins u32 | secs u32 | hunds u32
    /// | timezone i32 | tinterval u32 | day u32 | month u32 | year u32 | weekday u32
    /// ```
    pub struct TimeOfDayInfo {
        /// `tod_elapsedt`: seconds since 1970-01-01 00:00 UTC.
        pub elapsed: u32,
        /// `tod_msecs`: milliseconds on a free-running counter.
        pub msecs: u32,
        /// `tod_hours` (0-23).
        pub hours: u32,
        /// `tod_mins` (0-59).
        pub mins: u32,
        /// `tod_secs` (0-59).
        pub secs: u32,
        /// `tod_hunds`: hundredths of a second (0-99).
        pub hunds: u32,
        /// `tod_timezone`: minutes west of UTC (0: the fields are UTC).
        pub timezone: i32,
        /// `tod_tinterval`: the clock tick, in 0.0001 s (310 on Windows).
        pub tinterval: u32,
        /// `tod_day` (1-31).
        pub day: u32,
        /// `tod_month` (1-12).
        pub month: u32,
        /// `tod_year`.
        pub year: u32,
        /// `tod_weekday` (0: Sunday).
        pub weekday: u32,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.21 NetrRemoteTOD, `[in]`.
    pub struct NetrRemoteTodRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.21 NetrRemoteTOD, `[out]`.
    pub struct NetrRemoteTodResponse {
        /// `[out] LPTIME_OF_DAY_INFO* BufferPtr`.
        pub buffer: Option<TimeOfDayInfo>,
        /// The return value.
        pub status: WinError,
    }
}

/// MS-SRVS 2.2.4 DISK_INFO: `[string] WCHAR Disk[3]`, a drive (`C:`) or the empty
/// string that ends Windows' list. A string in a fixed array is varying, not conformant:
///
/// ```text
/// offset u32 (0) | actual_count u32 (with the terminator, at most 3) | units
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskInfo {
    /// `Disk`, without its terminator.
    pub disk: String,
}

impl DiskInfo {
    const WHAT: &str = "DISK_INFO";

    /// A drive, `C:`.
    pub fn new(disk: &str) -> Self {
        Self {
            disk: disk.to_owned(),
        }
    }
}

impl Ndr for DiskInfo {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        let mut units: Vec<u16> = self.disk.encode_utf16().take(2).collect();
        units.push(0);
        w.align(4);
        w.u32(0);
        w.count(units.len());
        for u in units {
            w.u16(u);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        // The array is `Disk[3]`: at most three units, from offset 0.
        let (offset, actual) = (r.u32()?, r.count()?);
        if offset != 0 || actual == 0 || actual > 3 {
            return Err(DecodeError::Invalid {
                what: Self::WHAT,
                why: "not a varying string of 1 to 3 units at offset 0",
            });
        }
        let mut units = Vec::with_capacity(actual);
        for _ in 0..actual {
            units.push(r.u16()?);
        }
        // C706 14.3.4: the last element of a string is the terminator.
        let Some((0, text)) = units.split_last() else {
            return Err(DecodeError::BadString { what: Self::WHAT });
        };
        let disk =
            String::from_utf16(text).map_err(|_| DecodeError::BadString { what: Self::WHAT })?;
        Ok(Self { disk })
    }
}

/// MS-SRVS 2.2.4 DISK_ENUM_CONTAINER: `EntriesRead` and a pointer to a conformant
/// varying array of that many DISK_INFO (`[size_is(EntriesRead), length_is(EntriesRead)]`).
///
/// ```text
/// EntriesRead u32 | Buffer referent u32
/// deferred: max_count u32 | offset u32 (0) | actual_count u32 | DISK_INFO..
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskEnumContainer {
    /// `EntriesRead`.
    pub entries_read: u32,
    /// `Buffer` (`None`: a null pointer).
    pub buffer: Option<Vec<DiskInfo>>,
}

impl DiskEnumContainer {
    const WHAT: &str = "DISK_ENUM_CONTAINER";

    /// A container of `disks`.
    pub fn new(disks: Vec<DiskInfo>) -> Self {
        Self {
            entries_read: u32::try_from(disks.len()).unwrap_or(u32::MAX),
            buffer: Some(disks),
        }
    }

    fn size_is(&self, wire: usize) -> DecodeError {
        DecodeError::SizeIs {
            what: Self::WHAT,
            array: "Buffer",
            field: "EntriesRead",
            count: self.entries_read,
            wire,
        }
    }
}

impl Ndr for DiskEnumContainer {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        w.u32(self.entries_read);
        w.referent(self.buffer.is_some());
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Some(disks) = &self.buffer {
            w.count(disks.len());
            w.u32(0);
            w.count(disks.len());
            for d in disks {
                d.encode_scalars(w);
            }
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let entries_read = r.u32()?;
        let buffer = r.referent()?.then(Vec::new);
        let container = Self {
            entries_read,
            buffer,
        };
        if container.buffer.is_none() && entries_read != 0 {
            return Err(container.size_is(0));
        }
        Ok(container)
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        if self.buffer.is_none() {
            return Ok(());
        }
        let max = r.count()?;
        let actual = r.variance(Self::WHAT, max)?;
        // MS-SRVS: `[size_is(EntriesRead), length_is(EntriesRead)]`.
        let count = usize::try_from(self.entries_read).ok();
        if count != Some(max) || count != Some(actual) {
            return Err(self.size_is(actual));
        }
        let mut disks = Vec::with_capacity(actual.min(r.remaining()));
        for _ in 0..actual {
            disks.push(DiskInfo::decode_scalars(r)?);
        }
        self.buffer = Some(disks);
        Ok(())
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrServerDiskEnum (opnum 23), `[in]`.
    pub struct NetrServerDiskEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in] DWORD Level` (0).
        pub level: u32,
        /// `[in, out] DISK_ENUM_CONTAINER* DiskInfoStruct` (ignored on input).
        pub disk_info_struct: DiskEnumContainer,
        /// `PreferedMaximumLength` (ignored).
        pub prefered_maximum_length: u32,
        /// `ResumeHandle` (ignored).
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrServerDiskEnum (opnum 23), `[out]`.
    pub struct NetrServerDiskEnumResponse {
        /// `DiskInfoStruct`: the drives and an empty string after them.
        pub disk_info_struct: DiskEnumContainer,
        /// `TotalEntries`: the drives (the empty string not counted).
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 SERVER_TRANSPORT_INFO_0.
    ///
    /// ```text
    /// svti0_numberofvcs u32 | svti0_transportname ref | svti0_transportaddress ref
    /// | svti0_transportaddresslength u32 | svti0_networkaddress ref
    /// ```
    pub struct ServerTransportInfo0 {
        /// `svti0_numberofvcs`: clients connected over the transport.
        pub number_of_vcs: u32,
        /// `svti0_transportname` (`\Device\NetbiosSmb` for SMB over TCP 445).
        pub transport_name: Option<WideString>,
        /// `svti0_transportaddress` (`[size_is(svti0_transportaddresslength)]`): the
        /// server's NetBIOS name, padded to 16 bytes.
        pub transport_address: Option<ConformantArray<u8>>,
        /// `svti0_transportaddresslength`.
        pub transport_address_length: u32,
        /// `svti0_networkaddress` (`000000000000` when not a NetBIOS adapter).
        pub network_address: Option<WideString>,
    }
    size_is { transport_address: transport_address_length }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 SERVER_TRANSPORT_INFO_1: level 0 and the domain.
    ///
    /// ```text
    /// SERVER_TRANSPORT_INFO_0's fields | svti1_domain ref
    /// ```
    pub struct ServerTransportInfo1 {
        /// `svti1_numberofvcs`.
        pub number_of_vcs: u32,
        /// `svti1_transportname`.
        pub transport_name: Option<WideString>,
        /// `svti1_transportaddress`.
        pub transport_address: Option<ConformantArray<u8>>,
        /// `svti1_transportaddresslength`.
        pub transport_address_length: u32,
        /// `svti1_networkaddress`.
        pub network_address: Option<WideString>,
        /// `svti1_domain`: the domain the server announces itself in.
        pub domain: Option<WideString>,
    }
    size_is { transport_address: transport_address_length }
}

pointer_union! {
    /// MS-SRVS 2.2.3 SERVER_XPORT_ENUM_UNION.
    pub enum TransportEnumUnion ("SERVER_XPORT_ENUM_UNION") {
        /// Level 0.
        Level0(Container<ServerTransportInfo0>) = 0,
        /// Level 1: and the domain.
        Level1(Container<ServerTransportInfo1>) = 1,
    }
    unsupported { 2, 3 }
}

enum_struct! {
    /// MS-SRVS 2.2.4 SERVER_XPORT_ENUM_STRUCT.
    pub struct TransportEnumStruct ("SERVER_XPORT_ENUM_STRUCT") {
        /// `XportInfo`.
        pub xport_info: TransportEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrServerTransportEnum (opnum 26), `[in]`.
    pub struct NetrServerTransportEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, out] LPSERVER_XPORT_ENUM_STRUCT InfoStruct`.
        pub info_struct: TransportEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrServerTransportEnum (opnum 26), `[out]`.
    pub struct NetrServerTransportEnumResponse {
        /// `InfoStruct`.
        pub info_struct: TransportEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}
