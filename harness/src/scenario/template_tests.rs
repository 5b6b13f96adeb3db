use super::*;

fn fill(template: &str) -> Rendered {
    Template::parse(template)
        .unwrap()
        .render(|placeholder| {
            Ok::<_, ()>(match placeholder {
                Placeholder::Token(user, kind) => format!("<{user}:{kind}>"),
                other => format!("<{other}>"),
            })
        })
        .unwrap()
}

#[test]
fn renders_the_real_value_and_a_redacted_twin() {
    let rendered = fill("Bearer {{alice.token.valid}}");
    assert_eq!(rendered.actual, "Bearer <alice:valid>");
    assert_eq!(rendered.redacted, "Bearer [alice.token.valid]");
}

#[test]
fn text_without_placeholders_is_kept_verbatim() {
    let rendered = fill("sb-127-auth-token=base64-eyJicm9rZW4");
    assert_eq!(rendered.actual, "sb-127-auth-token=base64-eyJicm9rZW4");
    assert_eq!(rendered.redacted, rendered.actual);
}

#[test]
fn placeholders_tolerate_inner_spaces_and_repeat() {
    let rendered = fill("{{ bob.id }}/{{bob.id}}{{keys.anon}}");
    assert_eq!(rendered.redacted, "[bob.id]/[bob.id][keys.anon]");
}

#[test]
fn every_token_kind_round_trips_through_its_name() {
    let keys = KeyTokenKind::ALL.map(TokenKind::Key);
    for kind in TokenKind::ALL.into_iter().chain(keys) {
        assert_eq!(kind.name().parse::<TokenKind>(), Ok(kind));
    }
    let names = TokenKind::names();
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "no two kinds share a name");
}

#[test]
fn the_new_keys_have_placeholders_of_their_own() {
    let rendered = fill("{{keys.publishable}} {{ keys.secret }}");
    assert_eq!(rendered.redacted, "[keys.publishable] [keys.secret]");
    assert_eq!(
        Template::parse("{{alice.token.revoked-key}}")
            .unwrap()
            .placeholders()
            .next(),
        Some(&Placeholder::Token(
            "alice".into(),
            TokenKind::Key(KeyTokenKind::RevokedKey)
        ))
    );
}

#[test]
fn unknown_token_kind_names_the_known_ones() {
    let error = Template::parse("x {{alice.token.forged}}").unwrap_err();
    assert_eq!(error.offset, 2);
    assert!(
        error.message.contains("unknown token kind `forged`"),
        "{error}"
    );
    assert!(error.message.contains("wrong-secret"), "{error}");
}

#[test]
fn repeat_fills_the_text_and_keeps_a_short_name() {
    let template = Template::parse("a{{ repeat.3.sb-x=y; }}b").unwrap();
    let rendered = template
        .render(|placeholder| match placeholder {
            Placeholder::Repeat { times, text } => Ok::<_, ()>(text.repeat(*times)),
            _ => unreachable!(),
        })
        .unwrap();
    assert_eq!(rendered.actual, "asb-x=y;sb-x=y;sb-x=y;b");
    assert_eq!(rendered.redacted, "a[repeat.3.sb-x=y;]b");
    for bad in [
        "{{repeat.0.x}}",
        "{{repeat.many.x}}",
        "{{repeat.2000000.x}}",
    ] {
        assert!(Template::parse(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn unclosed_placeholder_is_an_error_at_its_start() {
    let error = Template::parse("ab{{alice.id").unwrap_err();
    assert_eq!(error.offset, 2);
    assert!(error.message.contains("unclosed"));
}

#[test]
fn unknown_placeholder_shapes_are_rejected() {
    for bad in [
        "{{alice}}",
        "{{keys.admin}}",
        "{{a.b.c.d}}",
        "{{}}",
        "{{capture.}}",
    ] {
        assert!(Template::parse(bad).is_err(), "{bad} should not parse");
    }
}
