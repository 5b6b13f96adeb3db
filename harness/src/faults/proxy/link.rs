//! One proxied connection: a client accepted on the proxy's listener, its own connection to the
//! upstream, and a pump per direction that passes each chunk through that direction's toxics.
//!
//! Every pump watches the proxy's toxic list, so a toxic added or removed reaches connections
//! that are already open (pooled database connections, keep-alive HTTP), as in Toxiproxy. A
//! pump reads on while earlier chunks wait in a toxic, so latency counts from when each chunk
//! arrived rather than piling up behind the previous one.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::toxics::{self, Item, State, Toxic, Verdict};
use crate::faults::Stream;

/// The toxics of one proxy, both directions, in the order they were added.
pub(crate) type Chain = Arc<Vec<Arc<Toxic>>>;

const READ_SIZE: usize = 32 * 1024;
/// Bytes read ahead of the toxics before the pump stops reading (then TCP pushes back).
const READ_AHEAD: usize = 1024 * 1024;

/// How a pump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The source closed and the end of stream went through: the other direction goes on.
    Finished,
    /// Close the whole connection (a toxic said so, or a side went away).
    Close,
    /// Close both sides with a TCP reset (reset_peer, or a side reset us).
    Reset,
}

/// Serves one accepted client until either side or a toxic ends it. Dropping the future (the
/// proxy disabled or dropped) closes both sockets.
pub(crate) async fn run(
    proxy: String,
    client: TcpStream,
    upstream: String,
    toxics: watch::Receiver<Chain>,
) {
    let server = match TcpStream::connect(&upstream).await {
        Ok(server) => server,
        Err(error) => {
            // Toxiproxy drops the client too. With a reset, always: a plain close would reach
            // the client as a reset or as an end of stream depending on whether its request
            // had arrived yet, and the same outage would read two ways. Expected under faults,
            // so not a warning.
            tracing::debug!(%proxy, %upstream, %error, "fault proxy: cannot reach the upstream");
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let mut up = Pump::new(Stream::Upstream, client_read, server_write, toxics.clone());
    let mut down = Pump::new(Stream::Downstream, server_read, client_write, toxics);

    let end = {
        let up_run = up.run();
        let down_run = down.run();
        tokio::pin!(up_run, down_run);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            let end = tokio::select! {
                end = &mut up_run, if !up_done => { up_done = true; end }
                end = &mut down_run, if !down_done => { down_done = true; end }
            };
            if end != End::Finished || (up_done && down_done) {
                break end;
            }
        }
    };
    if end == End::Reset {
        // SO_LINGER 0 makes close() send RST; the write halves must not send FIN first.
        for pump in [up, down] {
            let _ = pump.source.as_ref().set_zero_linger();
            let _ = pump.dest.as_ref().set_zero_linger();
            pump.dest.forget();
        }
    }
}

/// One direction of a connection.
struct Pump {
    stream: Stream,
    source: OwnedReadHalf,
    dest: OwnedWriteHalf,
    toxics: watch::Receiver<Chain>,
    /// The proxy's toxic list can still change (false once the proxy is gone).
    watching: bool,
    /// This direction's toxics that this connection rolled (toxicity), in chain order.
    active: Vec<Arc<Toxic>>,
    /// Toxic key → did this connection get it, and when it reached the connection.
    rolls: HashMap<u64, (bool, Instant)>,
    states: HashMap<String, State>,
    /// Read, not yet through the toxics.
    queue: VecDeque<Item>,
    queued: usize,
    /// The chunk going through the toxics on top; pieces a toxic split it into below.
    work: Vec<Item>,
    source_ended: bool,
}

enum Next {
    Write(Vec<u8>, bool),
    Wait,
    End(End),
}

impl Pump {
    fn new(
        stream: Stream,
        source: OwnedReadHalf,
        dest: OwnedWriteHalf,
        toxics: watch::Receiver<Chain>,
    ) -> Pump {
        Pump {
            stream,
            source,
            dest,
            toxics,
            watching: true,
            active: Vec::new(),
            rolls: HashMap::new(),
            states: HashMap::new(),
            queue: VecDeque::new(),
            queued: 0,
            work: Vec::new(),
            source_ended: false,
        }
    }

    async fn run(&mut self) -> End {
        let mut buf = vec![0u8; READ_SIZE];
        self.refresh();
        loop {
            match self.advance(Instant::now()) {
                Next::Write(data, close_after) => {
                    if let Err(error) = self.dest.write_all(&data).await {
                        return ended_by(&error);
                    }
                    if close_after {
                        return End::Close;
                    }
                    continue;
                }
                Next::End(End::Finished) => {
                    let _ = self.dest.shutdown().await;
                    return End::Finished;
                }
                Next::End(end) => return end,
                Next::Wait => {}
            }
            let hold = self
                .work
                .last()
                .and_then(|item| item.hold)
                .map(|(at, _)| at);
            let deadline = self.deadline();
            let read_more = !self.source_ended && self.queued < READ_AHEAD;
            tokio::select! {
                changed = self.toxics.changed(), if self.watching => {
                    self.watching = changed.is_ok();
                    self.refresh();
                }
                _ = sleep_until(hold), if hold.is_some() => {}
                _ = sleep_until(deadline.map(|(at, _)| at)), if deadline.is_some() => {
                    let reset = deadline.is_some_and(|(_, reset)| reset);
                    return if reset { End::Reset } else { End::Close };
                }
                read = self.source.read(&mut buf), if read_more => match read {
                    Ok(0) => {
                        self.source_ended = true;
                        self.queue.push_back(Item::new(None, Instant::now()));
                    }
                    Ok(n) => {
                        self.queued += n;
                        self.queue.push_back(Item::new(Some(buf[..n].to_vec()), Instant::now()));
                    }
                    Err(error) => return ended_by(&error),
                },
            }
        }
    }

    /// Moves chunks through the toxics until one is ready to write or everything waits.
    fn advance(&mut self, now: Instant) -> Next {
        loop {
            if self.work.is_empty() {
                let Some(item) = self.queue.pop_front() else {
                    return Next::Wait;
                };
                self.queued -= item.data.as_ref().map_or(0, Vec::len);
                self.work.push(item);
            }
            let top = self.work.last_mut().expect("just filled");
            match top.hold {
                Some((at, _)) if at > now => return Next::Wait,
                _ => top.hold = None,
            }
            let next = self
                .active
                .iter()
                .find(|t| !top.passed.contains(&t.key))
                .cloned();
            let Some(toxic) = next else {
                let item = self.work.pop().expect("the top item");
                return match item.data {
                    Some(data) => Next::Write(data, item.close_after),
                    None => Next::End(End::Finished),
                };
            };
            let state = self.states.entry(toxic.spec.name.clone()).or_default();
            if toxics::apply(&toxic, state, &mut self.work, now) == Verdict::Close {
                return Next::End(End::Close);
            }
        }
    }

    /// Takes the proxy's current toxics: rolls toxicity once for each toxic this connection
    /// has not seen, forgets removed ones, and drops a wait whose toxic is gone.
    fn refresh(&mut self) {
        let chain = self.toxics.borrow_and_update().clone();
        let now = Instant::now();
        let mine: Vec<&Arc<Toxic>> = chain
            .iter()
            .filter(|t| t.spec.stream == self.stream)
            .collect();
        self.rolls
            .retain(|key, _| mine.iter().any(|t| t.key == *key));
        self.states
            .retain(|name, _| mine.iter().any(|t| t.spec.name == *name));
        for toxic in &mine {
            self.rolls
                .entry(toxic.key)
                .or_insert_with(|| (rand::random::<f32>() < toxic.spec.toxicity, now));
        }
        self.active = mine
            .into_iter()
            .filter(|t| self.rolls[&t.key].0)
            .cloned()
            .collect();
        for item in self.work.iter_mut() {
            if let Some((_, key)) = item.hold
                && !self.active.iter().any(|t| t.key == key)
            {
                item.hold = None;
            }
        }
    }

    /// The earliest time a toxic closes this connection by itself.
    fn deadline(&self) -> Option<(std::time::Instant, bool)> {
        self.active
            .iter()
            .filter_map(|toxic| {
                let state = self.states.get(&toxic.spec.name);
                let reached = self.rolls[&toxic.key].1;
                toxics::deadline(toxic, state.unwrap_or(&State::default()), reached)
            })
            .min_by_key(|(at, _)| *at)
    }
}

/// A side that resets us is reset on the other side too; any other failure closes.
fn ended_by(error: &io::Error) -> End {
    match error.kind() {
        io::ErrorKind::ConnectionReset => End::Reset,
        _ => End::Close,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
