//! What each wire code means, what fixes it, and the RFC sections that
//! govern it: the 19 reason codes of `http-contract.md` §3 and the other
//! codes of `bouncer_core::Code`.

/// One code's explanation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) code: &'static str,
    pub(crate) status: u16,
    /// The deciding stage (`explain.md` §2's names); `none` when no stage
    /// decides it.
    pub(crate) stage: &'static str,
    pub(crate) meaning: &'static str,
    pub(crate) fix: &'static str,
    pub(crate) rfc: &'static [&'static str],
}

const AUTH_401: &[&str] = &["RFC 9110 §15.5.2", "RFC 9110 §11.6.1"];

/// Every code bouncer sends, in the contract's order.
pub(crate) const ENTRIES: &[Entry] = &[
    Entry {
        code: "missing_credentials",
        status: 401,
        stage: "authentication",
        meaning: "The request carried no credentials of any kind, and this route needs an authenticated caller.",
        fix: "Send credentials of a scheme the WWW-Authenticate challenges list: `Authorization: Bearer <access token>`, `Authorization: Basic <base64 user:password>`, an API key header, or a session cookie.",
        rfc: &["RFC 9110 §15.5.2", "RFC 9110 §11.6.1", "RFC 6750 §3.1"],
    },
    Entry {
        code: "malformed_credentials",
        status: 401,
        stage: "authentication",
        meaning: "An Authorization field was present but is not valid syntax for its scheme (empty token, bad base64, no `:` in Basic, two Authorization fields, ...).",
        fix: "Send exactly one Authorization field, `<scheme> <credentials>` with one space: a Bearer token in token68 characters, Basic as base64 of `user:password`.",
        rfc: &["RFC 9110 §11.6.2", "RFC 6750 §2.1", "RFC 7617 §2", "RFC 6750 §3.1 (invalid_request)"],
    },
    Entry {
        code: "unsupported_scheme",
        status: 401,
        stage: "authentication",
        meaning: "The credentials are of a scheme this route does not accept.",
        fix: "Use one of the schemes the WWW-Authenticate challenges of this response list (e.g. a Bearer token where Basic is refused).",
        rfc: AUTH_401,
    },
    Entry {
        code: "invalid_credentials",
        status: 401,
        stage: "authentication",
        meaning: "The user name and password, or the API key, were not accepted (wrong password, unknown user, unknown key: deliberately indistinguishable). Also a wrong one-time code at MFA.",
        fix: "Check the user name, password or key for typos and the right environment; a password with `:` or non-ASCII characters must be sent as UTF-8 before base64.",
        rfc: &["RFC 9110 §15.5.2", "RFC 7617 §2"],
    },
    Entry {
        code: "invalid_token",
        status: 401,
        stage: "authentication",
        meaning: "The bearer token is not acceptable: bad signature, unknown `kid`, a disallowed `alg` (including `none`), wrong `iss` or `aud`, `nbf` in the future, or a required claim missing.",
        fix: "Get a fresh token from the right issuer for this API's audience; decode it (`bouncer token inspect TOKEN`, or `bouncer explain --token TOKEN`) and check `iss`, `aud`, `nbf`, `alg` and `kid`.",
        rfc: &["RFC 6750 §3.1", "RFC 7519 §4.1", "RFC 8725 §3.1"],
    },
    Entry {
        code: "token_expired",
        status: 401,
        stage: "authentication",
        meaning: "The token's `exp` is in the past (beyond the allowed clock leeway).",
        fix: "Refresh the access token (refresh token or a new login) and retry; if tokens expire early, check the clocks of client, issuer and server.",
        rfc: &["RFC 6750 §3.1", "RFC 7519 §4.1.4"],
    },
    Entry {
        code: "token_revoked",
        status: 401,
        stage: "authentication",
        meaning: "The token was revoked (its `jti` was logged out) before it expired.",
        fix: "Log in again to get a new token; do not reuse a token after logout.",
        rfc: &["RFC 6750 §3.1", "RFC 7009 §2"],
    },
    Entry {
        code: "session_invalid",
        status: 401,
        stage: "authentication",
        meaning: "The session cookie is unknown, expired or logged out.",
        fix: "Log in again (POST /login) and use the new session cookie.",
        rfc: &["RFC 9110 §15.5.2", "RFC 6265 §4.2"],
    },
    Entry {
        code: "mfa_required",
        status: 401,
        stage: "step-up",
        meaning: "The caller is known and allowed, but the route needs stronger or fresher authentication: MFA (the challenge's `acr_values`) or a login no older than `max_age` seconds.",
        fix: "Authenticate again meeting the challenge's `acr_values` / `max_age` (log in with MFA, or log in again) and retry with the new token.",
        rfc: &["RFC 9470 §3", "RFC 9470 §4", "RFC 6750 §3"],
    },
    Entry {
        code: "blocked_path",
        status: 403,
        stage: "guards",
        meaning: "The path is hidden or server-internal (dotfiles such as `.env`, `.git/`, `.htaccess`), after percent-decoding and dot-segment removal. Nobody may fetch it, whoever they are.",
        fix: "Do not request it; credentials will not help. If it is a public file, rename it or serve it under `/.well-known/`.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "ip_blocked",
        status: 403,
        stage: "guards",
        meaning: "The client's IP address (after trusted-proxy resolution) is in a denied range, or could not be read from forwarding data that was unreadable.",
        fix: "Call from an allowed network; behind a proxy, check that the proxy is trusted and writes one well-formed X-Forwarded-For (or the configured) field.",
        rfc: &["RFC 9110 §15.5.4", "RFC 7239 §5.2"],
    },
    Entry {
        code: "geo_blocked",
        status: 403,
        stage: "guards",
        meaning: "The client's country is denied (or its country header from a trusted proxy was unreadable).",
        fix: "Call from an allowed country; a proxy must send one well-formed country header (e.g. CF-IPCountry).",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "account_suspended",
        status: 403,
        stage: "account",
        meaning: "The caller authenticated, but the account is suspended or disabled.",
        fix: "Ask an administrator to reactivate the account (its `state` in the policy's `[principals]`); another login will not help.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "tenant_mismatch",
        status: 403,
        stage: "authorization",
        meaning: "The caller is not a member of the organization in the path, or the token is bound to another organization (`organization_id`, or Logto's `urn:logto:organization:<org>` audience).",
        fix: "Use the organization you belong to, or get a token for this organization; an administrator can add the membership in the policy's `[organizations.<org>.members]`.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "elevation_required",
        status: 403,
        stage: "authorization",
        meaning: "The route needs an elevated global role (e.g. admin) the caller does not have.",
        fix: "Use an account with the global role; an administrator grants it in `[principals.<subject>] global_roles`.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "insufficient_permission",
        status: 403,
        stage: "authorization",
        meaning: "The caller's roles in this organization do not grant the permission the route needs.",
        fix: "Ask for a role that grants the permission (see `bouncer policy query FILE --subject S --org O --permission P`); a token with more scopes will not help.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "insufficient_scope",
        status: 403,
        stage: "authorization",
        meaning: "The caller's roles grant the permission, but the token's `scope` does not include it.",
        fix: "Request a token with the scope named in the challenge's `scope` parameter and retry.",
        rfc: &["RFC 6750 §3.1", "RFC 9110 §15.5.4"],
    },
    Entry {
        code: "not_shared",
        status: 403,
        stage: "authorization",
        meaning: "The resource is private and not shared with the caller.",
        fix: "Ask the resource's owner to share it with you.",
        rfc: &["RFC 9110 §15.5.4"],
    },
    Entry {
        code: "read_only",
        status: 403,
        stage: "authorization",
        meaning: "The resource is read-only (e.g. archived) and the method would change it.",
        fix: "Only read it (GET/HEAD); to change it, it must first be made writable again.",
        rfc: &["RFC 9110 §15.5.4", "RFC 9110 §9.2.1"],
    },
    Entry {
        code: "not_found",
        status: 404,
        stage: "authorization",
        meaning: "No such route or resource (decided only after the caller is known to belong to the resource's organization).",
        fix: "Check the path and the resource id.",
        rfc: &["RFC 9110 §15.5.5"],
    },
    Entry {
        code: "too_many_requests",
        status: 429,
        stage: "authentication",
        meaning: "Too many attempts (e.g. failed logins from this address): throttled for a while.",
        fix: "Wait for the number of seconds in Retry-After, then retry with the right credentials.",
        rfc: &["RFC 6585 §4", "RFC 9110 §10.2.3"],
    },
    Entry {
        code: "internal_error",
        status: 500,
        stage: "none",
        meaning: "The server failed to decide (a bug, a panicking or failing stage, a route set up wrong). Never a verdict about your credentials.",
        fix: "Nothing to change on the client: report it with the decision id; the server's decision log has the cause.",
        rfc: &["RFC 9110 §15.6.1"],
    },
    Entry {
        code: "service_unavailable",
        status: 503,
        stage: "none",
        meaning: "A store the decision needs (e.g. Redis, for revocations and sessions) is unreachable. Never a verdict about your credentials.",
        fix: "Retry after the number of seconds in Retry-After; if it persists, the operator must restore the store.",
        rfc: &["RFC 9110 §15.6.4", "RFC 9110 §10.2.3"],
    },
];

/// The entry of `code`.
pub(crate) fn entry(code: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.code == code)
}

/// For a response without a bouncer `code`: what its status says.
pub(crate) fn by_status(status: u16) -> (&'static str, &'static str, &'static [&'static str]) {
    match status {
        200..=299 => ("The request was allowed.", "Nothing to fix.", &[]),
        400 => (
            "Bad request; under RFC 6750 a malformed bearer request (invalid_request) may be 400.",
            "Fix the request's syntax (the Authorization field, parameters).",
            &["RFC 9110 §15.5.1", "RFC 6750 §3.1"],
        ),
        401 => (
            "Not authenticated: authenticating (again, or more strongly) could change the answer.",
            "Send credentials of a scheme the WWW-Authenticate challenges list.",
            AUTH_401,
        ),
        403 => (
            "Forbidden: the caller is known, or the refusal does not depend on who the caller is. Other credentials of the same caller will not help.",
            "Ask for the access (role, membership, network); if you sent no credentials at all, a 401 would have been expected.",
            &["RFC 9110 §15.5.4"],
        ),
        404 => ("Not found.", "Check the path.", &["RFC 9110 §15.5.5"]),
        429 => (
            "Too many requests.",
            "Wait for Retry-After.",
            &["RFC 6585 §4"],
        ),
        500..=599 => (
            "A server error; not a verdict about the credentials.",
            "Retry later; report it if it persists.",
            &["RFC 9110 §15.6"],
        ),
        _ => ("A status bouncer does not send.", "See RFC 9110 §15.", &["RFC 9110 §15"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_core_has_an_entry_with_its_status() {
        for code in bouncer_core::Code::ALL {
            let e = entry(code.as_str()).unwrap_or_else(|| panic!("{code}"));
            assert_eq!(e.status, code.status().as_u16(), "{code}");
            assert!(!e.meaning.is_empty() && !e.fix.is_empty() && !e.rfc.is_empty());
        }
        assert_eq!(ENTRIES.len(), bouncer_core::Code::ALL.len());
    }
}
