//! Builds the event tier's Terraform (`infra/event-tier`) into the library, so that a function and the
//! tier it applies always come from the same commit.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../../infra/event-tier");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tf") || n == ".terraform.lock.hcl")
        .collect();
    names.sort();
    let mut out = String::from(
        "/// The files of `infra/event-tier`, built in.\npub static EMBEDDED_FILES: &[(&str, &[u8])] = &[\n",
    );
    for name in &names {
        let path = dir.join(name).canonicalize().unwrap();
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_module.rs");
    std::fs::write(dest, out).unwrap();
}
