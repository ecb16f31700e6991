//! MS-FSCC 2.5 file system information classes: what QUERY_INFO with
//! SMB2_0_INFO_FILESYSTEM returns about the volume a share lives on.

use adjoin_rpc::codec::{Codec, Reader};

use super::{Information, len32, read_utf16};
use crate::error::SmbError;
use crate::proto::utf16;

/// FILE_DEVICE_DISK: FileFsDeviceInformation `DeviceType` of a disk volume.
pub const FILE_DEVICE_DISK: u32 = 0x0000_0007;
/// FILE_READ_ONLY_DEVICE: a FileFsDeviceInformation `Characteristics` bit.
pub const FILE_READ_ONLY_DEVICE: u32 = 0x0000_0002;
/// FILE_REMOTE_DEVICE: a FileFsDeviceInformation `Characteristics` bit.
pub const FILE_REMOTE_DEVICE: u32 = 0x0000_0010;
/// FILE_DEVICE_IS_MOUNTED: a FileFsDeviceInformation `Characteristics` bit.
pub const FILE_DEVICE_IS_MOUNTED: u32 = 0x0000_0020;

/// FILE_CASE_SENSITIVE_SEARCH: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_CASE_SENSITIVE_SEARCH: u32 = 0x0000_0001;
/// FILE_CASE_PRESERVED_NAMES: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_CASE_PRESERVED_NAMES: u32 = 0x0000_0002;
/// FILE_UNICODE_ON_DISK: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_UNICODE_ON_DISK: u32 = 0x0000_0004;
/// FILE_PERSISTENT_ACLS: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_PERSISTENT_ACLS: u32 = 0x0000_0008;
/// FILE_SUPPORTS_SPARSE_FILES: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_SUPPORTS_SPARSE_FILES: u32 = 0x0000_0040;
/// FILE_SUPPORTS_REPARSE_POINTS: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_SUPPORTS_REPARSE_POINTS: u32 = 0x0000_0080;
/// FILE_SUPPORTS_OBJECT_IDS: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_SUPPORTS_OBJECT_IDS: u32 = 0x0001_0000;
/// FILE_NAMED_STREAMS: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_NAMED_STREAMS: u32 = 0x0004_0000;
/// FILE_READ_ONLY_VOLUME: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_READ_ONLY_VOLUME: u32 = 0x0008_0000;
/// FILE_SUPPORTS_HARD_LINKS: a FileFsAttributeInformation `FileSystemAttributes` bit.
pub const FILE_SUPPORTS_HARD_LINKS: u32 = 0x0040_0000;

/// SSINFO_FLAGS_ALIGNED_DEVICE: a FileFsSectorSizeInformation `Flags` bit.
pub const SSINFO_FLAGS_ALIGNED_DEVICE: u32 = 0x0000_0001;
/// SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE: a FileFsSectorSizeInformation `Flags` bit.
pub const SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE: u32 = 0x0000_0002;
/// SSINFO_FLAGS_NO_SEEK_PENALTY: a FileFsSectorSizeInformation `Flags` bit.
pub const SSINFO_FLAGS_NO_SEEK_PENALTY: u32 = 0x0000_0004;
/// SSINFO_OFFSET_UNKNOWN: a FileFsSectorSizeInformation alignment offset the store does not know.
pub const SSINFO_OFFSET_UNKNOWN: u32 = 0xffff_ffff;

/// MS-FSCC 2.5 FileFsVolumeInformation.
///
/// ```text
/// VolumeCreationTime(8) VolumeSerialNumber(4) VolumeLabelLength(4) SupportsObjects(1)
/// Reserved(1) VolumeLabel(VolumeLabelLength, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileFsVolumeInformation {
    /// `VolumeCreationTime`.
    pub creation_time: u64,
    /// `VolumeSerialNumber`.
    pub serial_number: u32,
    /// `SupportsObjects`.
    pub supports_objects: bool,
    /// `VolumeLabel`.
    pub label: String,
}

impl FileFsVolumeInformation {
    /// The length before `VolumeLabel`.
    pub const FIXED_LEN: usize = 18;
}

impl Information for FileFsVolumeInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        let label = utf16(&self.label);
        self.creation_time.encode(out);
        self.serial_number.encode(out);
        len32(label.len()).encode(out);
        out.push(u8::from(self.supports_objects));
        out.push(0);
        out.extend_from_slice(&label);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsVolumeInformation");
        let creation_time = r.u64()?;
        let serial_number = r.u32()?;
        let len = r.u32()? as usize;
        let supports_objects = r.u8()? != 0;
        r.u8()?;
        Ok(Self {
            creation_time,
            serial_number,
            supports_objects,
            label: read_utf16(r, len, "FileFsVolumeInformation label")?,
        })
    }
}

/// MS-FSCC 2.5 FileFsSizeInformation.
///
/// ```text
/// TotalAllocationUnits(8) AvailableAllocationUnits(8) SectorsPerAllocationUnit(4)
/// BytesPerSector(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileFsSizeInformation {
    /// `TotalAllocationUnits`.
    pub total_allocation_units: u64,
    /// `AvailableAllocationUnits` (to the caller).
    pub available_allocation_units: u64,
    /// `SectorsPerAllocationUnit`.
    pub sectors_per_allocation_unit: u32,
    /// `BytesPerSector`.
    pub bytes_per_sector: u32,
}

impl Information for FileFsSizeInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.total_allocation_units.encode(out);
        self.available_allocation_units.encode(out);
        self.sectors_per_allocation_unit.encode(out);
        self.bytes_per_sector.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsSizeInformation");
        Ok(Self {
            total_allocation_units: r.u64()?,
            available_allocation_units: r.u64()?,
            sectors_per_allocation_unit: r.u32()?,
            bytes_per_sector: r.u32()?,
        })
    }
}

/// MS-FSCC 2.5 FileFsFullSizeInformation.
///
/// ```text
/// TotalAllocationUnits(8) CallerAvailableAllocationUnits(8)
/// ActualAvailableAllocationUnits(8) SectorsPerAllocationUnit(4) BytesPerSector(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileFsFullSizeInformation {
    /// `TotalAllocationUnits`.
    pub total_allocation_units: u64,
    /// `CallerAvailableAllocationUnits` (after quotas).
    pub caller_available_allocation_units: u64,
    /// `ActualAvailableAllocationUnits`.
    pub actual_available_allocation_units: u64,
    /// `SectorsPerAllocationUnit`.
    pub sectors_per_allocation_unit: u32,
    /// `BytesPerSector`.
    pub bytes_per_sector: u32,
}

impl Information for FileFsFullSizeInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.total_allocation_units.encode(out);
        self.caller_available_allocation_units.encode(out);
        self.actual_available_allocation_units.encode(out);
        self.sectors_per_allocation_unit.encode(out);
        self.bytes_per_sector.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsFullSizeInformation");
        Ok(Self {
            total_allocation_units: r.u64()?,
            caller_available_allocation_units: r.u64()?,
            actual_available_allocation_units: r.u64()?,
            sectors_per_allocation_unit: r.u32()?,
            bytes_per_sector: r.u32()?,
        })
    }
}

/// MS-FSCC 2.5 FileFsDeviceInformation: `DeviceType(4) Characteristics(4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFsDeviceInformation {
    /// `DeviceType` ([`FILE_DEVICE_DISK`] for a share's volume).
    pub device_type: u32,
    /// `Characteristics` ([`FILE_DEVICE_IS_MOUNTED`], [`FILE_READ_ONLY_DEVICE`], ...).
    pub characteristics: u32,
}

impl Default for FileFsDeviceInformation {
    /// A mounted disk.
    fn default() -> Self {
        Self {
            device_type: FILE_DEVICE_DISK,
            characteristics: FILE_DEVICE_IS_MOUNTED,
        }
    }
}

impl Information for FileFsDeviceInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.device_type.encode(out);
        self.characteristics.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsDeviceInformation");
        Ok(Self {
            device_type: r.u32()?,
            characteristics: r.u32()?,
        })
    }
}

/// MS-FSCC 2.5 FileFsAttributeInformation.
///
/// ```text
/// FileSystemAttributes(4) MaximumComponentNameLength(4) FileSystemNameLength(4)
/// FileSystemName(FileSystemNameLength, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileFsAttributeInformation {
    /// `FileSystemAttributes` (`FILE_CASE_SENSITIVE_SEARCH`, ...).
    pub attributes: u32,
    /// `MaximumComponentNameLength`: the longest name, in characters.
    pub max_component_name_length: u32,
    /// `FileSystemName`.
    pub file_system_name: String,
}

impl FileFsAttributeInformation {
    /// The length before `FileSystemName`.
    pub const FIXED_LEN: usize = 12;

    /// A file system with `attributes` that presents itself as NTFS with 255-character
    /// names, as Samba does for its POSIX shares (clients test for "NTFS" before
    /// using some features).
    pub fn ntfs(attributes: u32) -> Self {
        Self {
            attributes,
            max_component_name_length: 255,
            file_system_name: "NTFS".into(),
        }
    }
}

impl Information for FileFsAttributeInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        let name = utf16(&self.file_system_name);
        self.attributes.encode(out);
        self.max_component_name_length.encode(out);
        len32(name.len()).encode(out);
        out.extend_from_slice(&name);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsAttributeInformation");
        let attributes = r.u32()?;
        let max_component_name_length = r.u32()?;
        let len = r.u32()? as usize;
        Ok(Self {
            attributes,
            max_component_name_length,
            file_system_name: read_utf16(r, len, "FileFsAttributeInformation name")?,
        })
    }
}

/// MS-FSCC 2.5.2 FileFsControlInformation (quota settings):
///
/// ```text
/// FreeSpaceStartFiltering(8) FreeSpaceThreshold(8) FreeSpaceStopFiltering(8)
/// DefaultQuotaThreshold(8) DefaultQuotaLimit(8) FileSystemControlFlags(4) Padding(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFsControlInformation {
    /// `FreeSpaceStartFiltering`, `FreeSpaceThreshold`, `FreeSpaceStopFiltering`.
    pub free_space: [u64; 3],
    /// `DefaultQuotaThreshold`.
    pub default_quota_threshold: u64,
    /// `DefaultQuotaLimit`.
    pub default_quota_limit: u64,
    /// `FileSystemControlFlags` (`FILE_VC_*`).
    pub flags: u32,
}

impl FileFsControlInformation {
    /// A volume without quotas, as Windows reports one: no filtering, no default
    /// threshold or limit (all ones), quotas off (`FILE_VC_QUOTA_NONE`).
    pub fn no_quotas() -> Self {
        Self {
            free_space: [0; 3],
            default_quota_threshold: u64::MAX,
            default_quota_limit: u64::MAX,
            flags: 0,
        }
    }
}

impl Information for FileFsControlInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        for v in self.free_space {
            v.encode(out);
        }
        self.default_quota_threshold.encode(out);
        self.default_quota_limit.encode(out);
        self.flags.encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsControlInformation");
        let free_space = [r.u64()?, r.u64()?, r.u64()?];
        let info = Self {
            free_space,
            default_quota_threshold: r.u64()?,
            default_quota_limit: r.u64()?,
            flags: r.u32()?,
        };
        r.u32()?;
        Ok(info)
    }
}

/// MS-FSCC 2.5 FileFsObjectIdInformation: `ObjectId(16) ExtendedInfo(48)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFsObjectIdInformation {
    /// `ObjectId`: the volume's GUID.
    pub object_id: [u8; 16],
    /// `ExtendedInfo`.
    pub extended_info: [u8; 48],
}

impl Default for FileFsObjectIdInformation {
    fn default() -> Self {
        Self {
            object_id: [0; 16],
            extended_info: [0; 48],
        }
    }
}

impl Information for FileFsObjectIdInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.object_id);
        out.extend_from_slice(&self.extended_info);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsObjectIdInformation");
        Ok(Self {
            object_id: r.array()?,
            extended_info: r.array()?,
        })
    }
}

/// MS-FSCC 2.5 FileFsSectorSizeInformation.
///
/// ```text
/// LogicalBytesPerSector(4) PhysicalBytesPerSectorForAtomicity(4)
/// PhysicalBytesPerSectorForPerformance(4)
/// FileSystemEffectivePhysicalBytesPerSectorForAtomicity(4) Flags(4)
/// ByteOffsetForSectorAlignment(4) ByteOffsetForPartitionAlignment(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileFsSectorSizeInformation {
    /// `LogicalBytesPerSector`.
    pub logical_bytes_per_sector: u32,
    /// `PhysicalBytesPerSectorForAtomicity`.
    pub physical_bytes_per_sector_for_atomicity: u32,
    /// `PhysicalBytesPerSectorForPerformance`.
    pub physical_bytes_per_sector_for_performance: u32,
    /// `FileSystemEffectivePhysicalBytesPerSectorForAtomicity`.
    pub effective_physical_bytes_per_sector_for_atomicity: u32,
    /// `Flags` (`SSINFO_FLAGS_*`).
    pub flags: u32,
    /// `ByteOffsetForSectorAlignment`.
    pub byte_offset_for_sector_alignment: u32,
    /// `ByteOffsetForPartitionAlignment`.
    pub byte_offset_for_partition_alignment: u32,
}

impl FileFsSectorSizeInformation {
    /// A volume whose logical and physical sectors are all `bytes` long and aligned.
    pub fn uniform(bytes: u32) -> Self {
        Self {
            logical_bytes_per_sector: bytes,
            physical_bytes_per_sector_for_atomicity: bytes,
            physical_bytes_per_sector_for_performance: bytes,
            effective_physical_bytes_per_sector_for_atomicity: bytes,
            flags: SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE,
            byte_offset_for_sector_alignment: 0,
            byte_offset_for_partition_alignment: 0,
        }
    }
}

impl Information for FileFsSectorSizeInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            self.logical_bytes_per_sector,
            self.physical_bytes_per_sector_for_atomicity,
            self.physical_bytes_per_sector_for_performance,
            self.effective_physical_bytes_per_sector_for_atomicity,
            self.flags,
            self.byte_offset_for_sector_alignment,
            self.byte_offset_for_partition_alignment,
        ] {
            v.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileFsSectorSizeInformation");
        Ok(Self {
            logical_bytes_per_sector: r.u32()?,
            physical_bytes_per_sector_for_atomicity: r.u32()?,
            physical_bytes_per_sector_for_performance: r.u32()?,
            effective_physical_bytes_per_sector_for_atomicity: r.u32()?,
            flags: r.u32()?,
            byte_offset_for_sector_alignment: r.u32()?,
            byte_offset_for_partition_alignment: r.u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn round_trip<T: Information + PartialEq + std::fmt::Debug>(value: &T) -> Vec<u8> {
        let bytes = value.to_bytes();
        assert_eq!(&T::decode(&bytes).unwrap(), value);
        bytes
    }

    #[test]
    fn volume_information_is_byte_exact() {
        let bytes = round_trip(&FileFsVolumeInformation {
            creation_time: 0x0102_0304_0506_0708,
            serial_number: 0xdead_beef,
            supports_objects: false,
            label: "data".into(),
        });
        assert_eq!(
            bytes,
            [
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // VolumeCreationTime
                0xef, 0xbe, 0xad, 0xde, // VolumeSerialNumber
                8, 0, 0, 0, // VolumeLabelLength
                0, 0, // SupportsObjects, Reserved
                b'd', 0, b'a', 0, b't', 0, b'a', 0,
            ]
        );
        assert_eq!(bytes.len(), FileFsVolumeInformation::FIXED_LEN + 8);
    }

    #[test]
    fn size_classes_have_their_layouts() {
        let size = FileFsSizeInformation {
            total_allocation_units: 1000,
            available_allocation_units: 400,
            sectors_per_allocation_unit: 8,
            bytes_per_sector: 512,
        };
        let bytes = round_trip(&size);
        assert_eq!(bytes.len(), 24);
        assert_eq!(bytes[16..], [8, 0, 0, 0, 0, 2, 0, 0]);

        let full = FileFsFullSizeInformation {
            total_allocation_units: 1000,
            caller_available_allocation_units: 300,
            actual_available_allocation_units: 400,
            sectors_per_allocation_unit: 8,
            bytes_per_sector: 512,
        };
        let bytes = round_trip(&full);
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[8..16], &300u64.to_le_bytes());
        assert_eq!(&bytes[16..24], &400u64.to_le_bytes());
    }

    #[test]
    fn control_information_is_48_bytes_in_its_order() {
        let info = FileFsControlInformation {
            free_space: [1, 2, 3],
            default_quota_threshold: 4,
            default_quota_limit: 5,
            flags: 6,
        };
        let bytes = round_trip(&info);
        assert_eq!(bytes.len(), 48);
        for (i, v) in [1u64, 2, 3, 4, 5].iter().enumerate() {
            assert_eq!(bytes[i * 8..i * 8 + 8], v.to_le_bytes());
        }
        assert_eq!(bytes[40..44], 6u32.to_le_bytes());
        assert_eq!(bytes[44..], [0; 4]);
        assert_eq!(
            round_trip(&FileFsControlInformation::no_quotas())[24..40],
            [0xff; 16]
        );
    }

    #[test]
    fn device_attribute_object_id_and_sector_size() {
        let device = round_trip(&FileFsDeviceInformation::default());
        assert_eq!(device, [7, 0, 0, 0, 0x20, 0, 0, 0]);

        let attributes = FileFsAttributeInformation::ntfs(
            FILE_CASE_SENSITIVE_SEARCH
                | FILE_CASE_PRESERVED_NAMES
                | FILE_UNICODE_ON_DISK
                | FILE_PERSISTENT_ACLS,
        );
        let bytes = round_trip(&attributes);
        assert_eq!(
            bytes,
            [
                0x0f, 0, 0, 0, // FileSystemAttributes
                0xff, 0, 0, 0, // MaximumComponentNameLength
                8, 0, 0, 0, // FileSystemNameLength
                b'N', 0, b'T', 0, b'F', 0, b'S', 0,
            ]
        );

        let object_id = FileFsObjectIdInformation {
            object_id: [1; 16],
            extended_info: [2; 48],
        };
        assert_eq!(round_trip(&object_id).len(), 64);

        let sector = round_trip(&FileFsSectorSizeInformation::uniform(4096));
        assert_eq!(sector.len(), 28);
        assert_eq!(sector[..4], [0, 0x10, 0, 0]);
        assert_eq!(sector[16..20], [3, 0, 0, 0]);
        assert_eq!(sector[20..], [0; 8]);
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in vec(any::<u8>(), 0..100)) {
            let _ = FileFsVolumeInformation::decode(&bytes);
            let _ = FileFsSizeInformation::decode(&bytes);
            let _ = FileFsFullSizeInformation::decode(&bytes);
            let _ = FileFsDeviceInformation::decode(&bytes);
            let _ = FileFsAttributeInformation::decode(&bytes);
            let _ = FileFsObjectIdInformation::decode(&bytes);
            let _ = FileFsSectorSizeInformation::decode(&bytes);
        }

        #[test]
        fn volume_and_attribute_round_trip(
            (creation_time, serial_number, supports_objects) in (any::<u64>(), any::<u32>(), any::<bool>()),
            label in "\\PC{0,32}",
            (attributes, max) in (any::<u32>(), any::<u32>()),
        ) {
            let volume = FileFsVolumeInformation { creation_time, serial_number, supports_objects, label: label.clone() };
            prop_assert_eq!(FileFsVolumeInformation::decode(&volume.to_bytes()).unwrap(), volume);
            let fs = FileFsAttributeInformation { attributes, max_component_name_length: max, file_system_name: label };
            prop_assert_eq!(FileFsAttributeInformation::decode(&fs.to_bytes()).unwrap(), fs);
        }
    }
}
