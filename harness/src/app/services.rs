//! All of a project's services for one run: started in harness.toml's order once the stack is
//! up, watched between a replay's steps, and stopped (in reverse order) on every way out.
//!
//! A service that exits by itself is reported once in full (its status and the tail of its
//! output) and after that in one line, so a dead service does not repeat its tail in every step
//! that follows.

use std::{path::Path, sync::Mutex, time::Instant};

use super::{AppError, RunningService, ServiceSpec, StackValues, StartOptions};
use crate::run::ServiceWatch;

/// The running services of one project.
#[derive(Debug)]
pub struct Services {
    running: Mutex<Vec<Watched>>,
}

#[derive(Debug)]
struct Watched {
    service: RunningService,
    /// Set once its exit has been reported.
    exited: bool,
}

impl Services {
    /// Starts every service of `specs` with `values` (the stack's, from
    /// [`Stack::service_env`](crate::Stack::service_env)), each logging to `log_dir/NAME.log`
    /// and, with `echo`, to stderr as `[NAME] line`. When one fails to start, the ones already
    /// started are stopped and its error returned.
    pub async fn start(
        specs: &[ServiceSpec],
        values: &StackValues,
        log_dir: &Path,
        echo: bool,
    ) -> Result<Services, AppError> {
        let mut running = Vec::new();
        for spec in specs {
            let options = StartOptions::new(log_dir.join(format!("{}.log", spec.name))).echo(echo);
            // On an error, `running` drops here and each started service is stopped.
            let service = spec.start(values, options).await?;
            running.push(Watched {
                service,
                exited: false,
            });
        }
        Ok(Services {
            running: Mutex::new(running),
        })
    }

    /// No services at all (a project that declares none).
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// `(name, http://127.0.0.1:PORT)` of every service that has a port.
    pub fn urls(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .filter_map(|w| Some((w.service.name().to_owned(), w.service.url()?)))
            .collect()
    }

    /// `(name, log file)` of every service.
    pub fn logs(&self) -> Vec<(String, std::path::PathBuf)> {
        self.lock()
            .iter()
            .map(|w| {
                let path = w.service.output().log_path().to_path_buf();
                (w.service.name().to_owned(), path)
            })
            .collect()
    }

    /// The first service that has exited by itself: in full the first time, then in one line.
    pub fn check_all(&self) -> Result<(), AppError> {
        let mut running = self.lock();
        for watched in running.iter_mut() {
            if let Err(error) = watched.service.check() {
                if watched.exited {
                    return Err(AppError::NotRunning {
                        service: watched.service.name().to_owned(),
                    });
                }
                watched.exited = true;
                return Err(error);
            }
        }
        Ok(())
    }

    /// Stops every service, the last started first; the first error is returned after all of
    /// them were stopped.
    pub async fn stop(self) -> Result<(), AppError> {
        let running = self
            .running
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut first_error = None;
        for watched in running.into_iter().rev() {
            if let Err(error) = watched.service.stop().await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Watched>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ServiceWatch for Services {
    fn urls(&self) -> Vec<(String, String)> {
        Services::urls(self)
    }

    fn check(&self) -> Result<(), String> {
        self.check_all().map_err(|error| error.to_string())
    }

    fn lines(&self, from: Instant, to: Instant) -> Vec<String> {
        let running = self.lock();
        let several = running.len() > 1;
        let mut lines: Vec<(Instant, String)> = running
            .iter()
            .flat_map(|watched| {
                let name = watched.service.name();
                watched
                    .service
                    .output()
                    .between(from, to)
                    .into_iter()
                    .map(move |line| {
                        let text = match several {
                            true => format!("[{name}] {}", line.text),
                            false => line.text,
                        };
                        (line.at, text)
                    })
            })
            .collect();
        // Stable: lines of one pipe keep their order when they arrived in the same instant.
        lines.sort_by_key(|(at, _)| *at);
        lines.into_iter().map(|(_, text)| text).collect()
    }
}
