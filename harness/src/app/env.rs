//! The service's environment: templates over the stack's values, presets of the names apps
//! read, and the few variables inherited from the harness.
//!
//! The environment starts empty, not as a copy of the harness's: a developer's shell often
//! holds a `SUPABASE_URL` for another project (or production), and process env beats the
//! `.env.local` files Next.js and pydantic-settings read, so an inherited one would silently
//! point the service elsewhere. Only PATH (to find `node` or `python`), HOME (npm's and pip's
//! caches and config) and LANG (the encoding of what it prints) pass, plus the names listed in
//! `inherit_env`.

use std::collections::BTreeMap;

use crate::scenario::TemplateError;

/// The names `{{...}}` may use: what `harness up --output env` prints, and the service's port.
pub const TEMPLATE_NAMES: &[&str] = &[
    "API_URL",
    "AUTH_URL",
    "DB_URL",
    "JWT_SECRET",
    "ANON_KEY",
    "SERVICE_ROLE_KEY",
    "PUBLISHABLE_KEY",
    "SECRET_KEY",
    "FAULTS_URL",
    "PORT",
];

/// Variables every service gets from the harness's own environment, when set there.
pub const INHERITED: &[&str] = &["PATH", "HOME", "LANG"];

/// A value with `{{NAME}}` placeholders, checked against [`TEMPLATE_NAMES`] when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Name(String),
}

impl EnvTemplate {
    /// Parses `text`; a name outside `known` is an error at its offset.
    pub fn parse(text: &str, known: &[&str]) -> Result<EnvTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let Some(len) = rest[start + 2..].find("}}") else {
                return Err(TemplateError {
                    offset: offset + start,
                    message: "unclosed `{{`: expected `}}`".into(),
                });
            };
            let name = rest[start + 2..start + 2 + len].trim();
            if !known.contains(&name) {
                return Err(TemplateError {
                    offset: offset + start,
                    message: format!(
                        "unknown name `{name}`: expected one of {}",
                        known.join(", ")
                    ),
                });
            }
            parts.push(Part::Name(name.to_owned()));
            let consumed = start + 2 + len + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(EnvTemplate { parts })
    }

    /// A template that is just `{{name}}`.
    pub fn name(name: &str) -> EnvTemplate {
        EnvTemplate {
            parts: vec![Part::Name(name.to_owned())],
        }
    }

    /// The names used, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Name(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text with every name replaced; the first name without a value is the error.
    pub fn render(&self, values: &StackValues) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Name(name) => out.push_str(values.get(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }
}

/// The values templates are rendered with: the stack's (`Stack::env()`, with `API_URL` pointed
/// through the fault proxy by the caller) and, at start, the service's `PORT`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackValues(BTreeMap<String, String>);

impl StackValues {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> StackValues {
        StackValues(pairs.into_iter().collect())
    }

    /// Sets (or replaces) one value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Ready-made variable names for a kind of app (reference §1.13: the names apps read today).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// `NEXT_PUBLIC_SUPABASE_URL`, `NEXT_PUBLIC_SUPABASE_ANON_KEY`,
    /// `NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY`, and the server-only `SUPABASE_SERVICE_ROLE_KEY`
    /// and `SUPABASE_SECRET_KEY`.
    NextJs,
    /// `SUPABASE_URL`, `SUPABASE_ANON_KEY`, `SUPABASE_PUBLISHABLE_KEY`,
    /// `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_SECRET_KEY`, `SUPABASE_JWT_SECRET`: what
    /// supabase-py, supabase-js on a server and edge functions read.
    Supabase,
    /// `VITE_SUPABASE_URL`, `VITE_SUPABASE_ANON_KEY`, `VITE_SUPABASE_PUBLISHABLE_KEY`.
    Vite,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::NextJs, Preset::Supabase, Preset::Vite];

    pub fn name(self) -> &'static str {
        match self {
            Preset::NextJs => "nextjs",
            Preset::Supabase => "supabase",
            Preset::Vite => "vite",
        }
    }

    /// `(variable, stack value)` pairs. A value the stack does not provide (the publishable and
    /// secret keys on a stack without them) leaves its variable unset rather than failing.
    pub fn variables(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Preset::NextJs => &[
                ("NEXT_PUBLIC_SUPABASE_URL", "API_URL"),
                ("NEXT_PUBLIC_SUPABASE_ANON_KEY", "ANON_KEY"),
                ("NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY", "PUBLISHABLE_KEY"),
                ("SUPABASE_SERVICE_ROLE_KEY", "SERVICE_ROLE_KEY"),
                ("SUPABASE_SECRET_KEY", "SECRET_KEY"),
            ],
            Preset::Supabase => &[
                ("SUPABASE_URL", "API_URL"),
                ("SUPABASE_ANON_KEY", "ANON_KEY"),
                ("SUPABASE_PUBLISHABLE_KEY", "PUBLISHABLE_KEY"),
                ("SUPABASE_SERVICE_ROLE_KEY", "SERVICE_ROLE_KEY"),
                ("SUPABASE_SECRET_KEY", "SECRET_KEY"),
                ("SUPABASE_JWT_SECRET", "JWT_SECRET"),
            ],
            Preset::Vite => &[
                ("VITE_SUPABASE_URL", "API_URL"),
                ("VITE_SUPABASE_ANON_KEY", "ANON_KEY"),
                ("VITE_SUPABASE_PUBLISHABLE_KEY", "PUBLISHABLE_KEY"),
            ],
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(name: &str) -> Result<Preset, String> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                format!("unknown preset `{name}`: expected {}", names.join(", "))
            })
    }
}

/// The whole environment of one start, in the order it is built (later entries win):
/// inherited variables, `PYTHONUNBUFFERED=1`, `PORT`, the preset, the explicit `env`.
/// `Err((variable, name))` names the first explicit variable whose name has no value.
pub(crate) fn environment(
    spec: &super::ServiceSpec,
    values: &StackValues,
    harness_env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut env = BTreeMap::new();
    for name in INHERITED
        .iter()
        .copied()
        .chain(spec.inherit_env.iter().map(String::as_str))
    {
        if let Some(value) = harness_env(name) {
            env.insert(name.to_owned(), value);
        }
    }
    // Piped stdout is block-buffered in Python: without this, lines arrive late (or at exit)
    // and are attributed to the wrong step.
    env.insert("PYTHONUNBUFFERED".to_owned(), "1".to_owned());
    if let Some(port) = values.get("PORT") {
        env.insert("PORT".to_owned(), port.to_owned());
    }
    if let Some(preset) = spec.preset {
        for (variable, name) in preset.variables() {
            if let Some(value) = values.get(name) {
                env.insert((*variable).to_owned(), value.to_owned());
            }
        }
    }
    for (variable, template) in &spec.env {
        let value = template
            .render(values)
            .map_err(|name| (variable.clone(), name))?;
        env.insert(variable.clone(), value);
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_renders_and_an_unknown_name_is_refused_at_its_offset() {
        let template =
            EnvTemplate::parse("{{API_URL}}/rest/v1?k={{ ANON_KEY }}", TEMPLATE_NAMES).unwrap();
        let values = StackValues::new([
            ("API_URL".to_owned(), "http://127.0.0.1:1".to_owned()),
            ("ANON_KEY".to_owned(), "k".to_owned()),
        ]);
        assert_eq!(
            template.render(&values).unwrap(),
            "http://127.0.0.1:1/rest/v1?k=k"
        );
        let error = EnvTemplate::parse("x{{API_ULR}}", TEMPLATE_NAMES).unwrap_err();
        assert_eq!(error.offset, 1);
        assert!(
            error.message.starts_with("unknown name `API_ULR`"),
            "{}",
            error.message
        );
        assert_eq!(
            EnvTemplate::parse("{{API_URL", TEMPLATE_NAMES)
                .unwrap_err()
                .offset,
            0
        );
    }
}
