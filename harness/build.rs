//! Embeds every SQL file of `db/init/` and `db/migrations/` in name order, so adding a migration
//! needs no Rust change and still invalidates the template cache (its hash covers the text).

use std::{env, fs, path::Path};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("db");
    let mut out = String::new();
    for (name, dir) in [("INIT_SQL", "init"), ("MIGRATION_SQL", "migrations")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect();
        files.sort();
        out.push_str(&format!("pub(crate) static {name}: &[SqlFile] = &[\n"));
        for path in files {
            let path = path.canonicalize().expect("canonical path");
            println!("cargo:rerun-if-changed={}", path.display());
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push_str(&format!(
                "    SqlFile {{ name: {file:?}, sql: include_str!({:?}) }},\n",
                path.display().to_string()
            ));
        }
        out.push_str("];\n");
    }
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("sql_files.rs");
    fs::write(dest, out).expect("writing sql_files.rs");
}
