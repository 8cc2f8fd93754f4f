//! The module's own `validation` blocks, checked against a payload's values before any AWS call, so a
//! value the tier cannot take is refused with the module's own message instead of at `terraform plan`.
//!
//! Conditions are parsed once, at module load, and checked there for what this evaluator can do:
//! known functions (`functions.rs`, plus `can`), literal regular expressions it compiles, and
//! references to declared variables only. A condition it cannot evaluate is skipped with a warning
//! (and listed in [`Validations::skipped`], which a test keeps empty for `infra/event-tier`), never
//! passed silently as if it held.

use std::collections::{BTreeMap, BTreeSet};

use hcl::eval::{Context, Evaluate};
use hcl::expr::{Expression, FuncCall, ObjectKey, Operation, TraversalOperator};
use hcl::{Block, Value};
use tracing::warn;

use super::functions;
use super::regex::Regex;

/// One `validation { condition, error_message }` block of a variable.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The variable whose block holds it.
    pub variable: String,
    condition: Expression,
    error_message: Expression,
    /// The variables the condition reads (`var.<name>`).
    pub involves: BTreeSet<String>,
}

/// A validation block this evaluator cannot check, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub variable: String,
    pub reason: String,
}

/// A value the module's validation refuses: the payload's variable to name, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub variable: String,
    pub reason: String,
}

/// The validation blocks of a module, with the variables' defaults they are evaluated against.
#[derive(Debug, Clone, Default)]
pub struct Validations {
    pub rules: Vec<Rule>,
    /// Defaults that are constants (`default = 2`, `default = null`).
    pub defaults: BTreeMap<String, Value>,
    pub skipped: Vec<Skipped>,
}

impl Validations {
    /// Reads the defaults and validation blocks of `variables` (name and block); `declared` is
    /// every variable the module declares.
    pub(crate) fn read<'a>(
        variables: impl IntoIterator<Item = (&'a str, &'a Block)>,
        declared: &BTreeSet<String>,
    ) -> Validations {
        let mut v = Validations::default();
        let mut blocks = Vec::new();
        for (name, block) in variables {
            let default = block.body().attributes().find(|a| a.key() == "default");
            if let Some(value) = default.and_then(|d| d.expr().evaluate(&Context::new()).ok()) {
                v.defaults.insert(name.to_owned(), value);
            }
            for b in block
                .body()
                .blocks()
                .filter(|b| b.identifier() == "validation")
            {
                blocks.push((name, b));
            }
        }
        for (name, block) in blocks {
            match v.rule(name, block, declared) {
                Ok(rule) => v.rules.push(rule),
                Err(reason) => {
                    warn!(variable = name, %reason, "validation block not checked before launch");
                    v.skipped.push(Skipped {
                        variable: name.to_owned(),
                        reason,
                    });
                }
            }
        }
        v
    }

    fn rule(&self, name: &str, block: &Block, declared: &BTreeSet<String>) -> Result<Rule, String> {
        let attr = |key: &str| {
            let a = block.body().attributes().find(|a| a.key() == key);
            a.map(|a| a.expr().clone()).ok_or(format!("no {key}"))
        };
        let condition = attr("condition")?;
        let error_message = attr("error_message")?;
        let mut involves = BTreeSet::new();
        inspect(&condition, &mut involves, &[], false)?;
        if let Some(v) = involves.iter().find(|v| !declared.contains(*v)) {
            return Err(format!(
                "refers to var.{v}, which the module does not declare"
            ));
        }
        let rule = Rule {
            variable: name.to_owned(),
            condition,
            error_message,
            involves,
        };
        // Where the defaults give every value, evaluate once now: a gap of this evaluator shows at
        // load, not on an operator's payload.
        if rule.involves.iter().all(|v| self.defaults.contains_key(v))
            && let Err(e) = rule.holds(&context(&self.defaults))
        {
            return Err(format!("cannot be evaluated with the defaults: {e}"));
        }
        Ok(rule)
    }

    /// Checks the rules that read a variable the payload set (`set`: `vars` and the event id), with
    /// every other variable at its default. Rules reading a variable without a known value (one the
    /// functions set at run time, such as `aws_region`) are left to Terraform.
    pub fn check(&self, set: &BTreeMap<String, Value>) -> Result<(), Refusal> {
        let mut values = self.defaults.clone();
        values.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut ctx = None;
        for rule in &self.rules {
            if !rule.involves.iter().any(|v| set.contains_key(v))
                || !rule.involves.iter().all(|v| values.contains_key(v))
            {
                continue;
            }
            let ctx = ctx.get_or_insert_with(|| context(&values));
            let failure = match rule.holds(ctx) {
                Ok(true) => continue,
                Ok(false) => None,
                Err(e) => Some(e),
            };
            return Err(rule.refusal(ctx, set, &values, failure));
        }
        Ok(())
    }
}

impl Rule {
    fn holds(&self, ctx: &Context<'_>) -> Result<bool, String> {
        match resolve_can(&self.condition, ctx).evaluate(ctx) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("condition gave {other}, not a boolean")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn refusal(
        &self,
        ctx: &Context<'_>,
        set: &BTreeMap<String, Value>,
        values: &BTreeMap<String, Value>,
        failure: Option<String>,
    ) -> Refusal {
        let variable = if set.contains_key(&self.variable) {
            self.variable.clone()
        } else {
            let first = self.involves.iter().find(|v| set.contains_key(*v));
            first.cloned().unwrap_or_default()
        };
        let message = match self.error_message.evaluate(ctx) {
            Ok(Value::String(s)) => s,
            _ => format!("a validation of variable {} fails", self.variable),
        };
        let message = message.trim().trim_end_matches('.');
        let shown: Vec<String> = self
            .involves
            .iter()
            .map(|v| {
                let value = values.get(v).map(ToString::to_string).unwrap_or_default();
                let origin = if set.contains_key(v) {
                    ""
                } else {
                    " (default)"
                };
                format!("{v} = {value}{origin}")
            })
            .collect();
        let mut reason = format!(
            "is refused by the event tier: {message}; got {}",
            shown.join(", ")
        );
        if let Some(f) = failure {
            reason.push_str(&format!(" (the condition fails: {f})"));
        }
        Refusal { variable, reason }
    }
}

fn context(values: &BTreeMap<String, Value>) -> Context<'static> {
    let mut ctx = Context::new();
    functions::declare(&mut ctx);
    let var: hcl::Map<String, Value> = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    ctx.declare_var("var", Value::Object(var));
    ctx
}

/// Walks a condition: collects `var.<name>` references, and refuses what evaluation here cannot do.
/// `bound` holds the names of enclosing `for` expressions' variables.
fn inspect(
    expr: &Expression,
    involves: &mut BTreeSet<String>,
    bound: &[&str],
    in_for: bool,
) -> Result<(), String> {
    let mut walk = |e: &Expression| inspect(e, involves, bound, in_for);
    match expr {
        Expression::Null | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {
            Ok(())
        }
        Expression::Array(items) => items.iter().try_for_each(walk),
        Expression::Object(obj) => obj.iter().try_for_each(|(k, v)| {
            if let ObjectKey::Expression(k) = k {
                walk(k)?;
            }
            walk(v)
        }),
        Expression::TemplateExpr(_) => Err("string templates are not evaluated here".into()),
        Expression::Variable(v) if bound.contains(&v.as_str()) => Ok(()),
        Expression::Variable(v) => Err(format!("refers to `{}`, not to a variable", v.as_str())),
        Expression::Traversal(t) => {
            let var_attr = match (&t.expr, t.operators.first()) {
                (Expression::Variable(v), Some(TraversalOperator::GetAttr(name)))
                    if v.as_str() == "var" && !bound.contains(&"var") =>
                {
                    Some(name.as_str().to_owned())
                }
                _ => None,
            };
            let rest = match var_attr {
                Some(name) => {
                    involves.insert(name);
                    &t.operators[1..]
                }
                None => {
                    inspect(&t.expr, involves, bound, in_for)?;
                    &t.operators[..]
                }
            };
            rest.iter().try_for_each(|op| match op {
                TraversalOperator::Index(e) => inspect(e, involves, bound, in_for),
                _ => Ok(()),
            })
        }
        Expression::FuncCall(f) => inspect_call(f, involves, bound, in_for),
        Expression::Parenthesis(e) => walk(e),
        Expression::Conditional(c) => {
            walk(&c.cond_expr)?;
            walk(&c.true_expr)?;
            walk(&c.false_expr)
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => walk(&u.expr),
            Operation::Binary(b) => {
                walk(&b.lhs_expr)?;
                walk(&b.rhs_expr)
            }
        },
        Expression::ForExpr(f) => {
            walk(&f.collection_expr)?;
            let mut inner: Vec<&str> = bound.to_vec();
            inner.push(f.value_var.as_str());
            inner.extend(f.key_var.as_ref().map(|k| k.as_str()));
            let parts = [
                f.key_expr.as_ref(),
                Some(&f.value_expr),
                f.cond_expr.as_ref(),
            ];
            parts
                .into_iter()
                .flatten()
                .try_for_each(|e| inspect(e, involves, &inner, true))
        }
        #[allow(unreachable_patterns)]
        _ => Err("an expression this evaluator does not know".into()),
    }
}

fn inspect_call(
    f: &FuncCall,
    involves: &mut BTreeSet<String>,
    bound: &[&str],
    in_for: bool,
) -> Result<(), String> {
    let name = f.name.name.as_str();
    if !f.name.namespace.is_empty() {
        return Err(format!("calls the provider function {}", f.name));
    }
    match name {
        "can" if in_for => return Err("can() inside a for expression".into()),
        "can" if f.args.len() != 1 || f.expand_final => {
            return Err("can() takes one argument".into());
        }
        "can" => {}
        "regex" | "regexall" => match f.args.first() {
            Some(Expression::String(p)) => {
                Regex::new(p).map_err(|e| format!("{name}({p:?}): {e}"))?;
            }
            _ => {
                return Err(format!(
                    "{name}() with a pattern that is not a literal string"
                ));
            }
        },
        n if functions::NAMES.contains(&n) => {}
        n => {
            return Err(format!(
                "calls {n}(), which this evaluator does not implement"
            ));
        }
    }
    f.args
        .iter()
        .try_for_each(|a| inspect(a, involves, bound, in_for))
}

/// Replaces each `can(x)` with whether `x` evaluates: `can` needs its argument unevaluated, which
/// `hcl::eval` functions never see.
fn resolve_can(expr: &Expression, ctx: &Context<'_>) -> Expression {
    let r = |e: &Expression| resolve_can(e, ctx);
    match expr {
        Expression::FuncCall(f) if f.name.namespace.is_empty() && f.name.name.as_str() == "can" => {
            let arg = f.args.first().map(r);
            Expression::Bool(arg.is_some_and(|a| a.evaluate(ctx).is_ok()))
        }
        Expression::FuncCall(f) => {
            let mut f = f.clone();
            f.args = f.args.iter().map(r).collect();
            Expression::FuncCall(f)
        }
        Expression::Array(items) => Expression::Array(items.iter().map(r).collect()),
        Expression::Object(obj) => {
            Expression::Object(obj.iter().map(|(k, v)| (k.clone(), r(v))).collect())
        }
        Expression::Parenthesis(e) => Expression::Parenthesis(Box::new(r(e))),
        Expression::Traversal(t) => {
            let mut t = t.clone();
            t.expr = r(&t.expr);
            for op in &mut t.operators {
                if let TraversalOperator::Index(e) = op {
                    *e = r(e);
                }
            }
            Expression::Traversal(t)
        }
        Expression::Conditional(c) => {
            let mut c = c.clone();
            c.cond_expr = r(&c.cond_expr);
            c.true_expr = r(&c.true_expr);
            c.false_expr = r(&c.false_expr);
            Expression::Conditional(c)
        }
        Expression::Operation(op) => Expression::Operation(Box::new(match op.as_ref() {
            Operation::Unary(u) => {
                let mut u = u.clone();
                u.expr = r(&u.expr);
                Operation::Unary(u)
            }
            Operation::Binary(b) => {
                let mut b = b.clone();
                b.lhs_expr = r(&b.lhs_expr);
                b.rhs_expr = r(&b.rhs_expr);
                Operation::Binary(b)
            }
        })),
        other => other.clone(),
    }
}

/// A payload's JSON scalar as the value Terraform would read from `*.auto.tfvars.json`.
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => functions::number(f),
            (None, None) => Value::Null,
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}
