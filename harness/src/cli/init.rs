//! `harness init [DIR]`: makes a folder a harness project, then says what it wrote, what it
//! found, and the three things left to do.

use std::path::{Path, PathBuf};

use clap::Args;
use harness::project::init::{self, AppKind, InitReport};

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The project's folder (default: the current directory).
    dir: Option<PathBuf>,
}

pub(crate) fn run(args: InitArgs) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        anyhow::bail!(
            "{}: no such directory: give the folder of the project to set up",
            dir.display()
        );
    }
    let dir = std::path::absolute(&dir)?;
    let report = init::init(&dir)?;
    super::print(&describe(&dir, &report))
}

fn describe(dir: &Path, report: &InitReport) -> String {
    let shown = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let mut text = String::new();
    for path in &report.written {
        text.push_str(&format!("wrote {}\n", shown(path)));
    }
    let kind = match report.kind {
        AppKind::NextJs => "a Next.js app (package.json depends on next)",
        AppKind::FastApi => "a FastAPI app (fastapi or uvicorn in pyproject.toml/requirements.txt)",
        AppKind::Unknown => "no app the harness recognises: write its `command` yourself",
    };
    text.push_str(&format!("found {kind}\n"));
    match &report.supabase {
        Some(supabase) => text.push_str(&format!(
            "found the Supabase folder {}: its migrations, seed and config.toml make the stack\n",
            supabase.display()
        )),
        None => text.push_str(
            "found no supabase/config.toml: the stack gets no schema of yours (run `supabase \
             init` and add migrations, or set `supabase` in harness.toml)\n",
        ),
    }
    let service = &report.service;
    text.push_str(&format!(
        "\nnext:\n  \
         1. check [service.{service}] in harness.toml: `command` must start the app on $PORT\n  \
         2. in {}, point `path` at an endpoint of yours that needs a signed-in user\n  \
         3. harness run --update   then review the new snapshots (cargo insta review) and commit them\n",
        shown(&report.written[1])
    ));
    text
}
