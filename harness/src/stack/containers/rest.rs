//! The data API's container: on the host's network rather than the stack's, so that, as in the
//! native stack, it reaches PostgreSQL through the fault proxy on 127.0.0.1 and every `db` fault
//! reaches it too. It listens on 127.0.0.1 only, like every published port of the stack.

use std::time::Duration;

use testcontainers::{GenericImage, ImageExt, core::WaitFor, runners::AsyncRunner};

use super::{ContainerStack, cleanup, ready::wait_for_health};
use crate::faults::Dependency;
use crate::stack::{StackError, ports::free_port, rest_server::RestSettings};

impl ContainerStack {
    /// Starts the data API (official `postgrest/postgrest` or the local image) with `settings`
    /// and waits until its admin server's `/ready` answers; returns the port it serves on.
    pub(crate) async fn start_rest(
        &mut self,
        settings: &RestSettings,
        timeout: Duration,
    ) -> Result<u16, StackError> {
        let image = self.images.rest;
        let (port, admin) = (free_port()?, free_port()?);
        let mut request = GenericImage::new(image.name, image.tag)
            .with_wait_for(WaitFor::Nothing)
            .with_network("host")
            .with_container_name(self.container_name(Dependency::Rest))
            .with_labels(cleanup::labels())
            .with_startup_timeout(timeout);
        for (name, value) in settings.env(port, admin) {
            request = request.with_env_var(name, value);
        }
        let container = request
            .start()
            .await
            .map_err(|e| self.failed_at(format!("starting {image}: {e}"), Dependency::Rest))?;
        self.rest = Some(container);
        wait_for_health(&format!("http://127.0.0.1:{admin}/ready"), timeout)
            .await
            .map_err(|why| self.failed_at(format!("{image} {why}"), Dependency::Rest))?;
        Ok(port)
    }
}
