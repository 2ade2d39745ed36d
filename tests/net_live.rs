//! Live capture on the loopback interface. Needs capture privileges (root or CAP_NET_RAW), so
//! it is ignored by default: `cargo test --test net_live -- --ignored`.

use mmscope::capture::PacketSource;
use mmscope::capture::live::{LiveOptions, LiveSource, list_interfaces};
use mmscope::net::{Decoder, Event};

#[test]
#[ignore]
fn live_loopback_udp_is_captured_and_decoded() {
    let ifaces = list_interfaces().unwrap();
    assert!(ifaces.iter().any(|i| i.name == "lo"), "{ifaces:?}");
    let mut src = LiveSource::open(&LiveOptions {
        interface: "lo".into(),
        filter: Some("udp port 45678".into()),
        snaplen: 65535,
        promiscuous: false,
    })
    .unwrap();
    let stop = src.stop_handle();
    let sender = std::thread::spawn(move || {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..20 {
            s.send_to(b"live mmscope", "127.0.0.1:45678").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let mut dec = Decoder::default();
    let mut events = Vec::new();
    let mut got = None;
    while let Some(p) = src.next_packet() {
        dec.decode_packet_owned(&p.unwrap(), &mut events);
        if let Some(Event::Udp(u)) = events.iter().find(|e| matches!(e, Event::Udp(_))) {
            got = Some(u.clone());
            break;
        }
    }
    sender.join().unwrap();
    let u = got.expect("a datagram");
    assert_eq!(&u.payload[..], b"live mmscope");
    assert_eq!(u.dst.port(), 45678);
    assert_eq!(u.frame, 1);
}
