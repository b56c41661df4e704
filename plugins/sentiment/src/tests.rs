//! Fixture texts with hand-computed valences (the sum before normalisation)
//! and scores. Valences are sums of multiples of 0.25 and exact in binary.

use super::*;
use kpi_plugin_api::{ArrowArray, ErrorBuffer, FunctionKind, TypeCode};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[track_caller]
fn assert_valence(text: &str, want: f64) {
    assert_eq!(
        valence(text),
        Some(want),
        "valence of {text:?}; tokens {:?}",
        tokenize(text)
    );
}

fn texts(tokens: &[Token]) -> Vec<&str> {
    tokens.iter().map(|t| t.text.as_str()).collect()
}

#[test]
fn english_words_add_up() {
    // thank 2
    assert_valence("Thank you", 2.0);
    // great 3 + thank 2 + resolved 2 = 7 ("so much": "so" is followed by no sentiment word)
    assert_valence("Great, thank you so much, it's resolved!", 7.0);
    // waiting −1
    assert_valence("Still waiting", -1.0);
    // terrible −3 + refund −1.5
    assert_valence("Terrible service. I want a refund", -4.5);
    // no sentiment word
    assert_valence("Order 12345 shipped on Monday", 0.0);
}

#[test]
fn greetings_and_sign_offs_are_neutral() {
    // "good" before "morning" is a greeting, not praise: late −1.5 alone
    assert_valence("Good morning, my order is late", -1.5);
    assert_valence("Thanks for the help.\nBest regards, Ann", 2.0);
    assert_valence("Kind regards", 0.0);
    // elsewhere the words keep their weight: best 3, good 2
    assert_valence("the best service", 3.0);
    assert_valence("a good day", 0.0);
    assert_valence("a good one", 2.0);
}

#[test]
fn normalisation_is_vader_like() {
    // s / sqrt(s² + 15)
    assert!(close(normalize(2.0), 2.0 / 19f64.sqrt()));
    assert_eq!(normalize(1.0), 0.25); // 1 / sqrt(16)
    assert_eq!(normalize(7.0), 0.875); // 7 / sqrt(64)
    assert_eq!(normalize(-1.0), -0.25);
    assert_eq!(normalize(0.0), 0.0);
    assert!(close(score("Thank you").unwrap(), 0.458_831_467_741_123_5));
    assert_eq!(
        score("Great, thank you so much, it's resolved!"),
        Some(0.875)
    );
    assert_eq!(score("Still waiting"), Some(-0.25));
    // Stays inside (−1, 1) however much is said.
    let rant = "terrible ".repeat(200);
    let s = score(&rant).unwrap();
    assert!(s > -1.0 && s < -0.999, "{s}");
}

#[test]
fn negation_flips_the_next_sentiment_word() {
    assert_valence("good", 2.0);
    // not × good: 2 × −0.75
    assert_valence("not good", -1.5);
    // bad −2.5 × −0.75
    assert_valence("This is not bad", 1.875);
    // happy 2.5 × −0.75
    assert_valence("I was never happy with it", -1.875);
    // problem −1 × −0.75
    assert_valence("no problem", 0.75);
    // contraction: don't × helpful: 2 × −0.75
    assert_valence("That answer doesn't seem helpful", -1.5);
    assert_valence("That answer doesn’t seem helpful", -1.5);
    // one plain word may stand between: not (that) good
    assert_valence("not that good", -1.5);
    // two may not: "did not receive my refund" keeps refund −1.5
    assert_valence("I did not receive my refund", -1.5);
    // a boundary ends the scope
    assert_valence("Not really. Good though", 2.0);
    // the negator is used up by the first sentiment word: not (happy) + waiting
    assert_valence("not happy, waiting", -1.875 - 1.0);
    // Chinese: 没有 × 解决 1.5 × −0.75
    assert_valence("没有解决", -1.125);
    // 不 × 好 1.5 × −0.75
    assert_valence("服务不好", -1.125);
    // 不满意 is a word of its own (−2), not 不 × 满意
    assert_eq!(texts(&tokenize("我不满意")), ["我", "不满意"]);
    assert_valence("我不满意", -2.0);
    // 不错 "not bad" is a positive word (2), found by longest match
    assert_valence("还不错", 2.0);
}

#[test]
fn intensifiers_scale_the_next_sentiment_word() {
    // very 1.5 × good 2
    assert_valence("very good", 3.0);
    // really 1.5 × very 1.5 × good 2
    assert_valence("really very good", 4.5);
    // extremely 2 × frustrated −2.5
    assert_valence("I am extremely frustrated", -5.0);
    // a bit 0.5 × slow −1.5
    assert_valence("a bit slow", -0.75);
    // "much" stands between: appreciated 2 unscaled
    assert_valence("very much appreciated", 2.0);
    // 非常 1.5 × 满意 2; 很 1.25 × 满意 2
    assert_valence("非常满意", 3.0);
    assert_valence("很满意", 2.5);
    // 有点 0.5 × 慢 −1.5
    assert_valence("有点慢", -0.75);
    // negator and intensifier together: not × very × helpful = 2 × 1.5 × −0.75
    assert_valence("not very helpful", -2.25);
    // 不 是 很 满意: one plain word (是) between; 2 × 1.25 × −0.75
    assert_eq!(texts(&tokenize("不是很满意")), ["不", "是", "很", "满意"]);
    assert_valence("不是很满意", -1.875);
}

#[test]
fn chinese_is_segmented_by_longest_match() {
    assert_eq!(texts(&tokenize("我非常满意")), ["我", "非常", "满意"]);
    // 太好了 (3) wins over 太 + 好; 已经 is unknown, so 已 and 经 stand alone.
    let t = tokenize("谢谢，太好了，已经解决了");
    assert_eq!(
        texts(&t),
        ["谢谢", ",", "太好了", ",", "已", "经", "解决了"]
    );
    assert_eq!(t[1].kind, Kind::Boundary);
    // 谢谢 2 + 太好了 3 + 解决了 2 = 7 → 0.875
    assert_eq!(score("谢谢，太好了，已经解决了"), Some(0.875));
    // 太慢 is listed (−2.5), not 太 × 慢 (−2.25)
    assert_valence("物流太慢了", -2.5);
    // greetings and set phrases with 好 carry no sentiment
    assert_valence("你好", 0.0);
    assert_valence("您好，好的", 0.0);
    assert_valence("不好意思", 0.0);
    // 没有 × 解决 −1.125; 很 × 失望: 1.25 × −2.5 = −3.125; sum −4.25 → −4.25 / 5.75 = −17/23
    assert_valence("没有解决，我很失望", -4.25);
    assert!(close(score("没有解决，我很失望").unwrap(), -17.0 / 23.0));
    // 投诉 −2 + 等了 −1
    assert_valence("我要投诉，等了三天", -3.0);
}

#[test]
fn mixed_language_text() {
    // 谢谢 2 + waiting −1 = 1 → 0.25
    assert_eq!(
        texts(&tokenize("谢谢 but still waiting")),
        ["谢谢", "but", "still", "waiting"]
    );
    assert_eq!(score("谢谢 but still waiting"), Some(0.25));
    // thanks 2 + 谢谢 2 + no × problem 0.75 = 4.75
    assert_valence("Thanks 谢谢, no problem", 4.75);
    // no space between scripts: 订 单 delayed 了
    assert_eq!(
        texts(&tokenize("订单delayed了")),
        ["订", "单", "delayed", "了"]
    );
    assert_valence("订单delayed了", -1.5);
    // full-width letters and punctuation fold to ASCII
    assert_valence("ＧＯＯＤ！", 2.0);
}

#[test]
fn empty_text_has_no_score() {
    assert_eq!(score(""), None);
    assert_eq!(score("   \n "), None);
    assert_eq!(score("?!..."), None);
    // words without sentiment score 0, not null
    assert_eq!(score("ok?"), Some(normalize(0.5)));
    assert_eq!(score("order 42"), Some(0.0));
}

#[test]
fn words_keep_case_and_offsets() {
    assert_eq!(
        words("Hi Maria, don't 你好 worry"),
        [(0, "Hi"), (3, "Maria"), (10, "don't"), (23, "worry")]
    );
    assert_eq!(fold("DON’T"), "don't");
}

#[test]
fn column_function_scores_each_row() {
    let input = Output::String(vec![
        Some("Thank you".into()),
        None,
        Some(String::new()),
        Some("不满意".into()),
    ])
    .into_arrow();
    // SAFETY: made just above as a string array.
    let col = unsafe { Column::from_arrow(&input, TypeCode::String) }.unwrap();
    let Output::Float(v) = sentiment_column(&[col], 4).unwrap() else {
        panic!("not floats")
    };
    assert_eq!(v.len(), 4);
    assert!(close(v[0].unwrap(), 2.0 / 19f64.sqrt()));
    assert_eq!(v[1], None);
    assert_eq!(v[2], None);
    assert!(close(v[3].unwrap(), -2.0 / 19f64.sqrt()));
}

#[test]
fn exported_through_the_c_abi() {
    let d = unsafe { &*plugin::kpi_plugin_entry() };
    assert_eq!(d.abi_version, kpi_plugin_api::ABI_VERSION);
    // SAFETY: the descriptor's strings are static.
    assert_eq!(unsafe { d.name.as_str() }, Some("sentiment"));
    assert_eq!(unsafe { d.definitions.as_str() }, Some(DEFINITIONS));
    assert!(DEFINITIONS.contains("[metric.sentiment]"));
    assert_eq!(d.n_functions, 1);
    // SAFETY: `n_functions` descriptors.
    let f = unsafe { &*d.functions };
    assert_eq!(unsafe { f.name.as_str() }, Some("sentiment"));
    assert_eq!(f.kind, FunctionKind::Scalar as u32);
    assert_eq!(
        unsafe { std::slice::from_raw_parts(f.arg_types, f.n_args) },
        [TypeCode::String as u32]
    );
    assert_eq!(f.return_type, TypeCode::Float as u32);

    let input = Output::String(vec![Some("very good".into()), None]).into_arrow();
    let args = [&input as *const ArrowArray];
    let mut out = ArrowArray::empty();
    let mut buf = [0u8; 128];
    let mut err = ErrorBuffer {
        data: buf.as_mut_ptr(),
        capacity: buf.len(),
        len: 0,
    };
    // SAFETY: a host-side call with one live string array of two rows.
    let rc = unsafe { (f.scalar.unwrap())(args.as_ptr(), 1, 2, &mut out, &mut err) };
    assert_eq!(rc, 0);
    // SAFETY: the plugin filled `out` with a float array.
    let got = unsafe { Output::from_arrow(&out, TypeCode::Float) }.unwrap();
    // very × good = 3 → 3 / sqrt(24)
    assert_eq!(got, Output::Float(vec![Some(3.0 / 24f64.sqrt()), None]));
}

/// The rows of a CSV table in the definitions' `[test.tables]`.
fn fixture_rows(table: &str) -> Vec<Vec<String>> {
    kpi_plugin_api::testing::fixture_rows(DEFINITIONS, table)
}

#[test]
fn definitions_test_figures() {
    // avg over the customer messages with text, per month of created_at
    let rows = fixture_rows("messages");
    let month = |m: &str| -> Option<f64> {
        let scores: Vec<f64> = rows
            .iter()
            .filter(|r| r[2].starts_with(m) && r[3] == "customer")
            .filter_map(|r| score(&r[4]))
            .collect();
        (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
    };
    assert_eq!(month("2026-01"), Some(0.3125));
    assert!(close(month("2026-02").unwrap(), -35.0 / 437.0));
    assert!(close(-35.0 / 437.0, -0.080091533180778));
    assert_eq!(month("2026-03"), None);
}
