//! The hex/ASCII pane: rows of a buffer with the selected node's bytes highlighted, and the
//! frame each row's first byte came from.

use super::theme::Theme;
use crate::tree::Buffer;
use ratatui::text::{Line, Span};
use std::ops::Range;

/// Hex digits of the offset column for a buffer of `len` bytes.
pub fn offset_digits(len: usize) -> usize {
    if len <= 0x1_0000 { 4 } else { 8 }
}

/// Width of one row of `bpr` bytes: offset, two spaces, "xx " per byte (and one extra space
/// between groups of 8), a space, the ASCII column, and the frame column.
fn row_width(bpr: usize, digits: usize, frame_col: usize) -> usize {
    digits + 2 + bpr * 3 + (bpr / 8).saturating_sub(1) + 1 + bpr + frame_col
}

/// The most bytes a row can show in `width` columns (16, 8 or 4).
pub fn bytes_per_row(width: usize, digits: usize) -> usize {
    for bpr in [16, 8] {
        if row_width(bpr, digits, 0) <= width {
            return bpr;
        }
    }
    4
}

/// Rows `first..first + count` of `buf`, with `highlight` shown in the selected style.
pub fn hex_lines(
    buf: &Buffer,
    highlight: Range<usize>,
    first: usize,
    count: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let data = &buf.data;
    let digits = offset_digits(data.len());
    let bpr = bytes_per_row(width, digits);
    // " #<frame>" after the ASCII column, when there is room for the largest frame number
    let frame_w = buf
        .origin
        .iter()
        .map(|s| s.frame.to_string().len() + 2)
        .max()
        .unwrap_or(0);
    let show_frames = frame_w > 0 && row_width(bpr, digits, frame_w) <= width;
    let hl = theme.hex_selected();
    let dim = theme.dim();
    let mut lines = Vec::new();
    for row in first..first + count {
        let start = row * bpr;
        if start >= data.len() {
            break;
        }
        let end = (start + bpr).min(data.len());
        let mut spans = vec![Span::styled(format!("{start:0digits$x}  "), dim)];
        for i in start..start + bpr {
            let in_hl = highlight.contains(&i);
            if i < end {
                spans.push(Span::styled(
                    format!("{:02x}", data[i]),
                    if in_hl { hl } else { Default::default() },
                ));
            } else {
                spans.push(Span::raw("  "));
            }
            let last_in_row = i + 1 == start + bpr;
            let gap = if (i - start + 1).is_multiple_of(8) && !last_in_row {
                "  "
            } else {
                " "
            };
            // the gap is highlighted when the selection continues past it
            let gap_hl = in_hl && highlight.contains(&(i + 1)) && i + 1 < end && !last_in_row;
            spans.push(Span::styled(
                gap,
                if gap_hl { hl } else { Default::default() },
            ));
        }
        spans.push(Span::raw(" "));
        for (i, b) in data[start..end].iter().enumerate() {
            let c = if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            };
            let style = if highlight.contains(&(start + i)) {
                hl
            } else {
                Default::default()
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        // the frame(s) the row's bytes came from: "#6", or "#6+8" across a segment boundary
        let frames = frames_of(buf, start..end);
        if show_frames && !frames.is_empty() {
            let list: Vec<String> = frames.iter().map(|f| f.to_string()).collect();
            spans.push(Span::raw(" ".repeat(bpr - (end - start) + 1)));
            spans.push(Span::styled(format!("#{}", list.join("+")), dim));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// Where the rows of a hex pane are, for mapping a click to a byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Geometry {
    /// Screen column and row of the first character of the first row shown.
    pub x: u16,
    pub y: u16,
    /// Rows shown, first row index, bytes a row, offset digits, buffer length.
    pub rows: usize,
    pub first: usize,
    pub bpr: usize,
    pub digits: usize,
    pub len: usize,
}

impl Geometry {
    /// The byte offset under screen cell (`x`, `y`): a hex pair or an ASCII character.
    pub fn byte_at(&self, x: u16, y: u16) -> Option<usize> {
        if x < self.x || y < self.y || (y - self.y) as usize >= self.rows {
            return None;
        }
        let row = self.first + (y - self.y) as usize;
        let col = (x - self.x) as usize;
        let hex_start = self.digits + 2;
        let hex_width = self.bpr * 3 + (self.bpr / 8).saturating_sub(1);
        let ascii_start = hex_start + hex_width + 1;
        let k = if col >= hex_start && col < hex_start + hex_width {
            let c = col - hex_start;
            // byte k starts at k*3 + (one extra space per finished group of 8)
            (0..self.bpr).find(|&k| {
                let s = k * 3 + k / 8;
                c >= s && c < s + 2
            })?
        } else if col >= ascii_start && col < ascii_start + self.bpr {
            col - ascii_start
        } else {
            return None;
        };
        let offset = row * self.bpr + k;
        (offset < self.len).then_some(offset)
    }
}

/// Distinct frames the bytes `range` of `buf` came from, in order.
pub fn frames_of(buf: &Buffer, range: Range<usize>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for s in &buf.origin {
        let (a, b) = (s.offset, s.offset + s.len);
        if a < range.end.max(range.start + 1) && range.start < b && !out.contains(&s.frame) {
            out.push(s.frame);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FrameSpan;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_row_shows_offset_hex_ascii_and_frame() {
        let mut b = Buffer::new("t", b"POST /mmsc HTTP/1.1\r\n".to_vec());
        b.origin = vec![FrameSpan {
            offset: 0,
            len: 21,
            frame: 4,
        }];
        let lines = hex_lines(&b, 0..4, 0, 5, 80, &Theme::plain());
        assert_eq!(lines.len(), 2);
        assert_eq!(
            text(&lines[0]),
            "0000  50 4f 53 54 20 2f 6d 6d  73 63 20 48 54 54 50 2f  POST /mmsc HTTP/ #4"
        );
        assert!(text(&lines[1]).starts_with("0010  31 2e 31 0d 0a"));
        // "50 4f 53 54" highlighted, spaces inside the selection too, not after it
        let hl: String = lines[0]
            .spans
            .iter()
            .filter(|s| s.style == Theme::plain().hex_selected())
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(hl, "50 4f 53 54POST");
    }

    /// 20 bytes of `byte`, the first 10 from frame 6, the rest from frame 8.
    fn two_segments(byte: u8) -> Buffer {
        let mut b = Buffer::new("t", vec![byte; 20]);
        b.origin = vec![
            FrameSpan {
                offset: 0,
                len: 10,
                frame: 6,
            },
            FrameSpan {
                offset: 10,
                len: 10,
                frame: 8,
            },
        ];
        b
    }

    #[test]
    fn a_row_across_two_segments_names_both_frames() {
        let b = two_segments(0x41);
        let lines = hex_lines(&b, 0..0, 0, 2, 80, &Theme::plain());
        assert!(text(&lines[0]).ends_with(" #6+8"), "{}", text(&lines[0]));
        assert!(text(&lines[1]).ends_with(" #8"), "{}", text(&lines[1]));
    }

    #[test]
    fn clicks_map_to_bytes() {
        let g = Geometry {
            x: 10,
            y: 5,
            rows: 3,
            first: 2,
            bpr: 16,
            digits: 4,
            len: 60,
        };
        // row 2 starts at byte 32; "0020  xx xx …": the first pair at column 6
        assert_eq!(g.byte_at(10 + 6, 5), Some(32));
        assert_eq!(g.byte_at(10 + 7, 5), Some(32));
        assert_eq!(g.byte_at(10 + 8, 5), None); // the space after it
        // byte 8 of the row, after the double space
        assert_eq!(g.byte_at(10 + 6 + 8 * 3 + 1, 5), Some(40));
        // ASCII column: 6 + 49 (16 pairs, their gaps, one double gap) + 1 = 56
        assert_eq!(g.byte_at(10 + 56, 6), Some(48));
        assert_eq!(g.byte_at(10 + 56 + 11, 6), Some(59));
        assert_eq!(g.byte_at(10 + 56 + 12, 6), None); // past the end of the buffer
        assert_eq!(g.byte_at(10 + 6, 7), None); // the row after the last byte
        assert_eq!(g.byte_at(10 + 6, 8), None); // below the rows shown
    }

    #[test]
    fn narrow_panes_get_fewer_bytes_a_row() {
        assert_eq!(bytes_per_row(78, 4), 16);
        assert_eq!(bytes_per_row(50, 4), 8);
        assert_eq!(bytes_per_row(20, 4), 4);
    }

    #[test]
    fn frames_of_a_range_across_segments() {
        let b = two_segments(0);
        assert_eq!(frames_of(&b, 5..15), [6, 8]);
        assert_eq!(frames_of(&b, 10..12), [8]);
        assert_eq!(frames_of(&b, 3..3), [6]);
    }
}
