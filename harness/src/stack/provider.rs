//! Where a stack's servers run: child processes (native) or Docker containers, and how `auto`
//! chooses between them.

use std::{fmt, str::FromStr};

use super::containers::{self, ImageChoice};

/// The environment variable `cargo test` (and the CLI's default) reads: native, containers or auto.
pub const PROVIDER_ENV: &str = "HARNESS_PROVIDER";

/// How to run the stack's PostgreSQL and auth server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provider {
    /// Child processes from the installed PostgreSQL binaries: fast, no Docker.
    #[default]
    Native,
    /// Docker containers on a private network (testcontainers).
    Containers,
    /// Containers when a Docker engine answers and the images are there, otherwise native.
    Auto,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Native => "native",
            Provider::Containers => "containers",
            Provider::Auto => "auto",
        }
    }

    /// HARNESS_PROVIDER, or native when it is unset; an unknown value is an error, not a guess.
    pub fn from_env() -> Result<Provider, String> {
        match std::env::var(PROVIDER_ENV) {
            Ok(value) if !value.is_empty() => value
                .parse()
                .map_err(|e| format!("{PROVIDER_ENV}={value}: {e}")),
            _ => Ok(Provider::Native),
        }
    }

    /// Turns `auto` into a concrete provider, with the reason to print; the others pass through.
    pub async fn resolve(self, images: ImageChoice) -> (Provider, String) {
        match self {
            Provider::Auto => match containers::availability(images).await {
                Ok(found) => (Provider::Containers, format!("auto: containers ({found})")),
                Err(why) => (Provider::Native, format!("auto: native, because {why}")),
            },
            other => (other, format!("{} (as asked)", other.name())),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(value: &str) -> Result<Provider, String> {
        match value {
            "native" => Ok(Provider::Native),
            "containers" => Ok(Provider::Containers),
            "auto" => Ok(Provider::Auto),
            other => Err(format!(
                "unknown provider `{other}` (expected native, containers or auto)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for provider in [Provider::Native, Provider::Containers, Provider::Auto] {
            assert_eq!(provider.name().parse::<Provider>(), Ok(provider));
        }
        let error = "docker".parse::<Provider>().unwrap_err();
        assert!(error.contains("native, containers or auto"), "{error}");
    }
}
