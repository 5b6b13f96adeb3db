//! The proxies of one [`FaultProxy`](super::FaultProxy): their settings, their toxics, and the
//! accept loop of each enabled one. Both the Rust API and the HTTP API act through here.
//!
//! A disabled proxy has no listener at all, so a connect is refused by the kernel (ECONNREFUSED)
//! rather than accepted and closed, and its port is held meanwhile ([`port`](super::port));
//! disabling also ends every open connection. A `down` toxic
//! does the same while it is present, independently of the user's `enabled`: the proxy listens
//! only when it is enabled and has no `down` toxic. The accept loop owns its connections in a
//! `JoinSet`, so stopping it closes them all before `stop` returns.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::attributes::{self, Toxic};
use super::link::{self, Chain};
use super::{ProxyError, ProxyInfo};
use crate::faults::{Stream, ToxicKind, ToxicSpec};

pub(crate) struct Registry {
    proxies: Mutex<BTreeMap<String, Entry>>,
    /// Turns true when the `FaultProxy` is dropped: every accept loop stops.
    shutdown: watch::Receiver<bool>,
    next_key: AtomicU64,
}

struct Entry {
    /// As configured until the listener is bound, then the bound address (as Toxiproxy does).
    listen: String,
    upstream: watch::Sender<String>,
    toxics: watch::Sender<Chain>,
    /// What the user asked for (create, update, reset); a `down` toxic overrides it.
    enabled: bool,
    running: Option<Running>,
    /// The port, while nothing listens on it (down or disabled).
    held: Option<super::port::Reservation>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Entry {
    fn info(&self, name: &str) -> ProxyInfo {
        let chain = self.toxics.borrow();
        // Toxiproxy lists the upstream chain, then the downstream one.
        let mut specs: Vec<ToxicSpec> = chain.iter().map(|t| t.spec.clone()).collect();
        specs.sort_by_key(|spec| spec.stream == Stream::Downstream);
        ProxyInfo {
            name: name.to_string(),
            listen: self.listen.clone(),
            upstream: self.upstream.borrow().clone(),
            // Whether it listens: false while a `down` toxic is there, as the connects see it.
            enabled: self.running.is_some(),
            toxics: specs,
        }
    }

    fn toxic(&self, proxy: &str, toxic: &str) -> Result<Arc<Toxic>, ProxyError> {
        let chain = self.toxics.borrow();
        chain
            .iter()
            .find(|t| t.spec.name == toxic)
            .cloned()
            .ok_or_else(|| ProxyError::UnknownToxic {
                proxy: proxy.to_string(),
                toxic: toxic.to_string(),
                known: chain.iter().map(|t| t.spec.name.clone()).collect(),
            })
    }

    async fn start(
        &mut self,
        name: &str,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ProxyError> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener =
            super::port::listen(&self.listen)
                .await
                .map_err(|source| ProxyError::Listen {
                    proxy: name.to_string(),
                    listen: self.listen.clone(),
                    source,
                })?;
        if let Ok(addr) = listener.local_addr() {
            self.listen = addr.to_string();
        }
        self.held = None;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(
            name.to_string(),
            listener,
            self.upstream.subscribe(),
            self.toxics.subscribe(),
            stopped,
            shutdown,
        ));
        self.running = Some(Running { stop, task });
        Ok(())
    }

    fn is_down(&self) -> bool {
        self.toxics
            .borrow()
            .iter()
            .any(|t| t.spec.kind == ToxicKind::Down)
    }

    /// Listens if enabled and without a `down` toxic, else closes the listener and connections.
    async fn settle(
        &mut self,
        name: &str,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ProxyError> {
        if self.enabled && !self.is_down() {
            self.start(name, shutdown).await
        } else {
            self.stop(Port::Hold).await;
            Ok(())
        }
    }

    /// Closes the listener and every connection; returns once they are closed.
    async fn stop(&mut self, port: Port) {
        if let Some(running) = self.running.take() {
            if port == Port::Hold {
                // Held before the listener closes: the port is never free in between.
                self.held = self.listen.parse().ok().and_then(|addr| {
                    super::port::Reservation::hold(addr)
                        .inspect_err(|error| {
                            tracing::warn!(listen = %self.listen, %error, "fault proxy: cannot hold the port")
                        })
                        .ok()
                });
            }
            let _ = running.stop.send(());
            let _ = running.task.await;
        }
    }
}

/// Whether a stopped proxy keeps its port: yes while it is down or disabled, no when it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Port {
    Hold,
    Release,
}

impl Registry {
    pub fn new(shutdown: watch::Receiver<bool>) -> Registry {
        Registry {
            proxies: Mutex::new(BTreeMap::new()),
            shutdown,
            next_key: AtomicU64::new(1),
        }
    }

    pub async fn create(
        &self,
        name: &str,
        listen: &str,
        upstream: &str,
        enabled: bool,
    ) -> Result<ProxyInfo, ProxyError> {
        if name.is_empty() {
            return Err(ProxyError::MissingField("name"));
        }
        if upstream.is_empty() {
            return Err(ProxyError::MissingField("upstream"));
        }
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(name) {
            return Err(ProxyError::ProxyExists(name.to_string()));
        }
        let mut entry = Entry {
            listen: if listen.is_empty() {
                "127.0.0.1:0".into()
            } else {
                listen.into()
            },
            upstream: watch::Sender::new(upstream.to_string()),
            toxics: watch::Sender::new(Arc::new(Vec::new())),
            enabled,
            running: None,
            held: None,
        };
        entry.settle(name, self.shutdown.clone()).await?;
        let info = entry.info(name);
        proxies.insert(name.to_string(), entry);
        Ok(info)
    }

    pub async fn list(&self) -> BTreeMap<String, ProxyInfo> {
        let proxies = self.proxies.lock().await;
        proxies
            .iter()
            .map(|(name, entry)| (name.clone(), entry.info(name)))
            .collect()
    }

    pub async fn get(&self, name: &str) -> Result<ProxyInfo, ProxyError> {
        let proxies = self.proxies.lock().await;
        Ok(entry(&proxies, name)?.info(name))
    }

    /// Toxiproxy's proxy update. A new listen address re-binds and a new upstream closes the
    /// open connections, as in Toxiproxy: a pooled keep-alive connection to the old upstream
    /// would otherwise never see the new one (the auth HTTP faults rely on this).
    pub async fn update(
        &self,
        name: &str,
        listen: Option<&str>,
        upstream: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<ProxyInfo, ProxyError> {
        let mut proxies = self.proxies.lock().await;
        let entry = entry_mut(&mut proxies, name)?;
        if let Some(upstream) = upstream {
            if upstream.is_empty() {
                return Err(ProxyError::MissingField("upstream"));
            }
            if *entry.upstream.borrow() != upstream {
                entry.upstream.send_replace(upstream.to_string());
                // Closes the open connections before answering, so the caller's next request
                // cannot race them; `settle` listens again on the same address.
                entry.stop(Port::Hold).await;
            }
        }
        entry.enabled = enabled.unwrap_or(entry.enabled);
        if let Some(listen) = listen.filter(|l| !same_address(l, &entry.listen)) {
            entry.stop(Port::Release).await;
            entry.held = None;
            entry.listen = listen.to_string();
        }
        entry.settle(name, self.shutdown.clone()).await?;
        Ok(entry.info(name))
    }

    pub async fn remove(&self, name: &str) -> Result<(), ProxyError> {
        let mut proxies = self.proxies.lock().await;
        entry_mut(&mut proxies, name)?;
        let mut entry = proxies.remove(name).expect("checked above");
        entry.stop(Port::Release).await;
        Ok(())
    }

    pub async fn add_toxic(&self, name: &str, spec: ToxicSpec) -> Result<ToxicSpec, ProxyError> {
        let (spec, effect) = attributes::validate(name, spec)?;
        let mut proxies = self.proxies.lock().await;
        let entry = entry_mut(&mut proxies, name)?;
        if entry
            .toxics
            .borrow()
            .iter()
            .any(|t| t.spec.name == spec.name)
        {
            return Err(ProxyError::ToxicExists {
                proxy: name.to_string(),
                toxic: spec.name,
            });
        }
        let toxic = Arc::new(Toxic {
            key: self.key(),
            spec: spec.clone(),
            effect,
        });
        entry
            .toxics
            .send_modify(|chain| Arc::make_mut(chain).push(toxic));
        entry.settle(name, self.shutdown.clone()).await?;
        Ok(spec)
    }

    pub async fn toxic(&self, name: &str, toxic: &str) -> Result<ToxicSpec, ProxyError> {
        let proxies = self.proxies.lock().await;
        Ok(entry(&proxies, name)?.toxic(name, toxic)?.spec.clone())
    }

    /// Toxiproxy's toxic update: the given attributes replace the toxic's, the rest stay; the
    /// toxicity changes if given. Type, stream and name cannot change.
    pub async fn update_toxic(
        &self,
        name: &str,
        toxic: &str,
        attributes: Map<String, Value>,
        toxicity: Option<f32>,
    ) -> Result<ToxicSpec, ProxyError> {
        let mut proxies = self.proxies.lock().await;
        let entry = entry_mut(&mut proxies, name)?;
        let mut spec = entry.toxic(name, toxic)?.spec.clone();
        spec.attributes.extend(attributes);
        spec.toxicity = toxicity.unwrap_or(spec.toxicity);
        let (spec, effect) = attributes::validate(name, spec)?;
        let updated = Arc::new(Toxic {
            key: self.key(),
            spec: spec.clone(),
            effect,
        });
        entry.toxics.send_modify(|chain| {
            for slot in Arc::make_mut(chain)
                .iter_mut()
                .filter(|t| t.spec.name == toxic)
            {
                *slot = updated.clone();
            }
        });
        Ok(spec)
    }

    /// Removing the last `down` toxic listens again on the same address, if the proxy is
    /// enabled; if that address was taken meanwhile the toxic is gone and the error says so.
    pub async fn remove_toxic(&self, name: &str, toxic: &str) -> Result<(), ProxyError> {
        let mut proxies = self.proxies.lock().await;
        let entry = entry_mut(&mut proxies, name)?;
        entry.toxic(name, toxic)?;
        entry
            .toxics
            .send_modify(|chain| Arc::make_mut(chain).retain(|t| t.spec.name != toxic));
        entry.settle(name, self.shutdown.clone()).await
    }

    /// Every proxy enabled (or one, with `only`), its toxics removed. Goes through all of them
    /// even if one cannot listen again, and reports the first failure.
    pub async fn reset(&self, only: Option<&str>) -> Result<(), ProxyError> {
        let mut proxies = self.proxies.lock().await;
        if let Some(name) = only {
            entry_mut(&mut proxies, name)?;
        }
        let mut first_error = None;
        for (name, entry) in proxies
            .iter_mut()
            .filter(|(n, _)| only.is_none_or(|o| o == *n))
        {
            entry
                .toxics
                .send_modify(|chain| Arc::make_mut(chain).clear());
            entry.enabled = true;
            if let Err(error) = entry.start(name, self.shutdown.clone()).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Closes every listener and connection (the proxies stay, disabled).
    pub async fn stop_all(&self) {
        let mut proxies = self.proxies.lock().await;
        for entry in proxies.values_mut() {
            entry.stop(Port::Release).await;
            entry.held = None;
        }
    }

    fn key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }
}

fn entry<'a>(proxies: &'a BTreeMap<String, Entry>, name: &str) -> Result<&'a Entry, ProxyError> {
    proxies.get(name).ok_or_else(|| unknown(proxies, name))
}

fn entry_mut<'a>(
    proxies: &'a mut BTreeMap<String, Entry>,
    name: &str,
) -> Result<&'a mut Entry, ProxyError> {
    if !proxies.contains_key(name) {
        return Err(unknown(proxies, name));
    }
    Ok(proxies.get_mut(name).expect("checked above"))
}

fn unknown(proxies: &BTreeMap<String, Entry>, name: &str) -> ProxyError {
    ProxyError::UnknownProxy {
        proxy: name.to_string(),
        known: proxies.keys().cloned().collect(),
    }
}

/// Toxiproxy compares resolved addresses; literal ones are compared as addresses here.
fn same_address(a: &str, b: &str) -> bool {
    match (
        a.parse::<std::net::SocketAddr>(),
        b.parse::<std::net::SocketAddr>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Accepts clients until told to stop, then closes the listener and every connection.
async fn accept(
    name: String,
    listener: TcpListener,
    upstream: watch::Receiver<String>,
    toxics: watch::Receiver<Chain>,
    mut stop: oneshot::Receiver<()>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut links = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = async { shutdown.wait_for(|down| *down).await.is_ok() } => break,
            Some(_) = links.join_next(), if !links.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    let upstream = upstream.borrow().clone();
                    links.spawn(link::run(name.clone(), client, upstream, toxics.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(proxy = %name, %error, "fault proxy: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    links.shutdown().await;
}
