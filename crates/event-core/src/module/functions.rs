//! Terraform's functions that validation conditions use, for `hcl::eval`, with Terraform's
//! semantics. `can()` is not here: it needs its argument unevaluated (see `validation.rs`).
//! A function not listed makes a condition unevaluable, reported at module load.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Number, Value};

use super::regex::Regex;

/// The functions a condition may call, besides `can`.
pub(crate) const NAMES: &[&str] = &[
    "regex",
    "regexall",
    "strcontains",
    "startswith",
    "endswith",
    "lower",
    "upper",
    "length",
    "floor",
    "ceil",
    "abs",
    "min",
    "max",
    "contains",
    "lookup",
    "range",
    "alltrue",
    "anytrue",
    "tostring",
    "tonumber",
    "replace",
];

/// Terraform's cap on `range()`'s length.
const MAX_RANGE: usize = 1024;

pub(crate) fn declare(ctx: &mut Context<'_>) {
    use ParamType::{Any, Number as Num, String as Str};
    let def = |params: Vec<ParamType>, f| FuncDef::new(f, params);
    ctx.declare_func("regex", def(vec![Str, Str], regex));
    ctx.declare_func("regexall", def(vec![Str, Str], regexall));
    ctx.declare_func("strcontains", def(vec![Str, Str], strcontains));
    ctx.declare_func("startswith", def(vec![Str, Str], startswith));
    ctx.declare_func("endswith", def(vec![Str, Str], endswith));
    ctx.declare_func("lower", def(vec![Str], lower));
    ctx.declare_func("upper", def(vec![Str], upper));
    ctx.declare_func("length", def(vec![Any], length));
    ctx.declare_func("floor", def(vec![Num], floor));
    ctx.declare_func("ceil", def(vec![Num], ceil));
    ctx.declare_func("abs", def(vec![Num], abs));
    let numbers = |f| FuncDef::builder().param(Num).variadic_param(Num).build(f);
    ctx.declare_func("min", numbers(min));
    ctx.declare_func("max", numbers(max));
    ctx.declare_func(
        "contains",
        def(vec![ParamType::array_of(Any), Any], contains),
    );
    let lookup_def = FuncDef::builder()
        .params([ParamType::object_of(Any), Str])
        .variadic_param(Any)
        .build(lookup);
    ctx.declare_func("lookup", lookup_def);
    ctx.declare_func("range", numbers(range));
    let bools = ParamType::array_of(ParamType::Bool);
    ctx.declare_func("alltrue", def(vec![bools.clone()], alltrue));
    ctx.declare_func("anytrue", def(vec![bools], anytrue));
    ctx.declare_func("tostring", def(vec![Any], tostring));
    ctx.declare_func("tonumber", def(vec![Any], tonumber));
    ctx.declare_func("replace", def(vec![Str, Str, Str], replace));
}

fn str_arg(args: &FuncArgs, i: usize) -> &str {
    args[i].as_str().unwrap_or_default()
}

fn num_arg(args: &FuncArgs, i: usize) -> f64 {
    args[i]
        .as_number()
        .and_then(Number::as_f64)
        .unwrap_or(f64::NAN)
}

/// A number as Terraform shows it: whole numbers without a fraction.
pub(crate) fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

fn groups(re: &Regex, text: &str, spans: &[Option<(usize, usize)>]) -> Value {
    let part = |s: &Option<(usize, usize)>| match s {
        Some((a, b)) => Value::from(&text[*a..*b]),
        None => Value::Null,
    };
    if re.groups == 0 {
        part(&spans[0])
    } else {
        Value::Array(spans[1..].iter().map(part).collect())
    }
}

fn regex(args: FuncArgs) -> Result<Value, String> {
    let re = compile(str_arg(&args, 0))?;
    let text = str_arg(&args, 1);
    match re.captures(text) {
        Some(spans) => Ok(groups(&re, text, &spans)),
        None => Err("pattern did not match any part of the given string".into()),
    }
}

fn regexall(args: FuncArgs) -> Result<Value, String> {
    let re = compile(str_arg(&args, 0))?;
    let text = str_arg(&args, 1);
    let mut out = Vec::new();
    let mut from = 0;
    while from <= text.len() {
        let Some(spans) = re.captures(&text[from..]) else {
            break;
        };
        let (a, b) = spans[0].unwrap_or((0, 0));
        let shifted: Vec<_> = spans
            .iter()
            .map(|s| s.map(|(x, y)| (x + from, y + from)))
            .collect();
        out.push(groups(&re, text, &shifted));
        let step = if a == b {
            text[from + b..].chars().next().map_or(1, char::len_utf8)
        } else {
            0
        };
        from += b + step;
    }
    Ok(Value::Array(out))
}

fn strcontains(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(str_arg(&args, 0).contains(str_arg(&args, 1))))
}

fn startswith(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(
        str_arg(&args, 0).starts_with(str_arg(&args, 1)),
    ))
}

fn endswith(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(str_arg(&args, 0).ends_with(str_arg(&args, 1))))
}

/// Terraform's `replace` with a literal substring; a `/regex/` substring is not evaluated here.
fn replace(args: FuncArgs) -> Result<Value, String> {
    let (text, from, to) = (str_arg(&args, 0), str_arg(&args, 1), str_arg(&args, 2));
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        return Err("replace() with a regular expression is not evaluated here".into());
    }
    if from.is_empty() {
        return Err("replace() of an empty substring".into());
    }
    Ok(Value::from(text.replace(from, to)))
}

fn lower(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::from(str_arg(&args, 0).to_lowercase()))
}

fn upper(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::from(str_arg(&args, 0).to_uppercase()))
}

fn length(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::String(s) => Ok(Value::from(s.chars().count())),
        Value::Array(a) => Ok(Value::from(a.len())),
        Value::Object(o) => Ok(Value::from(o.len())),
        other => Err(format!("cannot take the length of {other}")),
    }
}

fn floor(args: FuncArgs) -> Result<Value, String> {
    Ok(number(num_arg(&args, 0).floor()))
}

fn ceil(args: FuncArgs) -> Result<Value, String> {
    Ok(number(num_arg(&args, 0).ceil()))
}

fn abs(args: FuncArgs) -> Result<Value, String> {
    Ok(number(num_arg(&args, 0).abs()))
}

fn fold(args: &FuncArgs, pick: fn(f64, f64) -> f64) -> Value {
    let all = (0..args.len()).map(|i| num_arg(args, i));
    number(all.reduce(pick).unwrap_or(f64::NAN))
}

fn min(args: FuncArgs) -> Result<Value, String> {
    Ok(fold(&args, f64::min))
}

fn max(args: FuncArgs) -> Result<Value, String> {
    Ok(fold(&args, f64::max))
}

fn contains(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(Value::Bool(list.contains(&args[1])))
}

fn lookup(args: FuncArgs) -> Result<Value, String> {
    let key = str_arg(&args, 1);
    match (args[0].as_object().and_then(|m| m.get(key)), args.len()) {
        (Some(v), _) => Ok(v.clone()),
        (None, 3) => Ok(args[2].clone()),
        (None, 2) => Err(format!("the given key {key:?} does not exist in the map")),
        (None, n) => Err(format!("lookup takes 2 or 3 arguments, got {n}")),
    }
}

fn range(args: FuncArgs) -> Result<Value, String> {
    let (start, limit, step) = match args.len() {
        1 => (0.0, num_arg(&args, 0), 1.0),
        2 => (num_arg(&args, 0), num_arg(&args, 1), 1.0),
        3 => (num_arg(&args, 0), num_arg(&args, 1), num_arg(&args, 2)),
        n => return Err(format!("range takes 1 to 3 arguments, got {n}")),
    };
    let step = if args.len() < 3 && limit < start {
        -1.0
    } else {
        step
    };
    if step == 0.0 || step.is_nan() || (step > 0.0) != (limit >= start) && limit != start {
        return Err("step must point from start towards limit and not be zero".into());
    }
    let mut out = Vec::new();
    let mut v = start;
    while (step > 0.0 && v < limit) || (step < 0.0 && v > limit) {
        if out.len() == MAX_RANGE {
            return Err(format!("more than {MAX_RANGE} values would be produced"));
        }
        out.push(number(v));
        v += step;
    }
    Ok(Value::Array(out))
}

fn bools(args: &FuncArgs) -> impl Iterator<Item = bool> + '_ {
    let list = args[0].as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter().map(|v| v.as_bool().unwrap_or(false))
}

fn alltrue(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(bools(&args).all(|b| b)))
}

fn anytrue(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(bools(&args).any(|b| b)))
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) => Ok(Value::from(s.as_str())),
        Value::Bool(b) => Ok(Value::from(b.to_string())),
        Value::Number(n) => Ok(Value::from(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        })),
        other => Err(format!("cannot convert {other} to string")),
    }
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && s.trim() == s)
            .map(number)
            .ok_or_else(|| format!("cannot convert {s:?} to number")),
        other => Err(format!("cannot convert {other} to number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Result<Value, String> {
        let mut ctx = Context::new();
        declare(&mut ctx);
        let body: hcl::Body = hcl::from_str(&format!("x = {src}\n")).map_err(|e| e.to_string())?;
        let expr = body.attributes().next().map(|a| a.expr().clone());
        expr.ok_or("no attribute")?
            .evaluate(&ctx)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn functions_answer_as_terraform() {
        let cases = [
            (r#"regex("^[a-z]+$", "abc")"#, Value::from("abc")),
            (
                r#"replace(replace("2026-12-19T09:00", "-", ""), ":", "")"#,
                Value::from("20261219T0900"),
            ),
            (
                r#"regex("(\\d+)-(\\d+)", "v10-20x")"#,
                Value::from(vec!["10", "20"]),
            ),
            (
                r#"regexall("[0-9]+", "a1b22c")"#,
                Value::from(vec!["1", "22"]),
            ),
            (r#"strcontains("a--b", "--")"#, Value::Bool(true)),
            (r#"endswith("a-", "-")"#, Value::Bool(true)),
            (r#"startswith("db.x", "db.")"#, Value::Bool(true)),
            ("floor(4.5)", Value::from(4)),
            ("floor(4) == 4", Value::Bool(true)),
            ("floor(4.5) == 4.5", Value::Bool(false)),
            ("ceil(4.1)", Value::from(5)),
            ("max(1, 7, 3) + min(2, -1)", Value::from(6)),
            ("contains([256, 512], 512)", Value::Bool(true)),
            ("contains([256, 512], 300)", Value::Bool(false)),
            (r#"lookup({ "a" = 1 }, "b", 2)"#, Value::from(2)),
            ("range(3)", Value::from(vec![0, 1, 2])),
            (
                "range(1024, 4097, 1024)",
                Value::from(vec![1024, 2048, 3072, 4096]),
            ),
            ("range(3, 0)", Value::from(vec![3, 2, 1])),
            (r#"length("añb") + length([1, 2])"#, Value::from(5)),
            ("tostring(512)", Value::from("512")),
            ("tostring(true)", Value::from("true")),
            (r#"tonumber("12") == 12"#, Value::Bool(true)),
            (
                "alltrue([true, false]) || anytrue([false, true])",
                Value::Bool(true),
            ),
            (r#"lower("AbC") == upper("aBc")"#, Value::Bool(false)),
        ];
        for (src, want) in cases {
            assert_eq!(eval(src), Ok(want), "{src}");
        }
    }

    #[test]
    fn functions_refuse_as_terraform() {
        for src in [
            r#"regex("^a$", "b")"#,
            r#"regex("(?i)a", "a")"#,
            r#"lookup({ "a" = 1 }, "b")"#,
            "range(0, 2000)",
            r#"tonumber("x")"#,
            "unknown(1)",
        ] {
            assert!(eval(src).is_err(), "{src}");
        }
    }
}
