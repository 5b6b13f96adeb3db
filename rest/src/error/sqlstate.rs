//! PostgREST's SQLSTATE → HTTP status table (`pgErrorStatus`), written once.

/// The status PostgREST answers for a PostgreSQL error with `code` and `message`;
/// `authenticated` is whether the request's role differs from the anonymous role.
pub fn status_of(code: &str, message: &str, authenticated: bool) -> u16 {
    let class = code.get(..2).unwrap_or("");
    match code {
        "23503" | "23505" => return 409,
        "25006" => return 405,
        "21000" if message.ends_with("requires a WHERE clause") => return 400,
        "21000" => return 500,
        "22023" if message.starts_with("role") && message.ends_with("does not exist") => {
            return 401;
        }
        "22023" => return 400,
        "53400" => return 500,
        "57P01" => return 503,
        "P0001" => return 400,
        "42883" if message.starts_with("function xmlagg(") => return 406,
        "42883" => return 404,
        "42P01" => return 404,
        "42P17" => return 500,
        "42501" => return if authenticated { 403 } else { 401 },
        _ => {}
    }
    match class {
        "08" => 503,
        "09" => 500,
        "0L" | "0P" => 403,
        "25" | "2D" => 500,
        "28" => 403,
        "38" | "39" | "3B" | "40" => 500,
        "53" => 503,
        "54" | "55" | "57" | "58" | "F0" | "HV" => 500,
        "P0" | "XX" => 500,
        // PTxyz: the function picked status xyz; an unreadable one is 500.
        "PT" => code[2..]
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .unwrap_or(500),
        _ => 400,
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;

    /// One row per line of the contract's §3.5 table.
    #[test]
    fn every_row_of_the_table() {
        let rows: &[(&str, &str, bool, u16)] = &[
            ("08006", "connection failure", true, 503),
            ("09000", "triggered action", true, 500),
            ("0L000", "invalid grantor", true, 403),
            ("0P000", "invalid role specification", true, 403),
            ("21000", "UPDATE requires a WHERE clause", true, 400),
            (
                "21000",
                "more than one row returned by a subquery",
                true,
                500,
            ),
            ("22023", "role \"x\" does not exist", true, 401),
            ("22023", "invalid parameter", true, 400),
            ("23503", "fk", true, 409),
            ("23505", "unique", true, 409),
            ("25006", "read-only transaction", true, 405),
            ("25001", "active sql transaction", true, 500),
            ("2D000", "invalid transaction termination", true, 500),
            ("28000", "invalid authorization", true, 403),
            ("38000", "external routine", true, 500),
            ("39000", "external routine invocation", true, 500),
            ("3B000", "savepoint", true, 500),
            ("40001", "serialization", true, 500),
            ("53400", "configuration limit exceeded", true, 500),
            ("53300", "too many connections", true, 503),
            ("54000", "too complex", true, 500),
            ("55000", "object not in prerequisite state", true, 500),
            ("57P01", "terminating connection", true, 503),
            (
                "57014",
                "canceling statement due to statement timeout",
                true,
                500,
            ),
            ("58000", "system error", true, 500),
            ("F0000", "config file error", true, 500),
            ("HV000", "fdw error", true, 500),
            ("P0001", "raise", true, 400),
            ("P0002", "no data found", true, 500),
            ("XX000", "internal", true, 500),
            ("42883", "function foo() does not exist", true, 404),
            (
                "42883",
                "function xmlagg(integer) does not exist",
                true,
                406,
            ),
            ("42P01", "relation does not exist", true, 404),
            ("42P17", "infinite recursion", true, 500),
            ("42501", "permission denied for table t", true, 403),
            ("42501", "permission denied for table t", false, 401),
            ("PT418", "teapot", true, 418),
            ("PTabc", "bad", true, 500),
            ("22P02", "invalid input syntax", true, 400),
            ("23502", "not null", true, 400),
            ("23514", "check", true, 400),
            ("42703", "column does not exist", true, 400),
            ("42P10", "no unique constraint", true, 400),
        ];
        for (code, message, authenticated, status) in rows {
            assert_eq!(
                status_of(code, message, *authenticated),
                *status,
                "{code} {message} authenticated={authenticated}"
            );
        }
    }
}
