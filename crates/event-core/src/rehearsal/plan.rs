//! What a plan does, from `terraform show -json` of it, and the rehearsal's check of it: only
//! creates.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{Check, Mark};

/// What a plan does, from `terraform show -json` of it: only the parts the rehearsal reads (the
/// plan's other values, some of them secret, are never kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Managed resources the plan creates.
    pub creates: usize,
    /// Every other change: `address (update)`.
    pub others: Vec<String>,
    /// Resources created, per type.
    pub by_type: BTreeMap<String, usize>,
    /// The plan's input variables (the event's and the module's defaults).
    pub vars: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct PlanJson {
    #[serde(default)]
    resource_changes: Vec<ResourceChange>,
    #[serde(default)]
    variables: BTreeMap<String, PlanVar>,
}

#[derive(Deserialize)]
struct ResourceChange {
    address: String,
    #[serde(default)]
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    change: Change,
}

#[derive(Deserialize)]
struct Change {
    actions: Vec<String>,
}

#[derive(Deserialize)]
struct PlanVar {
    #[serde(default)]
    value: Value,
}

impl Plan {
    /// Reads `terraform show -json <plan>`.
    pub fn read(json: &[u8]) -> std::result::Result<Plan, String> {
        let p: PlanJson =
            serde_json::from_slice(json).map_err(|e| format!("not a Terraform plan: {e}"))?;
        let mut plan = Plan {
            vars: p.variables.into_iter().map(|(k, v)| (k, v.value)).collect(),
            ..Plan::default()
        };
        for rc in p.resource_changes.into_iter().filter(|r| r.mode != "data") {
            match rc.change.actions.as_slice() {
                [a] if a == "create" => {
                    plan.creates += 1;
                    *plan.by_type.entry(rc.kind).or_default() += 1;
                }
                [a] if a == "no-op" => plan.others.push(format!("{} (kept)", rc.address)),
                other => plan
                    .others
                    .push(format!("{} ({})", rc.address, other.join(", "))),
            }
        }
        Ok(plan)
    }

    /// Only creates: the event is not up, and its start will build it whole.
    pub fn check(&self) -> Check {
        if self.others.is_empty() && self.creates > 0 {
            return Check::new(
                "plan",
                Mark::Pass,
                format!("creates {} resources and nothing else", self.creates),
            );
        }
        if self.creates == 0 && self.others.is_empty() {
            return Check::new("plan", Mark::Fail, "plans nothing at all");
        }
        let shown: Vec<&str> = self.others.iter().take(5).map(String::as_str).collect();
        let more = self.others.len().saturating_sub(shown.len());
        Check::new(
            "plan",
            Mark::Fail,
            format!(
                "creates {} resources but also touches {} that exist: {}{} (is the tier up already, or left from an earlier run?)",
                self.creates,
                self.others.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        )
    }

    pub(super) fn count(&self, kind: &str) -> usize {
        self.by_type.get(kind).copied().unwrap_or(0)
    }

    pub(super) fn number(&self, var: &str) -> Option<f64> {
        self.vars.get(var).and_then(Value::as_f64)
    }
}
