//! `pec`: a kpi plugin scoring Zappos' *Personal Emotional Connection* — the
//! rapport an agent builds with a customer during a conversation — from 0
//! (none) to 100, per conversation.
//!
//! Zappos asks its agents to go beyond the transactional side of a contact
//! and make a personal, emotional connection, and tracks it as a KPI (seed
//! article `000_3f81a2813a2fc15f.txt`). Zappos scores it by human review;
//! this plugin approximates that review from the conversation's text, so it
//! can run over every ticket. A conversation is one ticket's messages,
//! ordered by `created_at`.
//!
//! # Score
//!
//! Seven rapport signals, each worth 0 to 1, are weighted and summed (the
//! weights add up to 100):
//!
//! | signal | weight | value |
//! |---|---|---|
//! | greeting | [`W_GREETING`] = 10 | 1 if an agent message greets the customer ([`GREETINGS`]: hi, hello, dear, good morning, 您好, 你好…) |
//! | name | [`W_NAME`] = 10 | 1 if an agent message calls the customer by name: a greeting or title followed by a capitalised word (`Hi Maria`, `Dear Mr. Chen`), or a Chinese surname with 先生/女士/小姐 (`王先生`) |
//! | address | [`W_ADDRESS`] = 10 | the share of agent messages that speak to the customer directly: `you`, `your`…, 您, 你, or by name |
//! | empathy | [`W_EMPATHY`] = 20 | 1 if an agent message shows empathy or apologises ([`EMPATHY`]: I understand, sorry to hear, I apologize, 理解, 抱歉…) |
//! | tone | [`W_TONE`] = 25 | how the customer's tone moved: `(last − first + 2) / 4`, where first and last are the sentiment scores (−1…1, from the `sentiment` plugin's scorer) of the first and last customer messages; 0.5 when the tone did not move or the customer wrote once |
//! | thanks | [`W_THANKS`] = 15 | 1 if the customer thanks the agent ([`THANKS`]: thank you, thanks, appreciate, 谢谢, 感谢…) in a message written after the agent's first message |
//! | beyond | [`W_BEYOND`] = 10 | 1 if an agent message offers more help ([`MORE_HELP`]: anything else, any other questions, feel free, 还有什么, 随时…) |
//!
//! Phrases are matched as whole lowercased words in English (so `hi` does
//! not match inside `this`) and as substrings in Chinese.
//!
//! Only messages with text count (a body with at least one word); roles are
//! `agent` and `customer` (case-insensitive), other roles (`system`) are
//! ignored. A conversation with no agent message or no customer message has
//! no connection to score: its score is null, and `avg` leaves it out.
//! Messages are ordered by `created_at` (a null time last, ties in input
//! order), so the tone trend and the "thanks after the agent spoke" rule
//! depend on time, not on the order rows arrive in.
//!
//! ```
//! use kpi_pec::{pec, Message};
//!
//! let m = |t, role, body| Message { body: Some(body), author_role: Some(role), created_at: Some(t) };
//! let conversation = [
//!     m(0, "customer", "Still waiting"),
//!     m(1, "agent", "Hi Maria, sorry about that! It ships today. Anything else?"),
//!     m(2, "customer", "Great, thank you so much, it's resolved!"),
//! ];
//! // greeting 10 + name 10 + address (by name) 10 + empathy 20
//! // + tone 25 × (0.875 − (−0.25) + 2) / 4 + thanks 15 + more help 10
//! assert_eq!(pec(&conversation), Some(94.53125));
//! assert_eq!(pec(&conversation[..1]), None); // no agent message
//! ```
//!
//! # Plugin
//!
//! Exports one aggregate function,
//! `pec_score(string body, string author_role, timestamp created_at) -> float`,
//! one score per group, and the metric `pec` ([`DEFINITIONS`]): the mean
//! score of the conversations of the tickets solved in the period,
//! `avg(tickets@solved_at: pec_score(messages: body, author_role, created_at))`.
//!
//! The sentiment scorer is `kpi-sentiment`'s own `src/score.rs`, compiled in
//! as a module rather than linked as that crate: both plugins define the
//! entry point `kpi_plugin_entry`, and a shared library cannot hold two.

#[allow(dead_code)] // only the scorer and the word splitter are used here
#[path = "../../sentiment/src/score.rs"]
mod sentiment;

use kpi_plugin_api::{Column, Output};

use sentiment::{fold, is_han, words};

/// The plugin's metric definitions and their test cases (TOML).
pub const DEFINITIONS: &str = include_str!("../metrics.toml");

/// Weight of the greeting signal.
pub const W_GREETING: f64 = 10.0;
/// Weight of calling the customer by name.
pub const W_NAME: f64 = 10.0;
/// Weight of the share of agent messages addressing the customer.
pub const W_ADDRESS: f64 = 10.0;
/// Weight of empathy or apology.
pub const W_EMPATHY: f64 = 20.0;
/// Weight of the customer's tone trend.
pub const W_TONE: f64 = 25.0;
/// Weight of thanks from the customer.
pub const W_THANKS: f64 = 15.0;
/// Weight of offering more help.
pub const W_BEYOND: f64 = 10.0;

/// Agent greetings. Multi-word English phrases match consecutive words.
pub const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "greetings",
    "good morning",
    "good afternoon",
    "good evening",
    "您好",
    "你好",
    "早上好",
    "上午好",
    "下午好",
    "晚上好",
    "亲爱的",
];
/// Words after which a capitalised word is taken for a name.
pub const NAME_LEADS: &[&str] = &["hi", "hello", "hey", "dear"];
/// Titles after which a capitalised word is a surname (`Mr. Chen`).
pub const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr"];
/// Capitalised words after a greeting that are not names.
pub const NOT_NAMES: &[&str] = &[
    "there",
    "team",
    "all",
    "everyone",
    "everybody",
    "folks",
    "guys",
    "friend",
    "friends",
    "customer",
    "sir",
    "madam",
    "again",
    "and",
    "i",
    "we",
    "thanks",
    "thank",
    "good",
    "how",
];
/// Chinese forms of address that follow a surname (`王先生`, `李女士`).
pub const HONORIFICS: &[&str] = &["先生", "女士", "小姐"];
/// Characters before an honorific that show it is not a name (`这位先生`).
const NOT_SURNAMES: &[char] = &['位', '的', '名', '这', '那', '个'];
/// Words addressing the customer.
pub const YOU: &[&str] = &[
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "you're",
    "you've",
    "you'll",
    "you'd",
    "您",
    "你",
];
/// Empathy and apology phrases.
pub const EMPATHY: &[&str] = &[
    "i understand",
    "i completely understand",
    "i totally understand",
    "i fully understand",
    "i can understand",
    "understand how",
    "understand your",
    "sorry",
    "apologize",
    "apologise",
    "apologies",
    "i can imagine",
    "must be frustrating",
    "i hear you",
    "理解",
    "抱歉",
    "对不起",
    "不好意思",
    "体谅",
    "感同身受",
    "让您久等",
    "给您带来不便",
];
/// Thanks from the customer.
pub const THANKS: &[&str] = &[
    "thank",
    "thanks",
    "thankyou",
    "thx",
    "appreciate",
    "appreciated",
    "grateful",
    "谢谢",
    "感谢",
    "多谢",
    "谢了",
    "谢啦",
];
/// Offers of more help.
pub const MORE_HELP: &[&str] = &[
    "anything else",
    "something else",
    "any other questions",
    "any other question",
    "any further questions",
    "any more questions",
    "further assistance",
    "further help",
    "happy to help",
    "glad to help",
    "feel free",
    "don't hesitate",
    "do not hesitate",
    "let me know if",
    "还有什么",
    "还有其他",
    "其他问题",
    "其他需要",
    "随时",
    "乐意为您",
    "很高兴为您",
];

/// One message of a conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Message<'a> {
    /// The text; null counts as no message.
    pub body: Option<&'a str>,
    /// `agent`, `customer` or another role.
    pub author_role: Option<&'a str>,
    /// Microseconds since the epoch.
    pub created_at: Option<i64>,
}

/// The seven signals of a conversation, each 0…1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signals {
    /// An agent greeted the customer.
    pub greeting: f64,
    /// An agent called the customer by name.
    pub name: f64,
    /// Share of agent messages addressing the customer.
    pub address: f64,
    /// An agent showed empathy or apologised.
    pub empathy: f64,
    /// `(last − first + 2) / 4` of the customer messages' sentiment.
    pub tone: f64,
    /// The customer thanked, after the agent's first message.
    pub thanks: f64,
    /// An agent offered more help.
    pub beyond: f64,
}

impl Signals {
    /// The weighted sum, 0…100.
    pub fn score(&self) -> f64 {
        W_GREETING * self.greeting
            + W_NAME * self.name
            + W_ADDRESS * self.address
            + W_EMPATHY * self.empathy
            + W_TONE * self.tone
            + W_THANKS * self.thanks
            + W_BEYOND * self.beyond
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Agent,
    Customer,
}

/// A message body prepared for phrase matching.
struct Text<'a> {
    raw: &'a str,
    /// Lowercased, full-width folded: for Chinese substrings.
    folded: String,
    /// Folded words: for English phrases.
    words: Vec<String>,
}

impl<'a> Text<'a> {
    fn new(raw: &'a str) -> Text<'a> {
        Text {
            raw,
            folded: fold(raw),
            words: words(raw).into_iter().map(|(_, w)| fold(w)).collect(),
        }
    }

    fn has(&self, phrase: &str) -> bool {
        if phrase.chars().any(is_han) {
            return self.folded.contains(phrase);
        }
        let want: Vec<&str> = phrase.split(' ').collect();
        self.words
            .windows(want.len())
            .any(|w| w.iter().zip(&want).all(|(a, b)| a == b))
    }

    fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// A greeting or title directly followed (spaces and a comma, or the
    /// title's full stop, between) by a capitalised word that is not a
    /// common non-name; or a Chinese surname before an honorific.
    fn uses_name(&self) -> bool {
        let ws = words(self.raw);
        let english = ws.windows(2).any(|pair| {
            let ((i, lead), (j, next)) = (pair[0], pair[1]);
            let lead = fold(lead);
            let allowed: &[char] = if TITLES.contains(&lead.as_str()) {
                &[' ', ',', '.']
            } else if NAME_LEADS.contains(&lead.as_str()) {
                &[' ', ',']
            } else {
                return false;
            };
            let gap = &self.raw[i + pair[0].1.len()..j];
            let next_folded = fold(next);
            gap.chars()
                .all(|c| allowed.contains(&c) || c.is_whitespace())
                && gap.matches([',', '.']).count() <= 1
                && next.chars().next().is_some_and(char::is_uppercase)
                && !NOT_NAMES.contains(&next_folded.as_str())
                && !TITLES.contains(&next_folded.as_str())
        });
        english
            || HONORIFICS.iter().any(|h| {
                self.folded.match_indices(h).any(|(at, _)| {
                    self.folded[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| is_han(c) && !NOT_SURNAMES.contains(&c))
                })
            })
    }
}

fn role(r: Option<&str>) -> Option<Role> {
    let r = r?.trim();
    if r.eq_ignore_ascii_case("agent") {
        Some(Role::Agent)
    } else if r.eq_ignore_ascii_case("customer") {
        Some(Role::Customer)
    } else {
        None
    }
}

/// The signals of one conversation; `None` without an agent message or a
/// customer message (with text). The messages may come in any order.
pub fn signals(messages: &[Message<'_>]) -> Option<Signals> {
    let mut order: Vec<&Message<'_>> = messages.iter().collect();
    // Stable: ties keep their input order; a null time goes last.
    order.sort_by_key(|m| (m.created_at.is_none(), m.created_at));
    let mut agent: Vec<Text<'_>> = Vec::new();
    // Customer messages: sentiment and whether they thank the agent.
    let mut customer: Vec<(f64, bool)> = Vec::new();
    for m in order {
        let (Some(role), Some(body)) = (role(m.author_role), m.body) else {
            continue;
        };
        let Some(tone) = sentiment::score(body) else {
            continue;
        };
        let text = Text::new(body);
        match role {
            Role::Agent => agent.push(text),
            Role::Customer => customer.push((tone, !agent.is_empty() && text.has_any(THANKS))),
        }
    }
    let (first, last) = (customer.first()?.0, customer.last()?.0);
    if agent.is_empty() {
        return None;
    }
    let any = |f: &dyn Fn(&Text<'_>) -> bool| if agent.iter().any(f) { 1.0 } else { 0.0 };
    let addressed = agent
        .iter()
        .filter(|t| t.has_any(YOU) || t.uses_name())
        .count();
    Some(Signals {
        greeting: any(&|t| t.has_any(GREETINGS)),
        name: any(&|t| t.uses_name()),
        address: addressed as f64 / agent.len() as f64,
        empathy: any(&|t| t.has_any(EMPATHY)),
        tone: (last - first + 2.0) / 4.0,
        thanks: if customer.iter().any(|c| c.1) {
            1.0
        } else {
            0.0
        },
        beyond: any(&|t| t.has_any(MORE_HELP)),
    })
}

/// The PEC score of one conversation, 0…100; `None` without an agent
/// message or a customer message.
pub fn pec(messages: &[Message<'_>]) -> Option<f64> {
    signals(messages).map(|s| s.score())
}

/// The `pec_score` aggregate: columns body, author_role, created_at; one
/// score per group.
pub fn pec_column(args: &[Column<'_>], groups: &[u32], n_groups: usize) -> Result<Output, String> {
    let [body, role, at] = args else {
        return Err(format!(
            "pec_score takes 3 arguments (body, author_role, created_at), got {}",
            args.len()
        ));
    };
    let mut conversations: Vec<Vec<Message<'_>>> = vec![Vec::new(); n_groups];
    for (i, &g) in groups.iter().enumerate() {
        conversations[g as usize].push(Message {
            body: body.str(i),
            author_role: role.str(i),
            created_at: at.i64(i),
        });
    }
    Ok(Output::Float(
        conversations.iter().map(|c| pec(c)).collect(),
    ))
}

/// The exported entry point, in a module of its own so that it is compiled
/// apart from the scoring code.
mod plugin {
    use kpi_plugin_api::{export_plugin, TypeCode};

    export_plugin! {
        name: "pec",
        version: env!("CARGO_PKG_VERSION"),
        definitions: crate::DEFINITIONS,
        aggregate "pec_score"(TypeCode::String, TypeCode::String, TypeCode::Timestamp) -> TypeCode::Float = crate::pec_column,
            "Personal Emotional Connection of a conversation (its messages: body, author_role, created_at), 0-100; null without both an agent and a customer message.";
    }
}

#[cfg(test)]
mod tests;
