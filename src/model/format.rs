//! The format check the reference makes of uploaded data (container format `bare` only): the
//! disk format the first bytes show must be the one the image declares, with two allowances
//! (data that looks raw passes for a format no inspector knows, such as `ami`; an image that
//! claims `raw` takes any data). The virtual size is read where the header states it.
//!
//! Recognised by their magic numbers: qcow2, qed, vhd, vhdx, vmdk, vdi, iso and an MBR/GPT
//! disk; anything else is raw. Only qcow2 and raw report a virtual size here.

use super::{ApiError, ErrorKind, Result};
use crate::model::data::Received;

/// The disk formats the reference has an inspector for.
const INSPECTABLE: &[&str] = &[
    "raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks",
];

/// The format found in the first bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    /// The inspector's name (`raw` when nothing else matched).
    pub name: &'static str,
    /// The virtual size the header states, when it is known.
    pub virtual_size: Option<u64>,
}

fn at(head: &[u8], offset: usize, magic: &[u8]) -> bool {
    head.get(offset..offset + magic.len()) == Some(magic)
}

/// The format of data starting with `head` (at least its first 33 KiB, or all of it).
pub fn detect(head: &[u8]) -> Detected {
    let named = |name| Detected {
        name,
        virtual_size: None,
    };
    // The reference reads a 512-byte header before it calls data qcow2.
    if head.len() >= 512 && at(head, 0, b"QFI\xfb") {
        let size = u64::from_be_bytes(head[24..32].try_into().unwrap_or_default());
        return Detected {
            name: "qcow2",
            virtual_size: Some(size),
        };
    }
    let magics: [(&'static str, usize, &[u8]); 7] = [
        ("qed", 0, b"QEF\0"),
        ("vhd", 0, b"conectix"),
        ("vhdx", 0, b"vhdxfile"),
        ("vmdk", 0, b"KDMV"),
        ("vdi", 0x40, &[0x7f, 0x10, 0xda, 0xbe]),
        ("iso", 0x8001, b"CD001"),
        ("gpt", 510, &[0x55, 0xaa]),
    ];
    for (name, offset, magic) in magics {
        if at(head, offset, magic) && !(name == "gpt" && is_fat(head)) {
            return named(name);
        }
    }
    named("raw")
}

/// A FAT boot sector also ends in the MBR signature; the reference does not call it a disk.
fn is_fat(head: &[u8]) -> bool {
    head.get(0x10) == Some(&2) && head.get(0x15) == Some(&0xf8)
}

/// The virtual size to record for `got` on an image of these formats, or 415 when the data
/// does not match the declared disk format. Zero counts as unknown, as in the reference.
/// With `required` off (`require_image_format_match = false`) a mismatch is let through
/// with no virtual size, as the reference lets it.
pub(crate) fn judge(
    disk_format: Option<&str>,
    container_format: Option<&str>,
    got: &Received,
    required: bool,
) -> Result<Option<u64>> {
    match judge_strictly(disk_format, container_format, got) {
        Err(_) if !required => Ok(None),
        verdict => verdict,
    }
}

fn judge_strictly(
    disk_format: Option<&str>,
    container_format: Option<&str>,
    got: &Received,
) -> Result<Option<u64>> {
    if container_format != Some("bare") {
        return Ok(None);
    }
    let declared = disk_format.unwrap_or("");
    let found = got.format.name;
    let size = if found == declared {
        match found {
            "raw" => Some(got.size),
            _ => got.format.virtual_size,
        }
    } else if found == "raw" && !INSPECTABLE.contains(&declared) {
        None
    } else if declared == "raw" {
        Some(got.size)
    } else {
        return Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            format!("Image disk_format {declared} does not match stream data {found}"),
        ));
    };
    Ok(size.filter(|n| *n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(disk: Option<&str>, container: Option<&str>, got: &Received) -> Result<Option<u64>> {
        judge(disk, container, got, true)
    }

    fn qcow2(virtual_size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"QFI\xfb");
        h[24..32].copy_from_slice(&virtual_size.to_be_bytes());
        h
    }

    fn got(data: &[u8]) -> Received {
        Received {
            size: data.len() as u64,
            checksum: String::new(),
            os_hash_value: String::new(),
            format: detect(data),
        }
    }

    #[test]
    fn magic_numbers_name_the_format() {
        assert_eq!(
            detect(&qcow2(1 << 30)),
            Detected {
                name: "qcow2",
                virtual_size: Some(1 << 30)
            }
        );
        // A qcow2 magic in fewer than 512 bytes is not read as qcow2.
        assert_eq!(detect(&qcow2(1)[..100]).name, "raw");
        let at = |offset: usize, magic: &[u8]| {
            let mut d = vec![0u8; 0x8100];
            d[offset..offset + magic.len()].copy_from_slice(magic);
            detect(&d).name
        };
        assert_eq!(at(0, b"QEF\0"), "qed");
        assert_eq!(at(0, b"conectix"), "vhd");
        assert_eq!(at(0, b"vhdxfile"), "vhdx");
        assert_eq!(at(0, b"KDMV"), "vmdk");
        assert_eq!(at(0x40, &[0x7f, 0x10, 0xda, 0xbe]), "vdi");
        assert_eq!(at(0x8001, b"CD001"), "iso");
        assert_eq!(at(510, &[0x55, 0xaa]), "gpt");
        let mut fat = vec![0u8; 512];
        fat[510..].copy_from_slice(&[0x55, 0xaa]);
        fat[0x10] = 2;
        fat[0x15] = 0xf8;
        assert_eq!(detect(&fat).name, "raw");
        // Either mark alone is no FAT boot sector: an MBR disk.
        fat[0x15] = 0;
        assert_eq!(detect(&fat).name, "gpt");
        fat[0x10] = 1;
        fat[0x15] = 0xf8;
        assert_eq!(detect(&fat).name, "gpt");
        assert_eq!(detect(b"hello world").name, "raw");
    }

    #[test]
    fn the_declared_format_is_judged_as_the_reference_judges_it() {
        let bare = Some("bare");
        let hello = got(b"hello world");
        assert_eq!(strict(Some("raw"), bare, &hello).unwrap(), Some(11));
        assert_eq!(strict(Some("raw"), bare, &got(b"")).unwrap(), None);
        // Not inspectable: raw-looking data passes, with no virtual size.
        assert_eq!(strict(Some("ami"), bare, &hello).unwrap(), None);
        let refused = strict(Some("qcow2"), bare, &hello).unwrap_err();
        assert_eq!(refused.kind.status(), 415);
        assert!(refused.message.contains("qcow2") && refused.message.contains("raw"));
        assert_eq!(
            strict(Some("iso"), bare, &hello).unwrap_err().kind.status(),
            415
        );
        let q = got(&qcow2(4096));
        assert_eq!(strict(Some("qcow2"), bare, &q).unwrap(), Some(4096));
        // An image that claims raw takes anything, sized as the bytes.
        assert_eq!(strict(Some("raw"), bare, &q).unwrap(), Some(512));
        // qcow2 data is refused for an inspectable other format, and for ami too.
        assert_eq!(
            strict(Some("vmdk"), bare, &q).unwrap_err().kind.status(),
            415
        );
        assert_eq!(
            strict(Some("ami"), bare, &q).unwrap_err().kind.status(),
            415
        );
        // Other containers are not inspected.
        assert_eq!(strict(Some("qcow2"), Some("ovf"), &hello).unwrap(), None);
    }

    #[test]
    fn without_the_match_requirement_a_mismatch_passes_with_no_virtual_size() {
        let bare = Some("bare");
        let hello = got(b"hello world");
        assert_eq!(judge(Some("qcow2"), bare, &hello, false).unwrap(), None);
        assert_eq!(judge(Some("raw"), bare, &hello, false).unwrap(), Some(11));
        assert_eq!(
            judge(Some("qcow2"), bare, &hello, true)
                .unwrap_err()
                .kind
                .status(),
            415
        );
    }
}
