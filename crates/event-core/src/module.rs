//! The event tier's Terraform module: the files handed to the runner and the variables a payload may set.
//!
//! By default the module is `infra/event-tier`, built into the binary so that a function and the tier it
//! applies always come from one commit. `EVENT_TIER_MODULE_DIR` points at another directory instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Error, Result};

mod functions;
mod regex;
#[cfg(test)]
mod tests;
mod validation;

pub(crate) use validation::from_json as hcl_value;
pub use validation::{Refusal, Rule, Skipped, Validations};

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
    /// The variables' `validation` blocks, checked against a payload before any AWS call.
    pub validations: Validations,
    /// The names of the module's outputs.
    pub outputs: BTreeSet<String>,
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

    /// The module's version: SHA-256 (hex) of its files, each as its name, its length and its
    /// content, in name order. The run history is kept per version (crate::history).
    pub fn hash(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let mut files: Vec<&(String, Vec<u8>)> = self.files.iter().collect();
        files.sort();
        for (name, content) in files {
            h.update(name.as_bytes());
            h.update([0]);
            h.update((content.len() as u64).to_be_bytes());
            h.update(content);
        }
        hex::encode(h.finalize())
    }

    /// Whether the module declares the output `name` (the tier's `readiness`, `crate::watch`).
    pub fn declares_output(&self, name: &str) -> bool {
        self.outputs.contains(name)
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
        let mut blocks = Vec::new();
        let mut outputs = BTreeSet::new();
        for (name, content) in files.iter().filter(|(n, _)| n.ends_with(".tf")) {
            let text = std::str::from_utf8(content)
                .map_err(|_| Error::Module(format!("{name} is not UTF-8")))?;
            let body: hcl::Body =
                hcl::from_str(text).map_err(|e| Error::Module(format!("{name}: {e}")))?;
            for block in body.into_blocks() {
                if block.identifier() == "output"
                    && let Some(label) = block.labels().first()
                {
                    outputs.insert(label.as_str().to_owned());
                }
                if block.identifier() != "variable" {
                    continue;
                }
                let Some(label) = block.labels().first() else {
                    continue;
                };
                let var = label.as_str().to_owned();
                if RESERVED_VARIABLES.contains(&var.as_str()) {
                    reserved.insert(var.clone());
                } else {
                    let ty = block
                        .body()
                        .attributes()
                        .find(|a| a.key() == "type")
                        .map(|a| var_type(a.expr()))
                        .unwrap_or(VarType::Any);
                    variables.insert(var.clone(), ty);
                }
                blocks.push((var, block));
            }
        }
        let declared = blocks.iter().map(|(n, _)| n.clone()).collect();
        let validations = Validations::read(blocks.iter().map(|(n, b)| (n.as_str(), b)), &declared);
        Ok(Module {
            files,
            variables,
            reserved,
            validations,
            outputs,
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
