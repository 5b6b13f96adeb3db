//! `--provider` and `--images`, shared by every command that boots a stack, and `harness down`.

use anyhow::Context;
use clap::Args;
use harness::Stack;
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
}

fn parse_provider(value: &str) -> Result<Provider, String> {
    value.parse()
}

fn parse_images(value: &str) -> Result<ImageChoice, String> {
    value.parse()
}

impl ProviderArgs {
    /// Boots the stack and says on stderr which provider runs it and why.
    pub(crate) async fn start(&self) -> anyhow::Result<Stack> {
        let stack = Stack::builder()
            .provider(self.provider)
            .images(self.images)
            .service_auth_timeout(self.auth_timeout)
            .service_db_timeout(self.db_timeout)
            .start()
            .await
            .context("starting the stack")?;
        eprintln!("harness: provider {}", stack.provider_note());
        Ok(stack)
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
