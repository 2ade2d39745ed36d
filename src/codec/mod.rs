//! WSP value encodings shared by the MMS dissector and the WSP decoder (WAP-230-WSP 8.4–8.5):
//! primitives (uintvar, integers, strings, lengths), charsets, content types with parameters,
//! well-known and application headers, and multipart bodies.
//!
//! Every decoder takes the whole buffer and an absolute position and returns
//! `Result<(value, next_position), CodecError>` (see [`primitives::Decoded`]); errors carry the
//! byte offset and what was expected there.

pub mod charset;
pub mod content_type;
pub mod headers;
pub mod multipart;
pub mod primitives;

pub use content_type::{ContentType, Param};
pub use headers::{Header, HeaderBlock, decode_headers};
pub use multipart::{Multipart, Part, decode_multipart};
pub use primitives::{CodecError, Decoded, ErrorKind};
