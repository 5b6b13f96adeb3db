//! `--provider`, `--images`, `--keys` and the service timeouts, shared by every command that
//! boots a stack, and `harness down`.

use anyhow::Context;
use clap::Args;
use harness::Stack;
use harness::signing::KeyProfile;
use harness::stack::{ImageChoice, Provider, containers};

#[derive(Debug, Clone, Args)]
pub(crate) struct ProviderArgs {
    /// Where the stack runs: native (child processes), containers (Docker), or auto (containers
    /// when an engine answers and the images are there, else native).
    #[arg(long, env = "HARNESS_PROVIDER", default_value = "native", value_parser = parse_provider)]
    provider: Provider,
    /// The containers provider's images: official (supabase/postgres, supabase/gotrue), local
    /// (docker/build.sh), or auto (official when they can be had, else local).
    #[arg(long, env = "HARNESS_IMAGES", default_value = "auto", value_parser = parse_images)]
    images: ImageChoice,
    /// How long the served stages wait for the auth server before answering 503.
    #[arg(long, default_value = "2s", value_parser = service::parse_duration)]
    auth_timeout: std::time::Duration,
    /// How long the served stages wait for the database (the whole transaction).
    #[arg(long, default_value = "2s", value_parser = service::parse_duration)]
    db_timeout: std::time::Duration,
    /// How long the gateway waits for the auth server and the data API (Kong's default: 60 s).
    #[arg(long, default_value = "60s", value_parser = service::parse_duration)]
    gateway_timeout: std::time::Duration,
    /// The signing and API keys: cli (what `supabase start` issues: ES256 user tokens, the
    /// HS256 anon/service_role keys, sb_publishable_/sb_secret_), legacy (HS256 only), or a
    /// signing-keys file (`supabase gen signing-key`). Default: the project's [auth]
    /// signing_keys_path, else HARNESS_KEYS, else cli.
    #[arg(long, value_name = "cli|legacy|PATH", value_parser = parse_keys)]
    keys: Option<KeyProfile>,
}

pub(crate) fn parse_keys(value: &str) -> Result<KeyProfile, String> {
    match value.trim() {
        "" => Err("name a profile: cli, legacy, or a signing-keys file's path".to_owned()),
        text => Ok(KeyProfile::parse(text)),
    }
}

fn parse_provider(value: &str) -> Result<Provider, String> {
    value.parse()
}

fn parse_images(value: &str) -> Result<ImageChoice, String> {
    value.parse()
}

impl ProviderArgs {
    /// The stack these flags ask for, before it starts.
    pub(crate) fn builder(&self) -> harness::StackBuilder {
        let builder = Stack::builder()
            .provider(self.provider)
            .images(self.images)
            .service_auth_timeout(self.auth_timeout)
            .service_db_timeout(self.db_timeout)
            .gateway_timeout(self.gateway_timeout);
        match &self.keys {
            Some(profile) => builder.keys(profile.clone()),
            None => builder,
        }
    }

    /// The profile `--keys` or HARNESS_KEYS names, else cli (for a target the harness does not
    /// start, whose keys it must still know).
    pub(crate) fn key_profile(&self) -> KeyProfile {
        self.keys
            .clone()
            .or_else(KeyProfile::from_env)
            .unwrap_or_default()
    }
}

#[derive(Debug, Args)]
pub(crate) struct DownArgs {
    /// Also remove the containers of harness processes that are still running.
    #[arg(long)]
    all: bool,
}

/// Removes containers and networks a crashed run left behind (recognised by their label).
pub(crate) async fn down(args: DownArgs) -> anyhow::Result<bool> {
    let docker = containers::docker()
        .await
        .map_err(anyhow::Error::msg)
        .context("harness down needs the Docker engine")?;
    let removed = containers::remove_leftovers(&docker, args.all)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut text = String::new();
    for container in &removed.containers {
        text.push_str(&format!("removed container {container}\n"));
    }
    for network in &removed.networks {
        text.push_str(&format!("removed network {network}\n"));
    }
    if text.is_empty() {
        text = format!(
            "nothing to remove: no container or network labelled {} {}\n",
            containers::LABEL,
            if args.all {
                ""
            } else {
                "whose harness process has exited"
            }
        );
    }
    super::print(&text)?;
    Ok(true)
}
