//! The filter expression language shared by the CLI and the TUI (docs/FILTERS.md).
//!
//! `type == m-send-req and not (status == Ok)`, `addr ~ "+1555"`, `time >= 2026-01-01T00:00:00Z`,
//! bare words for free text. A PDU matches on its own fields; a transaction matches when its own
//! fields do, or, for PDU fields, when one of its PDUs does (`!=` and `!~` are the negation of
//! `==` and `~`: "no PDU of the transaction has …").

mod parse;

pub use parse::{days_from_civil, parse_time};

use crate::correlate::tx_pdus;
use crate::correlate::types::{Role, kind_name, pdu_type, role_of};
use crate::model::{Outcome, PduRecord, Transaction, TransactionKind, socket_addr_string};
use compact_str::CompactString;

/// A parse error, with the character offset in the expression where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for FilterError {}

impl FilterError {
    /// The expression with a caret under the offending character, for terminals:
    /// ```text
    /// type == send-rec
    ///         ^ 'send-rec' is not an MMS message type …
    /// ```
    pub fn render(&self, expr: &str) -> String {
        format!("{expr}\n{}^ {}", " ".repeat(self.offset), self.message)
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    /// Substring, case-insensitive.
    Contains,
    NotContains,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn negated(self) -> Option<Op> {
        match self {
            Op::Ne => Some(Op::Eq),
            Op::NotContains => Some(Op::Contains),
            _ => None,
        }
    }
}

/// What kind of values a field holds, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldClass {
    Text,
    Enum,
    Number,
    Time,
}

impl FieldClass {
    fn allows(self, op: Op) -> bool {
        match self {
            FieldClass::Text | FieldClass::Enum => {
                matches!(op, Op::Eq | Op::Ne | Op::Contains | Op::NotContains)
            }
            FieldClass::Number | FieldClass::Time => !matches!(op, Op::Contains | Op::NotContains),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FieldClass::Text => "text",
            FieldClass::Enum => "named-value",
            FieldClass::Number => "numeric",
            FieldClass::Time => "time",
        }
    }

    fn ops(self) -> &'static str {
        match self {
            FieldClass::Text | FieldClass::Enum => "==, !=, ~ or !~",
            FieldClass::Number | FieldClass::Time => "==, !=, <, <=, > or >=",
        }
    }
}

/// The fields a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Type,
    Tid,
    MsgId,
    Location,
    From,
    To,
    Cc,
    Bcc,
    Addr,
    Subject,
    Status,
    Transport,
    Method,
    Uri,
    Src,
    Dst,
    Host,
    Port,
    Frame,
    Index,
    Time,
    Size,
    Version,
    ContentType,
    HttpStatus,
    Kind,
    Outcome,
    Duration,
    Story,
}

impl Field {
    /// Canonical names, as listed in error messages and docs/FILTERS.md.
    pub const NAMES: &'static [&'static str] = &[
        "type",
        "tid",
        "msgid",
        "location",
        "from",
        "to",
        "cc",
        "bcc",
        "addr",
        "subject",
        "status",
        "transport",
        "method",
        "uri",
        "src",
        "dst",
        "host",
        "port",
        "frame",
        "index",
        "time",
        "size",
        "version",
        "content-type",
        "http-status",
        "kind",
        "outcome",
        "duration",
        "story",
    ];

    /// The field a name (case-insensitive, `_` and `-` alike, a few aliases) stands for.
    pub fn from_name(name: &str) -> Option<Field> {
        use Field::*;
        let n = name.to_ascii_lowercase().replace('_', "-");
        Some(match n.as_str() {
            "type" | "message-type" | "msgtype" | "mtype" => Type,
            "tid" | "transaction-id" | "trid" => Tid,
            "msgid" | "message-id" | "mid" => MsgId,
            "location" | "content-location" | "cl" | "url" => Location,
            "from" => From,
            "to" => To,
            "cc" => Cc,
            "bcc" => Bcc,
            "addr" | "address" => Addr,
            "subject" | "subj" => Subject,
            "status" => Status,
            "transport" | "proto" => Transport,
            "method" => Method,
            "uri" => Uri,
            "src" | "source" => Src,
            "dst" | "destination" => Dst,
            "host" | "ip" | "endpoint" => Host,
            "port" => Port,
            "frame" => Frame,
            "index" | "pdu" => Index,
            "time" => Time,
            "size" | "message-size" => Size,
            "version" | "mms-version" => Version,
            "content-type" | "ctype" => ContentType,
            "http-status" | "http" | "code" => HttpStatus,
            "kind" => Kind,
            "outcome" => Outcome,
            "duration" => Duration,
            "story" => Story,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            Type => "type",
            Tid => "tid",
            MsgId => "msgid",
            Location => "location",
            From => "from",
            To => "to",
            Cc => "cc",
            Bcc => "bcc",
            Addr => "addr",
            Subject => "subject",
            Status => "status",
            Transport => "transport",
            Method => "method",
            Uri => "uri",
            Src => "src",
            Dst => "dst",
            Host => "host",
            Port => "port",
            Frame => "frame",
            Index => "index",
            Time => "time",
            Size => "size",
            Version => "version",
            ContentType => "content-type",
            HttpStatus => "http-status",
            Kind => "kind",
            Outcome => "outcome",
            Duration => "duration",
            Story => "story",
        }
    }

    pub fn class(self) -> FieldClass {
        use Field::*;
        match self {
            Type | Kind | Outcome | Transport => FieldClass::Enum,
            Port | Frame | Index | Size | HttpStatus | Duration | Story => FieldClass::Number,
            Time => FieldClass::Time,
            _ => FieldClass::Text,
        }
    }

    fn is_address(self) -> bool {
        matches!(
            self,
            Field::From | Field::To | Field::Cc | Field::Bcc | Field::Addr
        )
    }

    fn is_endpoint(self) -> bool {
        matches!(self, Field::Src | Field::Dst | Field::Host)
    }
}

/// A parsed value: text is kept lower-cased (and message types normalized), times are epoch
/// seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Num(f64),
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// The empty filter: matches everything.
    True,
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Field,
        op: Op,
        value: Value,
    },
    /// Free text (lower-cased): a substring of an id, an address, a Content-Location or a subject.
    Text(String),
}

/// A compiled filter expression.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
    source: String,
}

impl Default for Filter {
    fn default() -> Self {
        Filter::all()
    }
}

impl Filter {
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        Ok(Filter {
            expr: parse::parse(expr)?,
            source: expr.to_string(),
        })
    }

    /// The filter that matches everything (what the empty expression parses to).
    pub fn all() -> Filter {
        Filter {
            expr: Expr::True,
            source: String::new(),
        }
    }

    /// Both filters must match.
    pub fn and(self, other: Filter) -> Filter {
        match (&self.expr, &other.expr) {
            (Expr::True, _) => other,
            (_, Expr::True) => self,
            _ => Filter {
                source: format!("({}) and ({})", self.source, other.source),
                expr: Expr::And(Box::new(self.expr), Box::new(other.expr)),
            },
        }
    }

    /// True for the filter that matches everything.
    pub fn is_all(&self) -> bool {
        self.expr == Expr::True
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    pub fn matches_pdu(&self, pdu: &PduRecord) -> bool {
        eval(&self.expr, &Subject::Pdu(pdu))
    }

    /// `pdus` is the capture's PDU list (or any list, in capture order, holding the
    /// transaction's PDUs).
    pub fn matches_transaction(&self, tx: &Transaction, pdus: &[PduRecord]) -> bool {
        self.matches_transaction_records(tx, &tx_pdus(tx, pdus))
    }

    /// [`Filter::matches_transaction`] given the transaction's records themselves, in its
    /// order (as `transactions --json` holds them, each boxed on its own).
    pub fn matches_transaction_records(&self, tx: &Transaction, recs: &[&PduRecord]) -> bool {
        eval(&self.expr, &Subject::Tx(tx, recs))
    }
}

/// Quote a value for use in a filter expression (the CLI's shortcuts build filters this way).
pub fn quote(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

enum Subject<'a> {
    Pdu(&'a PduRecord),
    Tx(&'a Transaction, &'a [&'a PduRecord]),
}

fn eval(e: &Expr, s: &Subject) -> bool {
    match e {
        Expr::True => true,
        Expr::And(a, b) => eval(a, s) && eval(b, s),
        Expr::Or(a, b) => eval(a, s) || eval(b, s),
        Expr::Not(a) => !eval(a, s),
        Expr::Text(t) => {
            let mut vals = Vec::new();
            for f in [
                Field::Tid,
                Field::MsgId,
                Field::Location,
                Field::Addr,
                Field::Subject,
            ] {
                subject_values(f, s, &mut vals);
            }
            vals.iter().any(|v| match v {
                V::S(x) => x.to_lowercase().contains(t.as_str()),
                V::N(_) => false,
            })
        }
        Expr::Cmp { field, op, value } => {
            let mut vals = Vec::new();
            subject_values(*field, s, &mut vals);
            match op.negated() {
                Some(pos) => !vals.iter().any(|v| test(*field, pos, value, v)),
                None => vals.iter().any(|v| test(*field, *op, value, v)),
            }
        }
    }
}

#[derive(Debug)]
enum V {
    S(CompactString),
    N(f64),
}

fn test(field: Field, op: Op, want: &Value, have: &V) -> bool {
    match (want, have) {
        (Value::Text(w), V::S(h)) => {
            let h = h.to_lowercase();
            match op {
                Op::Eq => {
                    h == *w
                        // "+15551230002" equals "+15551230002/TYPE=PLMN"
                        || (field.is_address() && h.split('/').next() == Some(w.as_str()))
                        // "10.0.0.1" equals "10.0.0.1:80"; "[::1]" or "::1" equals "[::1]:80"
                        || (field.is_endpoint() && endpoint_ip(&h) == w.trim_matches(['[', ']']))
                }
                Op::Contains => h.contains(w.as_str()),
                _ => false,
            }
        }
        (Value::Num(w), V::N(h)) => match op {
            Op::Eq => (h - w).abs() < 1e-9,
            Op::Lt => h < w,
            Op::Le => h <= w,
            Op::Gt => h > w,
            Op::Ge => h >= w,
            _ => false,
        },
        _ => false,
    }
}

fn endpoint_ip(ep: &str) -> &str {
    match ep.rfind(':') {
        Some(i) if ep.starts_with('[') => ep[1..i].trim_end_matches(']'),
        Some(i) if !ep[..i].contains(':') => &ep[..i],
        _ => ep,
    }
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
        Outcome::Incomplete => "incomplete",
        Outcome::Orphan => "orphan",
    }
}

fn kind_of_type(ty: &str) -> TransactionKind {
    match role_of(ty) {
        Role::Request { kind, .. } | Role::Response { kind, .. } | Role::Single { kind, .. } => {
            kind
        }
        Role::RetrieveConf | Role::Acknowledge => TransactionKind::Retrieve,
    }
}

fn subject_values(f: Field, s: &Subject, out: &mut Vec<V>) {
    match s {
        Subject::Pdu(p) => pdu_values(f, p, out),
        Subject::Tx(tx, recs) => {
            tx_values(f, tx, out);
            for p in recs.iter() {
                pdu_values(f, p, out);
            }
        }
    }
}

fn tx_values(f: Field, tx: &Transaction, out: &mut Vec<V>) {
    let mut s = |x: &Option<CompactString>| {
        if let Some(x) = x {
            out.push(V::S(x.clone()));
        }
    };
    match f {
        Field::Tid => s(&tx.transaction_id),
        Field::MsgId => s(&tx.message_id),
        Field::Location => s(&tx.content_location),
        Field::Status => out.push(V::S(tx.status.clone())),
        Field::Kind => out.push(V::S(kind_name(tx.kind).into())),
        Field::Outcome => out.push(V::S(outcome_name(&tx.outcome).into())),
        Field::Duration => out.push(V::N(tx.duration)),
        Field::Story => {
            if let Some(n) = tx.story {
                out.push(V::N(n as f64));
            }
        }
        Field::Host => {
            for e in &tx.endpoints {
                out.push(V::S(e.clone()));
            }
        }
        _ => {}
    }
}

fn pdu_values(f: Field, p: &PduRecord, out: &mut Vec<V>) {
    let m = &p.mms;
    let mut opt = |x: &Option<CompactString>| {
        if let Some(x) = x {
            out.push(V::S(x.clone()));
        }
    };
    match f {
        Field::Type => out.push(V::S(pdu_type(m).into())),
        Field::Tid => opt(&m.transaction_id),
        Field::MsgId => opt(&m.message_id),
        Field::Location => {
            opt(&m.content_location);
            for part in &m.parts {
                opt(&part.content_location);
            }
        }
        Field::From => opt(&m.from),
        Field::To => out.extend(m.to.iter().cloned().map(V::S)),
        Field::Cc => out.extend(m.cc.iter().cloned().map(V::S)),
        Field::Bcc => out.extend(m.bcc.iter().cloned().map(V::S)),
        Field::Addr => {
            opt(&m.from);
            out.extend(m.to.iter().chain(&m.cc).chain(&m.bcc).cloned().map(V::S));
        }
        Field::Subject => opt(&m.subject),
        Field::Status => {
            opt(&m.status);
            opt(&m.response_status);
            opt(&m.retrieve_status);
            opt(&m.read_status);
            opt(&m.store_status);
            opt(&m.cancel_status);
        }
        Field::Transport => out.push(V::S(p.transport.as_str().into())),
        Field::Method => opt(&p.carrier.method),
        Field::Uri => opt(&p.carrier.uri),
        Field::Src => out.push(V::S(socket_addr_string(&p.src))),
        Field::Dst => out.push(V::S(socket_addr_string(&p.dst))),
        Field::Host => {
            out.push(V::S(socket_addr_string(&p.src)));
            out.push(V::S(socket_addr_string(&p.dst)));
        }
        Field::Port => {
            out.push(V::N(p.src.port() as f64));
            out.push(V::N(p.dst.port() as f64));
        }
        Field::Frame => {
            out.push(V::N(p.frame as f64));
            out.extend(p.frames.iter().map(|&fr| V::N(fr as f64)));
        }
        Field::Index => out.push(V::N(p.index as f64)),
        Field::Time => out.push(V::N(p.time.as_f64())),
        Field::Size => {
            if let Some(n) = m.message_size {
                out.push(V::N(n as f64));
            }
        }
        Field::Version => opt(&m.mms_version),
        Field::ContentType => opt(&m.content_type),
        Field::HttpStatus => {
            if let Some(c) = p.carrier.status {
                out.push(V::N(c as f64));
            }
        }
        // The kind of transaction this type of PDU belongs to.
        Field::Kind => out.push(V::S(kind_name(kind_of_type(&pdu_type(m))).into())),
        // Transaction-only fields: no value on a lone PDU.
        Field::Outcome | Field::Duration | Field::Story => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> FilterError {
        Filter::parse(s).expect_err(s)
    }

    #[test]
    fn precedence_not_and_or() {
        let f = Filter::parse("not a or b and c").unwrap();
        assert_eq!(
            f.expr,
            Expr::Or(
                Box::new(Expr::Not(Box::new(Expr::Text("a".into())))),
                Box::new(Expr::And(
                    Box::new(Expr::Text("b".into())),
                    Box::new(Expr::Text("c".into()))
                ))
            )
        );
        assert_eq!(Filter::parse("  ").unwrap().expr, Expr::True);
        // No spaces needed around operators; symbols and words mean the same.
        assert_eq!(
            Filter::parse("frame>=10&&!(type=send-req)").unwrap().expr,
            Filter::parse("frame >= 10 and not (type == m-send-req)")
                .unwrap()
                .expr
        );
    }

    #[test]
    fn values_are_checked_against_their_field() {
        let f = Filter::parse("TYPE == M-Send.Req").unwrap();
        assert_eq!(
            f.expr,
            Expr::Cmp {
                field: Field::Type,
                op: Op::Eq,
                value: Value::Text("send-req".into())
            }
        );
        assert_eq!(e("type == send-rec").offset, 8);
        assert_eq!(e("frame >= ten").offset, 9);
        assert_eq!(e("tid < 4").offset, 4);
        assert_eq!(e("colour == red").offset, 0);
        assert!(
            e("colour == red")
                .message
                .starts_with("unknown field 'colour'")
        );
        assert_eq!(e("outcome == fine").offset, 11);
    }

    #[test]
    fn errors_point_at_the_character() {
        let x = e("type ==");
        assert_eq!(
            (x.offset, x.message.as_str()),
            (7, "expected a value after '=='")
        );
        let x = e("(kind == send");
        assert_eq!(x.offset, 13);
        assert!(x.message.contains("')'"), "{}", x.message);
        let x = e("kind == send)");
        assert_eq!(
            (x.offset, x.message.as_str()),
            (12, "unexpected ')': no '(' to close")
        );
        assert_eq!(e("subject ~ \"lab").offset, 10);
        assert_eq!(e("a and").offset, 5);
        assert_eq!(e("a & b").offset, 2);
        // Offsets count characters, not bytes.
        assert_eq!(e("subject ~ \"é\" and <").offset, 18);
        assert_eq!(
            e("type ==").render("type =="),
            "type ==\n       ^ expected a value after '=='"
        );
    }

    #[test]
    fn times_parse_as_epoch_seconds() {
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Some(1_767_225_600.0));
        assert_eq!(parse_time("2026-01-01"), Some(1_767_225_600.0));
        assert_eq!(
            parse_time("2026-01-01T02:00:00+02:00"),
            Some(1_767_225_600.0)
        );
        assert_eq!(parse_time("2026-01-01 00:00:01.5"), Some(1_767_225_601.5));
        assert_eq!(parse_time("1767225600"), Some(1_767_225_600.0));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_time("2026-13-01"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
