use super::*;
use crate::error::JwtError;

async fn wire(e: ApiError) -> (u16, axum::http::HeaderMap, Value) {
    let r = e.into_response();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

/// Every PGRST code this server emits: status, code, message, details, hint.
#[tokio::test]
async fn every_pgrst_code() {
    let cases: Vec<(ApiError, u16, &str, &str, Value, Value)> = vec![
        (
            ApiError::DbConnection("connection refused".into()),
            503,
            "PGRST000",
            "Database connection error. Retrying the connection.",
            json!("connection refused"),
            Value::Null,
        ),
        (
            ApiError::DbClient("reset".into()),
            503,
            "PGRST001",
            "Database client error. Retrying the connection.",
            json!("reset"),
            Value::Null,
        ),
        (
            ApiError::SchemaCacheNotLoaded,
            503,
            "PGRST002",
            "Could not query the database for the schema cache. Retrying.",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::PoolTimeout,
            504,
            "PGRST003",
            "Timed out acquiring connection from connection pool.",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::ParseQuery {
                message: "\"failed to parse filter (x)\" (line 1, column 3)".into(),
                details: "unexpected".into(),
            },
            400,
            "PGRST100",
            "\"failed to parse filter (x)\" (line 1, column 3)",
            json!("unexpected"),
            Value::Null,
        ),
        (
            ApiError::InvalidRpcMethod("PUT".into()),
            405,
            "PGRST101",
            "Cannot use the PUT method on RPC",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::InvalidBody("All object keys must match".into()),
            400,
            "PGRST102",
            "All object keys must match",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::InvalidRange {
                details: Some("An offset of 10 was requested, but there are only 3 rows.".into()),
            },
            416,
            "PGRST103",
            "Requested range not satisfiable",
            json!("An offset of 10 was requested, but there are only 3 rows."),
            Value::Null,
        ),
        (
            ApiError::PutFilters,
            405,
            "PGRST105",
            "Filters must include all and only primary key columns with 'eq' operators",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::UnacceptableSchema {
                schema: "x".into(),
                exposed: vec!["public".into(), "storage".into()],
            },
            406,
            "PGRST106",
            "Invalid schema: x",
            Value::Null,
            json!("Only the following schemas are exposed: public, storage"),
        ),
        (
            ApiError::NoAcceptableMedia {
                asked: vec!["text/html".into()],
            },
            406,
            "PGRST107",
            "None of these media types are available: text/html",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::NotEmbedded("books".into()),
            400,
            "PGRST108",
            "'books' is not an embedded resource in this request",
            Value::Null,
            json!("Verify that 'books' is included in the 'select' query parameter."),
        ),
        (
            ApiError::GucHeaders,
            500,
            "PGRST111",
            "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::GucStatus,
            500,
            "PGRST112",
            "response.status guc must be a valid status code",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::PutLimit,
            400,
            "PGRST114",
            "limit/offset querystring parameters are not allowed for PUT",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::PutPkMismatch,
            400,
            "PGRST115",
            "Payload values do not match URL in primary key column(s)",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::Singular { rows: 0 },
            406,
            "PGRST116",
            "Cannot coerce the result to a single JSON object",
            json!("The result contains 0 rows"),
            Value::Null,
        ),
        (
            ApiError::UnsupportedMethod("TRACE".into()),
            405,
            "PGRST117",
            "Unsupported HTTP method: TRACE",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::RelatedOrderNotToOne {
                origin: "authors".into(),
                target: "books".into(),
            },
            400,
            "PGRST118",
            "A related order on 'books' is not possible",
            json!("'authors' and 'books' do not form a many-to-one or one-to-one relationship"),
            Value::Null,
        ),
        (
            ApiError::InvalidPreferences {
                invalid: vec!["foo=bar".into()],
            },
            400,
            "PGRST122",
            "Invalid preferences given with handling=strict",
            json!("Invalid preferences: foo=bar"),
            Value::Null,
        ),
        (
            ApiError::AggregatesNotAllowed,
            400,
            "PGRST123",
            "Use of aggregate functions is not allowed",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::MaxAffected { rows: 3 },
            400,
            "PGRST124",
            "Query result exceeds max-affected preference constraint",
            json!("The query affects 3 rows"),
            Value::Null,
        ),
        (
            ApiError::InvalidPath,
            404,
            "PGRST125",
            "Invalid path specified in request URL",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::OpenApiDisabled,
            404,
            "PGRST126",
            "Root endpoint metadata is disabled",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::MaxAffectedRpc,
            400,
            "PGRST128",
            "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::NoRelationship {
                parent: "books".into(),
                child: "autors".into(),
                embed_hint: None,
                schema: "public".into(),
                suggestion: Some("Perhaps you meant 'authors' instead of 'autors'.".into()),
            },
            400,
            "PGRST200",
            "Could not find a relationship between 'books' and 'autors' in the schema cache",
            json!(
                "Searched for a foreign key relationship between 'books' and 'autors' in the schema 'public', but no matches were found."
            ),
            json!("Perhaps you meant 'authors' instead of 'autors'."),
        ),
        (
            ApiError::ColumnNotFound {
                relation: "books".into(),
                column: "nope".into(),
            },
            400,
            "PGRST204",
            "Could not find the 'nope' column of 'books' in the schema cache",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::TableNotFound {
                schema: "public".into(),
                table: "book".into(),
                suggestion: Some("books".into()),
            },
            404,
            "PGRST205",
            "Could not find the table 'public.book' in the schema cache",
            Value::Null,
            json!("Perhaps you meant the table 'public.books'"),
        ),
        (
            ApiError::JwtSecretMissing,
            500,
            "PGRST300",
            "Server lacks JWT secret",
            Value::Null,
            Value::Null,
        ),
        (
            ApiError::AnonymousDisabled,
            401,
            "PGRST302",
            "Anonymous access is disabled",
            Value::Null,
            Value::Null,
        ),
    ];
    for (error, status, code, message, details, hint) in cases {
        let (s, headers, body) = wire(error).await;
        assert_eq!(s, status, "{code}");
        assert_eq!(
            body,
            json!({"code": code, "message": message, "details": details, "hint": hint}),
            "{code}"
        );
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        assert_eq!(
            headers["proxy-status"],
            format!("PostgREST; error={code}").as_str()
        );
        assert_eq!(
            headers.contains_key("retry-after"),
            status == 503,
            "{code}: Retry-After on every 503 only"
        );
    }
}

#[tokio::test]
async fn jwt_errors_carry_www_authenticate() {
    let (status, headers, body) = wire(ApiError::Jwt(JwtError::Expired)).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "PGRST303");
    assert_eq!(
        headers["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"JWT expired\""
    );
    let (_, headers, body) = wire(ApiError::Jwt(JwtError::Parts(1))).await;
    assert_eq!(body["code"], "PGRST301");
    assert_eq!(body["message"], "Expected 3 parts in JWT; got 1");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("Expected 3 parts in JWT; got 1")
    );
    let (_, headers, _) = wire(ApiError::AnonymousDisabled).await;
    assert_eq!(headers["www-authenticate"], "Bearer");
}

fn pg(code: &str, message: &str, detail: Option<&str>) -> PgError {
    PgError {
        code: code.into(),
        message: message.into(),
        detail: detail.map(Into::into),
        hint: None,
    }
}

#[tokio::test]
async fn postgres_errors_pass_through_with_the_status_table() {
    let e = ApiError::Postgres {
        error: pg("42501", "permission denied for table secrets", None),
        authenticated: false,
    };
    let (status, headers, body) = wire(e).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert_eq!(
        body,
        json!({"code": "42501", "message": "permission denied for table secrets", "details": null, "hint": null})
    );
    let e = ApiError::Postgres {
        error: pg("42501", "permission denied for table secrets", None),
        authenticated: true,
    };
    let (status, headers, _) = wire(e).await;
    assert_eq!(status, 403);
    assert!(!headers.contains_key("www-authenticate"));
    let (status, _, body) = wire(ApiError::nul_byte(true)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("22021")));
}

#[tokio::test]
async fn raise_pgrst_takes_full_control() {
    let e = ApiError::Postgres {
        error: pg(
            "PGRST",
            r#"{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}"#,
            Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}"#),
        ),
        authenticated: true,
    };
    let (status, headers, body) = wire(e).await;
    assert_eq!(status, 402);
    assert_eq!(headers["x-powered-by"], "Nerd Rage");
    assert_eq!(
        body,
        json!({"code": "123", "message": "Payment Required", "details": "Quota exceeded", "hint": "Upgrade"})
    );

    let e = ApiError::Postgres {
        error: pg("PGRST", "not json", Some("{}")),
        authenticated: true,
    };
    let (status, _, body) = wire(e).await;
    assert_eq!((status, body["code"].as_str()), (500, Some("PGRST121")));
    assert_eq!(
        body["details"],
        "Invalid JSON value for MESSAGE: 'not json'"
    );
    let e = ApiError::Postgres {
        error: pg("PGRST", r#"{"code":"1","message":"m"}"#, None),
        authenticated: true,
    };
    let (_, _, body) = wire(e).await;
    assert_eq!(body["details"], "DETAIL is missing in the RAISE statement");
}
