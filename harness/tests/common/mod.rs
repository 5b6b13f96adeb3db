//! Shared by the scenario-format test binaries.

use harness::scenario::ParseError;

/// The error names `file`, points at `line`:`column` and says `message`.
pub fn assert_error_at(error: &ParseError, file: &str, line: usize, column: usize, message: &str) {
    let position = error.position.expect("a position");
    assert_eq!((position.line, position.column), (line, column), "{error}");
    assert!(error.message.contains(message), "{error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{file}:{line}:{column}: ")),
        "{error}"
    );
}
