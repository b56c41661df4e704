//! `sentiment`: a kpi plugin scoring the sentiment of customer messages, in
//! English and Chinese, from −1 (very negative) to 1 (very positive).
//!
//! Sentiment analysis measures the emotional tone behind what customers
//! write (seed article `000_3f81a2813a2fc15f.txt`, on advanced KPIs). This
//! scorer is a small lexicon method in the manner of VADER, with a word list
//! written for customer-service messages; it needs no model and gives the
//! same score for the same text everywhere, so a KPI built on it can be
//! tested with hand-computed values.
//!
//! # Method
//!
//! 1. **Tokenization.** Full-width ASCII is folded to ASCII and `’` to `'`.
//!    English (and any other spaced script) is split into words of letters
//!    and digits, apostrophes kept inside a word (`don't`), and lowercased;
//!    there is no stemming, so the word list spells out inflections
//!    (`wait`, `waiting`, `waited`). Chinese has no spaces: a run of Chinese
//!    characters is segmented by forward longest match against the lexicon
//!    (`我非常满意` → `我` `非常` `满意`), one character at a time where no
//!    entry matches. A few sentiment-free words ([`NEUTRAL`]: `你好`,
//!    `好的`, `不好意思`…) are in the lexicon only so that segmentation keeps
//!    them whole. In English, a few greetings and sign-offs ([`SET_PHRASES`]:
//!    `good morning`, `best regards`, `kind regards`) make their first word
//!    neutral. Clause punctuation (`. , ; : ! ?`, `。 、 …`, full-width
//!    forms) and line breaks are boundaries; other symbols are skipped.
//! 2. **Word list.** [`POSITIVE`] and [`NEGATIVE`] give each sentiment word
//!    a valence on VADER's −4…4 scale, in steps of 0.5: `thank` 2,
//!    `great` 3, `resolved` 2, `满意` 2, `谢谢` 2, `太好了` 3; `angry` −3,
//!    `terrible` −3, `refund` −1.5, `waiting` −1, `失望` −2.5, `投诉` −2,
//!    `太慢` −2.5. Words about waiting and refunds are mildly negative: in a
//!    support conversation they mark a problem still open.
//! 3. **Negation.** A negator ([`NEGATORS`]: `not`, `no`, `never`, any
//!    `…n't`, `不`, `没`, `没有`, `无法`…) multiplies the next sentiment word
//!    by [`NEGATION`] = −0.75 if at most [`NEGATION_GAP`] = 1 other word
//!    stands between them (intensifiers don't count): `not good` → 2 × −0.75
//!    = −1.5; `not very good`, `没有解决`, `不是很满意` are negated too, `did not
//!    receive my refund` is not (the refund is still a complaint). A second
//!    negator restarts the scope rather than cancelling the first.
//! 4. **Intensifiers.** An intensifier ([`INTENSIFIERS`]) right before a
//!    sentiment word multiplies its valence: `very`/`really`/`so`/`非常`/
//!    `太`/`特别` 1.5, `很`/`挺`/`真` 1.25, `extremely`/`极其`/`超级` 2;
//!    dampeners `slightly`/`a bit`/`有点` 0.5. Factors multiply
//!    (`really very good` = 2 × 1.5 × 1.5). A boundary ends the scope of
//!    negators and intensifiers.
//! 5. **Normalisation.** The valences of a text add up to `s`; the score is
//!    `s / sqrt(s² + α)` with α = [`ALPHA`] = 15 (VADER's value for the same
//!    scale), which lies in (−1, 1): one `thank` scores 2/√19 ≈ 0.459, and a
//!    sum of 1 scores exactly 0.25, of 7 exactly 0.875.
//!
//! A null text, or one without any word (empty, blank, only punctuation),
//! scores null; a text with words but no sentiment word scores 0.
//!
//! ```
//! use kpi_sentiment::{score, valence};
//!
//! // great 3 + thank 2 + resolved 2 = 7 → 7 / sqrt(49 + 15) = 0.875
//! assert_eq!(score("Great, thank you so much, it's resolved!"), Some(0.875));
//! // 不 negates 很 × 满意: 2 × 1.25 × −0.75
//! assert_eq!(valence("不是很满意"), Some(-1.875));
//! assert_eq!(score("  "), None);
//! ```
//!
//! Known limits: no stemming, no sarcasm, no contrast handling ("but"),
//! idioms only where listed, and a lexicon sized for support chats rather
//! than general prose.
//!
//! # Plugin
//!
//! Exports one scalar function, `sentiment(string) -> float` (null in, null
//! out), and the metric `sentiment` ([`DEFINITIONS`]): the mean score of the
//! customer messages of the period,
//! `avg(messages: sentiment(body) where author_role == "customer")`.
//!
//! The scorer lives in `src/score.rs`, which `kpi-pec` compiles into itself
//! too (to read the customer's tone). It cannot link this crate as a
//! library: both crates define the plugin entry point `kpi_plugin_entry`,
//! and one shared library cannot hold two.

mod score;

pub use score::*;

use kpi_plugin_api::{Column, Output};

/// The plugin's metric definitions and their test cases (TOML).
pub const DEFINITIONS: &str = include_str!("../metrics.toml");

/// The `sentiment` function over a column of texts: [`score`] per row.
pub fn sentiment_column(args: &[Column<'_>], rows: usize) -> Result<Output, String> {
    let text = args
        .first()
        .ok_or("sentiment takes one argument, the text")?;
    Ok(Output::Float(
        (0..rows).map(|i| text.str(i).and_then(score)).collect(),
    ))
}

/// The exported entry point, in a module of its own so that it is compiled
/// apart from the scoring code.
mod plugin {
    use kpi_plugin_api::{export_plugin, TypeCode};

    export_plugin! {
        name: "sentiment",
        version: env!("CARGO_PKG_VERSION"),
        definitions: crate::DEFINITIONS,
        scalar "sentiment"(TypeCode::String) -> TypeCode::Float = crate::sentiment_column,
            "Sentiment of a text, -1 (negative) to 1 (positive), from an English and Chinese word list; null for a text without words.";
    }
}

#[cfg(test)]
mod tests;
