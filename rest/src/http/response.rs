//! A statement's outcome as PostgREST's response: status per operation (contract §3.1),
//! `Content-Range` (§3.2), `Location`, `Content-Location`, the media type, and the
//! `response.status` / `response.headers` settings SQL may have set.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use serde_json::Value;

use crate::error::ApiError;
use crate::plan::{Plan, PlanKind};
use crate::query::ast::{MediaType, Returning};
use crate::transaction::Outcome;

/// What the response needs besides the outcome.
pub struct Respond<'a> {
    pub plan: &'a Plan,
    pub head: bool,
    pub returning: Returning,
    /// Whether a count was asked for (the total part of `Content-Range`).
    pub counted: bool,
    /// `Content-Location` (GET only).
    pub content_location: Option<String>,
    /// Extra headers: `Preference-Applied`, `Content-Profile`.
    pub extra: Vec<(&'static str, String)>,
}

/// `Content-Range` as PostgREST writes it.
pub fn content_range(lower: i64, upper: i64, total: Option<i64>) -> String {
    let range = if total != Some(0) && lower <= upper {
        format!("{lower}-{upper}")
    } else {
        "*".into()
    };
    let total = total.map(|t| t.to_string()).unwrap_or_else(|| "*".into());
    format!("{range}/{total}")
}

/// The `Content-Type` of a body in `media`.
pub fn content_type(media: MediaType) -> &'static str {
    match media {
        MediaType::SingleObject { strip_nulls: false } => {
            "application/vnd.pgrst.object+json; charset=utf-8"
        }
        MediaType::SingleObject { strip_nulls: true } => {
            "application/vnd.pgrst.object+json; nulls=stripped; charset=utf-8"
        }
        MediaType::Array { strip_nulls: true } => {
            "application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8"
        }
        MediaType::Csv => "text/csv; charset=utf-8",
        _ => "application/json; charset=utf-8",
    }
}

fn location(plan: &Plan, outcome: &Outcome) -> Option<String> {
    let rows: Vec<Vec<Value>> = serde_json::from_str(outcome.locations.as_deref()?).ok()?;
    if rows.len() != 1 {
        return None;
    }
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let query = plan
        .pk
        .iter()
        .zip(&rows[0])
        .map(|(k, v)| format!("{}=eq.{}", enc(k), enc(v.as_str().unwrap_or(""))))
        .collect::<Vec<_>>()
        .join("&");
    Some(format!("/{}?{query}", enc(&plan.resource)))
}

/// Builds the response, or the error it turns out to be (PGRST103, PGRST111, PGRST112).
pub fn respond(r: Respond, outcome: Outcome) -> Result<Response<Body>, ApiError> {
    let n = outcome.page_count;
    let total = if r.counted { outcome.total } else { None };
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut with_body = true;
    let status: u16 = match r.plan.kind {
        PlanKind::Read | PlanKind::Call { void: false } => {
            let lower = r.plan.offset as i64;
            let upper = lower + n - 1;
            headers.push(("Content-Range".into(), content_range(lower, upper, total)));
            match total {
                Some(t) if lower > t => {
                    return Err(ApiError::InvalidRange {
                        details: Some(format!(
                            "An offset of {lower} was requested, but there are only {t} rows."
                        )),
                    });
                }
                Some(t) if n < t => 206,
                _ => 200,
            }
        }
        PlanKind::Call { void: true } => {
            with_body = false;
            204
        }
        PlanKind::Insert | PlanKind::Upsert { .. } => {
            headers.push(("Content-Range".into(), content_range(1, 0, total)));
            if r.returning == Returning::HeadersOnly
                && let Some(loc) = location(r.plan, &outcome)
            {
                headers.push(("Location".into(), loc));
            }
            with_body = r.returning == Returning::Representation;
            match r.plan.kind {
                PlanKind::Upsert { merge: true } if n > 0 && outcome.inserted == Some(0) => 200,
                _ => 201,
            }
        }
        PlanKind::Update | PlanKind::Delete => {
            let cr = if r.plan.kind == PlanKind::Update {
                content_range(0, n - 1, total)
            } else {
                content_range(1, 0, total)
            };
            headers.push(("Content-Range".into(), cr));
            with_body = r.returning == Returning::Representation;
            if with_body { 200 } else { 204 }
        }
        PlanKind::Put => {
            with_body = r.returning == Returning::Representation;
            match (with_body, outcome.inserted) {
                (false, _) => 204,
                (true, Some(i)) if i > 0 => 201,
                (true, _) => 200,
            }
        }
    };
    headers.extend(r.extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    if let Some(loc) = r.content_location {
        headers.push(("Content-Location".into(), loc));
    }
    let status = match &outcome.guc_status {
        None => status,
        Some(s) => s
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or(ApiError::GucStatus)?,
    };
    if let Some(text) = &outcome.guc_headers {
        let items: Vec<serde_json::Map<String, Value>> =
            serde_json::from_str(text).map_err(|_| ApiError::GucHeaders)?;
        for item in items {
            if item.len() != 1 {
                return Err(ApiError::GucHeaders);
            }
            for (k, v) in item {
                let v = v.as_str().ok_or(ApiError::GucHeaders)?.to_owned();
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
    }

    let body = if with_body { outcome.body } else { None };
    let mut builder =
        Response::builder().status(StatusCode::from_u16(status).map_err(|_| ApiError::GucStatus)?);
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, content_type(r.plan.media));
    }
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            builder = builder.header(k, v);
        }
    }
    let body = match body {
        Some(b) if !r.head => Body::from(b),
        _ => Body::empty(),
    };
    builder
        .body(body)
        .map_err(|e| ApiError::DbClient(format!("building the response failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::content_range;

    #[test]
    fn content_range_rules() {
        assert_eq!(content_range(0, 9, None), "0-9/*");
        assert_eq!(content_range(0, 9, Some(100)), "0-9/100");
        assert_eq!(content_range(0, -1, None), "*/*");
        assert_eq!(content_range(0, -1, Some(0)), "*/0");
        assert_eq!(content_range(1, 0, Some(3)), "*/3");
        assert_eq!(content_range(10, 9, Some(3)), "*/3");
    }
}
