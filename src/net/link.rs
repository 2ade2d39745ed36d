//! Link layer: from a captured frame to the network-layer packet it carries.

use crate::capture::LinkType;

/// What a frame carries once the link-layer headers are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L3<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    /// A network protocol mmscope does not decode (ARP, LLDP, …): nothing to report.
    Other {
        ethertype: u16,
    },
}

/// Why a frame could not be decoded at the link layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// A link type this decoder does not know.
    UnsupportedLinkType(LinkType),
    /// The frame ends before the header it needs: `what`, bytes needed, bytes present.
    Truncated {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    /// A raw-IP / loopback frame whose payload is neither IPv4 nor IPv6.
    UnknownPayload { what: &'static str, value: u32 },
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::UnsupportedLinkType(l) => write!(f, "unsupported {l}"),
            LinkError::Truncated { what, needed, have } => {
                write!(
                    f,
                    "truncated {what}: needs {needed} bytes, frame has {have}"
                )
            }
            LinkError::UnknownPayload { what, value } => {
                write!(f, "{what} {value:#x} is neither IPv4 nor IPv6")
            }
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MC: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

/// Most VLAN / MPLS labels followed before giving up (a loop guard, not a protocol limit).
const MAX_TAGS: usize = 8;

fn need(what: &'static str, data: &[u8], n: usize) -> Result<(), LinkError> {
    if data.len() < n {
        Err(LinkError::Truncated {
            what,
            needed: n,
            have: data.len(),
        })
    } else {
        Ok(())
    }
}

fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

/// Strip the link-layer header(s) of a frame.
pub fn decode(link: LinkType, data: &[u8]) -> Result<L3<'_>, LinkError> {
    match link {
        LinkType::ETHERNET => ethernet(data),
        LinkType::LINUX_SLL => {
            need("Linux cooked (SLL) header", data, 16)?;
            by_ethertype(be16(data, 14), &data[16..])
        }
        LinkType::LINUX_SLL2 => {
            need("Linux cooked v2 (SLL2) header", data, 20)?;
            by_ethertype(be16(data, 0), &data[20..])
        }
        LinkType::RAW | LinkType::RAW_DLT12 | LinkType::RAW_DLT14 => raw_ip(data),
        LinkType::IPV4 => Ok(L3::Ipv4(data)),
        LinkType::IPV6 => Ok(L3::Ipv6(data)),
        LinkType::NULL | LinkType::LOOP => loopback(data),
        other => Err(LinkError::UnsupportedLinkType(other)),
    }
}

fn ethernet(data: &[u8]) -> Result<L3<'_>, LinkError> {
    need("Ethernet header", data, 14)?;
    let mut ethertype = be16(data, 12);
    let mut rest = &data[14..];
    for _ in 0..MAX_TAGS {
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
                need("802.1Q VLAN tag", rest, 4)?;
                ethertype = be16(rest, 2);
                rest = &rest[4..];
            }
            // IEEE 802.3 length field: LLC, and SNAP carries an ethertype.
            0..=1500 => {
                need("802.2 LLC header", rest, 3)?;
                if rest[0] == 0xAA && rest[1] == 0xAA && rest[2] == 0x03 {
                    need("SNAP header", rest, 8)?;
                    ethertype = be16(rest, 6);
                    rest = &rest[8..];
                } else {
                    return Ok(L3::Other { ethertype });
                }
            }
            _ => return by_ethertype(ethertype, rest),
        }
    }
    Ok(L3::Other { ethertype })
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Result<L3<'_>, LinkError> {
    match ethertype {
        ETHERTYPE_IPV4 => Ok(L3::Ipv4(rest)),
        ETHERTYPE_IPV6 => Ok(L3::Ipv6(rest)),
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
            // A tag after a cooked header (SLL of a VLAN device without offload).
            need("802.1Q VLAN tag", rest, 4)?;
            by_ethertype(be16(rest, 2), &rest[4..])
        }
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MC => {
            let mut rest = rest;
            for _ in 0..MAX_TAGS {
                need("MPLS label", rest, 4)?;
                let bottom = rest[2] & 1 == 1;
                rest = &rest[4..];
                if bottom {
                    return match rest.first().map(|b| b >> 4) {
                        Some(4) => Ok(L3::Ipv4(rest)),
                        Some(6) => Ok(L3::Ipv6(rest)),
                        _ => Ok(L3::Other { ethertype }),
                    };
                }
            }
            Ok(L3::Other { ethertype })
        }
        ETHERTYPE_PPPOE_SESSION => {
            need("PPPoE session header", rest, 8)?;
            match be16(rest, 6) {
                0x0021 => Ok(L3::Ipv4(&rest[8..])),
                0x0057 => Ok(L3::Ipv6(&rest[8..])),
                _ => Ok(L3::Other { ethertype }),
            }
        }
        _ => Ok(L3::Other { ethertype }),
    }
}

fn raw_ip(data: &[u8]) -> Result<L3<'_>, LinkError> {
    need("raw IP packet", data, 1)?;
    match data[0] >> 4 {
        4 => Ok(L3::Ipv4(data)),
        6 => Ok(L3::Ipv6(data)),
        v => Err(LinkError::UnknownPayload {
            what: "raw IP version",
            value: v as u32,
        }),
    }
}

/// BSD NULL / OpenBSD LOOP: a 4-byte address family, in the capturing host's byte order for
/// NULL (network order for LOOP, but writers disagree, so both are accepted for both).
fn loopback(data: &[u8]) -> Result<L3<'_>, LinkError> {
    need("loopback header", data, 4)?;
    let raw = [data[0], data[1], data[2], data[3]];
    // Families are small numbers: whichever byte order gives one is the right one.
    let family = if raw[0] == 0 && raw[1] == 0 {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    };
    let rest = &data[4..];
    match family {
        2 => Ok(L3::Ipv4(rest)),
        // AF_INET6: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
        10 | 24 | 28 | 30 => Ok(L3::Ipv6(rest)),
        other => Err(LinkError::UnknownPayload {
            what: "loopback address family",
            value: other,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_qinq_and_vlan() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0A, 0x86, 0xDD]);
        f.extend_from_slice(&[0x60, 1, 2, 3]);
        assert_eq!(
            decode(LinkType::ETHERNET, &f),
            Ok(L3::Ipv6(&[0x60, 1, 2, 3][..]))
        );
        // Cut inside the second tag.
        assert!(matches!(
            decode(LinkType::ETHERNET, &f[..20]),
            Err(LinkError::Truncated {
                what: "802.1Q VLAN tag",
                needed: 4,
                have: 2
            })
        ));
    }

    #[test]
    fn loopback_both_byte_orders() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 2, 0x45];
        let v6 = [0, 0, 0, 30, 0x60];
        assert_eq!(decode(LinkType::NULL, &le), Ok(L3::Ipv4(&[0x45][..])));
        assert_eq!(decode(LinkType::LOOP, &be), Ok(L3::Ipv4(&[0x45][..])));
        assert_eq!(decode(LinkType::NULL, &v6), Ok(L3::Ipv6(&[0x60][..])));
        assert!(decode(LinkType::NULL, &[7, 0, 0, 0]).is_err());
    }

    #[test]
    fn sll_sll2_raw_and_unknown() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(decode(LinkType::LINUX_SLL, &sll), Ok(L3::Ipv4(&[0x45][..])));
        let mut sll2 = vec![0x86, 0xDD];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.push(0x60);
        assert_eq!(
            decode(LinkType::LINUX_SLL2, &sll2),
            Ok(L3::Ipv6(&[0x60][..]))
        );
        assert_eq!(
            decode(LinkType::RAW_DLT14, &[0x45]),
            Ok(L3::Ipv4(&[0x45][..]))
        );
        assert_eq!(
            decode(LinkType(147), &[0]),
            Err(LinkError::UnsupportedLinkType(LinkType(147)))
        );
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(
            decode(LinkType::ETHERNET, &arp),
            Ok(L3::Other { ethertype: 0x0806 })
        );
    }
}
