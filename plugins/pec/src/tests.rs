//! Fixture conversations with hand-computed signals and scores. Sentiment
//! figures: a customer message with valence sum −1 scores −1/√16 = −0.25,
//! one with sum 7 scores 7/√64 = 0.875 (see `kpi-sentiment`).

use super::*;
use kpi_plugin_api::{ArrowArray, ErrorBuffer, FunctionKind, TypeCode};

const MIN: i64 = 60_000_000;

fn msg<'a>(minute: i64, role: &'a str, body: &'a str) -> Message<'a> {
    Message {
        body: Some(body),
        author_role: Some(role),
        created_at: Some(minute * MIN),
    }
}

/// Customer waits (waiting −1 → −0.25), the agent greets by name,
/// empathises, addresses, offers more; the customer thanks (great 3 +
/// thank 2 + resolved 2 = 7 → 0.875).
fn english() -> Vec<Message<'static>> {
    vec![
        msg(0, "customer", "Where is my order? I have been waiting a week"),
        msg(5, "agent", "Hi Maria, I'm so sorry to hear that. I understand how annoying this is. Let me check."),
        msg(20, "agent", "Your parcel is on its way and arrives tomorrow. Is there anything else I can help you with?"),
        msg(30, "customer", "Great, thank you so much, it's resolved!"),
    ]
}

/// The same in Chinese, without a name: 等待 −1 → −0.25; 谢谢 2 + 太好了 3 +
/// 解决了 2 = 7 → 0.875.
fn chinese() -> Vec<Message<'static>> {
    vec![
        msg(0, "customer", "我一直在等待发货"),
        msg(5, "agent", "您好，非常抱歉让您久等了，我们马上为您处理。"),
        msg(20, "customer", "谢谢，太好了，已经解决了"),
        msg(25, "agent", "不客气，请问还有什么可以帮您？"),
    ]
}

#[test]
fn english_conversation() {
    let s = signals(&english()).unwrap();
    // tone: (0.875 − (−0.25) + 2) / 4 = 3.125 / 4 = 0.78125
    assert_eq!(
        s,
        Signals {
            greeting: 1.0,
            name: 1.0,
            address: 1.0,
            empathy: 1.0,
            tone: 0.78125,
            thanks: 1.0,
            beyond: 1.0
        }
    );
    // 10 + 10 + 10 + 20 + 25 × 0.78125 + 15 + 10 = 94.53125
    assert_eq!(pec(&english()), Some(94.53125));
}

#[test]
fn chinese_conversation() {
    let s = signals(&chinese()).unwrap();
    // 您好 greets; no name; 您 in both agent messages; 抱歉; 还有什么; 谢谢 after the agent spoke
    assert_eq!(
        s,
        Signals {
            greeting: 1.0,
            name: 0.0,
            address: 1.0,
            empathy: 1.0,
            tone: 0.78125,
            thanks: 1.0,
            beyond: 1.0
        }
    );
    // 10 + 0 + 10 + 20 + 19.53125 + 15 + 10 = 84.53125
    assert_eq!(pec(&chinese()), Some(84.53125));
}

#[test]
fn row_order_does_not_matter_but_time_order_does() {
    let mut shuffled = english();
    shuffled.reverse();
    assert_eq!(pec(&shuffled), Some(94.53125));

    // Swap the times of the two customer messages: the thanks now comes
    // first (minute 0, before the agent spoke) and the complaint last.
    let mut swapped = english();
    swapped[0].created_at = Some(30 * MIN);
    swapped[3].created_at = Some(0);
    let s = signals(&swapped).unwrap();
    // tone: (−0.25 − 0.875 + 2) / 4 = 0.875 / 4 = 0.21875; thanks before the agent's first message: 0
    assert_eq!(s.tone, 0.21875);
    assert_eq!(s.thanks, 0.0);
    // 10 + 10 + 10 + 20 + 25 × 0.21875 + 0 + 10 = 65.46875
    assert_eq!(pec(&swapped), Some(65.46875));
}

#[test]
fn a_conversation_needs_both_sides() {
    let agent_only = [
        msg(
            0,
            "agent",
            "Hi Maria, your order has shipped. Anything else?",
        ),
        msg(1, "system", "Ticket solved"),
    ];
    assert_eq!(pec(&agent_only), None);
    let customer_only = [msg(0, "customer", "Hello? Anyone there? Still waiting")];
    assert_eq!(pec(&customer_only), None);
    assert_eq!(pec(&[]), None);
    // A null or wordless body is no message.
    let silent = [
        Message {
            body: None,
            author_role: Some("customer"),
            created_at: Some(0),
        },
        msg(1, "agent", "Hello"),
    ];
    assert_eq!(pec(&silent), None);
    let punctuation = [msg(0, "customer", "???"), msg(1, "agent", "Hello")];
    assert_eq!(pec(&punctuation), None);
}

#[test]
fn a_bare_conversation_scores_only_a_flat_tone() {
    // One customer message: no movement, tone 0.5; the agent neither greets,
    // addresses, empathises nor offers more: 25 × 0.5 = 12.5
    let bare = [
        msg(0, "customer", "Order 1234 status"),
        msg(1, "agent", "Shipped yesterday."),
    ];
    assert_eq!(
        signals(&bare).unwrap(),
        Signals {
            greeting: 0.0,
            name: 0.0,
            address: 0.0,
            empathy: 0.0,
            tone: 0.5,
            thanks: 0.0,
            beyond: 0.0
        }
    );
    assert_eq!(pec(&bare), Some(12.5));
}

#[test]
fn address_is_the_share_of_agent_messages() {
    // 2 of 3 agent messages say "you"/"your": 10 × 2/3; customer "Thanks!" (2 → 2/√19) alone: tone 0.5, thanks 1
    let c = [
        msg(0, "customer", "Thanks!"),
        msg(1, "agent", "Checking the order now."),
        msg(2, "agent", "It ships today, you will get an email."),
        msg(3, "agent", "Your tracking number is 42."),
    ];
    let s = signals(&c).unwrap();
    assert_eq!(s.address, 2.0 / 3.0);
    // The thanks came before the agent spoke: not counted.
    assert_eq!(s.thanks, 0.0);
    let score = pec(&c).unwrap();
    assert!((score - (20.0 / 3.0 + 12.5)).abs() < 1e-12, "{score}");
}

#[test]
fn null_times_go_last_and_ties_keep_row_order() {
    // The complaint has no time: it sorts last, so the tone falls from 0.875 to −0.25.
    let c = [
        Message {
            body: Some("Still waiting"),
            author_role: Some("customer"),
            created_at: None,
        },
        msg(0, "agent", "Hello"),
        msg(1, "customer", "Great, thank you so much, it's resolved!"),
    ];
    assert_eq!(signals(&c).unwrap().tone, 0.21875);
    // Equal times: row order decides; here the thanks row comes after the agent's.
    let tie = [
        msg(0, "customer", "Still waiting"),
        msg(5, "agent", "Hello"),
        msg(5, "customer", "Thanks"),
    ];
    assert_eq!(signals(&tie).unwrap().thanks, 1.0);
}

#[test]
fn names_and_phrases() {
    let named = |s: &str| Text::new(s).uses_name();
    assert!(named("Hi Maria, thanks for waiting"));
    assert!(named("Hello, Tom"));
    assert!(named("Dear Mr. Chen,"));
    assert!(named("王先生您好"));
    assert!(named("李女士，您的订单已发货"));
    assert!(!named("Hi there, how can I help?"));
    assert!(!named("Hello. We checked your order"));
    assert!(!named("Hi Team"));
    assert!(!named("hi maria"));
    assert!(!named("这位先生"));
    // Whole words in English, substrings in Chinese.
    assert!(!Text::new("this is it").has_any(GREETINGS));
    assert!(Text::new("Good Morning!").has_any(GREETINGS));
    assert!(Text::new("Is there ANYTHING ELSE?").has_any(MORE_HELP));
    assert!(Text::new("Please don’t hesitate to ask").has_any(MORE_HELP));
    assert!(Text::new("如有问题请随时联系").has_any(MORE_HELP));
    assert!(Text::new("非常理解您的心情").has_any(EMPATHY));
    assert!(!Text::new("I see").has_any(EMPATHY));
    // Mixed-language agent message: greets in Chinese, addresses in English.
    let mixed = Text::new("您好 Maria, sorry about the delay, you will get it today");
    assert!(mixed.has_any(GREETINGS) && mixed.has_any(EMPATHY) && mixed.has_any(YOU));
}

#[test]
fn roles_are_case_insensitive_and_others_ignored() {
    let c = [
        msg(0, "Customer", "Still waiting"),
        msg(1, " AGENT ", "Sorry!"),
        msg(2, "bot", "Hi Maria, anything else?"),
    ];
    // empathy 20 + flat tone 12.5; the bot's greeting, name and offer don't count
    assert_eq!(pec(&c), Some(32.5));
}

/// Runs `pec_score` through the exported C entry point, as the host does.
#[test]
fn exported_through_the_c_abi() {
    // SAFETY: the entry point returns a static descriptor.
    let d = unsafe { &*plugin::kpi_plugin_entry() };
    assert_eq!(d.abi_version, kpi_plugin_api::ABI_VERSION);
    // SAFETY: static strings.
    assert_eq!(unsafe { d.name.as_str() }, Some("pec"));
    assert_eq!(unsafe { d.definitions.as_str() }, Some(DEFINITIONS));
    assert!(DEFINITIONS.contains("[metric.pec]"));
    assert_eq!(d.n_functions, 1);
    // SAFETY: one function descriptor.
    let f = unsafe { &*d.functions };
    assert_eq!(unsafe { f.name.as_str() }, Some("pec_score"));
    assert_eq!(f.kind, FunctionKind::Aggregate as u32);
    let want = [
        TypeCode::String as u32,
        TypeCode::String as u32,
        TypeCode::Timestamp as u32,
    ];
    assert_eq!(
        unsafe { std::slice::from_raw_parts(f.arg_types, f.n_args) },
        want
    );
    assert_eq!(f.return_type, TypeCode::Float as u32);

    // Group 0: the English conversation, rows interleaved with group 1 (the
    // Chinese one); group 2: agent only; group 3: no rows.
    let (en, zh) = (english(), chinese());
    let mut rows: Vec<(u32, Message<'_>)> = Vec::new();
    for i in 0..4 {
        rows.push((1, zh[3 - i]));
        rows.push((0, en[i]));
    }
    rows.push((2, msg(0, "agent", "Hello")));
    let body =
        Output::String(rows.iter().map(|(_, m)| m.body.map(String::from)).collect()).into_arrow();
    let role = Output::String(
        rows.iter()
            .map(|(_, m)| m.author_role.map(String::from))
            .collect(),
    )
    .into_arrow();
    let at = Output::Timestamp(rows.iter().map(|(_, m)| m.created_at).collect()).into_arrow();
    let groups: Vec<u32> = rows.iter().map(|r| r.0).collect();
    let args = [&body as *const ArrowArray, &role, &at];
    let mut out = ArrowArray::empty();
    let mut buf = [0u8; 256];
    let mut err = ErrorBuffer {
        data: buf.as_mut_ptr(),
        capacity: buf.len(),
        len: 0,
    };
    // SAFETY: a host-side call with three live arrays of `rows.len()` rows.
    let rc = unsafe {
        (f.aggregate.unwrap())(
            args.as_ptr(),
            3,
            rows.len() as i64,
            groups.as_ptr(),
            4,
            &mut out,
            &mut err,
        )
    };
    assert_eq!(rc, 0, "{}", String::from_utf8_lossy(&buf[..err.len]));
    // SAFETY: the plugin filled `out` with a float array.
    let got = unsafe { Output::from_arrow(&out, TypeCode::Float) }.unwrap();
    assert_eq!(
        got,
        Output::Float(vec![Some(94.53125), Some(84.53125), None, None])
    );
}

/// The rows of a CSV table in the definitions' `[test.tables]`.
fn fixture_rows(table: &str) -> Vec<Vec<String>> {
    kpi_plugin_api::testing::fixture_rows(DEFINITIONS, table)
}

#[test]
fn definitions_test_figures() {
    let tickets = fixture_rows("tickets");
    let messages = fixture_rows("messages");
    // "2026-01-05 09:00" → 202601050900: orders like the time itself.
    let time = |s: &str| {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse::<i64>()
            .ok()
    };
    let per_ticket = |id: &str| {
        let conv: Vec<Message<'_>> = messages
            .iter()
            .filter(|m| m[1] == id)
            .map(|m| Message {
                body: Some(m[4].as_str()),
                author_role: Some(m[3].as_str()),
                created_at: time(&m[2]),
            })
            .collect();
        pec(&conv)
    };
    let scores: Vec<Option<f64>> = tickets.iter().map(|t| per_ticket(&t[0])).collect();
    assert_eq!(
        scores,
        [
            Some(94.53125),
            Some(84.53125),
            None,
            Some(65.46875),
            Some(20.0 + 10.0 + 12.5 + 10.0 + 10.0 + 10.0),
            None
        ]
    );
    // avg over the tickets solved in the month
    let month = |m: &str| -> Option<f64> {
        let s: Vec<f64> = tickets
            .iter()
            .zip(&scores)
            .filter(|(t, _)| t[2].starts_with(m))
            .filter_map(|(_, s)| *s)
            .collect();
        (!s.is_empty()).then(|| s.iter().sum::<f64>() / s.len() as f64)
    };
    assert_eq!(month("2026-01"), Some(89.53125));
    assert_eq!(month("2026-02"), Some(65.46875));
    assert_eq!(month("2026-03"), None);
}
