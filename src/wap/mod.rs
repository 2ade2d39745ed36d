//! WAP bearers of MMS: WTP (transactions, segmentation and reassembly) and WSP (sessions,
//! methods, push), as a WAP gateway such as Kannel speaks them on UDP 9200/9201/2948.

pub mod wsp;
pub mod wtp;
