//! Formula text → spanned AST. pest stays inside this module: no `Rule` or
//! `Pair` escapes it, and pest's errors are turned into diagnostics that
//! name what was expected in words.

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use crate::ast::{AggFunc, Aggregate, Axis, BinOp, Expr, ExprKind, Ident, Span, SrcId, WindowFunc};
use crate::diag::{codes, Diagnostic};

#[derive(Parser)]
#[grammar = "grammar.pest"]
struct FormulaParser;

/// Deepest nesting of brackets and `if` accepted. pest and the tree walkers
/// recurse, so nesting is bounded before pest ever sees the text.
pub const MAX_DEPTH: usize = 64;
/// Longest operator chain (`a + b + c ...`) accepted; each link is a tree level.
pub const MAX_CHAIN: usize = 256;

/// Parses one formula. `src` is the id under which its text is registered
/// in the [`crate::SourceMap`]; every span of the result refers to it.
pub fn parse(text: &str, src: SrcId) -> Result<Expr, Diagnostic> {
    check_nesting(text, src)?;
    let mut pairs =
        FormulaParser::parse(Rule::formula, text).map_err(|e| syntax_error(e, text, src))?;
    let formula = pairs.next().expect("formula rule always yields a pair");
    let expr = formula.into_inner().next().expect("formula holds an expr");
    let b = Builder { src };
    let (e, depth) = b.expr(expr)?;
    too_deep(depth, e.span)?;
    Ok(e)
}

/// Bounds the nesting pest will recurse into: brackets and `if ... end`.
/// A small lexer that agrees with the grammar on what is code: brackets and
/// keywords inside strings and `#` comments do not count, and `end` after a
/// `.` is a name (`period.end`), not the keyword (counting it let a formula
/// unwind the count while nesting `if`s, and a `"` in a comment hid every
/// later bracket).
fn check_nesting(text: &str, src: SrcId) -> Result<(), Diagnostic> {
    let too_deep = |what: &str, levels: &str, at: usize, len: usize| {
        Diagnostic::at(
            codes::TOO_DEEP,
            Span::new(src, at, at + len),
            format!("{what} nested too deeply"),
        )
        .hint(format!(
            "at most {MAX_DEPTH} levels of {levels} are allowed"
        ))
    };
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Whether the last token was a `.`: the word after it is a name.
    let mut after_dot = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                after_dot = false;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let w = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if !after_dot {
                    match &text[w..i] {
                        "if" => {
                            depth += 1;
                            if depth > MAX_DEPTH {
                                return Err(too_deep("`if`", "nesting", w, 2));
                            }
                        }
                        "end" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                after_dot = false;
            }
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep("brackets", "brackets", i, 1));
                }
                i += 1;
                after_dot = false;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
                after_dot = false;
            }
            _ => {
                after_dot = c == b'.';
                i += 1;
            }
        }
    }
    Ok(())
}

/// Names rules the way a user thinks of them, for "expected ..." messages.
fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of formula",
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::cmp_expr => {
            "an expression"
        }
        Rule::sum_expr | Rule::prod_expr | Rule::unary_expr | Rule::postfix_expr => "an expression",
        Rule::cmp_op => "a comparison",
        Rule::add_op => "`+` or `-`",
        Rule::mul_op => "`*` or `/`",
        Rule::is_null | Rule::is_not_null => "`is null`",
        Rule::in_list | Rule::not_in => "`in`",
        Rule::between => "`between`",
        Rule::field => "`.field`",
        Rule::index => "`[index]`",
        Rule::ident => "a name",
        Rule::number => "a number",
        Rule::duration => "a duration",
        Rule::string | Rule::str_inner => "a string",
        Rule::list => "a list",
        Rule::source => "a table name",
        Rule::axis => "a period axis",
        Rule::agg_arg => "`:` and an expression",
        Rule::agg_where => "`where`",
        Rule::kw_where => "`where`",
        Rule::kw_by => "`by`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_end => "`end`",
        Rule::kw_elif | Rule::elif_arm => "`elif`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not | Rule::not_op => "`not`",
        Rule::kw_null => "`null`",
        Rule::kw_is => "`is`",
        Rule::kw_in => "`in`",
        Rule::kw_between => "`between`",
        _ => "something else",
    }
}

/// Operator rules: after a complete operand pest lists them all; the
/// message says "an operator" instead of a dozen names.
const OPERATORS: &[&str] = &[
    "`*` or `/`",
    "`+` or `-`",
    "`.field`",
    "`[index]`",
    "`and`",
    "`or`",
    "`not`",
    "a comparison",
    "`is null`",
    "`is`",
    "`in`",
    "`between`",
];

fn syntax_error(e: pest::error::Error<Rule>, text: &str, src: SrcId) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    // pest's own guard: it stops with "stack limit reached" when less than
    // 64 KiB of stack is left (a thread with a small stack, deep in the
    // checker), rather than overflow. Not a syntax error: say so.
    if let pest::error::ErrorVariant::CustomError { message } = &e.variant {
        return Diagnostic::new(
            codes::TOO_DEEP,
            format!("the formula could not be parsed: {message}"),
        )
        .label(Span::new(src, 0, text.len()), "in this formula")
        .hint(
            "too little stack was left to parse it; nest less, or name fewer metrics in a chain",
        );
    }
    let found = token_at(&text[pos..]);
    let at_end = text[pos..].trim().is_empty();
    let found_desc = if at_end {
        "end of formula".to_string()
    } else {
        format!("`{found}`")
    };
    let mut expected: Vec<&str> = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().map(rule_name).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort();
    expected.dedup();
    expected.retain(|n| *n != "something else");
    // An operand just ended when pest lists the operators that may follow
    // (after `is` or `not` it lists one or two words, which stay named); the
    // bracket that closes the innermost open one may follow too (pest does
    // not name literals).
    let after_operand = expected.iter().filter(|n| OPERATORS.contains(n)).count() >= 3;
    let open = open_brackets(&text[..pos]);
    if text.trim().is_empty() {
        return Diagnostic::new(codes::SYNTAX, "the formula is empty")
            .label(Span::new(src, 0, text.len()), "nothing to compute")
            .hint("write an aggregate such as count(tickets)");
    }
    if found.starts_with('"') && (found.len() == 1 || !found[1..].ends_with('"')) {
        return Diagnostic::new(codes::SYNTAX, "this string is never closed")
            .label(Span::new(src, pos, pos + 1), "the string starts here")
            .hint("close it with `\"`");
    }
    if open.is_empty() && (found == ")" || found == "]") {
        let opener = if found == ")" { '(' } else { '[' };
        return Diagnostic::new(
            codes::SYNTAX,
            format!("`{found}` has no matching `{opener}`"),
        )
        .label(Span::new(src, pos, pos + 1), "closes nothing");
    }
    if after_operand {
        expected.retain(|n| !OPERATORS.contains(n));
        let end = expected.iter().position(|n| *n == "end of formula");
        let tail = end.map(|i| expected.remove(i));
        expected.push("an operator");
        match open.last() {
            Some((_, '(')) => expected.push("`)`"),
            Some(_) => expected.push("`]`"),
            None => expected.extend(tail),
        }
        if at_end {
            if let Some(&(at, c)) = open.last() {
                let close = if c == '(' { ')' } else { ']' };
                return Diagnostic::new(codes::SYNTAX, format!("`{c}` is never closed"))
                    .label(
                        Span::new(src, at, at + 1),
                        format!("this `{c}` has no `{close}`"),
                    )
                    .hint(format!("add `{close}` where it ends"));
            }
        }
    }
    let message = if expected.is_empty() {
        format!("unexpected {found_desc}")
    } else {
        format!("unexpected {found_desc}, expected {}", join_or(&expected))
    };
    // An empty span at the end of the formula would point at the closing
    // quote; point at the last character instead.
    let span = if at_end {
        let last = text.trim_end().len();
        let start = text[..last].char_indices().last().map_or(0, |(i, _)| i);
        Span::new(src, start, last.max(start))
    } else {
        Span::new(src, pos, pos + found.len())
    };
    let label = if at_end {
        format!("the formula ends here; expected {}", join_or(&expected))
    } else {
        "not expected here".to_string()
    };
    let mut d = Diagnostic::new(codes::SYNTAX, message).label(span, label);
    let hint = match found.as_str() {
        "%" => Some("`%` is a unit, not an operator: write `a / b * 100` and set unit = \"%\""),
        "=" => Some("compare with `==`"),
        _ if text[..pos].trim_end().ends_with(" not")
            && found.starts_with(|c: char| c == '"' || c.is_alphanumeric()) =>
        {
            Some("for not equal write `!=`; `not in [...]` tests a list")
        }
        _ if text[..pos].trim_end().ends_with(" is") => {
            Some("`is` only tests for null (`x is null`); compare values with `==`")
        }
        "&&" => Some("write `and`"),
        "||" => Some("write `or`"),
        "!" => Some("write `not`, or `!=` for not equal"),
        "<>" => Some("write `!=`"),
        f if f.starts_with('\'') => Some("strings are written in double quotes inside formulas"),
        "," if text[..pos]
            .trim_end()
            .ends_with(|c: char| c.is_alphanumeric() || c == '"')
            && open
                .last()
                .is_some_and(|&(at, c)| c == '(' && text[..at].trim_end().ends_with(" in")) =>
        {
            Some("a list is written in square brackets: `x in [\"a\", \"b\"]`")
        }
        _ => None,
    };
    if let Some(h) = hint {
        d = d.hint(h);
    }
    d
}

/// The token that starts `rest`: a word, a quoted string (cut short), an
/// operator of one or two characters.
fn token_at(rest: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let Some(first) = rest.chars().next() else {
        return String::new();
    };
    if word(first) {
        return rest.chars().take_while(|c| word(*c)).take(30).collect();
    }
    if first == '\'' || first == '"' {
        let body: String = rest[1..]
            .chars()
            .take_while(|c| *c != first)
            .take(30)
            .collect();
        let closed = rest[1 + body.len()..].starts_with(first);
        return format!(
            "{first}{body}{}",
            if closed {
                first.to_string()
            } else {
                String::new()
            }
        );
    }
    for two in ["==", "!=", "<=", ">=", "<>", "&&", "||"] {
        if rest.starts_with(two) {
            return two.to_string();
        }
    }
    first.to_string()
}

/// The brackets opened before the end of `text` and not yet closed, with
/// their byte offsets; brackets inside strings don't count.
fn open_brackets(text: &str) -> Vec<(usize, char)> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' => open.push((i, c)),
            ')' | ']' => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

struct Builder {
    src: SrcId,
}

type Built = Result<(Expr, usize), Diagnostic>;

impl Builder {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.src, s.start(), s.end())
    }

    fn mk(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    /// Builds an expression and reports its depth (the longest path to a
    /// leaf), computed while building so no later walk can overflow.
    ///
    /// Each construct has its own method and the levels of the grammar that
    /// hold a single child are skipped in a loop: a frame per grammar level
    /// (eleven per bracket) made a debug build overflow a 2 MiB stack at
    /// eight nested brackets.
    fn expr(&self, p: Pair<Rule>) -> Built {
        let p = skip_single(p);
        match p.as_rule() {
            Rule::or_expr | Rule::and_expr | Rule::sum_expr | Rule::prod_expr => self.chain(p),
            Rule::not_expr => self.not_expr(p),
            Rule::cmp_expr => self.cmp_expr(p),
            Rule::unary_expr => self.unary_expr(p),
            Rule::postfix_expr => self.postfix_expr(p),
            _ => self.primary(p),
        }
    }

    /// `not not x`.
    fn not_expr(&self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        let mut nots = 0;
        let mut inner = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::not_op => nots += 1,
                _ => inner = Some(q),
            }
        }
        too_deep(nots, span)?;
        let (mut e, mut d) = self.expr(inner.expect("not_expr operand"))?;
        for _ in 0..nots {
            e = Self::mk(ExprKind::Not(Box::new(e)), span);
            d += 1;
            // The operand's depth adds to the count of `not`s.
            too_deep(d, span)?;
        }
        Ok((e, d))
    }

    /// A comparison, `is null`, `in` or `between` after a sum.
    fn cmp_expr(&self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let (left, dl) = self.expr(it.next().expect("comparison operand"))?;
        let Some(tail) = it.next() else {
            return Ok((left, dl));
        };
        let tail_rule = tail.as_rule();
        let mut parts = tail.into_inner();
        let kind = match tail_rule {
            Rule::cmp_binary => {
                let op = match parts.next().expect("cmp_op").as_str() {
                    "==" => BinOp::Eq,
                    "!=" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                let (r, dr) = self.expr(parts.next().expect("right operand"))?;
                return Ok((
                    Self::mk(ExprKind::Binary(op, Box::new(left), Box::new(r)), span),
                    dl.max(dr) + 1,
                ));
            }
            Rule::is_null => ExprKind::IsNull {
                expr: Box::new(left),
                negated: false,
            },
            Rule::is_not_null => ExprKind::IsNull {
                expr: Box::new(left),
                negated: true,
            },
            Rule::in_list | Rule::not_in => {
                let list = parts
                    .find(|q| q.as_rule() == Rule::sum_expr)
                    .expect("in operand");
                let (l, dr) = self.expr(list)?;
                let negated = tail_rule == Rule::not_in;
                return Ok((
                    Self::mk(
                        ExprKind::In {
                            expr: Box::new(left),
                            list: Box::new(l),
                            negated,
                        },
                        span,
                    ),
                    dl.max(dr) + 1,
                ));
            }
            Rule::between => {
                let mut ops = parts.filter(|q| q.as_rule() == Rule::sum_expr);
                let (low, d1) = self.expr(ops.next().expect("between low"))?;
                let (high, d2) = self.expr(ops.next().expect("between high"))?;
                let kind = ExprKind::Between {
                    expr: Box::new(left),
                    low: Box::new(low),
                    high: Box::new(high),
                };
                return Ok((Self::mk(kind, span), dl.max(d1).max(d2) + 1));
            }
            r => unreachable!("comparison tail {r:?}"),
        };
        Ok((Self::mk(kind, span), dl + 1))
    }

    /// `-x`; a minus before a positive literal is folded into it.
    fn unary_expr(&self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        let mut negs = 0;
        let mut inner = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::neg_op => negs += 1,
                _ => inner = Some(q),
            }
        }
        too_deep(negs, span)?;
        let (mut e, mut d) = self.expr(inner.expect("unary operand"))?;
        for _ in 0..negs {
            // Fold `-literal` into the literal so printing round-trips.
            e = match e.kind {
                ExprKind::Int(v) if v > 0 => Self::mk(ExprKind::Int(-v), span),
                ExprKind::Float(v) if v > 0.0 => Self::mk(ExprKind::Float(-v), span),
                kind => {
                    d += 1;
                    Self::mk(ExprKind::Neg(Box::new(Expr { kind, span: e.span })), span)
                }
            };
            too_deep(d, span)?;
        }
        Ok((e, d))
    }

    /// `x.field` and `x[index]` chains.
    fn postfix_expr(&self, p: Pair<Rule>) -> Built {
        let mut it = p.into_inner();
        let (mut e, mut d) = self.expr(it.next().expect("postfix primary"))?;
        for q in it {
            let span = e.span.to(self.span(&q));
            match q.as_rule() {
                Rule::field => {
                    let name = self.ident(q.into_inner().next().expect("field name"));
                    e = Self::mk(ExprKind::Field(Box::new(e), name), span);
                }
                _ => {
                    let (i, di) = self.expr(q.into_inner().next().expect("index expression"))?;
                    d = d.max(di);
                    e = Self::mk(ExprKind::Index(Box::new(e), Box::new(i)), span);
                }
            }
            d += 1;
            too_deep(d, e.span)?;
        }
        Ok((e, d))
    }

    /// Left-associative chains of one precedence level.
    fn chain(&self, p: Pair<Rule>) -> Built {
        let mut it = p.into_inner();
        let (mut acc, mut depth) = self.expr(it.next().expect("chain operand"))?;
        while let Some(op) = it.next() {
            let op = match op.as_rule() {
                Rule::kw_or => BinOp::Or,
                Rule::kw_and => BinOp::And,
                _ => match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    _ => BinOp::Div,
                },
            };
            let (r, dr) = self.expr(it.next().expect("chain operand"))?;
            let span = acc.span.to(r.span);
            acc = Self::mk(ExprKind::Binary(op, Box::new(acc), Box::new(r)), span);
            depth = depth.max(dr) + 1;
            too_deep(depth, span)?;
        }
        Ok((acc, depth))
    }

    fn primary(&self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        let leaf = |kind| Ok((Self::mk(kind, span), 1));
        match p.as_rule() {
            Rule::number => {
                let s = p.as_str();
                if !s.contains(['.', 'e', 'E']) {
                    match s.parse::<i64>() {
                        Ok(v) => leaf(ExprKind::Int(v)),
                        Err(_) => Err(Diagnostic::at(
                            codes::BAD_LITERAL,
                            span,
                            format!("integer `{s}` is too large"),
                        )
                        .hint(
                            "integers are 64-bit; write a float like `1.0e20` for larger values",
                        )),
                    }
                } else {
                    let v: f64 = s
                        .parse()
                        .map_err(|_| Diagnostic::at(codes::BAD_LITERAL, span, "invalid number"))?;
                    if !v.is_finite() {
                        return Err(Diagnostic::at(
                            codes::BAD_LITERAL,
                            span,
                            format!("number `{s}` is out of range"),
                        ));
                    }
                    leaf(ExprKind::Float(v))
                }
            }
            Rule::duration => match parse_duration_literal(p.as_str()) {
                Some(us) => leaf(ExprKind::Duration(us)),
                None => Err(Diagnostic::at(
                    codes::BAD_LITERAL,
                    span,
                    format!("duration `{}` is out of range", p.as_str()),
                )),
            },
            Rule::string => {
                let raw = p.into_inner().next().map(|q| q.as_str()).unwrap_or("");
                leaf(ExprKind::Str(unescape(raw)))
            }
            Rule::kw_true => leaf(ExprKind::Bool(true)),
            Rule::kw_false => leaf(ExprKind::Bool(false)),
            Rule::kw_null => leaf(ExprKind::Null),
            Rule::ident => leaf(ExprKind::Ident(p.as_str().to_string())),
            Rule::params_ref => leaf(ExprKind::Param(
                self.ident(p.into_inner().next().expect("param name")),
            )),
            Rule::period_ref => leaf(ExprKind::Period(
                self.ident(p.into_inner().next().expect("period field")),
            )),
            Rule::paren => self.expr(p),
            Rule::list => {
                let mut items = Vec::new();
                let mut d = 0;
                for q in p.into_inner() {
                    let (e, de) = self.expr(q)?;
                    d = d.max(de);
                    items.push(e);
                }
                Ok((Self::mk(ExprKind::List(items), span), d + 1))
            }
            Rule::if_expr => {
                let mut parts: Vec<Pair<Rule>> = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::elif_arm => {
                            parts.extend(q.into_inner().filter(|x| x.as_rule() == Rule::expr))
                        }
                        Rule::expr => parts.push(q),
                        _ => {}
                    }
                }
                let mut d = 0;
                let mut built = Vec::new();
                for q in parts {
                    let (e, de) = self.expr(q)?;
                    d = d.max(de);
                    built.push(e);
                }
                let otherwise = built.pop().expect("else branch");
                let mut branches = Vec::new();
                let mut it = built.into_iter();
                while let (Some(c), Some(v)) = (it.next(), it.next()) {
                    branches.push((c, v));
                }
                Ok((
                    Self::mk(
                        ExprKind::If {
                            branches,
                            otherwise: Box::new(otherwise),
                        },
                        span,
                    ),
                    d + 1,
                ))
            }
            Rule::aggregate | Rule::plugin_aggregate => self.aggregate(p),
            Rule::window => {
                let mut it = p.into_inner();
                let name = self.ident(it.next().expect("window name"));
                let mut args = Vec::new();
                let mut by = false;
                let mut d = 0;
                for q in it {
                    if q.as_rule() == Rule::kw_by {
                        by = true;
                        continue;
                    }
                    let (e, de) = self.expr(q)?;
                    d = d.max(de);
                    args.push(e);
                }
                // The grammar gives `by` exactly one value before it and one
                // key after; without `by` it is a call of that name.
                let kind = if by && args.len() == 2 {
                    let key = args.pop().expect("window key");
                    let value = args.pop().expect("window value");
                    let func = if name.name == "prev" {
                        WindowFunc::Prev
                    } else {
                        WindowFunc::Next
                    };
                    ExprKind::Window {
                        func,
                        value: Box::new(value),
                        key: Box::new(key),
                    }
                } else {
                    ExprKind::Call { name, args }
                };
                Ok((Self::mk(kind, span), d + 1))
            }
            Rule::call => {
                let mut it = p.into_inner();
                let name = self.ident(it.next().expect("function name"));
                let mut args = Vec::new();
                let mut d = 0;
                for q in it {
                    let (e, de) = self.expr(q)?;
                    d = d.max(de);
                    args.push(e);
                }
                Ok((Self::mk(ExprKind::Call { name, args }, span), d + 1))
            }
            r => unreachable!("unexpected rule in primary position: {r:?}"),
        }
    }

    fn aggregate(&self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        let is_plugin = p.as_rule() == Rule::plugin_aggregate;
        let mut it = p.into_inner();
        let name = it.next().expect("aggregate name");
        let mut plugin_name = is_plugin.then(|| self.ident(name.clone()));
        let mut func = if is_plugin {
            AggFunc::Plugin
        } else {
            AggFunc::from_name(name.as_str()).expect("grammar lists only aggregates")
        };
        let mut plugin_args = Vec::new();
        let mut source = it.next().expect("aggregate source").into_inner();
        let table = self.ident(source.next().expect("table name"));
        let mut depth = 0;
        let axis = match source.next() {
            None => None,
            Some(axis) => {
                let inner = axis.into_inner().next().expect("axis");
                if inner.as_rule() == Rule::kw_all {
                    Some(Axis::All(self.span(&inner)))
                } else {
                    let (e, d) = self.expr(inner)?;
                    depth = d;
                    Some(Axis::Expr(Box::new(e)))
                }
            }
        };
        let (mut arg, mut extra, mut filter) = (None, None, None);
        for q in it {
            match q.as_rule() {
                Rule::expr => {
                    let (a, d) = self.expr(q)?;
                    depth = depth.max(d);
                    plugin_args.push(a);
                }
                Rule::agg_arg => {
                    for x in q.into_inner() {
                        let (a, d) = self.expr(x)?;
                        depth = depth.max(d);
                        plugin_args.push(a);
                    }
                    // A built-in aggregate takes one argument, two for
                    // `percentile`; with more it is a plugin's aggregate of
                    // that name (the grammar no longer tries that form for
                    // built-in names, see grammar.pest).
                    if plugin_args.len() <= 2 {
                        let mut args = std::mem::take(&mut plugin_args).into_iter();
                        arg = args.next().map(Box::new);
                        extra = args.next().map(Box::new);
                    } else {
                        func = AggFunc::Plugin;
                        plugin_name = Some(self.ident(name.clone()));
                    }
                }
                _ => {
                    let pred = q
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::expr)
                        .expect("where predicate");
                    let (w, d) = self.expr(pred)?;
                    depth = depth.max(d);
                    filter = Some(Box::new(w));
                }
            }
        }
        let agg = Aggregate {
            func,
            table,
            axis,
            arg,
            extra,
            filter,
            plugin: plugin_name.map(|n| (n, plugin_args)),
        };
        Ok((Self::mk(ExprKind::Aggregate(agg), span), depth + 1))
    }
}

/// Descends through the levels of the grammar that hold one child and add
/// nothing to the tree (`expr`, brackets, a chain of one operand, a
/// comparison without its tail...), without recursing.
fn skip_single(mut p: Pair<'_, Rule>) -> Pair<'_, Rule> {
    loop {
        match p.as_rule() {
            Rule::expr
            | Rule::paren
            | Rule::or_expr
            | Rule::and_expr
            | Rule::not_expr
            | Rule::cmp_expr
            | Rule::sum_expr
            | Rule::prod_expr
            | Rule::unary_expr
            | Rule::postfix_expr => {
                let mut inner = p.clone().into_inner();
                match (inner.next(), inner.next()) {
                    (Some(only), None) => p = only,
                    _ => return p,
                }
            }
            _ => return p,
        }
    }
}

/// Refuses a tree level beyond [`MAX_CHAIN`] before it is built: a tree that
/// deep would overflow the stack of every later walk, even its `Drop`.
fn too_deep(depth: usize, span: Span) -> Result<(), Diagnostic> {
    if depth > MAX_CHAIN {
        return Err(Diagnostic::at(
            codes::TOO_DEEP,
            span,
            format!("formula is more than {MAX_CHAIN} levels deep"),
        )
        .hint("split it into metrics"));
    }
    Ok(())
}

/// Reads a duration written as a literal (`1h30m`), validating the shape.
pub fn parse_duration_text(s: &str) -> Option<i64> {
    let ok = !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_digit())
        && !s.ends_with(|c: char| c.is_ascii_digit());
    if ok {
        parse_duration_literal(s)
    } else {
        None
    }
}

/// `1h30m` → microseconds. The grammar guarantees the shape.
pub fn parse_duration_literal(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit: i64 = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1_000
            }
            's' => 1_000_000,
            'm' => 60_000_000,
            'h' => 3_600_000_000,
            'd' => 86_400_000_000,
            'w' => 604_800_000_000,
            _ => return None,
        };
        let n: i64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
    }
    Some(total)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s, 0).unwrap_or_else(|d| panic!("{s}: {d}"))
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(p("a + b * c").to_string(), "a + b * c");
        assert_eq!(p("(a + b) * c").to_string(), "(a + b) * c");
        assert_eq!(p("a - (b - c)").to_string(), "a - (b - c)");
        assert_eq!(
            p("not a == 1 and b or c").to_string(),
            "not a == 1 and b or c"
        );
        assert_eq!(
            p("escalations / tickets * 100").to_string(),
            "escalations / tickets * 100"
        );
        let e = p("escalations / tickets * 100");
        let ExprKind::Binary(BinOp::Mul, l, _) = e.kind else {
            panic!("mul at the root")
        };
        assert!(matches!(l.kind, ExprKind::Binary(BinOp::Div, ..)));
    }

    #[test]
    fn literals() {
        assert_eq!(p("1h30m").kind, ExprKind::Duration(5_400_000_000));
        assert_eq!(p("45s").kind, ExprKind::Duration(45_000_000));
        assert_eq!(p("-3").kind, ExprKind::Int(-3));
        assert_eq!(p("0.5").kind, ExprKind::Float(0.5));
        assert_eq!(p(r#""a\"b""#).kind, ExprKind::Str("a\"b".into()));
    }

    #[test]
    fn aggregates_and_axes() {
        let src = "sum(tickets@solved_at: count(messages where author_role == \"agent\")) / count(tickets@solved_at)";
        assert_eq!(p(src).to_string(), src);
        for s in [
            "count(tickets)",
            "count(tickets@period.end)",
            "count(tickets@all where escalated)",
            "percentile(tickets: solved_at - created_at, 0.9 where channel in [\"email\", \"chat\"])",
            "count(tickets@(period.end - 1d))",
            "avg(tickets: created_at - prev(created_at by customer_id))",
            "if a then 1 elif b then 2 else 3 end",
            "x between 1 and 2 and y is not null",
            "params.sla[priority] >= 2h",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn errors_are_located_and_worded() {
        let e = parse("count(tickets where )", 0).unwrap_err();
        assert_eq!(e.code, codes::SYNTAX);
        assert_eq!(e.primary().unwrap().start, 20);
        assert!(
            e.message.contains("expected an expression"),
            "{}",
            e.message
        );
        let e = parse("a % b", 0).unwrap_err();
        assert!(e.hint.unwrap().contains("unit"));
    }

    /// pest stops with "stack limit reached" when less than 64 KiB of stack
    /// is left, rather than overflow: reported as too deep, not as a syntax
    /// error at the first token.
    #[test]
    fn pest_stack_limit_is_not_a_syntax_error() {
        let text = "m1 + 1";
        let e = pest::error::Error::<Rule>::new_from_pos(
            pest::error::ErrorVariant::CustomError {
                message: "stack limit reached".into(),
            },
            pest::Position::from_start(text),
        );
        let d = syntax_error(e, text, 0);
        assert_eq!(d.code, codes::TOO_DEEP);
        assert!(d.message.contains("stack limit reached"), "{}", d.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "(".repeat(100_000) + "1" + &")".repeat(100_000);
        assert_eq!(parse(&deep, 0).unwrap_err().code, codes::TOO_DEEP);
        let long = vec!["1"; 10_000].join(" + ");
        assert_eq!(parse(&long, 0).unwrap_err().code, codes::TOO_DEEP);
    }
}
