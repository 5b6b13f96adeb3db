//! Which images a containers stack runs: Supabase's official ones at the self-hosted stack's
//! pinned tags by default, the locally built ones (docker/build.sh) when asked or when the
//! official ones cannot be had.

use std::{fmt, str::FromStr};

use futures_util::StreamExt;
use testcontainers::bollard::{Docker, query_parameters::CreateImageOptions};

/// The environment variable that picks the images: official, local or auto (the default).
pub const IMAGES_ENV: &str = "HARNESS_IMAGES";

/// The pins of Supabase's self-hosted docker-compose (docker/compose.yaml uses the same).
pub const OFFICIAL_POSTGRES: ImageRef = ImageRef::new("supabase/postgres", "15.8.1.085");
pub const OFFICIAL_AUTH: ImageRef = ImageRef::new("supabase/gotrue", "v2.186.0");
pub const OFFICIAL_REST: ImageRef = ImageRef::new("postgrest/postgrest", "v14.5");
/// What `docker/build.sh` builds.
pub const LOCAL_POSTGRES: ImageRef = ImageRef::new("supabase-harness/postgres", "15");
pub const LOCAL_AUTH: ImageRef = ImageRef::new("supabase-harness/auth", "latest");
pub const LOCAL_REST: ImageRef = ImageRef::new("supabase-harness/rest", "latest");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef {
    pub name: &'static str,
    pub tag: &'static str,
}

impl ImageRef {
    const fn new(name: &'static str, tag: &'static str) -> ImageRef {
        ImageRef { name, tag }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

/// Which image set to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageChoice {
    /// Official images (present or pulled), else the local ones, saying why.
    #[default]
    Auto,
    Official,
    Local,
}

impl ImageChoice {
    /// HARNESS_IMAGES, or auto when unset.
    pub fn from_env() -> Result<ImageChoice, String> {
        match std::env::var(IMAGES_ENV) {
            Ok(value) if !value.is_empty() => value
                .parse()
                .map_err(|e| format!("{IMAGES_ENV}={value}: {e}")),
            _ => Ok(ImageChoice::Auto),
        }
    }
}

impl FromStr for ImageChoice {
    type Err = String;

    fn from_str(value: &str) -> Result<ImageChoice, String> {
        match value {
            "auto" => Ok(ImageChoice::Auto),
            "official" => Ok(ImageChoice::Official),
            "local" => Ok(ImageChoice::Local),
            other => Err(format!(
                "unknown image set `{other}` (expected official, local or auto)"
            )),
        }
    }
}

/// The official or the local set, and how they were found (for the "chose ... because" line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    pub official: bool,
    pub postgres: ImageRef,
    pub auth: ImageRef,
    pub rest: ImageRef,
    pub note: String,
}

impl ImageSet {
    fn official(note: String) -> ImageSet {
        ImageSet {
            official: true,
            postgres: OFFICIAL_POSTGRES,
            auth: OFFICIAL_AUTH,
            rest: OFFICIAL_REST,
            note,
        }
    }

    fn local(note: String) -> ImageSet {
        ImageSet {
            official: false,
            postgres: LOCAL_POSTGRES,
            auth: LOCAL_AUTH,
            rest: LOCAL_REST,
            note,
        }
    }
}

/// Finds the images `choice` asks for, pulling the official ones when they are missing.
pub async fn resolve(docker: &Docker, choice: ImageChoice) -> Result<ImageSet, String> {
    let official = || {
        ensure_all(
            docker,
            [OFFICIAL_POSTGRES, OFFICIAL_AUTH, OFFICIAL_REST],
            true,
        )
    };
    let local = || ensure_all(docker, [LOCAL_POSTGRES, LOCAL_AUTH, LOCAL_REST], false);
    match choice {
        ImageChoice::Official => official().await.map(ImageSet::official),
        ImageChoice::Local => local().await.map(ImageSet::local),
        ImageChoice::Auto => match official().await {
            Ok(note) => Ok(ImageSet::official(note)),
            Err(official_error) => match local().await {
                Ok(note) => Ok(ImageSet::local(format!(
                    "{note}; the official images cannot be had: {official_error}"
                ))),
                Err(local_error) => Err(format!("{official_error}; and {local_error}")),
            },
        },
    }
}

async fn ensure_all(docker: &Docker, images: [ImageRef; 3], pull: bool) -> Result<String, String> {
    let mut pulled = Vec::new();
    for image in images {
        if docker.inspect_image(&image.to_string()).await.is_ok() {
            continue;
        }
        if !pull {
            return Err(format!(
                "the local image {image} is missing: build it with docker/build.sh"
            ));
        }
        pull_image(docker, image).await?;
        pulled.push(image.to_string());
    }
    let [postgres, auth, rest] = images;
    Ok(if pulled.is_empty() {
        format!("{postgres}, {auth} and {rest} present")
    } else {
        format!(
            "{postgres}, {auth} and {rest}, pulled {}",
            pulled.join(", ")
        )
    })
}

async fn pull_image(docker: &Docker, image: ImageRef) -> Result<(), String> {
    let options = CreateImageOptions {
        from_image: Some(image.name.to_owned()),
        tag: Some(image.tag.to_owned()),
        ..Default::default()
    };
    let mut progress = docker.create_image(Some(options), None, None);
    while let Some(event) = progress.next().await {
        if let Err(error) = event {
            return Err(format!("pulling {image} failed: {error}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_unknown_ones_are_refused() {
        assert_eq!("local".parse(), Ok(ImageChoice::Local));
        assert_eq!("official".parse(), Ok(ImageChoice::Official));
        assert_eq!("auto".parse(), Ok(ImageChoice::Auto));
        let error = "latest".parse::<ImageChoice>().unwrap_err();
        assert!(error.contains("official, local or auto"), "{error}");
    }
}
