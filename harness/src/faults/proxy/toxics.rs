//! What each toxic does to the bytes of one direction of one connection.
//!
//! The pump of every connection calls [`apply`] on the chunk at the top of its work stack.
//! Toxics never sleep themselves: they put a `hold` on a chunk (or ask the connection to close),
//! and the pump does the waiting, so a toxic added or removed while a chunk waits takes effect
//! at once on connections that are already open.

use std::time::{Duration, Instant};

use rand::Rng;

pub(crate) use super::attributes::{Effect, Toxic};

/// A chunk read from one side, waiting to go through the toxics to the other side.
#[derive(Debug)]
pub(crate) struct Item {
    /// `None` is the end of the stream (the source closed its side).
    pub data: Option<Vec<u8>>,
    /// When it was read: latency counts from here.
    pub read_at: Instant,
    /// Keys of the toxics it went through already.
    pub passed: Vec<u64>,
    /// Not to go further before this instant, because of the toxic with that key.
    pub hold: Option<(Instant, u64)>,
    /// limit_data: the connection closes once this chunk is written.
    pub close_after: bool,
}

impl Item {
    pub fn new(data: Option<Vec<u8>>, read_at: Instant) -> Item {
        Item {
            data,
            read_at,
            passed: Vec::new(),
            hold: None,
            close_after: false,
        }
    }

    fn piece(&self, data: Vec<u8>) -> Item {
        Item {
            data: Some(data),
            passed: self.passed.clone(),
            hold: None,
            ..*self
        }
    }
}

/// What one toxic remembers about one connection (by toxic name, so an update keeps it).
#[derive(Debug, Default)]
pub(crate) struct State {
    /// limit_data: bytes let through so far.
    sent: u64,
    /// bandwidth: when the bytes let through so far have been paid for.
    free_at: Option<Instant>,
    /// reset_peer: when the connection is reset (set by the first chunk it sees).
    pub reset_at: Option<Instant>,
    /// slow_close: when the end of stream may go on.
    close_at: Option<Instant>,
}

/// What the pump must do after a toxic has acted on the top item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Continue,
    /// Close the whole connection now (limit_data with nothing left to send).
    Close,
}

/// `now + ms` without overflowing (attributes go up to i64::MAX).
pub(crate) fn after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Applies `toxic` to the item at the top of `work` (the pump checked there is one).
pub(crate) fn apply(
    toxic: &Toxic,
    state: &mut State,
    work: &mut Vec<Item>,
    now: Instant,
) -> Verdict {
    let key = toxic.key;
    let top = work.last_mut().expect("the pump applies toxics to an item");
    let is_eof = top.data.is_none();
    match toxic.effect {
        Effect::Latency { latency, jitter } => {
            let mut delay = latency as i64;
            if jitter > 0 {
                delay += rand::thread_rng().gen_range(-(jitter as i64)..jitter as i64);
            }
            // Toxiproxy lets the end of stream through at once.
            if !is_eof && delay > 0 {
                let until = after(top.read_at, Duration::from_millis(delay as u64));
                top.hold = Some((until, key));
            }
            top.passed.push(key);
        }
        // Data is dropped while the toxic is there; the pump closes the connection after
        // `timeout` (see `deadline`); the end of stream goes on.
        Effect::Timeout { .. } => {
            if is_eof {
                top.passed.push(key);
            } else {
                work.pop();
            }
        }
        // The first chunk (or end of stream) starts the countdown; nothing flows after it.
        Effect::ResetPeer { timeout } => {
            work.pop();
            state
                .reset_at
                .get_or_insert(after(now, Duration::from_millis(timeout)));
        }
        Effect::SlowClose { delay } => {
            if is_eof {
                let until = *state
                    .close_at
                    .get_or_insert(after(now, Duration::from_millis(delay)));
                top.hold = Some((until, key));
            }
            top.passed.push(key);
        }
        Effect::Bandwidth { rate } => {
            if let (Some(data), true) = (top.data.as_mut(), rate > 0) {
                // Toxiproxy sends at most 100 ms worth of data at a time.
                let most = (rate * 100) as usize;
                if data.len() > most {
                    let rest = data.split_off(most);
                    let rest = top.piece(rest);
                    top.close_after = false;
                    let at = work.len() - 1;
                    work.insert(at, rest);
                }
                let top = work.last_mut().expect("still there");
                let len = top.data.as_ref().map_or(0, Vec::len) as u64;
                let start = state.free_at.filter(|t| *t > now).unwrap_or(now);
                // rate KB/s = rate bytes per millisecond.
                let until = after(start, Duration::from_micros(len * 1000 / rate));
                state.free_at = Some(until);
                top.hold = Some((until, key));
            }
            work.last_mut().expect("still there").passed.push(key);
        }
        Effect::Slicer {
            average_size,
            size_variation,
            delay,
        } => {
            let Some(data) = top.data.take() else {
                top.passed.push(key);
                return Verdict::Continue;
            };
            let item = work.pop().expect("the top item");
            let mut bounds = Vec::new();
            slice(
                0,
                data.len(),
                average_size as usize,
                size_variation as usize,
                &mut bounds,
            );
            let pieces: Vec<Item> = bounds
                .iter()
                .enumerate()
                .map(|(i, (start, end))| {
                    let mut piece = item.piece(data[*start..*end].to_vec());
                    piece.passed.push(key);
                    piece.close_after = item.close_after && i + 1 == bounds.len();
                    if i > 0 {
                        let until = after(now, Duration::from_micros(delay * i as u64));
                        piece.hold = Some((until, key));
                    }
                    piece
                })
                .collect();
            work.extend(pieces.into_iter().rev());
        }
        // No connection lives while it is present; one that races its arrival passes untouched.
        Effect::Down => top.passed.push(key),
        Effect::LimitData { bytes } => {
            if let Some(data) = top.data.as_mut() {
                let left = bytes.saturating_sub(state.sent);
                if (data.len() as u64) >= left {
                    data.truncate(left as usize);
                    top.close_after = true;
                }
                state.sent += data.len() as u64;
                if data.is_empty() {
                    return Verdict::Close;
                }
            }
            top.passed.push(key);
        }
    }
    Verdict::Continue
}

/// When the toxic closes the connection by itself: `timeout` after it reached the connection,
/// or reset_peer's countdown. `true` means with a TCP reset.
pub(crate) fn deadline(
    toxic: &Toxic,
    state: &State,
    reached_at: Instant,
) -> Option<(Instant, bool)> {
    match toxic.effect {
        Effect::Timeout { timeout } if timeout > 0 => {
            Some((after(reached_at, Duration::from_millis(timeout)), false))
        }
        Effect::ResetPeer { .. } => state.reset_at.map(|at| (at, true)),
        _ => None,
    }
}

/// Toxiproxy's slicer: halve the range, moved by up to ±size_variation, until pieces are at most
/// average_size + size_variation long. Pushes `(start, end)` ranges in order.
fn slice(
    start: usize,
    end: usize,
    average: usize,
    variation: usize,
    out: &mut Vec<(usize, usize)>,
) {
    if end - start <= average + variation {
        out.push((start, end));
        return;
    }
    let mut mid = start + (end - start) / 2;
    if variation > 0 {
        let shift = rand::thread_rng().gen_range(0..variation * 2) as isize - variation as isize;
        // Clamped so both halves are non-empty (Toxiproxy can go out of range here).
        mid = (mid as isize + shift).clamp(start as isize + 1, end as isize - 1) as usize;
    }
    slice(start, mid, average, variation, out);
    slice(mid, end, average, variation, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_data_in_order_and_respect_the_size() {
        for (len, average, variation) in [(1000, 10, 0), (1000, 10, 5), (7, 1, 3), (3, 100, 0)] {
            let mut out = Vec::new();
            slice(0, len, average, variation, &mut out);
            assert_eq!(out.first().unwrap().0, 0);
            assert_eq!(out.last().unwrap().1, len);
            assert!(
                out.windows(2).all(|w| w[0].1 == w[1].0),
                "contiguous: {out:?}"
            );
            assert!(
                out.iter()
                    .all(|(s, e)| e > s && e - s <= average + variation),
                "{out:?}"
            );
        }
    }
}
