//! The service's stages, served in-process beside the stack, each on its own port.
//!
//! In-process (not child processes) because the harness reads each request's log lines from the
//! service's tracing spans; the service is never the target of a fault, its dependencies are.

use std::fmt;

use service::Stage;
use tokio::task::JoinHandle;

use super::StackError;

/// Every stage of the service, listening on 127.0.0.1.
pub struct ServedStages {
    urls: Vec<(Stage, String)>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl ServedStages {
    /// Serves every stage against the given auth server and database.
    pub(super) async fn start(config: &service::Config) -> Result<ServedStages, StackError> {
        let mut served = ServedStages {
            urls: Vec::new(),
            servers: Vec::new(),
        };
        for stage in Stage::ALL {
            let router = service::app(config, stage).await.map_err(|error| {
                StackError::Service(format!("building the {stage} stage: {error}"))
            })?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|error| {
                    StackError::io(format!("binding a port for the {stage} stage"), error)
                })?;
            let address = listener
                .local_addr()
                .map_err(|error| StackError::io("reading the stage's port".to_owned(), error))?;
            served.urls.push((stage, format!("http://{address}")));
            served.servers.push(tokio::spawn(service::serve(
                listener,
                router,
                std::future::pending(),
            )));
        }
        Ok(served)
    }

    /// The base URL of `stage`, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self, stage: Stage) -> &str {
        self.urls
            .iter()
            .find(|(served, _)| *served == stage)
            .map(|(_, url)| url.as_str())
            .expect("every stage is served")
    }

    /// Stage name → base URL, in [`Stage::ALL`] order.
    pub fn urls(&self) -> impl Iterator<Item = (Stage, &str)> {
        self.urls.iter().map(|(stage, url)| (*stage, url.as_str()))
    }

    /// `STAGE_<NAME>_URL` for every stage (`STAGE_REFERENCE_URL` is the reference).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (stage, url) in &self.urls {
            let name = stage.name().to_ascii_uppercase().replace('-', "_");
            env.push((format!("STAGE_{name}_URL"), url.clone()));
        }
        env
    }
}

impl Drop for ServedStages {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl fmt::Debug for ServedStages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.urls.iter().map(|(stage, url)| (stage.name(), url)))
            .finish()
    }
}
