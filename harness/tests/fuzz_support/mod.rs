//! Shared by the proptests that send generated requests to one server over real HTTP
//! (fuzz against the reference stage, fuzz_auth, fuzz_gateway, fuzz_rest): the case count, the
//! runtime and the client they use, and one exchange as the properties see it.

#![allow(dead_code)] // each test binary uses its own subset

const DEFAULT_CASES: u32 = 64;

/// The server answered (413, 405, 401...) and closed before reading the rest of a large body:
/// the client sees a broken pipe on the body, not a crash.
pub const EARLY_CLOSE: &str = "early close";

/// 64 in `cargo test`; `PROPTEST_CASES` raises it.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh connection per request: a dropped response is then this request's.
pub fn fresh_connection_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Runs `fuzz` on a thread of its own: the strategies nest deeply, more stack than a test
/// thread's 2 MiB.
pub fn on_a_big_stack(fuzz: fn()) {
    let run = std::thread::Builder::new().stack_size(64 << 20).spawn(fuzz);
    if let Err(panic) = run.unwrap().join() {
        std::panic::resume_unwind(panic);
    }
}

/// One answer, read whole.
pub struct Seen {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// Sends `request` and reads its answer: [`EARLY_CLOSE`] when the server stopped reading the
/// body, `transport: ...` when no answer came.
pub async fn exchange(http: &reqwest::Client, request: reqwest::Request) -> Result<Seen, String> {
    let response = match http.execute(request).await {
        Ok(response) => response,
        // hyper is not a direct dependency; its error kind shows in the debug form.
        Err(error) if format!("{error:?}").contains("BodyWrite") => {
            return Err(EARLY_CLOSE.into());
        }
        Err(error) => return Err(format!("transport: {error:?}")),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("transport (body): {e:?}"))?;
    Ok(Seen {
        status,
        headers,
        body: body.to_vec(),
    })
}
