//! Protocol versions and the handshake (classic and manifest v1).

use std::fmt;

use bytes::BufMut;

use crate::error::BoltError;

/// A Bolt protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Version {
    /// Bolt 4.4 (Neo4j 4.4).
    pub const V4_4: Version = Version::new(4, 4);
    /// Bolt 5.0 (element ids, UTC date-times).
    pub const V5_0: Version = Version::new(5, 0);
    /// Bolt 5.1 (LOGON / LOGOFF).
    pub const V5_1: Version = Version::new(5, 1);
    /// Bolt 5.2 (notification filters).
    pub const V5_2: Version = Version::new(5, 2);
    /// Bolt 5.3 (bolt_agent).
    pub const V5_3: Version = Version::new(5, 3);
    /// Bolt 5.4 (TELEMETRY).
    pub const V5_4: Version = Version::new(5, 4);
    /// Bolt 5.5 (notification classifications).
    pub const V5_5: Version = Version::new(5, 5);
    /// Bolt 5.6 (GQL statuses).
    pub const V5_6: Version = Version::new(5, 6);
    /// Bolt 5.7 (GQL errors, manifest handshake).
    pub const V5_7: Version = Version::new(5, 7);
    /// Bolt 5.8 (home database resolution, SSR hint).
    pub const V5_8: Version = Version::new(5, 8);
    /// Bolt 6.0 (vectors).
    pub const V6_0: Version = Version::new(6, 0);

    /// Every version this crate speaks, oldest first.
    pub const SUPPORTED: [Version; 11] = [
        Version::V4_4,
        Version::V5_0,
        Version::V5_1,
        Version::V5_2,
        Version::V5_3,
        Version::V5_4,
        Version::V5_5,
        Version::V5_6,
        Version::V5_7,
        Version::V5_8,
        Version::V6_0,
    ];

    /// A version from its parts.
    pub const fn new(major: u8, minor: u8) -> Self {
        Version { major, minor }
    }

    /// Whether this crate can speak this version (4.4, 5.0–5.8, 6.0).
    pub fn is_supported(self) -> bool {
        matches!((self.major, self.minor), (4, 4) | (5, 0..=8) | (6, 0))
    }

    /// The 4-byte handshake reply naming exactly this version.
    pub(crate) fn to_bytes(self) -> [u8; 4] {
        [0, 0, self.minor, self.major]
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A range of versions `major.minor` down to `major.(minor - back)`, as written in the handshake
/// (`00 back minor major`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// Major version.
    pub major: u8,
    /// The newest minor version of the range.
    pub minor: u8,
    /// How many minor versions below `minor` are also included.
    pub back: u8,
}

impl VersionRange {
    /// A range of one version.
    pub const fn exact(major: u8, minor: u8) -> Self {
        VersionRange {
            major,
            minor,
            back: 0,
        }
    }

    /// `major.newest` down to `major.oldest`.
    pub const fn new(major: u8, newest: u8, oldest: u8) -> Self {
        VersionRange {
            major,
            minor: newest,
            back: newest.saturating_sub(oldest),
        }
    }

    /// Whether `version` lies in this range.
    pub fn contains(&self, version: Version) -> bool {
        version.major == self.major
            && version.minor <= self.minor
            && version.minor >= self.minor.saturating_sub(self.back)
    }

    /// The versions of this range, newest first.
    pub fn versions(&self) -> impl Iterator<Item = Version> + '_ {
        let oldest = self.minor.saturating_sub(self.back);
        (oldest..=self.minor)
            .rev()
            .map(|minor| Version::new(self.major, minor))
    }

    pub(crate) fn to_bytes(self) -> [u8; 4] {
        [0, self.back, self.minor, self.major]
    }

    pub(crate) fn from_bytes(b: [u8; 4]) -> Self {
        VersionRange {
            major: b[3],
            minor: b[2],
            back: b[1],
        }
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.back == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(
                f,
                "{}.{}–{}.{}",
                self.major,
                self.minor,
                self.major,
                self.minor.saturating_sub(self.back)
            )
        }
    }
}

/// The magic preamble every Bolt connection starts with.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];
/// The handshake slot (and reply) that selects the manifest v1 negotiation.
pub(crate) const MANIFEST_V1: [u8; 4] = [0x00, 0x00, 0x01, 0xFF];
/// The largest number of version ranges we accept in a server's manifest (bounded memory).
const MAX_MANIFEST_ENTRIES: u64 = 1024;

/// The 20 handshake bytes: magic and four slots, newest first, unused slots zero.
pub(crate) fn handshake_bytes(offered: &[VersionRange], manifest: bool, out: &mut impl BufMut) {
    out.put_slice(&MAGIC);
    let mut slots = 0;
    if manifest {
        out.put_slice(&MANIFEST_V1);
        slots += 1;
    }
    for range in offered.iter().take(4 - slots) {
        out.put_slice(&range.to_bytes());
        slots += 1;
    }
    for _ in slots..4 {
        out.put_slice(&[0; 4]);
    }
}

/// What the server's handshake reply says, once complete.
#[derive(Debug)]
pub(crate) enum HandshakeReply {
    /// Classic: the server chose this version. `consumed` = 4.
    Chosen(Version),
    /// Manifest v1: the server lists what it speaks; the client must answer with its choice.
    /// The server's capability mask is read and skipped: no capabilities are defined yet.
    Manifest {
        ranges: Vec<VersionRange>,
        consumed: usize,
    },
}

/// Parses the server's handshake reply from the start of `input`.
/// `Ok(None)` means more bytes are needed.
pub(crate) fn parse_reply(
    input: &[u8],
    offered: &[VersionRange],
) -> Result<Option<HandshakeReply>, BoltError> {
    let Some(head) = input.get(..4) else {
        return Ok(None);
    };
    let head: [u8; 4] = [head[0], head[1], head[2], head[3]];
    if &head == b"HTTP" {
        return Err(BoltError::HttpPort);
    }
    if head == [0; 4] {
        return Err(BoltError::NoCommonVersion {
            offered: offered.to_vec(),
            server: Vec::new(),
        });
    }
    if head == MANIFEST_V1 {
        let mut pos = 4;
        let Some((count, used)) = read_varint(&input[pos..])? else {
            return Ok(None);
        };
        pos += used;
        if count > MAX_MANIFEST_ENTRIES {
            return Err(BoltError::protocol(format!(
                "the handshake manifest claims {count} versions (at most {MAX_MANIFEST_ENTRIES} accepted)"
            )));
        }
        let count = count as usize; // ≤ 1024: fits any usize
        let Some(list) = input.get(pos..pos + 4 * count) else {
            return Ok(None);
        };
        let ranges = list
            .chunks_exact(4)
            .map(|c| VersionRange::from_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        pos += 4 * count;
        let Some((_capabilities, used)) = read_varint(&input[pos..])? else {
            return Ok(None);
        };
        pos += used;
        return Ok(Some(HandshakeReply::Manifest {
            ranges,
            consumed: pos,
        }));
    }
    if head[0] != 0 || head[1] != 0 {
        return Err(BoltError::protocol(format!(
            "unexpected handshake reply {:02X} {:02X} {:02X} {:02X}",
            head[0], head[1], head[2], head[3]
        )));
    }
    let version = Version::new(head[3], head[2]);
    let was_offered = offered.iter().any(|r| r.contains(version));
    if !was_offered || !version.is_supported() {
        return Err(BoltError::protocol(format!(
            "the server chose Bolt {version}, which was not offered"
        )));
    }
    Ok(Some(HandshakeReply::Chosen(version)))
}

/// What the client's preamble proposes (server side of the handshake).
#[derive(Debug)]
pub(crate) struct Proposals {
    /// The four slots as version ranges (empty slots and the manifest marker left out).
    pub(crate) ranges: Vec<VersionRange>,
    /// Whether a slot asks for the manifest v1 negotiation.
    pub(crate) manifest: bool,
}

/// The methods an HTTP request may start with (someone pointed a browser or an HTTP client at
/// the Bolt port).
const HTTP_STARTS: [&[u8; 4]; 10] = [
    b"GET ", b"POST", b"PUT ", b"HEAD", b"OPTI", b"DELE", b"PATC", b"CONN", b"TRAC", b"HTTP",
];

/// Parses the client's 20-byte preamble: magic and four proposals. `Ok(None)`: more bytes
/// needed.
pub(crate) fn parse_proposals(input: &[u8]) -> Result<Option<Proposals>, BoltError> {
    if let Some(head) = input.get(..4) {
        if HTTP_STARTS.iter().any(|start| &start[..] == head) {
            return Err(BoltError::ClientSpokeHttp);
        }
        if head != MAGIC {
            return Err(BoltError::ClientProtocol {
                reason: format!(
                    "the connection starts with {:02X} {:02X} {:02X} {:02X}, not the Bolt magic \
                     60 60 B0 17",
                    head[0], head[1], head[2], head[3]
                ),
            });
        }
    }
    let Some(slots) = input.get(4..20) else {
        return Ok(None);
    };
    let mut proposals = Proposals {
        ranges: Vec::new(),
        manifest: false,
    };
    for slot in slots.chunks_exact(4) {
        let slot = [slot[0], slot[1], slot[2], slot[3]];
        if slot == MANIFEST_V1 {
            proposals.manifest = true;
        } else if slot != [0; 4] {
            proposals.ranges.push(VersionRange::from_bytes(slot));
        }
    }
    Ok(Some(proposals))
}

/// The server's manifest v1 reply: the marker, the version ranges it offers, its capabilities
/// (none are defined).
pub(crate) fn manifest_reply(offered: &[VersionRange], out: &mut impl BufMut) {
    out.put_slice(&MANIFEST_V1);
    write_varint(offered.len() as u64, out);
    for range in offered {
        out.put_slice(&range.to_bytes());
    }
    write_varint(0, out);
}

/// The client's answer to a manifest: its choice (`None`: it found no common version) and how
/// many bytes that took (the version and the capability varint). `Ok(None)`: more bytes needed.
pub(crate) fn parse_manifest_choice(
    input: &[u8],
) -> Result<Option<(Option<Version>, usize)>, BoltError> {
    let Some(choice) = input.get(..4) else {
        return Ok(None);
    };
    let choice = [choice[0], choice[1], choice[2], choice[3]];
    let Some((_capabilities, used)) =
        read_varint(&input[4..]).map_err(|_| BoltError::ClientProtocol {
            reason: "the capability varint after the manifest choice is longer than 10 bytes"
                .to_owned(),
        })?
    else {
        return Ok(None);
    };
    if choice == [0; 4] {
        return Ok(Some((None, 4 + used)));
    }
    if choice[0] != 0 || choice[1] != 0 {
        return Err(BoltError::ClientProtocol {
            reason: format!(
                "the manifest choice {:02X} {:02X} {:02X} {:02X} is not a single version",
                choice[0], choice[1], choice[2], choice[3]
            ),
        });
    }
    Ok(Some((Some(Version::new(choice[3], choice[2])), 4 + used)))
}

/// Picks the newest version that both we offered (and support) and the server listed.
pub(crate) fn choose(offered: &[VersionRange], server: &[VersionRange]) -> Option<Version> {
    let mut best: Option<Version> = None;
    for ours in offered {
        for v in ours.versions() {
            if v.is_supported()
                && server.iter().any(|s| s.contains(v))
                && best.is_none_or(|b| v > b)
            {
                best = Some(v);
            }
        }
    }
    best
}

/// Reads an unsigned LEB128 varint (7 bits per byte, least significant group first, high bit =
/// more). `Ok(None)`: more bytes needed.
pub(crate) fn read_varint(input: &[u8]) -> Result<Option<(u64, usize)>, BoltError> {
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i >= 10 {
            return Err(BoltError::protocol(
                "a handshake varint is longer than 10 bytes",
            ));
        }
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if input.len() >= 10 {
        return Err(BoltError::protocol(
            "a handshake varint is longer than 10 bytes",
        ));
    }
    Ok(None)
}

/// Writes an unsigned LEB128 varint.
pub(crate) fn write_varint(mut value: u64, out: &mut impl BufMut) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.put_u8(byte);
            return;
        }
        out.put_u8(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::MAX] {
            let mut buf = Vec::new();
            write_varint(v, &mut buf);
            assert_eq!(read_varint(&buf).unwrap(), Some((v, buf.len())));
            assert_eq!(read_varint(&buf[..buf.len() - 1]).unwrap(), None);
        }
        assert!(read_varint(&[0xFF; 11]).is_err());
    }

    #[test]
    fn the_supported_list_is_what_is_supported() {
        let all: Vec<Version> = (0..=9)
            .flat_map(|major| (0..=9).map(move |minor| Version::new(major, minor)))
            .filter(|v| v.is_supported())
            .collect();
        assert_eq!(all, Version::SUPPORTED);
    }

    #[test]
    fn ranges() {
        let r = VersionRange::new(5, 8, 0);
        assert_eq!(r.to_bytes(), [0, 8, 8, 5]);
        assert!(r.contains(Version::new(5, 0)));
        assert!(!r.contains(Version::new(4, 4)));
        assert_eq!(r.versions().count(), 9);
        assert_eq!(
            choose(
                &[VersionRange::exact(6, 0), r],
                &[VersionRange::new(5, 7, 0)]
            ),
            Some(Version::new(5, 7))
        );
    }
}
