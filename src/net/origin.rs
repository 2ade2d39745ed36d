//! Frame origins of reassembled bytes: which capture frame each byte came from.

use crate::tree::FrameSpan;
use smallvec::SmallVec;

/// Frame spans with offsets relative to the start of the bytes they describe. One span is held
/// inline: bytes from a single frame are the common case (every in-order TCP segment), and the
/// decoder slices and hands up an origin for every packet, so a `Vec` cost an allocation or
/// three per packet.
pub type Origin = SmallVec<[FrameSpan; 1]>;

/// The spans covering `start..start + len` of the described bytes, rebased to `start`, as an
/// [`Origin`] or a `Vec`, whichever the caller keeps.
pub fn slice_origin<O: FromIterator<FrameSpan>>(
    origin: &[FrameSpan],
    start: usize,
    len: usize,
) -> O {
    let end = start + len;
    origin.iter().filter_map(|s| clip(s, start, end)).collect()
}

/// [`slice_origin`] into an [`Origin`], pushed in place: the decoder slices an origin for every
/// packet, and collecting into a `SmallVec` went through its generic, out-of-line `extend`.
pub fn slice(origin: &[FrameSpan], start: usize, len: usize) -> Origin {
    let end = start + len;
    // The bytes of one frame (every packet not reassembled from fragments): one span in, at
    // most one out, without the loop and `SmallVec::push`'s capacity checks.
    if let [s] = origin {
        return clip(s, start, end).map_or_else(Origin::new, |c| smallvec::smallvec![c]);
    }
    let mut out = Origin::new();
    for s in origin {
        if let Some(c) = clip(s, start, end) {
            out.push(c);
        }
    }
    out
}

/// The part of span `s` within `start..end`, rebased to `start`.
fn clip(s: &FrameSpan, start: usize, end: usize) -> Option<FrameSpan> {
    let a = s.offset.max(start);
    let b = (s.offset + s.len).min(end);
    // `then`, not `then_some`: the span must not be computed when a >= b (b - a would
    // underflow; a debug build panicked on a fuzzed capture).
    (a < b).then(|| FrameSpan {
        offset: a - start,
        len: b - a,
        frame: s.frame,
    })
}

/// Append `spans` (relative to bytes that will start at `base`) to `into`, merging a span with
/// the previous one when they are adjacent and from the same frame.
pub fn append_origin(into: &mut Origin, spans: &[FrameSpan], base: usize) {
    for s in spans {
        let s = FrameSpan {
            offset: s.offset + base,
            ..*s
        };
        match into.last_mut() {
            Some(l) if l.frame == s.frame && l.offset + l.len == s.offset => l.len += s.len,
            _ => into.push(s),
        }
    }
}

/// One frame for all of `len` bytes.
pub fn single(frame: u64, len: usize) -> Origin {
    if len == 0 {
        Origin::new()
    } else {
        smallvec::smallvec![FrameSpan {
            offset: 0,
            len,
            frame,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_and_append() {
        let o: Origin = smallvec::smallvec![
            FrameSpan {
                offset: 0,
                len: 4,
                frame: 1,
            },
            FrameSpan {
                offset: 4,
                len: 6,
                frame: 2,
            },
        ];
        assert_eq!(slice(&o, 2, 5).into_vec(), slice_origin::<Vec<_>>(&o, 2, 5));
        assert_eq!(
            slice_origin::<Vec<_>>(&o, 2, 5),
            vec![
                FrameSpan {
                    offset: 0,
                    len: 2,
                    frame: 1
                },
                FrameSpan {
                    offset: 2,
                    len: 3,
                    frame: 2
                },
            ]
        );
        // One span (the bytes of one frame): clipped, or nothing when out of range.
        assert_eq!(
            slice(&single(7, 10), 2, 5).into_vec(),
            vec![FrameSpan {
                offset: 0,
                len: 5,
                frame: 7
            }]
        );
        assert_eq!(
            slice(&single(7, 10), 8, 4).into_vec(),
            slice_origin::<Vec<_>>(&single(7, 10), 8, 4)
        );
        assert!(slice(&single(7, 10), 10, 3).is_empty());
        let mut into = single(2, 3);
        append_origin(&mut into, &single(2, 5), 3);
        append_origin(&mut into, &single(3, 1), 8);
        assert_eq!(
            into.into_vec(),
            vec![
                FrameSpan {
                    offset: 0,
                    len: 8,
                    frame: 2
                },
                FrameSpan {
                    offset: 8,
                    len: 1,
                    frame: 3
                },
            ]
        );
    }
}
