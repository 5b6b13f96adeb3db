//! The official Python client, supabase-py (nobody here wrote it), against a stack's project URL:
//! sign-up, the seed's request-scoped client and its insert read back through `.single()`, the
//! anonymous insert refused by RLS, filters, order, counts, updates, upserts, deletes and RPC, each
//! answered as PostgREST answers it. The checks are `tests/python/supabase_py_check.py`.
//!
//! It needs a Python with the packages of `tests/python/requirements.txt`: `HARNESS_PYTHON`, else
//! the workspace's `.venv` (`.ci/run` makes it). Without one it prints a SKIPPED line, unless
//! `HARNESS_REQUIRE_PYTHON=1` (as in CI), where a missing client is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::Stack;
use sqlx::Connection;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A Python that imports supabase, or why there is none.
fn python() -> Result<PathBuf, String> {
    let python = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    let probe = Command::new(&python)
        .args(["-c", "import supabase, postgrest"])
        .output()
        .map_err(|e| format!("{} cannot run: {e}", python.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "{} has no supabase package: python3 -m venv .venv && .venv/bin/pip install -r \
             harness/tests/python/requirements.txt",
            python.display()
        ));
    }
    Ok(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supabase_py_runs_unchanged_against_the_project_url() {
    let python = match python() {
        Ok(python) => python,
        Err(why) if std::env::var("HARNESS_REQUIRE_PYTHON").as_deref() == Ok("1") => {
            panic!("HARNESS_REQUIRE_PYTHON=1 and {why}")
        }
        Err(why) => {
            println!("SKIPPED supabase-py check: {why}");
            return;
        }
    };
    let stack = Stack::start().await.expect("the stack starts");
    let fixture =
        std::fs::read_to_string(workspace().join("harness/tests/fixtures/python/rpc.sql")).unwrap();
    let mut db = sqlx::PgConnection::connect(stack.db_url()).await.unwrap();
    sqlx::raw_sql(&fixture).execute(&mut db).await.unwrap();
    wait_for_schema_reload(&stack).await;

    let output = Command::new(python)
        .arg(workspace().join("harness/tests/python/supabase_py_check.py"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(stack.env())
        .output()
        .expect("the check runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    println!("{printed}");
    assert!(
        output.status.success(),
        "supabase-py check failed ({}):\n{printed}\n{errors}",
        output.status
    );
    assert!(
        printed.contains("supabase-py: every check passed"),
        "{printed}"
    );
    stack.stop().await.unwrap();
}

/// `notify pgrst, 'reload schema'` is handled asynchronously: wait until the fixture's table is
/// in the data API's schema cache.
async fn wait_for_schema_reload(stack: &Stack) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http
            .get(format!("{}/notes?select=id", stack.rest_url()))
            .header("apikey", stack.service_role_key())
            .bearer_auth(stack.service_role_key())
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the data API never saw public.notes: {}",
            response.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
