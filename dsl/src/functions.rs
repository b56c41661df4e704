//! Row functions: one list with each function's signature, documentation
//! and return-type rule. The checker, `kpi explain` and the docs read this
//! list; the engine evaluates each by name.

use crate::types::Type;

pub struct Function {
    pub name: &'static str,
    pub signature: &'static str,
    pub doc: &'static str,
    /// The result type for the argument types, or why they don't fit.
    pub returns: fn(&[Type]) -> Result<Type, String>,
}

fn arity(args: &[Type], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "takes {n} argument{}, found {}",
            if n == 1 { "" } else { "s" },
            args.len()
        ))
    }
}

/// The common type of values that may meet in one column (`coalesce`,
/// `least`, `if` branches): ints widen to floats, null fits anything.
pub fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (x, y) if x == y => Some(x.clone()),
        (Type::Null, x) | (x, Type::Null) => Some(x.clone()),
        (Type::Int, Type::Float) | (Type::Float, Type::Int) => Some(Type::Float),
        _ => None,
    }
}

fn unify_all(args: &[Type]) -> Result<Type, String> {
    let mut t = Type::Null;
    for a in args {
        t = unify(&t, a).ok_or_else(|| format!("arguments mix {t} and {a}"))?;
    }
    Ok(t)
}

fn duration_to_float(args: &[Type]) -> Result<Type, String> {
    arity(args, 1)?;
    match args[0] {
        Type::Duration | Type::Null => Ok(Type::Float),
        ref t => Err(format!("expects a duration, found {t}")),
    }
}

fn timestamp_to(ret: Type) -> impl Fn(&[Type]) -> Result<Type, String> {
    move |args: &[Type]| {
        arity(args, 1)?;
        match args[0] {
            Type::Timestamp | Type::Null => Ok(ret.clone()),
            ref t => Err(format!("expects a timestamp, found {t}")),
        }
    }
}

pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "coalesce",
        signature: "coalesce(a, b, ...)",
        doc: "The first argument that is not null.",
        returns: |args| {
            if args.is_empty() {
                return Err("takes at least one argument".into());
            }
            unify_all(args)
        },
    },
    Function {
        name: "abs",
        signature: "abs(x)",
        doc: "Absolute value of a number or duration.",
        returns: |args| {
            arity(args, 1)?;
            match &args[0] {
                t @ (Type::Int | Type::Float | Type::Duration | Type::Null) => Ok(t.clone()),
                t => Err(format!("expects a number or duration, found {t}")),
            }
        },
    },
    Function {
        name: "round",
        signature: "round(x, n)",
        doc: "x rounded to n decimal places (half away from zero).",
        returns: |args| {
            arity(args, 2)?;
            if !args[0].is_numeric() {
                return Err(format!("expects a number to round, found {}", args[0]));
            }
            if !matches!(args[1], Type::Int | Type::Null) {
                return Err(format!(
                    "expects an int number of places, found {}",
                    args[1]
                ));
            }
            Ok(Type::Float)
        },
    },
    Function {
        name: "least",
        signature: "least(a, b, ...)",
        doc: "The smallest argument that is not null.",
        returns: |args| {
            if args.len() < 2 {
                return Err("takes at least two arguments".into());
            }
            unify_all(args)
        },
    },
    Function {
        name: "greatest",
        signature: "greatest(a, b, ...)",
        doc: "The largest argument that is not null.",
        returns: |args| {
            if args.len() < 2 {
                return Err("takes at least two arguments".into());
            }
            unify_all(args)
        },
    },
    Function {
        name: "minutes",
        signature: "minutes(d)",
        doc: "A duration in minutes, as a float.",
        returns: duration_to_float,
    },
    Function {
        name: "hours",
        signature: "hours(d)",
        doc: "A duration in hours, as a float.",
        returns: duration_to_float,
    },
    Function {
        name: "days",
        signature: "days(d)",
        doc: "A duration in days, as a float.",
        returns: duration_to_float,
    },
    Function {
        name: "weekday",
        signature: "weekday(ts)",
        doc: "ISO weekday in the project time zone: 1 = Monday … 7 = Sunday.",
        returns: |args| timestamp_to(Type::Int)(args),
    },
    Function {
        name: "hour",
        signature: "hour(ts)",
        doc: "Hour of the day (0–23) in the project time zone.",
        returns: |args| timestamp_to(Type::Int)(args),
    },
    Function {
        name: "date",
        signature: "date(ts)",
        doc: "The start (local midnight) of the day holding ts, in the project time zone.",
        returns: |args| timestamp_to(Type::Timestamp)(args),
    },
    Function {
        name: "add_months",
        signature: "add_months(ts, n)",
        doc: "ts moved by n calendar months in the project time zone (the day is clamped to the month's end).",
        returns: |args| {
            arity(args, 2)?;
            if !matches!(args[0], Type::Timestamp | Type::Null) {
                return Err(format!("expects a timestamp, found {}", args[0]));
            }
            if !matches!(args[1], Type::Int | Type::Null) {
                return Err(format!("expects an int number of months, found {}", args[1]));
            }
            Ok(Type::Timestamp)
        },
    },
];

fn series_value(args: &[Type], extra: usize) -> Result<Type, String> {
    arity(args, 1 + extra)?;
    for t in &args[1..] {
        if *t != Type::Int {
            return Err(format!("expects an int constant, found {t}"));
        }
    }
    match &args[0] {
        t @ (Type::Int | Type::Float | Type::Duration | Type::Null) => Ok(t.clone()),
        t => Err(format!(
            "expects a metric (a number or duration), found {t}"
        )),
    }
}

fn float_series(args: &[Type], extra: usize) -> Result<Type, String> {
    match series_value(args, extra)? {
        Type::Duration => Ok(Type::Duration),
        _ => Ok(Type::Float),
    }
}

/// Series functions: evaluated across the periods of a result, per group.
/// Their first argument is a metric-level expression; the others are int
/// constants.
pub const SERIES_FUNCTIONS: &[Function] = &[
    Function {
        name: "previous",
        signature: "previous(m)",
        doc: "The value of m in the previous period of the result (null in the first).",
        returns: |args| series_value(args, 0),
    },
    Function {
        name: "change",
        signature: "change(m)",
        doc: "Relative change of m from the previous period, in % ((m - previous) / previous * 100; null when previous is null or 0).",
        returns: |args| {
            series_value(args, 0)?;
            Ok(Type::Float)
        },
    },
    Function {
        name: "rolling",
        signature: "rolling(m, n)",
        doc: "Mean of m over the last n periods, this one included; null until n periods with values are available.",
        returns: |args| float_series(args, 1),
    },
    Function {
        name: "cumulative",
        signature: "cumulative(m)",
        doc: "Running sum of m from the first period of the result (null values add nothing).",
        returns: |args| series_value(args, 0),
    },
    Function {
        name: "forecast",
        signature: "forecast(m, h)",
        doc: "Holt's linear trend method (double exponential smoothing, alpha 0.5, beta 0.3): in each period of the result, \
              the one-step-ahead forecast from the periods before it; the result is extended by h future periods holding \
              the forecast from all periods.",
        returns: |args| float_series(args, 1),
    },
];

/// A row or series function by name.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .iter()
        .chain(SERIES_FUNCTIONS)
        .find(|f| f.name == name)
}

pub fn is_series(name: &str) -> bool {
    SERIES_FUNCTIONS.iter().any(|f| f.name == name)
}
