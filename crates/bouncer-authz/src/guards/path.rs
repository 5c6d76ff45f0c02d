//! Blocked paths: hidden and server-internal files, judged on the path the
//! file system would see — after percent-decoding (repeatedly, so `%252e`
//! does not slip through), backslashes read as slashes, dot-segment removal
//! (RFC 3986 §5.2.4) and empty segments dropped, compared case-insensitively.

use std::borrow::Cow;

use bouncer_core::{AccessError, ForbiddenReason, RequestContext, RequestGuard};
use globset::{Glob, GlobSet, GlobSetBuilder};
use percent_encoding::percent_decode_str;

/// How many rounds of percent-decoding are applied.
const DECODE_ROUNDS: usize = 3;

/// The normalised, lower-cased path used for blocking decisions.
pub fn normalize_path(raw: &str) -> String {
    let mut path: Cow<'_, str> = Cow::Borrowed(raw);
    for _ in 0..DECODE_ROUNDS {
        if !path.contains('%') {
            break;
        }
        let decoded = percent_decode_str(&path).decode_utf8_lossy().into_owned();
        if decoded == path {
            break;
        }
        path = Cow::Owned(decoded);
    }
    let unified = path.replace('\\', "/").to_lowercase();
    let mut out: Vec<&str> = Vec::new();
    for seg in unified.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut result = String::with_capacity(unified.len() + 1);
    for seg in &out {
        result.push('/');
        result.push_str(seg);
    }
    if result.is_empty() {
        result.push('/');
    }
    result
}

/// Whether any segment of a normalised path is hidden (starts with `.`),
/// `.well-known` excepted, or holds a NUL byte.
fn has_hidden_segment(normalized: &str) -> bool {
    normalized
        .split('/')
        .any(|s| (s.starts_with('.') && s != ".well-known") || s.contains('\0'))
}

/// A path needs normalising only if it holds something that could hide a
/// dot-segment or a dotfile.
fn needs_normalizing(raw: &str) -> bool {
    raw.bytes().any(|b| matches!(b, b'%' | b'.' | b'\\')) || raw.contains("//")
}

/// Blocks dotfiles (`.env`, `.git/`, `.htaccess`; not `.well-known`) and
/// configurable glob patterns.
#[derive(Debug, Clone)]
pub struct PathGuard {
    patterns: GlobSet,
    block_hidden: bool,
}

impl Default for PathGuard {
    fn default() -> Self {
        Self {
            patterns: GlobSet::empty(),
            block_hidden: true,
        }
    }
}

/// Why a pattern was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {source}")]
pub struct PatternError {
    /// The pattern.
    pub pattern: String,
    /// What globset said.
    pub source: globset::Error,
}

impl PathGuard {
    /// Blocks hidden segments only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks hidden segments and `patterns`. A pattern without `/`
    /// matches any segment (`*.bak`); one with `/` matches the whole path
    /// (`/server-status`, `/admin/**`). Case-insensitive.
    pub fn with_patterns<I, S>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let p = p.as_ref();
            let full = if p.contains('/') {
                p.to_owned()
            } else {
                format!("**/{p}")
            };
            let glob = globset::GlobBuilder::new(&full)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|source| PatternError {
                    pattern: p.to_owned(),
                    source,
                })?;
            b.add(glob);
        }
        let patterns = b.build().map_err(|source| PatternError {
            pattern: String::new(),
            source,
        })?;
        Ok(Self {
            patterns,
            block_hidden: true,
        })
    }

    /// Whether a raw (still encoded) request path is blocked.
    pub fn is_blocked(&self, raw_path: &str) -> bool {
        // Only a path with `%`, `.`, `\` or `//` can hide a dot-segment or a
        // dotfile: the common case skips normalising.
        let normalized: Cow<'_, str> = if needs_normalizing(raw_path) {
            let n = normalize_path(raw_path);
            if self.block_hidden && has_hidden_segment(&n) {
                return true;
            }
            Cow::Owned(n)
        } else {
            Cow::Borrowed(raw_path)
        };
        // Patterns are compiled case-insensitive.
        !self.patterns.is_empty() && self.patterns.is_match(normalized.as_ref())
    }
}

impl RequestGuard for PathGuard {
    fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError> {
        if self.is_blocked(request.path()) {
            Err(ForbiddenReason::BlockedPath.into())
        } else {
            Ok(())
        }
    }
}

/// Compiles a glob the same way [`PathGuard::with_patterns`] does (for
/// validating configuration).
pub(crate) fn check_pattern(p: &str) -> Result<(), String> {
    let full = if p.contains('/') {
        p.to_owned()
    } else {
        format!("**/{p}")
    };
    Glob::new(&full).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let g = PathGuard::with_patterns(["*.bak", "/server-status"]).unwrap();
        let blocked = [
            "/.env",
            "/.git/config",
            "/static/.htaccess",
            "/%2eenv",
            "/%2Eenv",
            "/static/..%2f.env",
            "/static/%2e%2e/.git/HEAD",
            "/static/%252e%252e/.env",
            "//.env",
            "/static//..//.env",
            "/.ENV",
            "/static\\..\\.env",
            "/a/b/../../.git",
            "/db.BAK",
            "/Server-Status",
            "/x/%2e/%2e%2e/.ssh/id_rsa",
        ];
        for p in blocked {
            assert!(g.is_blocked(p), "{p} should be blocked");
        }
        let allowed = [
            "/",
            "/health",
            "/static/app.js",
            "/.well-known/openid-configuration",
            "/static/%2E%2E/%2Ewell-known/x",
            "/orgs/acme/documents/welcome",
            "/static/a.b.c",
            "/static/file..txt",
        ];
        for p in allowed {
            assert!(!g.is_blocked(p), "{p} should pass");
        }
    }

    #[test]
    fn dot_segments_are_removed() {
        assert_eq!(normalize_path("/a/b/c/./../../g"), "/a/g");
        assert_eq!(normalize_path("/../../.."), "/");
        assert_eq!(normalize_path("mid/content=5/../6"), "/mid/6");
    }
}
