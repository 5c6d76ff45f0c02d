//! RFC 9457 problem details, with the `code` extension member.
//!
//! `type` is `about:blank` by default, so `title` is the status phrase
//! (RFC 9457 §4.2.1); the reason code in `code` is what clients branch on.
//! Set a type URI base with [`Problem::with_type`] to publish your own
//! problem pages.

use std::borrow::Cow;

use http::StatusCode;

use crate::reason::Code;

/// The media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Problem {
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    type_uri: Cow<'static, str>,
    title: Cow<'static, str>,
    status: u16,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    detail: Option<Cow<'static, str>>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    instance: Option<String>,
    code: Code,
}

impl Problem {
    /// A problem for `status` with reason code `code`.
    pub fn new(status: StatusCode, code: Code) -> Self {
        Self {
            type_uri: Cow::Borrowed("about:blank"),
            title: Cow::Borrowed(status.canonical_reason().unwrap_or("Error")),
            status: status.as_u16(),
            detail: None,
            instance: None,
            code,
        }
    }

    /// Sets or clears `detail`.
    pub fn with_detail(mut self, detail: Option<Cow<'static, str>>) -> Self {
        self.detail = detail;
        self
    }

    /// Sets `type` (and a matching `title`).
    pub fn with_type(
        mut self,
        type_uri: impl Into<Cow<'static, str>>,
        title: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.type_uri = type_uri.into();
        self.title = title.into();
        self
    }

    /// Sets `instance` (a URI reference for this occurrence).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// `type`.
    pub fn type_uri(&self) -> &str {
        &self.type_uri
    }

    /// `title`.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// `status`.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `detail`.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// `instance`.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// The reason code extension member.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The body as `application/problem+json` bytes.
    #[cfg(feature = "json")]
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing a struct of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"status":500}"#.to_vec())
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn serializes_rfc9457_members() {
        let p = Problem::new(
            StatusCode::UNAUTHORIZED,
            Code::Authn(crate::AuthnReason::MissingCredentials),
        )
        .with_detail(Some("authentication is required".into()));
        let v: serde_json::Value = serde_json::from_slice(&p.to_json()).unwrap();
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["title"], "Unauthorized");
        assert_eq!(v["status"], 401);
        assert_eq!(v["code"], "missing_credentials");
        assert_eq!(v["detail"], "authentication is required");
        assert!(v.get("instance").is_none());
    }
}
