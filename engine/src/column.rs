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
}

impl Code for u8 {
    #[inline]
    fn wide(self) -> u32 {
        self as u32
    }
}

impl Code for u16 {
    #[inline]
    fn wide(self) -> u32 {
        self as u32
    }
}

impl Code for u32 {
    #[inline]
    fn wide(self) -> u32 {
        self
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
    pub fn iter(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        with_codes!(self, v => Box::new(v.iter().map(|&c| c.wide())))
    }
    /// The codes as `u32`s: borrowed when they already are.
    pub fn as_u32(&self) -> std::borrow::Cow<'_, [u32]> {
        match self {
            Codes::U32(v) => std::borrow::Cow::Borrowed(v),
            other => std::borrow::Cow::Owned(other.iter().collect()),
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

/// `child`'s strings coded in `parent`'s dictionary, sharing it — when
/// every string of a valid row is in it (`None` otherwise). A relation's
/// key column (`messages.ticket_id`) then holds no copy of the ids its
/// parent key (`tickets.id`) already holds, and the relation matches codes
/// without comparing text. Rows under a null get code 0.
pub fn recode_into(child: &StrVec, valid: Option<&[bool]>, parent: &StrVec) -> Option<StrVec> {
    if Arc::ptr_eq(&child.dict, &parent.dict) {
        return Some(child.clone());
    }
    let (cd, pd) = (&child.dict, &parent.dict);
    if pd.is_empty() {
        return None;
    }
    // Exports in key order give the child's distinct strings in the
    // parent's order: a cursor over the parent finds most of them, and a
    // hash index is built only if one is missed.
    let mut index: Option<foldhash::HashMap<&str, u32>> = None;
    let mut cursor = 0;
    let translate: Vec<u32> = cd
        .iter()
        .map(|s| {
            while cursor < pd.len() && pd.get(cursor) < s {
                cursor += 1;
            }
            if cursor < pd.len() && pd.get(cursor) == s {
                return cursor as u32;
            }
            index
                .get_or_insert_with(|| pd.iter().enumerate().map(|(i, t)| (t, i as u32)).collect())
                .get(s)
                .copied()
                .unwrap_or(u32::MAX)
        })
        .collect();
    let mut codes = Vec::with_capacity(child.codes.len());
    for (i, c) in child.codes.iter().enumerate() {
        let ok = valid.is_none_or(|v| v[i]);
        match translate[c as usize] {
            u32::MAX if ok => return None,
            u32::MAX => codes.push(0),
            p => codes.push(if ok { p } else { 0 }),
        }
    }
    Some(StrVec {
        codes: Codes::narrow(codes, pd.len()),
        dict: pd.clone(),
    })
}

/// Builds a [`StrVec`], interning each distinct string once.
///
/// The index is a hash table of `u64` entries, each the code of a distinct
/// string (low half) and 32 bits of its hash (high half): a probe compares
/// hashes before it touches the string, and growing the table rehashes from
/// the entries alone. Key columns are near-unique (a million distinct ticket
/// ids), so both matter. A row repeating the previous row's string (a
/// file sorted by that column) is found without hashing.
///
/// Exports are usually in key order, and ids are usually sequential: while
/// every new string sorts after all the ones before, a string that is
/// neither the previous row's nor greater than the last one is the first
/// one out of order, and only then is the index built (from the dictionary
/// so far). Until that moment a push costs one comparison, and a column
/// that never leaves the order — ten million ticket ids, or the ticket ids
/// of the messages of tickets in turn — is interned without a hash table.
#[derive(Default)]
pub struct StrBuilder {
    /// Empty until `indexed`.
    index: HashTable<u64>,
    hasher: foldhash::fast::RandomState,
    dict: Dict,
    /// In the narrowest width so far: a column of few distinct strings
    /// never holds four bytes a row, not even while it is built.
    codes: Codes,
    /// Whether the last push added its string to the dictionary.
    last_new: bool,
    /// Whether the index has not been built yet: the dictionary is in
    /// strictly increasing order, so a string that sorts after its last
    /// entry is new.
    indexed: bool,
}

/// The hash hashbrown sees for an entry: its stored 32 bits, spread over
/// 64 (hashbrown takes the bucket from the low bits and a tag from the top
/// seven).
#[inline]
fn spread(h32: u64) -> u64 {
    h32.wrapping_mul(0x9e37_79b9_7f4a_7c15)
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
        // The previous row's string again (while the dictionary is in
        // order, that is its greatest string, which `intern` tries first).
        if self.indexed {
            if let Some(last) = self.codes.last() {
                if self.dict[last as usize] == *s {
                    self.codes.push(last);
                    self.last_new = false;
                    return last;
                }
            }
        }
        let (code, new) = self.intern(s);
        self.codes.push(code);
        self.last_new = new;
        code
    }

    /// The code of `s`, and whether `s` is new to the dictionary (which
    /// it is then added to); no row is appended.
    pub(crate) fn intern(&mut self, s: &str) -> (u32, bool) {
        let new_code = self.next_code();
        if !self.indexed {
            let Some(last) = new_code.checked_sub(1) else {
                self.dict.push(s);
                return (new_code, true);
            };
            match s.cmp(&self.dict[last as usize]) {
                std::cmp::Ordering::Greater => {
                    self.dict.push(s);
                    return (new_code, true);
                }
                std::cmp::Ordering::Equal => return (last, false),
                std::cmp::Ordering::Less => self.build_index(),
            }
        }
        let h32 = self.hasher.hash_one(s) >> 32;
        let dict = &self.dict;
        let entry = self.index.entry(
            spread(h32),
            |&e| e >> 32 == h32 && dict[e as u32 as usize] == *s,
            |&e| spread(e >> 32),
        );
        match entry {
            Entry::Occupied(o) => (*o.get() as u32, false),
            Entry::Vacant(v) => {
                v.insert(h32 << 32 | new_code as u64);
                self.dict.push(s);
                (new_code, true)
            }
        }
    }

    /// Appends rows by their codes, each one [`intern`](Self::intern)
    /// returned.
    pub(crate) fn extend_codes(&mut self, codes: impl Iterator<Item = u32>) {
        self.last_new = false;
        let Some(max) = self.dict.len().checked_sub(1) else {
            return;
        };
        self.codes.extend_below(max as u32, codes);
    }

    fn next_code(&self) -> u32 {
        u32::try_from(self.dict.len()).expect("fewer than 2^32 distinct strings in one column")
    }

    /// Indexes the dictionary so far: from now on, strings are looked up.
    fn build_index(&mut self) {
        self.indexed = true;
        self.index.reserve(self.dict.len(), |&e| spread(e >> 32));
        for (code, s) in self.dict.iter().enumerate() {
            let h32 = self.hasher.hash_one(s) >> 32;
            self.index
                .insert_unique(spread(h32), h32 << 32 | code as u64, |&e| spread(e >> 32));
        }
    }

    /// Takes back the last [`push`](Self::push): its code, and its string
    /// too when that push added it (a string of a rejected row is not kept).
    /// Only the last push can be taken back.
    pub(crate) fn pop(&mut self) {
        let Some(code) = self.codes.pop() else {
            return;
        };
        if std::mem::take(&mut self.last_new) {
            if self.indexed {
                let h32 = self.hasher.hash_one(&self.dict[code as usize]) >> 32;
                if let Ok(o) = self.index.find_entry(spread(h32), |&e| e as u32 == code) {
                    o.remove();
                }
            }
            self.dict.pop();
        }
    }

    pub fn finish(mut self) -> StrVec {
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
        let valid = valid.filter(|v| v.iter().any(|b| !b));
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
        // strings out of order all occur.
        let s = "[ab]{0,3}";
        prop_oneof![
            4 => s.prop_map(Op::Push),
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
            let got_width = match &v.codes {
                Codes::U8(_) => 1,
                Codes::U16(_) => 2,
                Codes::U32(_) => 4,
            };
            assert_eq!(got_width, width, "{distinct} distinct strings");
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
            let got = match &v.codes {
                Codes::U8(_) => 1,
                Codes::U16(_) => 2,
                Codes::U32(_) => 4,
            };
            assert_eq!(got, width, "{distinct} distinct strings");
            assert_eq!(v.dict.len(), distinct);
            assert_eq!(v.codes.len(), distinct + 1);
            assert_eq!(v.codes.get(distinct), 0);
            assert_eq!(v.codes.get(distinct - 1), distinct as u32 - 1);
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
            let c = strs(child);
            let shared = recode_into(&c, None, &parent).expect("every key is a parent key");
            assert!(Arc::ptr_eq(&shared.dict, &parent.dict));
            assert_eq!(texts(&shared), child);
        }
        // A key the parent lacks, on a valid row: the column keeps its own.
        let orphan = strs(&["t1", "t9"]);
        assert!(recode_into(&orphan, None, &parent).is_none());
        assert!(recode_into(&orphan, Some(&[true, true]), &parent).is_none());
        // Under a null it does not count (nulls read code 0).
        let shared = recode_into(&orphan, Some(&[true, false]), &parent).unwrap();
        assert_eq!(shared.codes, [0, 0]);
        assert!(recode_into(&orphan, None, &strs(&[])).is_none());
    }

    #[test]
    fn the_index_is_built_at_the_first_string_out_of_order() {
        let mut b = StrBuilder::default();
        for s in ["t1", "t1", "t2", "t3", "t3"] {
            b.push(s);
        }
        assert!(!b.indexed, "an increasing column needs no index");
        b.push("t2");
        assert!(b.indexed);
        b.push("t0");
        b.push("t3");
        let v = b.finish();
        assert_eq!(v.codes, [0, 0, 1, 2, 2, 1, 3, 2]);
        assert_eq!(v.dict.iter().collect::<Vec<_>>(), ["t1", "t2", "t3", "t0"]);
    }
}
