//! `harness init`: a commented `harness.toml` and a first scenario for a project folder, from
//! what the folder shows (a `supabase/` folder, a Next.js `package.json`, a FastAPI app).
//!
//! It never overwrites: when any file it would write exists, it writes nothing and says which.

use std::path::{Path, PathBuf};

use super::{DEFAULT_SCENARIOS, MANIFEST, ProjectError, supabase};

/// The scenario `init` writes, under [`DEFAULT_SCENARIOS`].
pub const FIRST_SCENARIO: &str = "first-signed-in-call.toml";

/// What kind of app the folder holds, as far as its files tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    /// `package.json` depends on `next`.
    NextJs,
    /// `pyproject.toml` or `requirements.txt` names fastapi or uvicorn.
    FastApi,
    /// Nothing recognised: the command is left for the user to write.
    Unknown,
}

/// What `init` found and wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub kind: AppKind,
    /// The Supabase folder found as the Supabase CLI finds it, if any.
    pub supabase: Option<PathBuf>,
    /// The service's name in harness.toml, which the scenario's steps use as `stage`.
    pub service: String,
    /// The files written, harness.toml first.
    pub written: Vec<PathBuf>,
}

/// Writes `dir/harness.toml` and `dir/harness/scenarios/first-signed-in-call.toml`.
pub fn init(dir: &Path) -> Result<InitReport, ProjectError> {
    let manifest = dir.join(MANIFEST);
    let scenario = dir.join(DEFAULT_SCENARIOS).join(FIRST_SCENARIO);
    let existing: Vec<PathBuf> = [&manifest, &scenario]
        .into_iter()
        .filter(|path| path.exists())
        .cloned()
        .collect();
    if !existing.is_empty() {
        return Err(ProjectError::AlreadyExists { paths: existing });
    }
    let kind = detect(dir);
    let supabase = supabase::locate(dir, None);
    let service = match kind {
        AppKind::NextJs => "web",
        AppKind::FastApi => "api",
        AppKind::Unknown => "app",
    };
    let write = |path: &Path, text: String| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ProjectError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        // create_new: a file that appeared since the check above is still not overwritten.
        use std::io::Write;
        std::fs::File::create_new(path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|source| ProjectError::Write {
                path: path.to_path_buf(),
                source,
            })
    };
    write(
        &manifest,
        manifest_text(dir, kind, service, supabase.as_deref()),
    )?;
    write(&scenario, scenario_text(service))?;
    Ok(InitReport {
        kind,
        supabase,
        service: service.to_owned(),
        written: vec![manifest, scenario],
    })
}

fn detect(dir: &Path) -> AppKind {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    if let Ok(package) = serde_json::from_str::<serde_json::Value>(&read("package.json")) {
        let depends = ["dependencies", "devDependencies"]
            .iter()
            .any(|section| package[section].get("next").is_some());
        if depends {
            return AppKind::NextJs;
        }
    }
    let python = format!("{}\n{}", read("pyproject.toml"), read("requirements.txt")).to_lowercase();
    if python.contains("fastapi") || python.contains("uvicorn") {
        return AppKind::FastApi;
    }
    AppKind::Unknown
}

/// `npm run dev`, or the pnpm/yarn equivalent the lock file points to.
fn next_command(dir: &Path) -> String {
    let runner = if dir.join("pnpm-lock.yaml").is_file() {
        "pnpm"
    } else if dir.join("yarn.lock").is_file() {
        "yarn"
    } else {
        "npm run"
    };
    let package: serde_json::Value = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    if package["scripts"].get("dev").is_some() {
        format!("{runner} dev")
    } else {
        "npx next dev".to_owned()
    }
}

/// The `module:app` uvicorn serves: the first of the usual files that creates a FastAPI app.
fn fastapi_target(dir: &Path) -> String {
    [
        ("main.py", "main"),
        ("app.py", "app"),
        ("app/main.py", "app.main"),
        ("src/main.py", "src.main"),
    ]
    .iter()
    .find(|(file, _)| {
        std::fs::read_to_string(dir.join(file)).is_ok_and(|text| text.contains("FastAPI("))
    })
    .map_or_else(
        || "main:app".to_owned(),
        |(_, module)| format!("{module}:app"),
    )
}

fn manifest_text(dir: &Path, kind: AppKind, service: &str, supabase: Option<&Path>) -> String {
    let supabase_line = match supabase {
        Some(found) if found == dir.join("supabase") => {
            "# supabase = \"supabase\"          # found here, as the Supabase CLI finds it"
                .to_owned()
        }
        Some(found) => format!(
            "# supabase = \"supabase\"          # found at {}, as the Supabase CLI finds it",
            found.display()
        ),
        None => "# supabase = \"supabase\"          # none found: run `supabase init` for a schema"
            .to_owned(),
    };
    let (command, preset, ready, note) = match kind {
        AppKind::NextJs => (
            next_command(dir),
            "nextjs",
            "/",
            "# `next dev` reads PORT, and compiles on the first request: the first ready_url probe\n\
             # waits for that. A prebuilt `next start` would ignore the NEXT_PUBLIC_* values given\n\
             # here (they are inlined at build time), so run the dev server or build in `command`.",
        ),
        AppKind::FastApi => (
            format!(
                "uvicorn {} --host 127.0.0.1 --port \"$PORT\"",
                fastapi_target(dir)
            ),
            "supabase",
            "/docs",
            "# uvicorn serves FastAPI's /docs as soon as the app is up.",
        ),
        AppKind::Unknown => (
            "echo 'edit harness.toml: `command` must start your service on $PORT' >&2; exit 1"
                .to_owned(),
            "supabase",
            "/",
            "# Nothing recognised in this folder: write the command that starts your service.",
        ),
    };
    format!(
        r#"# The harness runs this project: its Supabase schema in a local stack, the service below
# started against it, and the scenarios replayed and compared with their snapshots.
# Every key is optional except a service's `command`; the defaults are shown commented out.

# scenarios = "{DEFAULT_SCENARIOS}"  # scenario files, next to this file
# snapshots = "harness/snapshots"  # reviewed snapshots (`harness run --update`, `cargo insta review`)
{supabase_line}

# A service the harness starts after the stack and stops after the run; scenarios call it
# with `stage = "{service}"`.
[service.{service}]
{note}
command = {command:?}               # run with `sh -c`, in its own process group
# cwd = "."                        # relative to this file
preset = "{preset}"                # nextjs | supabase | vite: the variable names apps read
port = "auto"                      # a free port, given as PORT; or a number
ready_url = "{ready}"              # polled on 127.0.0.1 until it answers
# ready_status = ["2xx", "3xx", 400, 401, 402, 403]
# ready_log = "ready in"           # or wait for a line of its output (a regex)
# ready_timeout = "60s"
# stop_timeout = "5s"              # SIGTERM, then SIGKILL of the whole group
# inherit_env = ["NODE_OPTIONS"]   # the environment starts clean but for PATH, HOME, LANG

# Extra variables; values may use {{{{API_URL}}}}, {{{{ANON_KEY}}}}, {{{{SERVICE_ROLE_KEY}}}},
# {{{{PUBLISHABLE_KEY}}}}, {{{{SECRET_KEY}}}}, {{{{JWT_SECRET}}}}, {{{{DB_URL}}}}, {{{{PORT}}}}.
[service.{service}.env]
# MY_SUPABASE_URL = "{{{{API_URL}}}}"
"#
    )
}

fn scenario_text(service: &str) -> String {
    let step = |name: &str, kind: Option<&str>, status: u16| {
        let headers = match kind {
            Some(kind) => {
                format!("headers = {{ Authorization = \"Bearer {{{{alice.token.{kind}}}}}\" }}\n")
            }
            None => String::new(),
        };
        format!(
            "[[step]]\nname = \"{name}\"\nstage = \"{service}\"\nmethod = \"GET\"\npath = \"/api/me\"\n\
             {headers}expect = {{ status = {status} }}\n"
        )
    };
    format!(
        r#"story = """
A first check written by `harness init`: a user who signed up calls one endpoint that needs a
signed-in user, with a valid token, an expired one and none. Change `path` (three times) to such
an endpoint of yours, then `harness run --update` records the snapshots: review and commit them.
"""
users = ["alice"]   # signed up through the auth server for every run

{}
{}
{}"#,
        step("a signed-in user is served", Some("valid"), 200),
        step("an expired token is refused", Some("expired"), 401),
        step("a request without a token is refused", None, 401),
    )
}
