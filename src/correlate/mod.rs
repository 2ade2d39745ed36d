//! Correlation of MMS PDUs into transactions (OMA-MMS-CTR).
//!
//! The rules, in short (docs/TRANSACTIONS.md has them in full):
//! - a request and its confirmation (m-send-req/conf, m-notification-ind/m-notifyresp-ind,
//!   m-forward-, m-delete-, m-cancel-, m-mbox-*-req/conf) pair by the HTTP/WSP exchange that
//!   carried them (`carrier.exchange`) and by X-Mms-Transaction-Id, preferring the candidate whose
//!   endpoints mirror the request's;
//! - a retrieval is the m-retrieve-conf answering a GET of a Content-Location, closed by an
//!   m-acknowledge-ind with the m-retrieve-conf's Transaction-Id (no acknowledgement is expected
//!   when the m-retrieve-conf has no Transaction-Id: immediate retrieval);
//! - reports (m-delivery-ind, m-read-rec-ind, m-read-orig-ind) are transactions by themselves,
//!   keyed by Message-ID;
//! - the same PDU seen again (another leg through a gateway or a PPG, or a retransmission) joins
//!   the transaction of its first copy, and is never counted as a new one;
//! - transactions that concern the same message (Message-ID, Content-Location) form a story.
//!
//! [`Correlator`] does this incrementally, so that memory follows the open transactions and not
//! the capture; [`correlate`] runs it over a whole capture.

pub mod types;

use crate::model::{
    Outcome, PduRecord, Timestamp, Transaction, TransactionKind, Transport, record_text,
    socket_addr_string,
};
// foldhash, like the net layer's tables (`net::FlowMap`): keyed by ids from the capture, bounded
// by the open transactions; SipHash was ~3 % of `transactions --json`.
use crate::net::FlowMap as HashMap;
use compact_str::CompactString;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::SocketAddr;
use types::{Role, display_name, normal_type, role_of};

/// Time limits of the incremental correlator, in seconds of capture time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// How long a transaction that expects nothing more stays open to collect further legs and
    /// retransmissions of its PDUs (a WTP Result is re-sent after several seconds).
    pub linger: f64,
    /// How long a transaction that still waits for its closing PDU stays open after its last
    /// PDU; past it, it is reported as incomplete.
    pub idle_timeout: f64,
    /// Largest gap between two copies of one PDU for the second to count as a leg or a
    /// retransmission of the first rather than a new message reusing the Transaction-Id.
    pub leg_window: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            linger: 30.0,
            idle_timeout: 300.0,
            leg_window: 30.0,
        }
    }
}

/// Group `pdus` (in capture order) into transactions, ordered by their first PDU.
///
/// Stories are numbered after the whole capture is known, so that a link found late (a delivery
/// report for an early message) still joins the story.
pub fn correlate(pdus: &[PduRecord]) -> Vec<Transaction> {
    correlate_with(pdus, Config::default())
}

/// [`correlate`] with explicit time limits.
pub fn correlate_with(pdus: &[PduRecord], config: Config) -> Vec<Transaction> {
    let mut c = Correlator::with_config(config);
    let mut out = Vec::new();
    for p in pdus {
        out.extend(c.push(p));
    }
    out.extend(c.finish());
    renumber_stories(&mut out);
    out
}

/// Assign story numbers from scratch over a complete list of transactions (in order): the
/// transactions that share a Message-ID or a Content-Location (directly or through others) get
/// the same number, numbered in order of their first transaction.
pub fn renumber_stories(txs: &mut [Transaction]) {
    let mut linker = StoryLinker::default();
    for tx in txs.iter() {
        linker.link(&tx_keys(
            tx.message_id.as_deref(),
            tx.content_location.as_deref(),
        ));
    }
    for tx in txs.iter_mut() {
        let keys = tx_keys(tx.message_id.as_deref(), tx.content_location.as_deref());
        tx.story = linker.story_of(&keys);
    }
}

/// One PDU held by an open transaction: what correlation reads of the record (not a copy of
/// the whole record: the caller holds that), and what correlation computed about it.
#[derive(Debug, Clone)]
struct Seen {
    index: usize,
    frame: u64,
    time: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    transport: Transport,
    is_response: bool,
    exchange: Option<(u64, u64)>,
    /// HTTP (or mapped WSP) status of the carrier.
    http_status: Option<u16>,
    /// [`key_hash`] of the Transaction-Id and of the Message-ID, as indexed.
    tid_key: Option<u64>,
    msgid_key: Option<u64>,
    /// The statuses [`decide`] reads.
    status: Option<CompactString>,
    response_status: Option<CompactString>,
    retrieve_status: Option<CompactString>,
    read_status: Option<CompactString>,
    store_status: Option<CompactString>,
    cancel_status: Option<CompactString>,
    /// Normalized type ([`normal_type`]) and OMA name ([`display_name`]).
    ty: Cow<'static, str>,
    display: Cow<'static, str>,
    fp: u64,
}

impl Seen {
    fn new(p: &PduRecord) -> Seen {
        let m = &p.mms;
        Seen {
            index: p.index,
            frame: p.frame,
            time: p.time,
            src: p.src,
            dst: p.dst,
            transport: p.transport,
            is_response: p.carrier.is_response,
            exchange: p.carrier.exchange,
            http_status: p.carrier.status,
            tid_key: m.transaction_id.as_deref().map(key_hash),
            msgid_key: m.message_id.as_deref().map(key_hash),
            status: m.status.clone(),
            response_status: m.response_status.clone(),
            retrieve_status: m.retrieve_status.clone(),
            read_status: m.read_status.clone(),
            store_status: m.store_status.clone(),
            cancel_status: m.cancel_status.clone(),
            ty: normal_type(m),
            display: display_name(m),
            fp: fingerprint(p),
        }
    }

    fn same_path(&self, p: &PduRecord) -> bool {
        self.src == p.src && self.dst == p.dst && self.transport == p.transport
    }
}

/// The hash an id (Transaction-Id, Message-ID) is indexed by. [`Index`] keys by it rather than
/// by a copy of the string, and whoever looks candidates up by an id compares the ids
/// themselves: a hash collision can only add a candidate that is then turned down.
fn key_hash(id: &str) -> u64 {
    foldhash::quality::FixedState::default().hash_one(id)
}

/// A hash of the MMS fields of a PDU (not of its carrier): two copies of one PDU, on two legs or
/// re-sent, have the same fingerprint. It never leaves the process, so any good 64-bit hash
/// will do: foldhash's quality variant with a fixed seed, several times cheaper than SipHash here.
pub fn fingerprint(p: &PduRecord) -> u64 {
    let m = &p.mms;
    let mut h = foldhash::quality::FixedState::default().build_hasher();
    normal_type(m).hash(&mut h);
    (
        &m.transaction_id,
        &m.message_id,
        &m.mms_version,
        &m.from,
        &m.to,
        &m.cc,
        &m.bcc,
    )
        .hash(&mut h);
    (
        &m.content_location,
        &m.subject,
        m.date,
        &m.status,
        &m.response_status,
        &m.response_text,
        &m.retrieve_status,
        &m.read_status,
        m.message_size,
        &m.content_type,
    )
        .hash(&mut h);
    (&m.store_status, &m.cancel_status).hash(&mut h);
    for part in &m.parts {
        (
            &part.content_type,
            part.size,
            &part.name,
            &part.content_location,
            &part.content_id,
        )
            .hash(&mut h);
    }
    h.finish()
}

#[derive(Debug)]
struct Open {
    /// Sequential id: the open transactions always hold a contiguous range of ids.
    id: u64,
    kind: TransactionKind,
    family: &'static str,
    tid: Option<CompactString>,
    msgid: Option<CompactString>,
    content_location: Option<CompactString>,
    pdus: Vec<Seen>,
    /// The closing PDU (confirmation, response, acknowledgement) was seen.
    closed: bool,
    /// Nothing more is expected (closed, or a transaction of one PDU).
    complete: bool,
    /// Its opening PDU is not in the capture.
    orphan: bool,
    /// A retrieval whose m-retrieve-conf had a Transaction-Id: an m-acknowledge-ind is due.
    expects_ack: bool,
    last_time: Timestamp,
}

impl Open {
    /// A transaction opened by `p`, seen as `seen`.
    fn new(kind: TransactionKind, family: &'static str, p: &PduRecord, seen: Seen) -> Open {
        // Room for two from the start: most transactions are a request and its confirmation,
        // and growing from one moved the first `Seen` (a few hundred bytes) to a new block.
        let mut pdus = Vec::with_capacity(2);
        pdus.push(seen);
        Open {
            id: 0,
            kind,
            family,
            tid: p.mms.transaction_id.clone(),
            msgid: p.mms.message_id.clone(),
            content_location: p.mms.content_location.clone(),
            last_time: pdus[0].time,
            pdus,
            closed: false,
            complete: false,
            orphan: false,
            expects_ack: false,
        }
    }

    /// A copy of `p` (same type and fields) is already here, close enough in time.
    fn has_copy_of(&self, ty: &str, fp: u64, p: &PduRecord, window: f64) -> Option<&Seen> {
        self.pdus
            .iter()
            .find(|s| s.ty == ty && s.fp == fp && gap(s.time, p.time) <= window)
    }

    fn has_type(&self, ty: &str) -> bool {
        self.pdus.iter().any(|s| s.ty == ty)
    }

    fn keys(&self) -> StoryKeys<'_> {
        tx_keys(self.msgid.as_deref(), self.content_location.as_deref())
    }
}

fn gap(a: Timestamp, b: Timestamp) -> f64 {
    a.seconds_until(b).abs()
}

/// How well `p`, a reply, mirrors the endpoints of the requests held in `o`: 4 when it goes back
/// exactly (dst = request src, src = request dst), 2 when an address matches, 0 otherwise.
fn reply_score(o: &Open, p: &PduRecord) -> i32 {
    let mut best = 0;
    for s in o.pdus.iter().filter(|s| !s.is_response) {
        if p.dst == s.src && p.src == s.dst {
            best = best.max(4);
        } else if p.dst.ip() == s.src.ip() || p.src.ip() == s.dst.ip() {
            best = best.max(2);
        }
    }
    best
}

/// A story key: a Message-ID, or the path of a Content-Location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoryKey<'a> {
    MessageId(&'a str),
    Location(&'a str),
}

/// The story keys of a transaction, in order: its Message-ID, then the path of its
/// Content-Location, each when it has one (a pair rather than a `Vec`: no allocation).
#[derive(Debug, Clone, Copy, Default)]
struct StoryKeys<'a>([Option<StoryKey<'a>>; 2]);

impl<'a> StoryKeys<'a> {
    fn iter(&self) -> impl Iterator<Item = StoryKey<'a>> + '_ {
        self.0.iter().flatten().copied()
    }
}

/// Story keys of a transaction: its Message-ID and the path of its Content-Location.
fn tx_keys<'a>(msgid: Option<&'a str>, content_location: Option<&'a str>) -> StoryKeys<'a> {
    StoryKeys([
        msgid.filter(|m| !m.is_empty()).map(StoryKey::MessageId),
        content_location
            .filter(|c| !c.is_empty())
            .map(|cl| StoryKey::Location(uri_path(cl))),
    ])
}

/// The path (and query) of a URI: `http://host:80/mms/X?y` → `/mms/X?y`; a path stays as is.
/// A GET may name the Content-Location in full (WSP Get, proxy request) or by its path only
/// (origin-form HTTP request), so URIs are compared by path.
pub fn uri_path(uri: &str) -> &str {
    let u = uri.trim();
    match scheme_end(u.as_bytes()) {
        Some(i) => {
            let rest = &u[i + 3..];
            match memchr::memchr(b'/', rest.as_bytes()) {
                Some(j) => &rest[j..],
                None => "/",
            }
        }
        None => u,
    }
}

/// Where the first `://` of `u` is. Each colon is found by `memchr` and the two bytes after it
/// checked: `str::find` of the 3-byte pattern set up a two-way searcher at every call, and a
/// window loop went byte by byte through the whole of a path without a scheme (most of them:
/// an HTTP GET names its path only).
fn scheme_end(u: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = memchr::memchr(b':', &u[from..]) {
        let i = from + k;
        if u[i + 1..].starts_with(b"//") {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Open transactions by the keys a new PDU is matched on, so that matching looks at a few
/// candidates and not at every open transaction.
#[derive(Debug, Default)]
struct Index {
    /// By [`key_hash`] of the Transaction-Id.
    tid: HashMap<u64, Ids>,
    /// By [`key_hash`] of the Message-ID.
    msgid: HashMap<u64, Ids>,
    fp: HashMap<u64, Ids>,
    exchange: HashMap<(u64, u64), Ids>,
    pdu: HashMap<usize, u64>,
}

/// A set of transaction ids, sorted, the most recent last. Usually one or two ids: a sorted
/// `Vec` is much cheaper to fill and empty than a `BTreeSet`, and two held inline rather than
/// on the heap spare an allocation per key, and the cache miss of reaching it at each lookup
/// and removal (a visible part of the correlator).
#[derive(Debug, Default)]
struct Ids(SmallVec<[u64; 2]>);

impl Ids {
    fn insert(&mut self, id: u64) {
        match self.0.last() {
            Some(&last) if last >= id => {
                if let Err(at) = self.0.binary_search(&id) {
                    self.0.insert(at, id);
                }
            }
            _ => self.0.push(id),
        }
    }

    fn remove(&mut self, id: u64) {
        if let Ok(at) = self.0.binary_search(&id) {
            self.0.remove(at);
        }
    }
}

/// Which keys of a new PDU to look its candidates up by.
#[derive(Debug, Clone, Copy)]
enum By {
    Tid,
    Fingerprint,
    Exchange,
    MsgId,
}

impl Index {
    fn add(&mut self, id: u64, s: &Seen) {
        if let Some(t) = s.tid_key {
            self.tid.entry(t).or_default().insert(id);
        }
        if let Some(t) = s.msgid_key {
            self.msgid.entry(t).or_default().insert(id);
        }
        self.fp.entry(s.fp).or_default().insert(id);
        if let Some(x) = s.exchange {
            self.exchange.entry(x).or_default().insert(id);
        }
        self.pdu.insert(s.index, id);
    }

    fn remove(&mut self, id: u64, s: &Seen) {
        // One lookup (an entry) for both the removal of `id` and that of an emptied set.
        fn drop_id<K: Hash + Eq + Copy>(map: &mut HashMap<K, Ids>, k: &K, id: u64) {
            if let Entry::Occupied(mut e) = map.entry(*k) {
                e.get_mut().remove(id);
                if e.get().0.is_empty() {
                    e.remove();
                }
            }
        }
        if let Some(t) = &s.tid_key {
            drop_id(&mut self.tid, t, id);
        }
        if let Some(t) = &s.msgid_key {
            drop_id(&mut self.msgid, t, id);
        }
        drop_id(&mut self.fp, &s.fp, id);
        if let Some(x) = &s.exchange {
            drop_id(&mut self.exchange, x, id);
        }
        self.pdu.remove(&s.index);
    }

    /// Ids of the open transactions sharing one of the `by` keys with `seen` (the new PDU), most
    /// recent first.
    fn candidates(&self, seen: &Seen, by: &[By]) -> SmallVec<[u64; 4]> {
        // Inline: asked for every PDU, and a `Vec` was an allocation each time a key was known.
        let mut ids: SmallVec<[u64; 4]> = SmallVec::new();
        for b in by {
            let set = match b {
                By::Tid => seen.tid_key.and_then(|t| self.tid.get(&t)),
                By::MsgId => seen.msgid_key.and_then(|t| self.msgid.get(&t)),
                By::Fingerprint => self.fp.get(&seen.fp),
                By::Exchange => seen.exchange.and_then(|x| self.exchange.get(&x)),
            };
            if let Some(set) = set {
                ids.extend(set.0.iter().rev().copied());
            }
        }
        if by.len() > 1 {
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
        }
        ids
    }
}

/// Union-find over story keys, with story numbers given in order of first use. Keys are
/// interned once as node numbers, so that linking a transaction at each of its PDUs copies no
/// string.
#[derive(Debug, Default)]
struct StoryLinker {
    /// Node of each Message-ID, and of each Content-Location path.
    message_ids: HashMap<String, u32>,
    locations: HashMap<String, u32>,
    /// Parent of each node (a root is its own parent).
    parent: Vec<u32>,
    /// Story number of a root, once it has one.
    number: Vec<Option<usize>>,
    next: usize,
}

impl StoryLinker {
    /// The node of `k`, a new root when `k` is new.
    fn node(&mut self, k: StoryKey) -> u32 {
        let (map, name) = match k {
            StoryKey::MessageId(m) => (&mut self.message_ids, m),
            StoryKey::Location(l) => (&mut self.locations, l),
        };
        if let Some(&n) = map.get(name) {
            return n;
        }
        let n = self.parent.len() as u32;
        map.insert(name.to_string(), n);
        self.parent.push(n);
        self.number.push(None);
        n
    }

    /// The root of `k`'s set (with path compression).
    fn find(&mut self, k: StoryKey) -> u32 {
        let start = self.node(k);
        let mut root = start;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        let mut cur = start;
        while self.parent[cur as usize] != root {
            let next = self.parent[cur as usize];
            self.parent[cur as usize] = root;
            cur = next;
        }
        root
    }

    fn link(&mut self, keys: &StoryKeys) {
        let mut keys = keys.iter();
        let Some(first) = keys.next() else { return };
        let root = self.find(first);
        for k in keys {
            let other = self.find(k);
            if other != root {
                // Keep the smaller story number, if both roots already had one.
                let n = match (
                    self.number[other as usize].take(),
                    self.number[root as usize],
                ) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                self.parent[other as usize] = root;
                if n.is_some() {
                    self.number[root as usize] = n;
                }
            }
        }
    }

    fn story_of(&mut self, keys: &StoryKeys) -> Option<usize> {
        let first = keys.iter().next()?;
        let root = self.find(first);
        if let Some(n) = self.number[root as usize] {
            return Some(n);
        }
        let n = self.next;
        self.next += 1;
        self.number[root as usize] = Some(n);
        Some(n)
    }
}

/// Incremental correlation: feed PDUs in capture order with [`Correlator::push`], which returns
/// the transactions that are done (in order of their first PDU); [`Correlator::finish`] returns
/// the rest at the end of the capture.
///
/// A transaction is done when nothing more is expected and `linger` seconds of capture time
/// passed since its last PDU (later copies of its PDUs still join it until then), or when it
/// still waits for its closing PDU and `idle_timeout` seconds passed (it is then incomplete).
/// Done transactions are held back until every transaction that started before them is done,
/// so the output is in start order and `Transaction::index` is the same as [`correlate`]'s.
#[derive(Debug, Default)]
pub struct Correlator {
    config: Config,
    open: VecDeque<Open>,
    index: Index,
    next_id: u64,
    stories: StoryLinker,
    /// Content-Location path → Content-Location, from the notifications seen, so that a GET by
    /// path names the notification's full URI.
    locations: HashMap<String, CompactString>,
    next_index: usize,
    now: Timestamp,
}

impl Correlator {
    pub fn new() -> Correlator {
        Correlator::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Correlator {
        Correlator {
            config,
            ..Default::default()
        }
    }

    /// Number of transactions still open (waiting for PDUs or for their linger time).
    pub fn open_transactions(&self) -> usize {
        self.open.len()
    }

    /// Add the next PDU (capture order); returns the transactions that are done.
    pub fn push(&mut self, p: &PduRecord) -> Vec<Transaction> {
        if p.time > self.now {
            self.now = p.time;
        }
        self.place(p);
        self.take_done()
    }

    /// Let capture time pass without a PDU (a live capture's clock ticking on a quiet link):
    /// returns the transactions that are done at `now`.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Transaction> {
        if now > self.now {
            self.now = now;
        }
        self.take_done()
    }

    /// Pop the transactions at the front that are done at `self.now`.
    fn take_done(&mut self) -> Vec<Transaction> {
        let mut done = Vec::new();
        while let Some(front) = self.open.front() {
            let idle = self.now.seconds_until(front.last_time).abs();
            let ready = if front.complete {
                idle > self.config.linger
            } else {
                idle > self.config.idle_timeout
            };
            if !ready {
                break;
            }
            let o = self.open.pop_front().expect("front exists");
            for s in &o.pdus {
                self.index.remove(o.id, s);
            }
            done.push(self.finalize(o));
        }
        done
    }

    /// End of the capture: every transaction still open, in start order.
    pub fn finish(&mut self) -> Vec<Transaction> {
        let mut done = Vec::new();
        while let Some(o) = self.open.pop_front() {
            for s in &o.pdus {
                self.index.remove(o.id, s);
            }
            done.push(self.finalize(o));
        }
        done
    }

    /// Whether `o` may still receive a PDU at time `now`.
    fn joinable(&self, o: &Open, now: Timestamp) -> bool {
        let idle = gap(o.last_time, now);
        if o.complete {
            idle <= self.config.linger
        } else {
            idle <= self.config.idle_timeout
        }
    }

    /// Position of the best candidate (highest score, then most recent), among open transactions
    /// that may still receive the new PDU, seen as `seen`.
    fn best(&self, seen: &Seen, by: &[By], score: impl Fn(&Open) -> Option<i32>) -> Option<usize> {
        let mut best: Option<(i32, usize)> = None;
        let front = self.open.front().map(|o| o.id)?;
        for id in self.index.candidates(seen, by) {
            let i = id.saturating_sub(front) as usize;
            let Some(o) = self.open.get(i).filter(|o| o.id == id) else {
                continue;
            };
            if !self.joinable(o, seen.time) {
                continue;
            }
            if let Some(s) = score(o)
                && best.is_none_or(|(b, _)| s > b)
            {
                best = Some((s, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// Add `p`, seen as `seen`, to the open transaction at position `i`.
    fn join(&mut self, i: usize, p: &PduRecord, seen: Seen) {
        self.index.add(self.open[i].id, &seen);
        let o = &mut self.open[i];
        if seen.time > o.last_time {
            o.last_time = seen.time;
        }
        if o.tid.is_none() {
            o.tid = p.mms.transaction_id.clone();
        }
        let new_key = o.msgid.is_none() && p.mms.message_id.is_some();
        if new_key {
            o.msgid = p.mms.message_id.clone();
        }
        o.pdus.push(seen);
        // The story keys were linked when the transaction opened; linking them again is a no-op
        // (sets are only ever joined) that hashed and looked up each key, for every PDU.
        if new_key {
            let keys = o.keys();
            self.stories.link(&keys);
        }
    }

    fn open_new(&mut self, mut o: Open) {
        o.id = self.next_id;
        self.next_id += 1;
        for s in &o.pdus {
            self.index.add(o.id, s);
        }
        let keys = o.keys();
        self.stories.link(&keys);
        self.open.push_back(o);
    }

    fn place(&mut self, p: &PduRecord) {
        let seen = Seen::new(p);
        let ty = seen.ty.clone();
        let fp = seen.fp;
        let window = self.config.leg_window;
        let tid = p.mms.transaction_id.as_deref();

        // A retransmission the pipeline recognised joins its original, whatever it is.
        if let Some(orig) = p.retransmission_of
            && let Some(&id) = self.index.pdu.get(&orig)
            && let Some(front) = self.open.front().map(|o| o.id)
            && let i = id.saturating_sub(front) as usize
            && self.open.get(i).is_some_and(|o| o.id == id)
        {
            self.join(i, p, seen);
            return;
        }

        match role_of(&ty) {
            Role::Request { kind, family } => {
                // Another leg of the same request before its confirmation, or the same request
                // re-sent on the same path.
                let found = self.best(&seen, &[By::Fingerprint], |o| {
                    let copy = o.family == family && o.tid.as_deref() == tid;
                    let copy = copy
                        && o.has_copy_of(&ty, fp, p, window)
                            .is_some_and(|s| !o.closed || s.same_path(p));
                    copy.then_some(0)
                });
                match found {
                    Some(i) => self.join(i, p, seen),
                    None => {
                        if family == "notification"
                            && let Some(cl) = &p.mms.content_location
                        {
                            // Most notifications name a new location: a lookup first, so that
                            // one named again costs no copy unless it changed.
                            match self.locations.get_mut(uri_path(cl)) {
                                Some(known) if known == cl => {}
                                Some(known) => known.clone_from(cl),
                                None => {
                                    self.locations.insert(uri_path(cl).to_string(), cl.clone());
                                }
                            }
                        }
                        self.open_new(Open::new(kind, family, p, seen));
                    }
                }
            }
            Role::Response { kind, family } => {
                let exchange = p.carrier.exchange;
                // The request/reply pairing of the carrier is the strongest evidence.
                let by_exchange = |o: &Open| {
                    let paired = o.family == family
                        && p.carrier.is_response
                        && exchange.is_some()
                        && o.pdus
                            .iter()
                            .any(|s| !s.is_response && s.exchange == exchange);
                    paired.then_some(100)
                };
                let by_tid = |o: &Open| {
                    if o.family != family || tid.is_none() || o.tid.as_deref() != tid {
                        return None;
                    }
                    if o.closed {
                        // Only another copy of the response it already has.
                        o.has_copy_of(&ty, fp, p, window)?;
                        return Some(10 + reply_score(o, p));
                    }
                    if o.orphan {
                        return None;
                    }
                    Some(10 + reply_score(o, p))
                };
                let found = self
                    .best(&seen, &[By::Exchange], by_exchange)
                    .or_else(|| self.best(&seen, &[By::Tid], by_tid));
                match found {
                    Some(i) => {
                        self.join(i, p, seen);
                        let o = &mut self.open[i];
                        o.closed = true;
                        o.complete = true;
                    }
                    None => {
                        let mut o = Open::new(kind, family, p, seen);
                        o.closed = true;
                        o.complete = true;
                        o.orphan = true;
                        self.open_new(o);
                    }
                }
            }
            Role::RetrieveConf => {
                let found = self.best(&seen, &[By::Fingerprint], |o| {
                    let copy = o.family == "retrieve"
                        && o.has_copy_of(&ty, fp, p, window)
                            .is_some_and(|s| !o.has_type("acknowledge-ind") || s.same_path(p));
                    copy.then_some(0)
                });
                match found {
                    Some(i) => self.join(i, p, seen),
                    None => {
                        let mut o = Open::new(TransactionKind::Retrieve, "retrieve", p, seen);
                        o.content_location = p.carrier.uri.as_ref().map(|u| {
                            self.locations
                                .get(uri_path(u))
                                .cloned()
                                .unwrap_or_else(|| u.clone())
                        });
                        o.expects_ack = tid.is_some();
                        o.complete = !o.expects_ack;
                        self.open_new(o);
                    }
                }
            }
            Role::Acknowledge => {
                let found = self.best(&seen, &[By::Tid], |o| {
                    if o.family != "retrieve"
                        || o.orphan
                        || tid.is_none()
                        || o.tid.as_deref() != tid
                    {
                        return None;
                    }
                    if o.closed {
                        o.has_copy_of(&ty, fp, p, window)?;
                        return Some(0);
                    }
                    let endpoint = o
                        .pdus
                        .iter()
                        .any(|s| s.ty == "retrieve-conf" && s.dst.ip() == p.src.ip());
                    Some(if endpoint { 2 } else { 1 })
                });
                match found {
                    Some(i) => {
                        self.join(i, p, seen);
                        let o = &mut self.open[i];
                        o.closed = true;
                        o.complete = true;
                    }
                    None => {
                        let mut o = Open::new(TransactionKind::Retrieve, "retrieve", p, seen);
                        o.closed = true;
                        o.complete = true;
                        o.orphan = true;
                        self.open_new(o);
                    }
                }
            }
            Role::Single { kind, family } => {
                let msgid = p.mms.message_id.as_deref();
                let found = self.best(&seen, &[By::Fingerprint, By::MsgId], |o| {
                    if o.family != family {
                        return None;
                    }
                    // Both reports of a read (m-read-rec-ind to the MMSC, m-read-orig-ind to
                    // the originator) are one transaction.
                    if family == "read" && msgid.is_some() && o.msgid.as_deref() == msgid {
                        return Some(0);
                    }
                    o.has_copy_of(&ty, fp, p, window).map(|_| 0)
                });
                match found {
                    Some(i) => self.join(i, p, seen),
                    None => {
                        let mut o = Open::new(kind, family, p, seen);
                        o.complete = true;
                        self.open_new(o);
                    }
                }
            }
        }
    }

    fn finalize(&mut self, o: Open) -> Transaction {
        let (outcome, status) = decide(&o);
        // Distinct addresses first, each then printed once (two addresses may still print the
        // same, an IPv6 flow label is not printed: the strings are what must be distinct).
        let mut addrs: Vec<SocketAddr> = Vec::with_capacity(2);
        for s in &o.pdus {
            for a in [s.src, s.dst] {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
        }
        let mut endpoints: Vec<CompactString> = Vec::with_capacity(addrs.len());
        for a in addrs {
            let e = socket_addr_string(&a);
            if !endpoints.contains(&e) {
                endpoints.push(e);
            }
        }
        let start = o.pdus.iter().map(|s| s.time).min().unwrap_or_default();
        let end = o.pdus.iter().map(|s| s.time).max().unwrap_or_default();
        let story = self.stories.story_of(&o.keys());
        let index = self.next_index;
        self.next_index += 1;
        Transaction {
            index,
            kind: o.kind,
            // Moved: the open transaction ends here.
            transaction_id: o.tid,
            message_id: o.msgid,
            content_location: o.content_location,
            pdus: o.pdus.iter().map(|s| s.index).collect(),
            frames: o.pdus.iter().map(|s| s.frame).collect(),
            message_types: o
                .pdus
                .iter()
                .map(|s| record_text(s.display.clone()))
                .collect(),
            start,
            end,
            duration: start.seconds_until(end),
            outcome,
            status,
            endpoints,
            story,
        }
    }
}

fn is_ok(s: &str) -> bool {
    s.eq_ignore_ascii_case("ok")
}

/// Whether `s` is one of `names` (lower case), ignoring ASCII case: without a lower-case copy
/// of `s` for each transaction.
fn is_one_of(s: &str, names: &[&str]) -> bool {
    names.iter().any(|n| s.eq_ignore_ascii_case(n))
}

/// The outcome of a finished transaction and the status that decided it.
fn decide(o: &Open) -> (Outcome, CompactString) {
    if o.orphan {
        return (Outcome::Orphan, "orphan".into());
    }
    let first_of = |ty: &str| o.pdus.iter().find(|s| s.ty == ty);
    match o.family {
        "retrieve" => {
            let rc = first_of("retrieve-conf");
            let rs = rc.and_then(|r| r.retrieve_status.clone());
            if let Some(rs) = &rs
                && !is_ok(rs)
            {
                return (Outcome::Failed, rs.clone());
            }
            if let Some(code) = rc.and_then(|r| r.http_status)
                && code >= 400
            {
                return (Outcome::Failed, compact_str::format_compact!("HTTP {code}"));
            }
            if o.expects_ack && !o.closed {
                return (Outcome::Incomplete, "incomplete".into());
            }
            (Outcome::Ok, rs.unwrap_or_else(|| "Ok".into()))
        }
        "delivery" => {
            let st = o.pdus[0].status.clone();
            match st {
                Some(s) => {
                    let failed = is_one_of(
                        &s,
                        &[
                            "expired",
                            "rejected",
                            "unreachable",
                            "unrecognised",
                            "unrecognized",
                        ],
                    );
                    (if failed { Outcome::Failed } else { Outcome::Ok }, s)
                }
                None => (Outcome::Ok, "Ok".into()),
            }
        }
        "read" => {
            let st = o.pdus.iter().find_map(|s| s.read_status.clone());
            (Outcome::Ok, st.unwrap_or_else(|| "Ok".into()))
        }
        "other" | "mbox-descr" => (Outcome::Ok, "n/a".into()),
        family => {
            if !o.closed {
                return (Outcome::Incomplete, "incomplete".into());
            }
            let Some(resp) = o
                .pdus
                .iter()
                .find(|s| matches!(role_of(&s.ty), Role::Response { .. }))
            else {
                return (Outcome::Incomplete, "incomplete".into());
            };
            if family == "notification" {
                return match &resp.status {
                    Some(s) => {
                        let ok = is_one_of(s, &["retrieved", "deferred", "forwarded"]);
                        (if ok { Outcome::Ok } else { Outcome::Failed }, s.clone())
                    }
                    None => (Outcome::Ok, "Ok".into()),
                };
            }
            // A store or cancel confirmation says how it went in a status of its own
            // (OMA-MMS-ENC 1.3: X-Mms-Store-Status, X-Mms-Cancel-Status), not Response-Status.
            if let Some(s) = &resp.store_status {
                let ok = s.eq_ignore_ascii_case("success");
                return (if ok { Outcome::Ok } else { Outcome::Failed }, s.clone());
            }
            if let Some(s) = &resp.cancel_status {
                let ok = s.starts_with("Cancel Request Successfully");
                return (if ok { Outcome::Ok } else { Outcome::Failed }, s.clone());
            }
            match &resp.response_status {
                Some(s) if is_ok(s) => (Outcome::Ok, s.clone()),
                Some(s) => (Outcome::Failed, s.clone()),
                None => match resp.http_status {
                    Some(code) if code >= 400 => {
                        (Outcome::Failed, compact_str::format_compact!("HTTP {code}"))
                    }
                    _ => (Outcome::Ok, "Ok".into()),
                },
            }
        }
    }
}

/// The record with index `index` in `pdus`: `pdus` may be the whole capture (indexed by
/// position) or any subset in capture order (found by its `index` field).
pub fn pdu_by_index(pdus: &[PduRecord], index: usize) -> Option<&PduRecord> {
    if let Some(p) = pdus.get(index)
        && p.index == index
    {
        return Some(p);
    }
    pdus.binary_search_by_key(&index, |p| p.index)
        .ok()
        .map(|i| &pdus[i])
        .or_else(|| pdus.iter().find(|p| p.index == index))
}

/// The PDU records of a transaction, in its order (those missing from `pdus` are skipped).
pub fn tx_pdus<'a>(tx: &Transaction, pdus: &'a [PduRecord]) -> Vec<&'a PduRecord> {
    tx.pdus
        .iter()
        .filter_map(|&i| pdu_by_index(pdus, i))
        .collect()
}

/// What one PDU is within its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduRole {
    /// The first copy of this PDU.
    First,
    /// The same PDU on another leg (other endpoints: gateway, PPG) — record `of` is the first.
    Leg { of: usize },
    /// The same PDU sent again on the same path — record `of` is the first.
    Retransmission { of: usize },
}

impl PduRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PduRole::First => "first",
            PduRole::Leg { .. } => "leg",
            PduRole::Retransmission { .. } => "retransmission",
        }
    }
}

/// The role of each PDU of `tx` (same order as `tx.pdus`).
pub fn pdu_roles(tx: &Transaction, pdus: &[PduRecord]) -> Vec<PduRole> {
    let recs: Vec<Option<&PduRecord>> = tx.pdus.iter().map(|&i| pdu_by_index(pdus, i)).collect();
    record_roles(tx, &recs).into_vec()
}

/// [`pdu_roles`] of the records of `tx` given in its order, one for each of `tx.pdus` (`None`
/// for one that is missing).
pub fn record_roles(tx: &Transaction, recs: &[Option<&PduRecord>]) -> SmallVec<[PduRole; 4]> {
    // Fingerprints are taken only of PDUs of the same type as a later one (the fingerprint
    // covers the type: PDUs of two types are never copies), so most transactions (one PDU, or
    // a request and its confirmation) need none.
    // Inline for the usual few PDUs: `transactions --json` asks this of every transaction.
    let types: SmallVec<[Option<Cow<'static, str>>; 4]> = recs
        .iter()
        .map(|r| r.map(|r| normal_type(&r.mms)))
        .collect();
    let mut fps: SmallVec<[Option<u64>; 4]> = smallvec::smallvec![None; recs.len()];
    let mut fp_of = |i: usize, rec: &PduRecord| *fps[i].get_or_insert_with(|| fingerprint(rec));
    let mut roles = SmallVec::with_capacity(recs.len());
    for (k, rec) in recs.iter().enumerate() {
        let Some(rec) = rec else {
            roles.push(PduRole::First);
            continue;
        };
        if let Some(orig) = rec.retransmission_of
            && tx.pdus[..k].contains(&orig)
        {
            roles.push(PduRole::Retransmission { of: orig });
            continue;
        }
        // The latest earlier copy on the same path, else the first copy on another path.
        let mut role = PduRole::First;
        for j in 0..k {
            let Some(other) = recs[j] else {
                continue;
            };
            if types[j] != types[k] || fp_of(j, other) != fp_of(k, rec) {
                continue;
            }
            if other.src == rec.src && other.dst == rec.dst && other.transport == rec.transport {
                role = PduRole::Retransmission { of: other.index };
                break;
            }
            if role == PduRole::First {
                role = PduRole::Leg { of: other.index };
            }
        }
        roles.push(role);
    }
    roles
}

/// A plain sentence on why a transaction is not simply Ok ("" when it is).
pub fn explain(tx: &Transaction) -> String {
    use TransactionKind as K;
    let opener_closer = |kind: K| -> (&'static str, &'static str) {
        match kind {
            K::Send => ("m-send-req", "m-send-conf"),
            K::Notification => ("m-notification-ind", "m-notifyresp-ind"),
            K::Retrieve => ("m-retrieve-conf", "m-acknowledge-ind"),
            K::Forward => ("m-forward-req", "m-forward-conf"),
            K::Delete => ("m-delete-req", "m-delete-conf"),
            K::Cancel => ("m-cancel-req", "m-cancel-conf"),
            K::Mbox => ("m-mbox-*-req", "m-mbox-*-conf"),
            _ => ("request", "confirmation"),
        }
    };
    let (opener, closer) = opener_closer(tx.kind);
    match tx.outcome {
        Outcome::Ok => String::new(),
        Outcome::Failed => format!("failed with status {}", tx.status),
        Outcome::Incomplete => match tx.kind {
            K::Notification => format!(
                "no {closer} in the capture: the notification was not answered{}",
                if tx.content_location.is_some() {
                    " (see whether its Content-Location was fetched)"
                } else {
                    ""
                }
            ),
            _ => format!("no {closer} in the capture"),
        },
        Outcome::Orphan => {
            let first = tx
                .message_types
                .first()
                .map(CompactString::as_str)
                .unwrap_or("?");
            format!("{first} without its {opener} in the capture")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_compare_full_and_origin_form() {
        assert_eq!(
            uri_path("http://127.0.0.1/mms/F-MSG-0001"),
            "/mms/F-MSG-0001"
        );
        assert_eq!(uri_path("/mms/F-MSG-0001"), "/mms/F-MSG-0001");
        assert_eq!(uri_path("http://mmsc:8080"), "/");
        // the first "://" counts; a colon before it is part of the scheme
        assert_eq!(uri_path("a:b://h/p://q"), "/p://q");
        assert_eq!(uri_path(" :// "), "/");
        assert_eq!(uri_path("x:/"), "x:/");
        assert_eq!(uri_path("x:/:/://y/z"), "/z");
        assert_eq!(uri_path("h://"), "/");
        assert_eq!(uri_path("/mms/a:b"), "/mms/a:b");
        assert_eq!(uri_path("é://ü/ß"), "/ß");
    }

    #[test]
    fn story_numbers_survive_merges() {
        let mut l = StoryLinker::default();
        let a = tx_keys(Some("a"), None);
        let x = tx_keys(None, Some("http://mmsc/x"));
        l.link(&a);
        assert_eq!(l.story_of(&a), Some(0));
        l.link(&x);
        assert_eq!(l.story_of(&x), Some(1));
        // one transaction with both keys: the two stories are one, with the smaller number
        l.link(&tx_keys(Some("a"), Some("/x")));
        assert_eq!(l.story_of(&x), Some(0));
        assert_eq!(l.story_of(&a), Some(0));
        assert_eq!(l.story_of(&tx_keys(None, Some("/x"))), Some(0));
        assert_eq!(l.story_of(&tx_keys(Some(""), None)), None);
        assert_eq!(l.story_of(&tx_keys(Some("b"), None)), Some(2));
    }

    #[test]
    fn id_sets_stay_sorted_and_distinct() {
        let mut ids = Ids::default();
        for id in [3, 5, 1, 5, 4] {
            ids.insert(id);
        }
        assert_eq!(ids.0[..], [1, 3, 4, 5]);
        ids.remove(4);
        ids.remove(9);
        assert_eq!(ids.0[..], [1, 3, 5]);
    }
}
