//! The app's part of a stack's database: this repo's reference schema (`db/migrations`), or a
//! project's own SQL, applied as the Supabase CLI applies it on `db reset`.
//!
//! A project's SQL runs as `postgres` (the CLI's `ConnectLocalPostgres` default user), in the
//! CLI's order: `roles.sql`, the migrations (each after `RESET ALL`, its version recorded in
//! `supabase_migrations.schema_migrations`), then the seeds. Each file is one simple-protocol
//! query, so it runs in one implicit transaction, as the CLI's batch does. A failure names the
//! file, the line and column PostgreSQL points at, and PostgreSQL's message.

use std::path::PathBuf;

use sqlx::{PgConnection, postgres::PgDatabaseError};

use super::{StackError, schema};
use crate::{project::SqlFile, scenario::Position};

/// Whose SQL a stack's database gets after Supabase's roles and the auth schema.
#[derive(Debug, Clone, Default)]
pub(crate) enum AppSchema {
    /// `db/migrations/*.sql` of this repo: the reference service's `sessions` table.
    #[default]
    Reference,
    /// A project's SQL, and none of this repo's.
    Project {
        roles: Option<SqlFile>,
        migrations: Vec<SqlFile>,
        seeds: Vec<SqlFile>,
    },
}

impl AppSchema {
    /// Every SQL text, labelled by what it is, in application order: the template key.
    pub(crate) fn sources(&self) -> Vec<(String, &str)> {
        match self {
            AppSchema::Reference => schema::MIGRATION_SQL
                .iter()
                .map(|f| (format!("db/migrations/{}", f.name), f.sql))
                .collect(),
            AppSchema::Project {
                roles,
                migrations,
                seeds,
            } => {
                let kinds = roles
                    .iter()
                    .map(|f| ("roles", f))
                    .chain(migrations.iter().map(|f| ("migration", f)))
                    .chain(seeds.iter().map(|f| ("seed", f)));
                let mut sources: Vec<(String, &str)> = kinds
                    .map(|(kind, f)| (format!("project {kind}: {}", f.label), f.sql.as_str()))
                    .collect();
                // A project without any SQL still differs from the reference schema.
                sources.push(("project schema".to_owned(), ""));
                sources
            }
        }
    }

    /// What the superuser grants before a project's SQL runs: `postgres` may create schemas,
    /// as on a Supabase project (migrations routinely `create schema private`; the CLI's own
    /// `supabase_migrations` is one), which `db/init` does not grant for the reference.
    pub(crate) fn superuser_preamble(&self) -> Option<&'static str> {
        match self {
            AppSchema::Reference => None,
            AppSchema::Project { .. } => Some("grant create on database postgres to postgres"),
        }
    }

    /// Applies it on `connection`, which is logged in as `postgres`.
    pub(crate) async fn apply(&self, connection: &mut PgConnection) -> Result<(), StackError> {
        let (roles, migrations, seeds) = match self {
            AppSchema::Reference => {
                for file in schema::MIGRATION_SQL {
                    sqlx::raw_sql(file.sql)
                        .execute(&mut *connection)
                        .await
                        .map_err(|source| StackError::TemplateSql {
                            step: format!("running db/migrations/{} as postgres", file.name),
                            source,
                        })?;
                }
                return Ok(());
            }
            AppSchema::Project {
                roles,
                migrations,
                seeds,
            } => (roles, migrations, seeds),
        };
        if let Some(file) = roles {
            run(connection, file).await?;
        }
        if !migrations.is_empty() {
            sqlx::raw_sql(HISTORY_TABLE)
                .execute(&mut *connection)
                .await
                .map_err(|source| StackError::TemplateSql {
                    step: "creating supabase_migrations.schema_migrations as postgres".to_owned(),
                    source,
                })?;
        }
        for file in migrations {
            // A migration may change session settings (search_path) for the next one.
            sqlx::raw_sql("RESET ALL")
                .execute(&mut *connection)
                .await
                .map_err(|source| StackError::TemplateSql {
                    step: "RESET ALL before a migration".to_owned(),
                    source,
                })?;
            run(connection, file).await?;
            sqlx::query(
                "insert into supabase_migrations.schema_migrations (version, name, statements) \
                 values ($1, $2, array[$3])",
            )
            .bind(file.version().unwrap_or_default())
            .bind(file.migration_name().unwrap_or_default())
            .bind(&file.sql)
            .execute(&mut *connection)
            .await
            .map_err(|source| StackError::TemplateSql {
                step: format!(
                    "recording {} in supabase_migrations.schema_migrations",
                    file.label
                ),
                source,
            })?;
        }
        for file in seeds {
            run(connection, file).await?;
        }
        Ok(())
    }
}

/// The CLI's migration history table (`pkg/migration/history.go`).
const HISTORY_TABLE: &str = "
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
    alter table supabase_migrations.schema_migrations add column if not exists statements text[];
    alter table supabase_migrations.schema_migrations add column if not exists name text;
";

async fn run(connection: &mut PgConnection, file: &SqlFile) -> Result<(), StackError> {
    sqlx::raw_sql(&file.sql)
        .execute(&mut *connection)
        .await
        .map(|_| ())
        .map_err(|error| sql_error(file, error))
}

fn sql_error(file: &SqlFile, error: sqlx::Error) -> StackError {
    let path: PathBuf = file.path.clone();
    let Some(database) = error.as_database_error() else {
        return StackError::ProjectSql {
            path,
            position: None,
            message: error.to_string(),
        };
    };
    let Some(pg) = database.try_downcast_ref::<PgDatabaseError>() else {
        return StackError::ProjectSql {
            path,
            position: None,
            message: database.message().to_owned(),
        };
    };
    // PostgreSQL counts characters from 1 into the query, which is the whole file.
    let position = match pg.position() {
        Some(sqlx::postgres::PgErrorPosition::Original(at)) => {
            let offset = file
                .sql
                .char_indices()
                .nth(at.saturating_sub(1))
                .map_or(file.sql.len(), |(offset, _)| offset);
            Some(Position::at(&file.sql, offset))
        }
        _ => None,
    };
    let mut message = format!("{} (SQLSTATE {})", pg.message(), pg.code());
    if let Some(detail) = pg.detail() {
        message.push_str(&format!("; {detail}"));
    }
    if let Some(hint) = pg.hint() {
        message.push_str(&format!("; hint: {hint}"));
    }
    StackError::ProjectSql {
        path,
        position,
        message,
    }
}

/// Where a builder takes the app's schema from (`StackBuilder::project` / `::migrations`).
#[derive(Debug, Clone, Default)]
pub(crate) enum SchemaSource {
    #[default]
    Reference,
    /// A project folder: its harness.toml's Supabase folder, else the one the Supabase CLI
    /// would find from there.
    Project(PathBuf),
    /// Just a folder of migrations, in the CLI's order.
    Migrations(PathBuf),
    /// A project the caller has loaded (and whose warnings it has shown): its Supabase folder,
    /// or, without one, no app schema at all.
    Loaded(Option<Box<crate::project::SupabaseProject>>),
}

/// A [`SchemaSource`] read from disk: the SQL, and the project's auth and API settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResolvedSchema {
    pub app: AppSchema,
    pub auth: Option<crate::project::AuthConfig>,
    pub api: Option<crate::project::ApiConfig>,
}

impl SchemaSource {
    pub(crate) fn resolve(&self) -> Result<ResolvedSchema, StackError> {
        use crate::project::{Project, ProjectError, SupabaseProject, supabase};
        let project = match self {
            SchemaSource::Reference => return Ok(ResolvedSchema::default()),
            SchemaSource::Migrations(dir) => {
                let (migrations, skipped) = supabase::migrations(dir)?;
                for warning in skipped {
                    tracing::warn!("{warning}");
                }
                let app = AppSchema::Project {
                    roles: None,
                    migrations,
                    seeds: Vec::new(),
                };
                return Ok(ResolvedSchema {
                    app,
                    ..ResolvedSchema::default()
                });
            }
            SchemaSource::Project(dir) if dir.join(crate::project::MANIFEST).is_file() => {
                Project::load(dir)?.supabase
            }
            SchemaSource::Project(dir) => SupabaseProject::discover(dir)?,
            SchemaSource::Loaded(None) => {
                let app = AppSchema::Project {
                    roles: None,
                    migrations: Vec::new(),
                    seeds: Vec::new(),
                };
                return Ok(ResolvedSchema {
                    app,
                    ..ResolvedSchema::default()
                });
            }
            SchemaSource::Loaded(Some(project)) => return Ok(resolved(project.as_ref().clone())),
        };
        let Some(project) = project else {
            let SchemaSource::Project(dir) = self else {
                unreachable!("only a project folder may have no Supabase folder")
            };
            return Err(ProjectError::invalid(
                dir,
                None,
                "no Supabase folder found here or above (no supabase/config.toml): run \
                 `supabase init`, or use StackBuilder::migrations for a plain folder of migrations",
            )
            .into());
        };
        for warning in &project.warnings {
            tracing::warn!("{warning}");
        }
        Ok(resolved(project))
    }
}

fn resolved(project: crate::project::SupabaseProject) -> ResolvedSchema {
    ResolvedSchema {
        app: AppSchema::Project {
            roles: project.roles,
            migrations: project.migrations,
            seeds: project.seeds,
        },
        auth: Some(project.config.auth),
        api: Some(project.config.api),
    }
}
