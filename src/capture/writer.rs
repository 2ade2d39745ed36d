//! Writing pcap/pcapng files (used by the capture generator and by live capture with -w).
