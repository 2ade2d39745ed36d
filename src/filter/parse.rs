//! Lexer and recursive-descent parser of the filter language (docs/FILTERS.md).
//!
//! Offsets are character offsets into the expression (not bytes), as the TUI places its caret.

use super::{Expr, Field, FieldClass, FilterError, Op, Value};
use crate::correlate::types::{is_known_type, normalize_type, parse_kind};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    And,
    Or,
    Not,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
    /// Offset just past the token.
    end: usize,
}

fn err(offset: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        offset,
        message: message.into(),
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '(' | ')' | '"' | '\'' | '=' | '~' | '<' | '>' | '!' | '&' | '|'
        )
}

fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '=' if next == Some('=') => (Tok::Op(Op::Eq), 2),
            '=' => (Tok::Op(Op::Eq), 1),
            '!' if next == Some('=') => (Tok::Op(Op::Ne), 2),
            '!' if next == Some('~') => (Tok::Op(Op::NotContains), 2),
            '!' => (Tok::Not, 1),
            '~' => (Tok::Op(Op::Contains), 1),
            '<' if next == Some('=') => (Tok::Op(Op::Le), 2),
            '<' => (Tok::Op(Op::Lt), 1),
            '>' if next == Some('=') => (Tok::Op(Op::Ge), 2),
            '>' => (Tok::Op(Op::Gt), 1),
            '&' if next == Some('&') => (Tok::And, 2),
            '|' if next == Some('|') => (Tok::Or, 2),
            '&' | '|' => {
                return Err(err(
                    at,
                    format!(
                        "expected '{c}{c}' (or the word {})",
                        if c == '&' { "and" } else { "or" }
                    ),
                ));
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(err(
                                at,
                                format!("expected a closing {quote} for the string started here"),
                            ));
                        }
                        Some('\\') => match chars.get(j + 1) {
                            Some(e) => {
                                s.push(*e);
                                j += 2;
                            }
                            None => return Err(err(j, "expected a character after '\\'")),
                        },
                        Some(ch) if *ch == quote => break,
                        Some(ch) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                (Tok::Str(s), j + 1 - i)
            }
            _ => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                let w: String = chars[i..j].iter().collect();
                let tok = match w.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "contains" => Tok::Op(Op::Contains),
                    _ => Tok::Word(w),
                };
                (tok, j - i)
            }
        };
        out.push(Token {
            tok,
            at,
            end: at + len,
        });
        i += len;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    len: usize,
    /// Open '(' and 'not' around the current position.
    depth: usize,
}

/// Most tokens in one filter: parsing, evaluating and dropping the expression recurse over
/// its tree, so its size is bounded (30 000 nested parentheses overflowed the stack).
pub const MAX_TOKENS: usize = 1024;
/// Most '(' and 'not' nested in one another.
pub const MAX_NESTING: usize = 64;

pub(super) fn parse(src: &str) -> Result<Expr, FilterError> {
    let toks = lex(src)?;
    let len = src.chars().count();
    if toks.is_empty() {
        return Ok(Expr::True);
    }
    if let Some(t) = toks.get(MAX_TOKENS) {
        return Err(err(
            t.at,
            format!("filter too long: at most {MAX_TOKENS} words, operators and parentheses"),
        ));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len,
        depth: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(match t.tok {
            Tok::RParen => err(t.at, "unexpected ')': no '(' to close"),
            _ => err(t.at, "expected 'and', 'or' or the end of the filter"),
        });
    }
    Ok(e)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while matches!(self.peek().map(|t| &t.tok), Some(Tok::Or)) {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::And) => {
                    self.pos += 1;
                }
                // Juxtaposition is "and": `send-req lab` = `send-req and lab`.
                Some(Tok::Word(_) | Tok::Str(_) | Tok::Not | Tok::LParen) => {}
                _ => break,
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if let Some(t) = self.peek()
            && matches!(t.tok, Tok::Not | Tok::LParen)
            && self.depth >= MAX_NESTING
        {
            return Err(err(
                t.at,
                format!(
                    "filter nested too deep: at most {MAX_NESTING} '(' and 'not' inside one another"
                ),
            ));
        }
        self.depth += 1;
        let e = if matches!(self.peek().map(|t| &t.tok), Some(Tok::Not)) {
            self.pos += 1;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        e
    }

    fn expected_expr(&self, t: Option<&Token>) -> FilterError {
        match t {
            None => err(
                self.len,
                "expected a field comparison, a word or '(' here, found the end",
            ),
            Some(t) => err(
                t.at,
                match &t.tok {
                    Tok::RParen => "expected a field comparison, a word or '(' before ')'",
                    Tok::And | Tok::Or => {
                        "expected a field comparison, a word or '(' before this operator"
                    }
                    Tok::Op(_) => "expected a field name before this comparison operator",
                    _ => "expected a field comparison, a word or '('",
                },
            ),
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let t = self.next();
        let Some(t) = t else {
            return Err(self.expected_expr(None));
        };
        match t.tok {
            Tok::LParen => {
                let e = self.or()?;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(e),
                    Some(other) => Err(err(
                        other.at,
                        format!("expected ')' to close the '(' at {}", t.at),
                    )),
                    None => Err(err(
                        self.len,
                        format!("expected ')' to close the '(' at {}", t.at),
                    )),
                }
            }
            Tok::Str(s) => Ok(Expr::Text(s.to_lowercase())),
            Tok::Word(w) => {
                let op = match self.peek() {
                    Some(Token {
                        tok: Tok::Op(op), ..
                    }) => Some(*op),
                    _ => None,
                };
                let Some(op) = op else {
                    return Ok(Expr::Text(w.to_lowercase()));
                };
                let op_tok = self.next().expect("peeked");
                let Some(field) = Field::from_name(&w) else {
                    return Err(err(
                        t.at,
                        format!("unknown field '{w}' (fields: {})", Field::NAMES.join(", ")),
                    ));
                };
                let class = field.class();
                if !class.allows(op) {
                    return Err(err(
                        op_tok.at,
                        format!(
                            "'{}' does not apply to {} field '{}' (use {})",
                            op.as_str(),
                            class.describe(),
                            field.name(),
                            class.ops()
                        ),
                    ));
                }
                let value = match self.next() {
                    Some(Token {
                        tok: Tok::Word(v) | Tok::Str(v),
                        at,
                        ..
                    }) => (v, at),
                    Some(other) => {
                        return Err(err(
                            other.at,
                            format!("expected a value after '{}'", op.as_str()),
                        ));
                    }
                    None => {
                        return Err(err(
                            op_tok.end.max(self.len),
                            format!("expected a value after '{}'", op.as_str()),
                        ));
                    }
                };
                let value = parse_value(field, op, &value.0, value.1)?;
                Ok(Expr::Cmp { field, op, value })
            }
            _ => Err(self.expected_expr(Some(&t))),
        }
    }
}

fn parse_value(field: Field, op: Op, v: &str, at: usize) -> Result<Value, FilterError> {
    let substring = matches!(op, Op::Contains | Op::NotContains);
    match field.class() {
        FieldClass::Text => Ok(Value::Text(v.to_lowercase())),
        FieldClass::Number => v
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Num)
            .ok_or_else(|| err(at, format!("expected a number for '{}', found '{v}'", field.name()))),
        FieldClass::Time => parse_time(v).map(Value::Num).ok_or_else(|| {
            err(
                at,
                format!("expected a time (2026-01-01T00:00:00Z, 2026-01-01, or epoch seconds), found '{v}'"),
            )
        }),
        FieldClass::Enum if substring => Ok(Value::Text(v.to_lowercase())),
        FieldClass::Enum => match field {
            Field::Type => {
                let n = normalize_type(v);
                if is_known_type(&n) || n == "unknown" {
                    Ok(Value::Text(n))
                } else {
                    Err(err(at, format!("'{v}' is not an MMS message type (e.g. m-send-req, send-conf, m-notification.ind)")))
                }
            }
            Field::Kind => parse_kind(v)
                .map(|k| Value::Text(crate::correlate::types::kind_name(k).to_string()))
                .ok_or_else(|| {
                    err(at, format!("'{v}' is not a transaction kind (send, notification, retrieve, delivery-report, read-report, forward, mbox, delete, cancel, other)"))
                }),
            Field::Outcome => {
                let l = v.to_ascii_lowercase();
                if ["ok", "failed", "incomplete", "orphan"].contains(&l.as_str()) {
                    Ok(Value::Text(l))
                } else {
                    Err(err(at, format!("'{v}' is not an outcome (ok, failed, incomplete, orphan)")))
                }
            }
            Field::Transport => {
                let l = v.to_ascii_lowercase();
                let l = match l.as_str() {
                    "push" | "wsp_push" | "wsppush" => "wsp-push".to_string(),
                    "wtp" => "wsp".to_string(),
                    _ => l,
                };
                if ["http", "wsp", "wsp-push", "pap", "file"].contains(&l.as_str()) {
                    Ok(Value::Text(l))
                } else {
                    Err(err(at, format!("'{v}' is not a transport (http, wsp, wsp-push, pap, file)")))
                }
            }
            _ => Ok(Value::Text(v.to_lowercase())),
        },
    }
}

/// A time as seconds since the epoch: a number, or RFC 3339 / ISO 8601
/// (`2026-01-01T00:00:00Z`, `2026-01-01 00:00:00.5+02:00`, `2026-01-01`; no zone means UTC).
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) as f64 * 86400.0;
    let mut rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if !(rest.starts_with('T') || rest.starts_with('t') || rest.starts_with(' ')) {
        return None;
    }
    rest = &rest[1..];
    let rb = rest.as_bytes();
    if rb.len() < 5 || rb[2] != b':' {
        return None;
    }
    let two = |x: &str| -> Option<i64> {
        (x.len() == 2 && x.bytes().all(|c| c.is_ascii_digit())).then(|| x.parse().ok())?
    };
    let h = two(&rest[0..2])?;
    let mi = two(&rest[3..5])?;
    if h > 23 || mi > 59 {
        return None;
    }
    secs += (h * 3600 + mi * 60) as f64;
    rest = &rest[5..];
    if let Some(r) = rest.strip_prefix(':') {
        let sec = two(r.get(0..2)?)?;
        if sec > 60 {
            return None;
        }
        secs += sec as f64;
        rest = &r[2..];
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) {
            let digits = r.bytes().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            secs += format!("0.{}", &r[..digits]).parse::<f64>().ok()?;
            rest = &r[digits..];
        }
    }
    match rest {
        "" | "Z" | "z" => Some(secs),
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1.0,
                b'-' => -1.0,
                _ => return None,
            };
            let z = &zone[1..];
            let (zh, zm) = if z.len() == 5 && z.as_bytes()[2] == b':' {
                (two(&z[0..2])?, two(&z[3..5])?)
            } else if z.len() == 4 {
                (two(&z[0..2])?, two(&z[2..4])?)
            } else if z.len() == 2 {
                (two(z)?, 0)
            } else {
                return None;
            };
            Some(secs - sign * (zh * 3600 + zm * 60) as f64)
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
