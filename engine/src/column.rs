//! Columnar storage: one typed vector per column plus an optional validity mask.
//!
//! Timestamps are microseconds since the Unix epoch (UTC); durations are
//! microseconds. Strings are dictionary-encoded: dimensions and keys repeat a
//! lot, and comparing codes is cheaper than comparing text.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry, HashTable};

use indexmap::IndexMap;
use kpi_dsl::Type;

/// Microseconds in one second.
pub const MICROS: i64 = 1_000_000;

/// The distinct strings of a column, back to back in one buffer: a key
/// column of ten million ids costs its bytes and one offset each, not an
/// allocation per string.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    bytes: String,
    ends: Ends,
}

/// End of string `i` in the buffer; it starts where `i - 1` ends. Four
/// bytes each while the buffer is under 4 GiB (ten million ids save 40 MB),
/// eight after.
#[derive(Clone, Debug)]
enum Ends {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

/// The largest buffer [`Ends::Narrow`] holds (smaller under test, so that
/// the tests cross it).
#[cfg(not(test))]
const NARROW_LIMIT: usize = u32::MAX as usize;
#[cfg(test)]
const NARROW_LIMIT: usize = 40;

impl Default for Ends {
    fn default() -> Self {
        Ends::Narrow(Vec::new())
    }
}

impl PartialEq for Dict {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Dict {
    pub fn len(&self) -> usize {
        match &self.ends {
            Ends::Narrow(e) => e.len(),
            Ends::Wide(e) => e.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    fn end(&self, i: usize) -> usize {
        match &self.ends {
            Ends::Narrow(e) => e[i] as usize,
            Ends::Wide(e) => e[i] as usize,
        }
    }
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        &self.bytes[start..self.end(i)]
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    /// String `i`'s bytes (without the check for a char boundary that
    /// slicing the `str` makes).
    #[inline]
    fn bytes_at(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        &self.bytes.as_bytes()[start..self.end(i)]
    }
    /// Whether this dictionary's strings are the first of `other`'s, in
    /// the same order: its buffer and ends are the start of `other`'s.
    pub fn is_prefix_of(&self, other: &Dict) -> bool {
        let (n, b) = (self.len(), self.bytes.len());
        if n > other.len() || n > 0 && other.end(n - 1) != b {
            return false;
        }
        let ends = match (&self.ends, &other.ends) {
            (Ends::Narrow(e), Ends::Narrow(o)) => e[..] == o[..n],
            (Ends::Wide(e), Ends::Wide(o)) => e[..] == o[..n],
            _ => (0..n).all(|i| self.end(i) == other.end(i)),
        };
        ends && self.bytes.as_bytes() == &other.bytes.as_bytes()[..b]
    }
    /// Adds a string; its code is the length before.
    pub fn push(&mut self, s: &str) {
        self.bytes.push_str(s);
        let end = self.bytes.len();
        match &mut self.ends {
            Ends::Narrow(e) => match u32::try_from(end) {
                Ok(end) if end as usize <= NARROW_LIMIT => e.push(end),
                _ => {
                    let mut wide: Vec<u64> = e.iter().map(|&x| x as u64).collect();
                    wide.push(end as u64);
                    self.ends = Ends::Wide(wide);
                }
            },
            Ends::Wide(e) => e.push(end as u64),
        }
    }
    /// Removes the last string.
    pub fn pop(&mut self) {
        let start = match &mut self.ends {
            Ends::Narrow(e) => e.pop().map(|_| e.last().map_or(0, |&x| x as usize)),
            Ends::Wide(e) => e.pop().map(|_| e.last().map_or(0, |&x| x as usize)),
        };
        if let Some(start) = start {
            self.bytes.truncate(start);
        }
    }
    /// Releases spare capacity (a finished column keeps no slack).
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        match &mut self.ends {
            Ends::Narrow(e) => e.shrink_to_fit(),
            Ends::Wide(e) => e.shrink_to_fit(),
        }
    }
}

impl std::ops::Index<usize> for Dict {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.get(i)
    }
}

impl<'a> FromIterator<&'a str> for Dict {
    fn from_iter<I: IntoIterator<Item = &'a str>>(it: I) -> Self {
        let mut d = Dict::default();
        it.into_iter().for_each(|s| d.push(s));
        d
    }
}

/// A dictionary-encoded string vector. Its dictionary holds every string
/// its codes name, and may hold others: a key column shares its parent
/// key's dictionary ([`recode_into`]).
#[derive(Clone, Debug, Default)]
pub struct StrVec {
    pub codes: Codes,
    pub dict: Arc<Dict>,
}

impl StrVec {
    pub fn get(&self, i: usize) -> &str {
        self.dict.get(self.codes.get(i) as usize)
    }
}

/// The dictionary codes of a string vector, each in as few bytes as its
/// dictionary needs: one for up to 256 distinct strings (roles, channels,
/// priorities, a few hundred agents), two for up to 65,536, four beyond.
/// A dimension column of 40 million rows then costs 40 MB, not 160 MB.
#[derive(Clone, Debug)]
pub enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

/// A code of any width.
pub trait Code: Copy {
    fn wide(self) -> u32;
    /// `code` in this width (its low bytes: the caller knows it fits).
    fn from_wide(code: u32) -> Self;
}

impl Code for u8 {
    #[inline]
    fn wide(self) -> u32 {
        self as u32
    }
    #[inline]
    fn from_wide(code: u32) -> Self {
        code as u8
    }
}

impl Code for u16 {
    #[inline]
    fn wide(self) -> u32 {
        self as u32
    }
    #[inline]
    fn from_wide(code: u32) -> Self {
        code as u16
    }
}

impl Code for u32 {
    #[inline]
    fn wide(self) -> u32 {
        self
    }
    #[inline]
    fn from_wide(code: u32) -> Self {
        code
    }
}

impl Default for Codes {
    fn default() -> Self {
        Codes::U8(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the codes as a slice of their own width
/// (`u8`, `u16` or `u32`): hot loops are compiled once per width.
#[macro_export]
macro_rules! with_codes {
    ($codes:expr, $v:ident => $body:expr) => {
        match $codes {
            $crate::column::Codes::U8($v) => $body,
            $crate::column::Codes::U16($v) => $body,
            $crate::column::Codes::U32($v) => $body,
        }
    };
}

impl Codes {
    /// `codes` in the narrowest width that holds codes below `distinct`.
    pub fn narrow(codes: Vec<u32>, distinct: usize) -> Codes {
        if distinct <= 1 << 8 {
            Codes::U8(codes.into_iter().map(|c| c as u8).collect())
        } else if distinct <= 1 << 16 {
            Codes::U16(codes.into_iter().map(|c| c as u16).collect())
        } else {
            Codes::U32(codes)
        }
    }
    /// Appends `code`, widening the codes first when it does not fit.
    #[inline]
    pub(crate) fn push(&mut self, code: u32) {
        match self {
            Codes::U8(v) if code <= u8::MAX as u32 => v.push(code as u8),
            Codes::U16(v) if code <= u16::MAX as u32 => v.push(code as u16),
            Codes::U32(v) => v.push(code),
            _ => self.push_wider(code),
        }
    }
    #[cold]
    #[inline(never)]
    fn push_wider(&mut self, code: u32) {
        self.widen(code);
        self.push(code);
    }
    /// The codes in a width that holds `code`, with the same capacity.
    #[cold]
    fn widen(&mut self, code: u32) {
        let cap = with_codes!(&*self, v => v.capacity()).max(self.len() + 1);
        let old = std::mem::take(self);
        *self = if code <= u16::MAX as u32 {
            let mut v = Vec::with_capacity(cap);
            v.extend(old.iter().map(|c| c as u16));
            Codes::U16(v)
        } else {
            let mut v = Vec::with_capacity(cap);
            v.extend(old.iter());
            Codes::U32(v)
        };
    }
    pub(crate) fn last(&self) -> Option<u32> {
        with_codes!(self, v => v.last().map(|c| c.wide()))
    }
    pub(crate) fn pop(&mut self) -> Option<u32> {
        with_codes!(self, v => v.pop().map(|c| c.wide()))
    }
    /// The codes in the narrowest width that holds codes below `distinct`
    /// (a copy only when they are wider).
    fn narrowed(self, distinct: usize) -> Codes {
        match self {
            Codes::U16(v) if distinct <= 1 << 8 => {
                Codes::U8(v.into_iter().map(|c| c as u8).collect())
            }
            Codes::U32(v) => Codes::narrow(v, distinct),
            codes => codes,
        }
    }
    /// The codes in the width [`Codes::narrow`] gives for `distinct` codes
    /// (a copy only when that is another width).
    pub(crate) fn in_width_for(self, distinct: usize) -> Codes {
        match self {
            c @ Codes::U8(_) if distinct <= 1 << 8 => c,
            c @ Codes::U16(_) if distinct > 1 << 8 && distinct <= 1 << 16 => c,
            Codes::U32(v) => Codes::narrow(v, distinct),
            c => Codes::narrow(c.iter().collect(), distinct),
        }
    }
    /// Appends `codes`, none above `max`, widening the codes first when
    /// `max` does not fit.
    pub(crate) fn extend_below(&mut self, max: u32, codes: impl Iterator<Item = u32>) {
        let fits = match self {
            Codes::U8(_) => max <= u8::MAX as u32,
            Codes::U16(_) => max <= u16::MAX as u32,
            Codes::U32(_) => true,
        };
        if !fits {
            self.widen(max);
        }
        match self {
            Codes::U8(v) => v.extend(codes.map(|c| c as u8)),
            Codes::U16(v) => v.extend(codes.map(|c| c as u16)),
            Codes::U32(v) => v.extend(codes),
        }
    }
    /// `n` copies of code 0.
    pub fn zeros(n: usize) -> Codes {
        Codes::U8(vec![0; n])
    }
    pub fn len(&self) -> usize {
        with_codes!(self, v => v.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        with_codes!(self, v => v[i].wide())
    }
    /// The codes in order, as `u32`s. (Each is read through [`Codes::get`]:
    /// a width test the processor predicts, not a call through a boxed
    /// iterator per code; hot loops use [`with_codes!`].)
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
    /// The codes as `u32`s: borrowed when they already are.
    pub fn as_u32(&self) -> std::borrow::Cow<'_, [u32]> {
        match self {
            Codes::U32(v) => std::borrow::Cow::Borrowed(v),
            other => {
                with_codes!(other, v => std::borrow::Cow::Owned(v.iter().map(|&c| c.wide()).collect()))
            }
        }
    }
    /// The codes at rows `idx`, in the same width.
    pub fn gather(&self, idx: &[u32]) -> Codes {
        match self {
            Codes::U8(v) => Codes::U8(idx.iter().map(|&i| v[i as usize]).collect()),
            Codes::U16(v) => Codes::U16(idx.iter().map(|&i| v[i as usize]).collect()),
            Codes::U32(v) => Codes::U32(idx.iter().map(|&i| v[i as usize]).collect()),
        }
    }
}

impl PartialEq for Codes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<[u32]> for Codes {
    fn eq(&self, other: &[u32]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl<const N: usize> PartialEq<[u32; N]> for Codes {
    fn eq(&self, other: &[u32; N]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<Vec<u32>> for Codes {
    fn eq(&self, other: &Vec<u32>) -> bool {
        *self == other[..]
    }
}

/// Codes `child`'s strings in `parent`'s dictionary, sharing it, when
/// every string of a valid row is in it (and returns whether it did; a
/// `false` leaves `child` as it was). A relation's key column
/// (`messages.ticket_id`) then holds no copy of the ids its parent key
/// (`tickets.id`) already holds, and the relation matches codes without
/// comparing text. Rows under a null get code 0. Four-byte codes are
/// rewritten in place: 37.6M message rows need no second 150 MB column.
pub fn recode_into(child: &mut StrVec, valid: Option<&[bool]>, parent: &Arc<Dict>) -> bool {
    if Arc::ptr_eq(&child.dict, parent) {
        return true;
    }
    let pd = &**parent;
    if pd.is_empty() {
        return false;
    }
    // Messages exported ticket by ticket hold every ticket's id in the
    // tickets' order: their codes already are the parent's, which two
    // buffers compared tell, and no code is rewritten.
    if child.dict.is_prefix_of(pd) {
        if let Some(valid) = valid {
            with_codes!(&mut child.codes, v => {
                for (c, &ok) in v.iter_mut().zip(valid) {
                    if !ok {
                        *c = Code::from_wide(0);
                    }
                }
            });
        }
        child.codes = std::mem::take(&mut child.codes).in_width_for(pd.len());
        child.dict = parent.clone();
        return true;
    }
    let translate = positions_in(&child.dict, pd);
    let ok = |i: usize| valid.is_none_or(|v| v[i]);
    if translate.contains(&u32::MAX) {
        let missing = with_codes!(&child.codes, v => v
            .iter()
            .enumerate()
            .any(|(i, c)| ok(i) && translate[c.wide() as usize] == u32::MAX));
        if missing {
            return false;
        }
    }
    let new = |i: usize, c: u32| if ok(i) { translate[c as usize] } else { 0 };
    match &mut child.codes {
        Codes::U32(v) if pd.len() > 1 << 16 => {
            for (i, c) in v.iter_mut().enumerate() {
                *c = new(i, *c);
            }
        }
        codes => {
            let wide = with_codes!(&*codes, v => v
                .iter()
                .enumerate()
                .map(|(i, c)| new(i, c.wide()))
                .collect());
            *codes = Codes::narrow(wide, pd.len());
        }
    }
    child.dict = parent.clone();
    true
}

/// Where each of `child`'s strings is in `parent` (`u32::MAX` where it is
/// not). Exports in key order give the child's strings in the parent's
/// order, with gaps (the tickets that had a call): each is looked for
/// from just after the last one found, the gap crossed in doubling steps
/// and then halved, as a merge of sorted runs gallops. A string not found
/// that way (the parent is not sorted there, or lacks it) is looked up in
/// a hash index of the parent, built the first time.
fn positions_in(child: &Dict, parent: &Dict) -> Vec<u32> {
    let mut index: Option<foldhash::HashMap<&[u8], u32>> = None;
    let mut cursor = 0;
    (0..child.len())
        .map(|i| {
            let s = child.bytes_at(i);
            let found = seek(parent, s, cursor).or_else(|| {
                let index = index.get_or_insert_with(|| {
                    (0..parent.len())
                        .map(|j| (parent.bytes_at(j), j as u32))
                        .collect()
                });
                index.get(s).map(|&j| j as usize)
            });
            match found {
                Some(j) => {
                    cursor = j + 1;
                    j as u32
                }
                None => u32::MAX,
            }
        })
        .collect()
}

/// Where `s` is in `parent` from `cursor` on, found as a merge of sorted
/// runs gallops (see [`positions_in`]); `None` when it is not found that
/// way — the parent is not sorted there, or lacks it.
fn seek(parent: &Dict, s: &[u8], cursor: usize) -> Option<usize> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let n = parent.len();
    let key = short_key(s);
    // How parent string `j` compares with `s`: as two numbers when both
    // are short.
    let cmp = |j: usize| {
        let p = parent.bytes_at(j);
        match short_key(p) {
            k if k != LONG && key != LONG => k.cmp(&key),
            _ => p.cmp(s),
        }
    };
    if cursor >= n {
        return None;
    }
    match cmp(cursor) {
        Equal => Some(cursor),
        Greater => None,
        Less => {
            // `lo` sorts before `s`, `hi` (or the end) after it.
            let (mut lo, mut hi, mut step) = (cursor, n, 1);
            while lo + step < hi {
                match cmp(lo + step) {
                    Less => {
                        lo += step;
                        step *= 2;
                    }
                    Equal => return Some(lo + step),
                    Greater => hi = lo + step,
                }
            }
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                match cmp(mid) {
                    Less => lo = mid,
                    Equal => return Some(mid),
                    Greater => hi = mid,
                }
            }
            None
        }
    }
}

/// Builds a relation's key column straight in its parent key's dictionary
/// (`messages.ticket_id` in `tickets.id`'s), while the column's strings
/// come in the parent's order: a string is the one found last, or is
/// sought after it ([`seek`]). The column never holds a dictionary of its
/// own — ten million ticket ids, 130 MB, while the tables are read — and
/// is then already coded as [`recode_into`] would code it.
///
/// A string not found that way hands the column back to a [`StrBuilder`]
/// ([`unfollow`](Following::unfollow)).
pub(crate) struct Following {
    parent: Arc<Dict>,
    /// Just after the last string found.
    cursor: usize,
    /// In the width [`Codes::narrow`] gives for the parent's strings.
    codes: Codes,
}

impl Following {
    /// Follows `parent` from where `b` is, which
    /// [`can_follow`](StrBuilder::can_follow) it.
    pub(crate) fn start(b: StrBuilder, parent: &Arc<Dict>) -> Following {
        debug_assert!(b.can_follow(parent));
        Following {
            cursor: b.dict.len(),
            codes: b.codes.in_width_for(parent.len()),
            parent: parent.clone(),
        }
    }

    /// The code of `s`: the string found last, or the next one found after
    /// it; `None` when it is not found that way (no row is appended).
    pub(crate) fn code_of(&mut self, s: &str) -> Option<u32> {
        let b = s.as_bytes();
        if let Some(last) = self.cursor.checked_sub(1) {
            if self.parent.bytes_at(last) == b {
                return Some(last as u32);
            }
        }
        let at = seek(&self.parent, b, self.cursor)?;
        self.cursor = at + 1;
        Some(at as u32)
    }

    /// Appends rows by their codes, each one [`code_of`](Self::code_of)
    /// returned, or 0 for a null row (which the parent has).
    pub(crate) fn extend_codes(&mut self, codes: impl Iterator<Item = u32>) {
        let max = self.parent.len() as u32 - 1;
        self.codes.extend_below(max, codes);
    }

    /// A builder of the column's own dictionary: the parent's strings up to
    /// the last one found (and at least its first, the code of null rows).
    pub(crate) fn unfollow(self) -> StrBuilder {
        StrBuilder::from_prefix(&self.parent, self.cursor.max(1), self.codes)
    }

    pub(crate) fn finish(self) -> StrVec {
        StrVec {
            codes: self.codes,
            dict: self.parent,
        }
    }
}

/// Builds a [`StrVec`], interning each distinct string once.
///
/// The index is a hash table of `u64` entries, each the code of a distinct
/// string (low half) and 32 bits of its hash (high half): a probe compares
/// hashes before it touches the string, and growing the table rehashes from
/// the entries alone. Key columns are near-unique (a million distinct ticket
/// ids), so both matter. A row repeating the previous row's string (a
/// file sorted by that column), or the one before it (a column alternating
/// between two values, as roles and a null do), is found without hashing.
///
/// Exports are usually in key order, and ids are usually sequential: while
/// every new string sorts after all the ones before, a string that is
/// neither the previous row's nor greater than the last one is the first
/// one out of order, and only then is the index built (from the dictionary
/// so far). Until that moment a push costs one comparison, and a column
/// that never leaves the order — ten million ticket ids, or the ticket ids
/// of the messages of tickets in turn — is interned without a hash table.
///
/// Ids and dimension values are short: a string of at most [`SHORT`] bytes
/// is compared as one number ([`short_key`]), and the keys of the first
/// [`KEYED`] strings are kept, so that neither those comparisons nor a
/// probe among them read the dictionary.
pub struct StrBuilder {
    /// Built at the first string out of order.
    index: Option<Box<Index>>,
    dict: Dict,
    /// The short keys of the dictionary's first [`KEYED`] strings.
    keys: Vec<u128>,
    /// In the narrowest width so far: a column of few distinct strings
    /// never holds four bytes a row, not even while it is built.
    codes: Codes,
    /// The key of the last code's string, and that of the last distinct
    /// short string before it with its code (or [`UNSET`]).
    last_key: Key,
    before: (Key, u32),
    /// The key of the dictionary's last string (while not `indexed`).
    top_key: Key,
    /// Whether the last push added its string to the dictionary.
    last_new: bool,
}

/// The index of a [`StrBuilder`] whose strings came out of order.
struct Index {
    table: HashTable<u64>,
    /// In front of the table: the code of the last keyed string seen at
    /// each slot, by hash — a dimension's few hundred or thousand strings
    /// are found without probing the table. A slot is trusted only when
    /// `StrBuilder::keys` confirms it.
    recent: Vec<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Index {
    /// The hash of a string: of its key when it has one.
    #[inline]
    fn hash(&self, b: &[u8], key: Key) -> u64 {
        if key == LONG {
            self.hasher.hash_one(b)
        } else {
            self.hasher.hash_one(key)
        }
    }
}

/// A [`short_key`], or [`LONG`].
type Key = u128;

/// The longest string with a [`short_key`].
const SHORT: usize = 15;

/// The key of a string longer than [`SHORT`] bytes (a short key's low
/// byte, its length, is never 255): such strings are compared as text.
const LONG: Key = u128::MAX;

/// A key no string has: what `StrBuilder::before` holds until set.
const UNSET: Key = u128::MAX - 1;

/// Slots of `StrBuilder::recent`.
const RECENT: usize = 1 << 13;

/// How many strings of a dictionary keep their key: every string of a
/// dimension, in at most a megabyte.
const KEYED: usize = 1 << 16;

/// A string of at most [`SHORT`] bytes as one number: its bytes big-endian,
/// zero-padded, with its length in the low byte. Two keys are equal exactly
/// when their strings are, and order as the strings do (a prefix, padded
/// with zeros, sorts first by its shorter length). [`LONG`] for the rest.
///
/// The bytes are read as a few overlapping words, not copied into a
/// buffer first (which makes a load wait for the bytes just stored).
#[inline]
fn short_key(b: &[u8]) -> Key {
    let n = b.len();
    let word = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("eight bytes"));
    let half = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("four bytes")) as u64;
    let byte = |i: usize| b[i] as u64;
    // Bytes read twice land on the same place (the same value ORed in).
    let (hi, lo) = match n {
        0 => (0, 0),
        1..=3 => (
            byte(0) << 56 | byte(n / 2) << (56 - 8 * (n / 2)) | byte(n - 1) << (64 - 8 * n),
            0,
        ),
        4..=7 => (half(0) << 32 | half(n - 4) << (64 - 8 * n), 0),
        8 => (word(0), 0),
        9..=SHORT => (word(0), word(n - 8) << (8 * (16 - n))),
        _ => return LONG,
    };
    (hi as u128) << 64 | (lo | n as u64) as u128
}

/// Text to intern: a `str`, or bytes still to be checked for UTF-8 (only
/// when new: bytes equal to an interned string are UTF-8).
trait Text {
    fn bytes(&self) -> &[u8];
    fn text(&self) -> Option<&str>;
}

impl Text for str {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Text for [u8] {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    fn text(&self) -> Option<&str> {
        std::str::from_utf8(self).ok()
    }
}

/// The hash hashbrown sees for an entry: its stored 32 bits, spread over
/// 64 (hashbrown takes the bucket from the low bits and a tag from the top
/// seven).
#[inline]
fn spread(h32: u64) -> u64 {
    h32.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Default for StrBuilder {
    fn default() -> Self {
        StrBuilder {
            index: None,
            dict: Dict::default(),
            keys: Vec::new(),
            codes: Codes::U8(Vec::new()),
            last_key: UNSET,
            before: (UNSET, 0),
            top_key: LONG,
            last_new: false,
        }
    }
}

impl StrBuilder {
    pub fn with_capacity(n: usize) -> Self {
        StrBuilder {
            codes: Codes::U8(Vec::with_capacity(n)),
            ..Default::default()
        }
    }

    pub fn push(&mut self, s: &str) {
        self.push_code_of(s);
    }

    /// Appends the code of `s`; returns it.
    pub(crate) fn push_code_of(&mut self, s: &str) -> u32 {
        self.push_text(s).expect("a str is UTF-8")
    }

    /// Appends the code of the string `b` holds; `None` (nothing appended)
    /// when `b` is not UTF-8.
    #[inline]
    pub(crate) fn push_utf8(&mut self, b: &[u8]) -> Option<u32> {
        self.push_text(b)
    }

    #[inline]
    fn push_text<T: Text + ?Sized>(&mut self, s: &T) -> Option<u32> {
        let b = s.bytes();
        let key = short_key(b);
        if let Some(last) = self.codes.last() {
            // The previous row's string again, or the one before it.
            let same = match (key, self.last_key) {
                (LONG, LONG) => self.dict[last as usize].as_bytes() == b,
                (k, l) => k == l,
            };
            if same {
                self.codes.push(last);
                self.last_new = false;
                return Some(last);
            }
            if key == self.before.0 {
                let code = self.before.1;
                self.appended(code, key, false);
                return Some(code);
            }
        }
        if self.index.is_none() {
            let dict = &self.dict;
            let after = match (dict.len(), key, self.top_key) {
                (0, _, _) => true,
                (n, LONG, _) | (n, _, LONG) => b > dict[n - 1].as_bytes(),
                (_, k, top) => k > top,
            };
            if after {
                let text = s.text()?;
                let code = self.add(text, key);
                self.top_key = key;
                self.appended(code, key, true);
                return Some(code);
            }
            self.build_index();
        }
        let (code, new) = self.look_up(s, key)?;
        self.appended(code, key, new);
        Some(code)
    }

    /// Whether the strings so far are `parent`'s first ones, in its order,
    /// and came in that order (there is no index): the column can then be
    /// coded in `parent` from here on ([`Following`]).
    pub(crate) fn can_follow(&self, parent: &Dict) -> bool {
        self.index.is_none() && !parent.is_empty() && self.dict.is_prefix_of(parent)
    }

    /// A builder of rows `codes` whose dictionary is the first `n` strings
    /// of `parent`, interned in order (so indexed if they are not sorted).
    fn from_prefix(parent: &Dict, n: usize, codes: Codes) -> StrBuilder {
        let mut b = StrBuilder::default();
        for s in parent.iter().take(n) {
            b.intern(s);
        }
        b.codes = codes;
        b.last_key = match b.codes.last() {
            Some(c) => short_key(b.dict.bytes_at(c as usize)),
            None => UNSET,
        };
        b
    }

    /// The code of `s`, and whether `s` is new to the dictionary (which
    /// it is then added to); no row is appended.
    pub(crate) fn intern(&mut self, s: &str) -> (u32, bool) {
        let b = s.as_bytes();
        let key = short_key(b);
        if self.index.is_none() {
            let n = self.dict.len();
            let order = match (n, key, self.top_key) {
                (0, _, _) => std::cmp::Ordering::Greater,
                (n, LONG, _) | (n, _, LONG) => b.cmp(self.dict[n - 1].as_bytes()),
                (_, k, top) => k.cmp(&top),
            };
            match order {
                std::cmp::Ordering::Greater => {
                    let code = self.add(s, key);
                    self.top_key = key;
                    return (code, true);
                }
                std::cmp::Ordering::Equal => return (n as u32 - 1, false),
                std::cmp::Ordering::Less => self.build_index(),
            }
        }
        self.look_up(s, key).expect("a str is UTF-8")
    }

    /// Appends rows by their codes, each one [`intern`](Self::intern)
    /// returned.
    pub(crate) fn extend_codes(&mut self, codes: impl Iterator<Item = u32>) {
        self.last_new = false;
        let Some(max) = self.dict.len().checked_sub(1) else {
            return;
        };
        self.codes.extend_below(max as u32, codes);
        // What `push_text` compares the next string with.
        self.before = (UNSET, 0);
        self.last_key = match self.codes.last() {
            Some(c) => short_key(self.dict[c as usize].as_bytes()),
            None => UNSET,
        };
    }

    /// The code of `s` (whose key is `key`) in the index, and whether it
    /// is new; `None` for new bytes that are not UTF-8.
    #[inline]
    fn look_up<T: Text + ?Sized>(&mut self, s: &T, key: Key) -> Option<(u32, bool)> {
        let b = s.bytes();
        let new_code = self.next_code();
        let index = self.index.as_mut().expect("built before a look-up");
        let hash = index.hash(b, key);
        let slot = hash as usize % RECENT;
        if key != LONG {
            let code = index.recent[slot];
            if self.keys.get(code as usize) == Some(&key) {
                return Some((code, false));
            }
        }
        let h32 = hash >> 32;
        let (dict, keys) = (&self.dict, &self.keys);
        let entry = index.table.entry(
            spread(h32),
            |&e| {
                let c = e as u32 as usize;
                e >> 32 == h32
                    && match keys.get(c) {
                        Some(&k) if k != key => false,
                        Some(_) if key != LONG => true,
                        _ => dict[c].as_bytes() == b,
                    }
            },
            |&e| spread(e >> 32),
        );
        let found = match entry {
            Entry::Occupied(o) => (*o.get() as u32, false),
            Entry::Vacant(v) => {
                let text = s.text()?;
                v.insert(h32 << 32 | new_code as u64);
                self.dict.push(text);
                if self.keys.len() < KEYED {
                    self.keys.push(key);
                }
                (new_code, true)
            }
        };
        if key != LONG {
            index.recent[slot] = found.0;
        }
        Some(found)
    }

    /// Adds `text`, whose key is `key`, to the dictionary; returns its code.
    fn add(&mut self, text: &str, key: Key) -> u32 {
        let code = self.next_code();
        self.dict.push(text);
        if self.keys.len() < KEYED {
            self.keys.push(key);
        }
        code
    }

    /// Records the push of `code`, whose string has `key`.
    #[inline]
    fn appended(&mut self, code: u32, key: Key, new: bool) {
        match self.codes.last() {
            Some(last) if self.last_key != LONG => self.before = (self.last_key, last),
            _ => {}
        }
        self.last_key = key;
        self.codes.push(code);
        self.last_new = new;
    }

    fn next_code(&self) -> u32 {
        u32::try_from(self.dict.len()).expect("fewer than 2^32 distinct strings in one column")
    }

    /// Indexes the dictionary so far: from now on, strings are looked up.
    fn build_index(&mut self) {
        let mut index = Index {
            table: HashTable::with_capacity(self.dict.len()),
            recent: vec![u32::MAX; RECENT],
            hasher: Default::default(),
        };
        for (code, s) in self.dict.iter().enumerate() {
            let b = s.as_bytes();
            let h32 = index.hash(b, short_key(b)) >> 32;
            index
                .table
                .insert_unique(spread(h32), h32 << 32 | code as u64, |&e| spread(e >> 32));
        }
        self.index = Some(Box::new(index));
    }

    /// Takes back the last [`push`](Self::push): its code, and its string
    /// too when that push added it (a string of a rejected row is not kept).
    /// Only the last push can be taken back.
    pub(crate) fn pop(&mut self) {
        let Some(code) = self.codes.pop() else {
            return;
        };
        if std::mem::take(&mut self.last_new) {
            if let Some(index) = &mut self.index {
                let b = self.dict[code as usize].as_bytes();
                let h32 = index.hash(b, short_key(b)) >> 32;
                if let Ok(o) = index.table.find_entry(spread(h32), |&e| e as u32 == code) {
                    o.remove();
                }
            }
            self.dict.pop();
            self.keys.truncate(self.dict.len());
            let n = self.dict.len();
            self.top_key = if n == 0 {
                LONG
            } else {
                short_key(self.dict[n - 1].as_bytes())
            };
        }
        // The memo of the string before is forgotten (it may have been
        // the one taken back).
        self.before = (UNSET, 0);
        self.last_key = match self.codes.last() {
            Some(c) => short_key(self.dict[c as usize].as_bytes()),
            None => UNSET,
        };
    }

    pub fn finish(mut self) -> StrVec {
        // The index goes first: what follows may copy.
        self.index = None;
        self.dict.shrink_to_fit();
        StrVec {
            codes: self.codes.narrowed(self.dict.len()),
            dict: Arc::new(self.dict),
        }
    }
}

/// The values of one column (or of an evaluated expression).
#[derive(Clone, Debug)]
pub enum Data {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Str(StrVec),
    Timestamp(Vec<i64>),
    /// Microseconds, as floats: averages and ratios of durations keep
    /// sub-microsecond precision, and whole microseconds are exact up to 2^53.
    Duration(Vec<f64>),
}

impl Data {
    /// Gives back spare capacity: a column read row by row grows by
    /// doubling, so up to half of it may be unused.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Data::Int(v) | Data::Timestamp(v) => v.shrink_to_fit(),
            Data::Float(v) | Data::Duration(v) => v.shrink_to_fit(),
            Data::Bool(v) => v.shrink_to_fit(),
            Data::Str(s) => with_codes!(&mut s.codes, v => v.shrink_to_fit()),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Data::Int(v) | Data::Timestamp(v) => v.len(),
            Data::Float(v) | Data::Duration(v) => v.len(),
            Data::Bool(v) => v.len(),
            Data::Str(v) => v.codes.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn ty(&self) -> Type {
        match self {
            Data::Int(_) => Type::Int,
            Data::Float(_) => Type::Float,
            Data::Bool(_) => Type::Bool,
            Data::Str(_) => Type::String,
            Data::Timestamp(_) => Type::Timestamp,
            Data::Duration(_) => Type::Duration,
        }
    }
}

/// A column: values plus validity (`None` means every value is present).
/// Values under a `false` validity bit are unspecified and never read.
#[derive(Clone, Debug)]
pub struct Column {
    pub data: Data,
    pub valid: Option<Vec<bool>>,
}

impl Column {
    pub fn new(data: Data, valid: Option<Vec<bool>>) -> Self {
        // A whole scan without an early exit, which is vectorized: faster
        // than stopping at the first null for a batch's few thousand rows.
        let valid = valid.filter(|v| !v.iter().fold(true, |all, &b| all & b));
        Column { data, valid }
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v[i])
    }
    pub fn ty(&self) -> Type {
        self.data.ty()
    }
}

/// An event table held in memory.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub name: String,
    pub len: usize,
    pub columns: IndexMap<String, Column>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A push of a string, or a push taken back.
    #[derive(Clone, Debug)]
    enum Op {
        Push(String),
        PushThenPop(String),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Short strings over a small alphabet: repeats, runs in order and
        // strings out of order all occur. Some (a zero byte, or a long
        // prefix) test the keys of short strings: equal only to the same
        // string, ordered as the strings, and none beyond 15 bytes.
        let s = prop_oneof![
            3 => "[ab\\x00]{0,3}".boxed(),
            1 => "[ab]{0,3}".prop_map(|s| format!("{}{s}", "x".repeat(13))).boxed(),
        ];
        prop_oneof![
            4 => s.clone().prop_map(Op::Push),
            1 => s.prop_map(Op::PushThenPop),
        ]
    }

    /// Interning by linear search: the first occurrence gets the next code.
    fn reference(ops: &[Op]) -> (Vec<u32>, Vec<String>) {
        let (mut codes, mut dict) = (Vec::new(), Vec::<String>::new());
        for op in ops {
            if let Op::Push(s) = op {
                let code = dict.iter().position(|d| d == s).unwrap_or_else(|| {
                    dict.push(s.clone());
                    dict.len() - 1
                });
                codes.push(code as u32);
            }
        }
        (codes, dict)
    }

    proptest! {
        /// Pushes in order (no index), out of order (the index built from
        /// the dictionary so far), and pushes taken back in either state
        /// intern exactly like a linear search.
        #[test]
        fn builder_interns_like_a_search(ops in prop::collection::vec(op(), 0..60), sorted in any::<bool>()) {
            let mut ops = ops;
            if sorted {
                // A sorted column, as sequential ids are.
                ops.sort_by(|a, b| {
                    let key = |o: &Op| match o { Op::Push(s) | Op::PushThenPop(s) => s.clone() };
                    key(a).cmp(&key(b))
                });
            }
            let mut b = StrBuilder::default();
            for op in &ops {
                match op {
                    Op::Push(s) => b.push(s),
                    Op::PushThenPop(s) => {
                        b.push(s);
                        b.pop();
                    }
                }
            }
            let v = b.finish();
            let (codes, dict) = reference(&ops);
            prop_assert_eq!(&v.codes, &codes);
            prop_assert_eq!(v.dict.iter().collect::<Vec<_>>(), dict);
        }

        /// Strings pushed and popped across the switch to wide offsets
        /// read back as pushed.
        #[test]
        fn dict_keeps_its_strings(ops in prop::collection::vec(("[a-c]{0,6}", any::<bool>()), 0..40)) {
            let (mut d, mut want) = (Dict::default(), Vec::new());
            for (s, pop) in &ops {
                d.push(s);
                want.push(s.clone());
                if *pop {
                    d.pop();
                    want.pop();
                }
            }
            prop_assert_eq!(d.len(), want.len());
            prop_assert_eq!(d.iter().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn codes_take_the_narrowest_width_and_read_back_alike() {
        for (distinct, width) in [(3usize, 1), (256, 1), (257, 2), (65_536, 2), (65_537, 4)] {
            let mut b = StrBuilder::default();
            let want: Vec<u32> = (0..distinct as u32).rev().chain([0, 1]).collect();
            let texts: Vec<String> = (0..distinct).map(|i| format!("v{i}")).collect();
            for &w in &want {
                b.push(&texts[w as usize]);
            }
            let v = b.finish();
            assert_eq!(
                bytes_per_code(&v.codes),
                width,
                "{distinct} distinct strings"
            );
            // Codes are in order of first appearance: the reversed texts.
            let codes: Vec<u32> = want.iter().map(|&w| distinct as u32 - 1 - w).collect();
            assert_eq!(v.codes, codes);
            assert_eq!(*v.codes.as_u32(), codes[..]);
            assert_eq!(
                (0..codes.len()).map(|i| v.codes.get(i)).collect::<Vec<_>>(),
                codes
            );
            let idx = [codes.len() as u32 - 1, 0, 2];
            assert_eq!(
                v.codes.gather(&idx),
                [codes[codes.len() - 1], codes[0], codes[2]]
            );
            assert_eq!(v.get(codes.len() - 1), "v1");
        }
    }

    /// A push that widened the codes, taken back: the finished codes are
    /// as narrow as the strings kept need.
    #[test]
    fn pushes_and_codes_added_in_one_go_mix() {
        // A row group read as codes between rows pushed one by one: the
        // next push compares with the row the codes ended on.
        let mut b = StrBuilder::default();
        b.push("x");
        let (y, new) = b.intern("y");
        assert!(new);
        b.extend_codes([y].into_iter());
        b.push("x");
        b.push("y");
        let v = b.finish();
        let texts: Vec<&str> = (0..v.codes.len()).map(|i| v.get(i)).collect();
        assert_eq!(texts, ["x", "y", "x", "y"]);
    }

    #[test]
    fn a_push_taken_back_leaves_the_codes_narrow() {
        for (distinct, width) in [(256usize, 1), (65_536, 2)] {
            let mut b = StrBuilder::with_capacity(4);
            for i in 0..distinct {
                b.push(&format!("v{i:06}"));
            }
            b.push("w");
            b.pop();
            b.push("v000000");
            let v = b.finish();
            assert_eq!(
                bytes_per_code(&v.codes),
                width,
                "{distinct} distinct strings"
            );
            assert_eq!(v.dict.len(), distinct);
            assert_eq!(v.codes.len(), distinct + 1);
            assert_eq!(v.codes.get(distinct), 0);
            assert_eq!(v.codes.get(distinct - 1), distinct as u32 - 1);
        }
    }

    fn bytes_per_code(c: &Codes) -> usize {
        match c {
            Codes::U8(_) => 1,
            Codes::U16(_) => 2,
            Codes::U32(_) => 4,
        }
    }

    fn strs(xs: &[&str]) -> StrVec {
        let mut b = StrBuilder::default();
        xs.iter().for_each(|x| b.push(x));
        b.finish()
    }

    #[test]
    fn a_key_column_shares_its_parents_dictionary_when_every_key_is_there() {
        let parent = strs(&["t1", "t2", "t3", "t4"]);
        let texts = |v: &StrVec| {
            (0..v.codes.len())
                .map(|i| v.get(i).to_string())
                .collect::<Vec<_>>()
        };
        // In the parent's order, with gaps; out of order; repeated.
        for child in [&["t1", "t1", "t3", "t4"][..], &["t4", "t2", "t4", "t1"]] {
            let mut c = strs(child);
            assert!(
                recode_into(&mut c, None, &parent.dict),
                "every key is a parent key"
            );
            assert!(Arc::ptr_eq(&c.dict, &parent.dict));
            assert_eq!(texts(&c), child);
        }
        // A key the parent lacks, on a valid row: the column keeps its own.
        let mut orphan = strs(&["t1", "t9"]);
        assert!(!recode_into(&mut orphan, None, &parent.dict));
        assert!(!recode_into(&mut orphan, Some(&[true, true]), &parent.dict));
        assert!(!recode_into(&mut orphan, None, &strs(&[]).dict));
        assert_eq!(texts(&orphan), ["t1", "t9"]);
        // Under a null it does not count (nulls read code 0).
        assert!(recode_into(&mut orphan, Some(&[true, false]), &parent.dict));
        assert_eq!(orphan.codes, [0, 0]);
    }

    #[test]
    fn a_child_holding_the_parents_first_keys_in_order_keeps_its_codes() {
        // Past 256 keys, so that the child's one-byte codes take two.
        let ids: Vec<String> = (0..300).map(|i| format!("t{i:03}")).collect();
        let parent = strs(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        for (child, valid) in [
            (&["t000", "t000", "t001", "t002"][..], None),
            (
                &ids[..10].iter().map(String::as_str).collect::<Vec<_>>(),
                None,
            ),
            // Every key: the same buffer.
            (&ids.iter().map(String::as_str).collect::<Vec<_>>(), None),
            (&["t000", "t001", "t001"], Some(&[true, false, true][..])),
        ] {
            let mut c = strs(child);
            assert!(c.dict.is_prefix_of(&parent.dict));
            let before = c.codes.clone();
            assert!(recode_into(&mut c, valid, &parent.dict));
            assert!(Arc::ptr_eq(&c.dict, &parent.dict));
            assert!(matches!(c.codes, Codes::U16(_)), "the parent's width");
            for i in 0..child.len() {
                let valid = valid.is_none_or(|v| v[i]);
                let want = if valid { before.get(i) } else { 0 };
                assert_eq!(c.codes.get(i), want, "row {i}");
                if valid {
                    assert_eq!(c.get(i), child[i]);
                }
            }
        }
        // The parent's strings in another order, or one more: not a prefix.
        assert!(!strs(&["t001", "t000"]).dict.is_prefix_of(&parent.dict));
        assert!(!strs(&["t000", "t0011"]).dict.is_prefix_of(&parent.dict));
        assert!(!strs(&["t000", "t00"]).dict.is_prefix_of(&parent.dict));
        assert!(!parent.dict.is_prefix_of(&strs(&["t000"]).dict));
        assert!(strs(&[]).dict.is_prefix_of(&parent.dict));
    }

    #[test]
    fn keys_are_found_in_the_parent_in_order_with_gaps_or_out_of_order() {
        // Sorted ids, short and long (compared as text past 15 bytes).
        let ids: Vec<String> = (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("ticket-number-{i:06}")
                } else {
                    format!("t{i:04}")
                }
            })
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let unsorted: Vec<String> = (0..1000).map(|i| ids[(i * 7) % 1000].clone()).collect();
        for parent_ids in [&sorted, &unsorted] {
            let parent = strs(&parent_ids.iter().map(String::as_str).collect::<Vec<_>>());
            let pos = |s: &str| {
                parent_ids
                    .iter()
                    .position(|p| p == s)
                    .map_or(u32::MAX, |p| p as u32)
            };
            let children: [Vec<&str>; 5] = [
                // The parent's order, every fifth; and gaps of 1 to 300.
                parent_ids.iter().step_by(5).map(String::as_str).collect(),
                [0, 1, 3, 300, 301, 999]
                    .iter()
                    .map(|&i| parent_ids[i].as_str())
                    .collect(),
                // Backwards; a missing key at either end and in the middle.
                parent_ids
                    .iter()
                    .rev()
                    .step_by(3)
                    .map(String::as_str)
                    .collect(),
                vec![
                    "",
                    parent_ids[2].as_str(),
                    "t0500x",
                    parent_ids[7].as_str(),
                    "zzz",
                ],
                vec![parent_ids[999].as_str(), parent_ids[0].as_str()],
            ];
            for child in &children {
                let d: Dict = child.iter().copied().collect();
                let want: Vec<u32> = child.iter().map(|s| pos(s)).collect();
                assert_eq!(positions_in(&d, &parent.dict), want, "{child:?}");
            }
        }
    }

    #[test]
    fn four_byte_codes_are_recoded_in_place() {
        // A parent past 65,536 keys: its codes, and the child's, take four bytes.
        let ids: Vec<String> = (0..70_000).map(|i| format!("t{i:05}")).collect();
        let parent = strs(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        let picks: Vec<&str> = (0..70_000).rev().map(|i| ids[i].as_str()).collect();
        let mut child = strs(&picks);
        assert!(matches!(child.codes, Codes::U32(_)));
        assert!(recode_into(&mut child, None, &parent.dict));
        assert!(Arc::ptr_eq(&child.dict, &parent.dict));
        assert!(matches!(child.codes, Codes::U32(_)));
        let back: Vec<&str> = (0..child.codes.len()).map(|i| child.get(i)).collect();
        assert_eq!(back, picks);
    }

    #[test]
    fn short_keys_are_the_bytes_padded_with_the_length_last() {
        let text: Vec<u8> = (1..=17).collect();
        for n in 0..=17 {
            let b = &text[..n];
            let mut want = [0u8; 16];
            if n <= SHORT {
                want[..n].copy_from_slice(b);
                want[15] = n as u8;
            }
            let want = if n <= SHORT {
                u128::from_be_bytes(want)
            } else {
                LONG
            };
            assert_eq!(short_key(b), want, "{n} bytes");
        }
    }

    #[test]
    fn bytes_are_checked_for_utf8_only_when_new() {
        let mut b = StrBuilder::default();
        assert_eq!(b.push_utf8(b"t1"), Some(0));
        assert_eq!(b.push_utf8(b"\xff"), None, "not UTF-8: nothing appended");
        assert_eq!(b.push_utf8("é".as_bytes()), Some(1));
        b.push("t0");
        assert_eq!(b.push_utf8(b"\xfe\xff"), None, "once indexed too");
        assert_eq!(b.push_utf8(b"t1"), Some(0));
        assert_eq!(b.push_utf8("é".as_bytes()), Some(1));
        let v = b.finish();
        assert_eq!(v.codes, [0, 1, 2, 0, 1]);
        assert_eq!(v.dict.iter().collect::<Vec<_>>(), ["t1", "é", "t0"]);
    }

    #[test]
    fn the_index_is_built_at_the_first_string_out_of_order() {
        let mut b = StrBuilder::default();
        for s in ["t1", "t1", "t2", "t3", "t3"] {
            b.push(s);
        }
        assert!(b.index.is_none(), "an increasing column needs no index");
        // The string before the previous one is remembered.
        b.push("t2");
        assert!(b.index.is_none());
        b.push("t1");
        assert!(b.index.is_some());
        b.push("t0");
        b.push("t3");
        let v = b.finish();
        assert_eq!(v.codes, [0, 0, 1, 2, 2, 1, 0, 3, 2]);
        assert_eq!(v.dict.iter().collect::<Vec<_>>(), ["t1", "t2", "t3", "t0"]);
    }

    fn dict_of(strings: &[&str]) -> Arc<Dict> {
        let mut d = Dict::default();
        for s in strings {
            d.push(s);
        }
        Arc::new(d)
    }

    fn strings(v: &StrVec) -> Vec<&str> {
        (0..v.codes.len()).map(|i| v.get(i)).collect()
    }

    #[test]
    fn a_key_follows_its_parents_dictionary_while_in_its_order() {
        let parent = dict_of(&["a1", "a2", "a3", "a4", "a5"]);
        let mut b = StrBuilder::default();
        b.push("a1");
        b.push("a2");
        assert!(b.can_follow(&parent));
        let mut f = Following::start(b, &parent);
        // The last string again, a gap crossed, a string behind the cursor.
        assert_eq!(f.code_of("a2"), Some(1));
        assert_eq!(f.code_of("a4"), Some(3));
        assert_eq!(f.code_of("a4"), Some(3));
        assert_eq!(f.code_of("a3"), None);
        assert_eq!(f.code_of("zz"), None);
        f.extend_codes([1, 3].into_iter());
        let mut done = Following::start(StrBuilder::default(), &parent);
        done.extend_codes([4, 0].into_iter());
        let v = done.finish();
        assert!(Arc::ptr_eq(&v.dict, &parent));
        assert_eq!(strings(&v), ["a5", "a1"]);
        // Back to a dictionary of its own: the parent's up to a4.
        let mut b = f.unfollow();
        b.push("a3");
        b.push("zz");
        b.push("a4");
        let v = b.finish();
        assert_eq!(strings(&v), ["a1", "a2", "a2", "a4", "a3", "zz", "a4"]);
        assert_eq!(
            v.dict.iter().collect::<Vec<_>>(),
            ["a1", "a2", "a3", "a4", "zz"]
        );

        // Not started: strings that are not the parent's first, or that
        // came out of order (the builder has an index).
        let mut b = StrBuilder::default();
        b.push("a2");
        assert!(!b.can_follow(&parent));
        let mut b = StrBuilder::default();
        for s in ["a1", "a2", "a3", "a1"] {
            b.push(s);
        }
        assert!(!b.can_follow(&parent));
        assert!(!StrBuilder::default().can_follow(&dict_of(&[])));
    }

    #[test]
    fn a_key_leaving_an_unsorted_parent_indexes_its_strings() {
        let parent = dict_of(&["b", "a", "c"]);
        let mut b = StrBuilder::default();
        b.push("b");
        assert!(b.can_follow(&parent));
        let mut f = Following::start(b, &parent);
        assert_eq!(f.code_of("a"), Some(1));
        f.extend_codes([1].into_iter());
        assert_eq!(f.code_of("b"), None);
        // Its dictionary (b, a) is out of order: strings are looked up.
        let mut b = f.unfollow();
        b.push("b");
        b.push("a");
        b.push("d");
        let v = b.finish();
        assert_eq!(strings(&v), ["b", "a", "b", "a", "d"]);
        assert_eq!(v.dict.iter().collect::<Vec<_>>(), ["b", "a", "d"]);
    }
}
