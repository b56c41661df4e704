//! The scorer itself: word lists, tokenizer and scoring rules.
//!
//! This file depends on nothing but `std` and refers to nothing else in its
//! crate, because `kpi-pec` compiles it as a module of its own (see that
//! crate's docs for why it can't link this crate as a library).

use std::collections::HashMap;
use std::sync::OnceLock;

/// What a lexicon entry does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A sentiment word with its valence (−4…4; positive is good).
    Word(f64),
    /// Flips the next sentiment word (see [`NEGATION`], [`NEGATION_GAP`]).
    Negator,
    /// Scales the sentiment word right after it.
    Intensifier(f64),
    /// No sentiment: a Chinese word listed only so that longest-match
    /// segmentation does not cut a sentiment word out of it (`你好` must not
    /// read as `你` + `好` "good").
    Neutral,
    /// Punctuation or a line break: ends the scope of negators and
    /// intensifiers.
    Boundary,
}

/// The α of the normalisation `sum / sqrt(sum² + α)`, as in VADER, whose
/// valences use the same −4…4 scale.
pub const ALPHA: f64 = 15.0;
/// What a negated sentiment word's valence is multiplied by. Less than a full
/// flip (as VADER's 0.74): "not bad" is weaker praise than "good".
pub const NEGATION: f64 = -0.75;
/// How many plain words may stand between a negator and the sentiment word it
/// flips (intensifiers do not count): "not very good", "not that good",
/// "不是很满意" are negated, "did not receive my refund" is not.
pub const NEGATION_GAP: usize = 1;

/// Positive words, English and Chinese. English words are matched whole and
/// lowercased, without stemming, so inflections are listed.
pub const POSITIVE: &[(&str, f64)] = &[
    ("thank", 2.0),
    ("thanks", 2.0),
    ("thankyou", 2.0),
    ("thx", 1.5),
    ("appreciate", 2.0),
    ("appreciated", 2.0),
    ("grateful", 2.5),
    ("great", 3.0),
    ("good", 2.0),
    ("nice", 2.0),
    ("excellent", 3.0),
    ("awesome", 3.0),
    ("amazing", 3.0),
    ("perfect", 3.0),
    ("wonderful", 3.0),
    ("fantastic", 3.0),
    ("brilliant", 3.0),
    ("best", 3.0),
    ("love", 3.0),
    ("lovely", 2.5),
    ("happy", 2.5),
    ("glad", 2.0),
    ("pleased", 2.0),
    ("satisfied", 2.0),
    ("helpful", 2.0),
    ("friendly", 2.0),
    ("kind", 1.5),
    ("patient", 1.5),
    ("professional", 1.5),
    ("resolved", 2.0),
    ("solved", 2.0),
    ("fixed", 2.0),
    ("sorted", 1.5),
    ("works", 1.5),
    ("working", 1.5),
    ("fast", 1.5),
    ("quick", 1.5),
    ("quickly", 1.5),
    ("easy", 1.5),
    ("smooth", 1.5),
    ("ok", 0.5),
    ("okay", 0.5),
    ("fine", 0.5),
    ("谢谢", 2.0),
    ("感谢", 2.0),
    ("多谢", 2.0),
    ("谢了", 2.0),
    ("满意", 2.0),
    ("太好了", 3.0),
    ("好", 1.5),
    ("不错", 2.0),
    ("棒", 3.0),
    ("完美", 3.0),
    ("喜欢", 2.5),
    ("开心", 2.5),
    ("高兴", 2.5),
    ("友好", 2.0),
    ("热情", 2.0),
    ("贴心", 2.0),
    ("专业", 1.5),
    ("耐心", 1.5),
    ("及时", 1.5),
    ("迅速", 1.5),
    ("高效", 2.0),
    ("方便", 1.5),
    ("解决", 1.5),
    ("解决了", 2.0),
    ("已解决", 2.0),
    ("好评", 2.5),
    ("赞", 2.0),
    ("给力", 2.0),
    ("没问题", 1.5),
    ("辛苦了", 1.5),
];

/// Negative words. Words about waiting and refunds are mildly negative: in a
/// support conversation they mark a problem still open.
pub const NEGATIVE: &[(&str, f64)] = &[
    ("angry", -3.0),
    ("furious", -3.5),
    ("terrible", -3.0),
    ("awful", -3.0),
    ("horrible", -3.0),
    ("worst", -3.5),
    ("bad", -2.5),
    ("poor", -2.0),
    ("disappointed", -2.5),
    ("disappointing", -2.5),
    ("frustrated", -2.5),
    ("frustrating", -2.5),
    ("annoyed", -2.0),
    ("annoying", -2.0),
    ("upset", -2.5),
    ("unhappy", -2.5),
    ("dissatisfied", -2.5),
    ("unacceptable", -3.0),
    ("ridiculous", -2.5),
    ("useless", -2.5),
    ("rude", -2.5),
    ("hate", -3.0),
    ("scam", -3.0),
    ("complaint", -2.0),
    ("complain", -2.0),
    ("broken", -2.0),
    ("damaged", -2.0),
    ("wrong", -1.5),
    ("fail", -2.0),
    ("failed", -2.0),
    ("error", -1.5),
    ("missing", -1.5),
    ("lost", -1.5),
    ("problem", -1.0),
    ("issue", -1.0),
    ("slow", -1.5),
    ("late", -1.5),
    ("delay", -1.5),
    ("delayed", -1.5),
    ("refund", -1.5),
    ("cancel", -1.0),
    ("wait", -1.0),
    ("waiting", -1.0),
    ("waited", -1.0),
    ("失望", -2.5),
    ("投诉", -2.0),
    ("太慢", -2.5),
    ("慢", -1.5),
    ("差", -2.0),
    ("差评", -2.5),
    ("糟糕", -2.5),
    ("生气", -2.5),
    ("愤怒", -3.0),
    ("气愤", -3.0),
    ("不满", -2.0),
    ("不满意", -2.0),
    ("不行", -1.5),
    ("垃圾", -3.0),
    ("骗子", -3.0),
    ("欺骗", -3.0),
    ("离谱", -2.5),
    ("无语", -2.0),
    ("烦", -2.0),
    ("失败", -2.0),
    ("错误", -1.5),
    ("故障", -1.5),
    ("坏了", -2.0),
    ("损坏", -2.0),
    ("破损", -2.0),
    ("延迟", -1.5),
    ("遗憾", -1.5),
    ("难用", -2.0),
    ("崩溃", -2.5),
    ("着急", -1.5),
    ("退款", -1.5),
    ("退货", -1.0),
    ("等待", -1.0),
    ("等了", -1.0),
];

/// Negators. Besides these, every English word ending in `n't` (don't,
/// can't, wasn't…) is one.
pub const NEGATORS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot", "without",
    "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant", "couldnt", "wont",
    "wouldnt", "shouldnt", "havent", "hasnt", "hadnt", "不", "没", "没有", "未", "别", "无",
    "无法",
];

/// Intensifiers (factor above 1) and dampeners (below 1).
pub const INTENSIFIERS: &[(&str, f64)] = &[
    ("very", 1.5),
    ("really", 1.5),
    ("super", 1.5),
    ("so", 1.5),
    ("too", 1.5),
    ("truly", 1.5),
    ("totally", 1.5),
    ("completely", 1.5),
    ("absolutely", 1.5),
    ("extremely", 2.0),
    ("incredibly", 2.0),
    ("slightly", 0.5),
    ("somewhat", 0.5),
    ("kinda", 0.5),
    ("bit", 0.5),
    ("非常", 1.5),
    ("特别", 1.5),
    ("十分", 1.5),
    ("太", 1.5),
    ("很", 1.25),
    ("挺", 1.25),
    ("真", 1.25),
    ("极其", 2.0),
    ("超级", 2.0),
    ("有点", 0.5),
    ("有些", 0.5),
    ("稍微", 0.5),
];

/// Chinese words without sentiment that contain a character of the lists
/// above; listed so that segmentation keeps them whole.
pub const NEUTRAL: &[&str] = &[
    "你好",
    "您好",
    "好的",
    "好吗",
    "好像",
    "只好",
    "好久",
    "好多",
    "好几",
    "还好",
    "差不多",
    "麻烦",
    "不好意思",
    "不客气",
    "不过",
    "不仅",
    "不用",
    "无论",
    "别人",
    "真的",
];

/// English greetings and sign-offs whose first word is in the lists above
/// but carries no sentiment here: the word counts as neutral.
pub const SET_PHRASES: &[(&str, &str)] = &[
    ("good", "morning"),
    ("good", "afternoon"),
    ("good", "evening"),
    ("good", "day"),
    ("good", "night"),
    ("best", "regards"),
    ("best", "wishes"),
    ("kind", "regards"),
];

/// Every entry by its text (English lowercased).
fn lexicon() -> &'static HashMap<&'static str, Kind> {
    static LEXICON: OnceLock<HashMap<&'static str, Kind>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut m = HashMap::new();
        m.extend(NEUTRAL.iter().map(|w| (*w, Kind::Neutral)));
        m.extend(
            INTENSIFIERS
                .iter()
                .map(|(w, f)| (*w, Kind::Intensifier(*f))),
        );
        m.extend(NEGATORS.iter().map(|w| (*w, Kind::Negator)));
        m.extend(
            POSITIVE
                .iter()
                .chain(NEGATIVE)
                .map(|(w, v)| (*w, Kind::Word(*v))),
        );
        m
    })
}

/// The longest Chinese entry, in characters.
fn longest_han_entry() -> usize {
    static LONGEST: OnceLock<usize> = OnceLock::new();
    *LONGEST.get_or_init(|| {
        lexicon()
            .keys()
            .filter(|k| k.chars().any(is_han))
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(1)
    })
}

/// A CJK ideograph: Chinese text has no spaces, so these are segmented by
/// the lexicon rather than split into words.
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Full-width ASCII (`Ｔｈａｎｋｓ！`) as ASCII, and the typographic
/// apostrophe as `'`.
fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{2019}' | '\u{2018}' => '\'',
        _ => c,
    }
}

/// Clause punctuation (after [`fold_char`]) and line breaks. Other symbols
/// (quotes, dashes, emoji) are skipped like spaces.
fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '\n' | '。' | '、' | '…' | '～' | '~'
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// The words of a text that are not Chinese, in their original case, each
/// with its byte offset: runs of letters and digits, with apostrophes kept
/// inside a word (`don't`). Chinese characters and everything else separate
/// words.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let f = fold_char(c);
        let inner_apostrophe = f == '\''
            && start.is_some()
            && chars
                .peek()
                .is_some_and(|&(_, n)| is_word_char(fold_char(n)));
        if is_word_char(f) || inner_apostrophe {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, &text[s..i]));
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// A word as the lexicon spells it: lowercased, full-width letters and
/// typographic apostrophes folded.
pub fn fold(word: &str) -> String {
    word.chars()
        .map(fold_char)
        .flat_map(char::to_lowercase)
        .collect()
}

/// One token of a text with what the lexicon makes of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token as looked up: an English word folded by [`fold`], or a
    /// segment of Chinese text.
    pub text: String,
    /// Its role; [`Kind::Neutral`] for words not in the lexicon.
    pub kind: Kind,
}

/// Splits a text into tokens: English (and other spaced-script) words,
/// lowercased; Chinese by forward longest match against the lexicon, one
/// character at a time where nothing matches; clause punctuation and line
/// breaks as one [`Kind::Boundary`]; spaces and other symbols dropped.
pub fn tokenize(text: &str) -> Vec<Token> {
    let lex = lexicon();
    let mut out: Vec<Token> = Vec::new();
    let chars: Vec<char> = text.chars().map(fold_char).collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_word_char(c) {
            let mut j = i;
            while j < chars.len()
                && (is_word_char(chars[j])
                    || (chars[j] == '\'' && j + 1 < chars.len() && is_word_char(chars[j + 1])))
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().flat_map(|c| c.to_lowercase()).collect();
            let kind = match lex.get(word.as_str()) {
                Some(k) => *k,
                None if word.ends_with("n't") => Kind::Negator,
                None => Kind::Neutral,
            };
            if let Some(prev) = out.last_mut() {
                if SET_PHRASES.contains(&(prev.text.as_str(), word.as_str())) {
                    prev.kind = Kind::Neutral;
                }
            }
            out.push(Token { text: word, kind });
            i = j;
        } else if is_han(c) {
            let run_end = (i..chars.len())
                .find(|&j| !is_han(chars[j]))
                .unwrap_or(chars.len());
            let longest = longest_han_entry().min(run_end - i);
            let (len, kind) = (1..=longest)
                .rev()
                .find_map(|n| {
                    lex.get(chars[i..i + n].iter().collect::<String>().as_str())
                        .map(|k| (n, *k))
                })
                .unwrap_or((1, Kind::Neutral));
            out.push(Token {
                text: chars[i..i + len].iter().collect(),
                kind,
            });
            i += len;
        } else {
            if is_boundary(c) && out.last().is_none_or(|t: &Token| t.kind != Kind::Boundary) {
                out.push(Token {
                    text: c.to_string(),
                    kind: Kind::Boundary,
                });
            }
            i += 1;
        }
    }
    out
}

/// The valence of a text before normalisation: the sum over its sentiment
/// words of valence × intensifier factors × [`NEGATION`] if negated; `None`
/// when the text has no words at all (empty, blank or only punctuation).
///
/// An intensifier scales the sentiment word right after it (other
/// intensifiers and negators may stand between). A negator flips the next
/// sentiment word if at most [`NEGATION_GAP`] other words stand between
/// them. Negations do not stack: a second negator restarts the scope. A
/// boundary ends both scopes.
pub fn valence(text: &str) -> Option<f64> {
    let mut any = false;
    let mut sum = 0.0;
    // Plain words seen since the pending negator, if one is pending.
    let mut negated: Option<usize> = None;
    let mut boost = 1.0;
    for t in tokenize(text) {
        match t.kind {
            Kind::Boundary => {
                negated = None;
                boost = 1.0;
            }
            Kind::Negator => {
                any = true;
                negated = Some(0);
            }
            Kind::Intensifier(f) => {
                any = true;
                boost *= f;
            }
            Kind::Word(v) => {
                any = true;
                sum += v * boost * if negated.is_some() { NEGATION } else { 1.0 };
                negated = None;
                boost = 1.0;
            }
            Kind::Neutral => {
                any = true;
                boost = 1.0;
                negated = negated.map(|n| n + 1).filter(|&n| n <= NEGATION_GAP);
            }
        }
    }
    any.then_some(sum)
}

/// Maps a valence sum into −1…1: `sum / sqrt(sum² + ALPHA)`.
pub fn normalize(sum: f64) -> f64 {
    sum / (sum * sum + ALPHA).sqrt()
}

/// The sentiment of a text in −1…1; `None` for a text without words.
pub fn score(text: &str) -> Option<f64> {
    valence(text).map(normalize)
}
