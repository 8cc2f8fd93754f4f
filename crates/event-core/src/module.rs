//! The event tier's Terraform module: the files handed to the runner and the variables a payload may set.
//!
//! By default the module is `infra/event-tier`, built into the binary so that a function and the tier it
//! applies always come from one commit. `EVENT_TIER_MODULE_DIR` points at another directory instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Error, Result};

include!(concat!(env!("OUT_DIR"), "/embedded_module.rs"));

/// Variables the functions set themselves; a payload may not.
pub const RESERVED_VARIABLES: &[&str] = &["event_id", "aws_region", "aws_endpoint_url"];

/// The type of a declared variable, as far as a payload's scalar values care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
    /// `any`, or no type given: any scalar.
    Any,
    /// A collection or object type: not settable from a payload.
    Complex,
}

impl VarType {
    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "a string",
            VarType::Number => "a number",
            VarType::Bool => "a boolean",
            VarType::Any => "a scalar",
            VarType::Complex => "not a scalar",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Module {
    /// File name (no directories) and content.
    pub files: Vec<(String, Vec<u8>)>,
    /// Variables a payload may set, with their types.
    pub variables: BTreeMap<String, VarType>,
    /// The reserved variables (set by the functions) that this module declares.
    pub reserved: BTreeSet<String>,
}

impl Module {
    /// The module built into this binary (`infra/event-tier`).
    pub fn embedded() -> Result<Self> {
        let files = EMBEDDED_FILES
            .iter()
            .map(|(n, c)| ((*n).to_owned(), c.to_vec()))
            .collect();
        Self::from_files(files)
    }

    /// The module in `dir`: its `*.tf` files and `.terraform.lock.hcl`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::Module(format!("cannot read {}: {e}", dir.display())))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::Module(e.to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_module_file(&name) && entry.path().is_file() {
                let content = std::fs::read(entry.path())
                    .map_err(|e| Error::Module(format!("cannot read {name}: {e}")))?;
                files.push((name, content));
            }
        }
        files.sort();
        Self::from_files(files)
    }

    pub fn load(dir: Option<&Path>) -> Result<Self> {
        match dir {
            Some(d) => Self::from_dir(d),
            None => Self::embedded(),
        }
    }

    fn from_files(files: Vec<(String, Vec<u8>)>) -> Result<Self> {
        if !files.iter().any(|(n, _)| n.ends_with(".tf")) {
            return Err(Error::Module("no .tf files".into()));
        }
        let mut variables = BTreeMap::new();
        let mut reserved = BTreeSet::new();
        for (name, content) in files.iter().filter(|(n, _)| n.ends_with(".tf")) {
            let text = std::str::from_utf8(content)
                .map_err(|_| Error::Module(format!("{name} is not UTF-8")))?;
            let body: hcl::Body =
                hcl::from_str(text).map_err(|e| Error::Module(format!("{name}: {e}")))?;
            for block in body.blocks().filter(|b| b.identifier() == "variable") {
                let Some(label) = block.labels().first() else {
                    continue;
                };
                let var = label.as_str().to_owned();
                if RESERVED_VARIABLES.contains(&var.as_str()) {
                    reserved.insert(var);
                    continue;
                }
                let ty = block
                    .body()
                    .attributes()
                    .find(|a| a.key() == "type")
                    .map(|a| var_type(a.expr()))
                    .unwrap_or(VarType::Any);
                variables.insert(var, ty);
            }
        }
        Ok(Module {
            files,
            variables,
            reserved,
        })
    }
}

pub(crate) fn is_module_file(name: &str) -> bool {
    name.ends_with(".tf") || name == ".terraform.lock.hcl"
}

fn var_type(expr: &hcl::Expression) -> VarType {
    match expr {
        hcl::Expression::Variable(v) => match v.as_str() {
            "string" => VarType::String,
            "number" => VarType::Number,
            "bool" => VarType::Bool,
            "any" => VarType::Any,
            _ => VarType::Complex,
        },
        _ => VarType::Complex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_with_their_types() {
        let tf = br#"
variable "event_id" { type = string }
variable "desired_count" {
  type        = number
  description = "tasks"
  validation {
    condition     = var.desired_count >= 1
    error_message = "at least one"
  }
}
variable "flag" { type = bool }
variable "anything" {}
variable "tags" { type = map(string) }
"#;
        let m = Module::from_files(vec![("variables.tf".into(), tf.to_vec())]).unwrap();
        assert_eq!(m.variables.get("desired_count"), Some(&VarType::Number));
        assert_eq!(m.variables.get("flag"), Some(&VarType::Bool));
        assert_eq!(m.variables.get("anything"), Some(&VarType::Any));
        assert_eq!(m.variables.get("tags"), Some(&VarType::Complex));
        assert!(
            !m.variables.contains_key("event_id"),
            "reserved variables are not settable"
        );
        assert!(m.reserved.contains("event_id"));
    }

    #[test]
    fn embedded_module_is_the_event_tier() {
        let m = Module::embedded().unwrap();
        assert!(m.files.iter().any(|(n, _)| n == "variables.tf"));
        assert!(m.variables.contains_key("desired_count"));
        assert!(m.variables.contains_key("max_count"));
    }
}
