//! actix-web 4 speaks `http` 0.2; bouncer's vocabulary is `http` 1. These
//! functions copy a request's method, URI, version and header fields into
//! `http` 1 types, field line by field line, so the stages see exactly what
//! the client sent: repeated fields (two `Authorization` lines, two
//! `CF-IPCountry` values) stay repeated and in order.
//!
//! The copy cannot lose anything (both versions accept the same bytes), but
//! if it ever failed the request would be a 500 fault, never a request
//! with a field missing.

use actix_web::http::header::HeaderMap as ActixHeaders;
use actix_web::http::Version as ActixVersion;
use actix_web::HttpRequest;
use bouncer_core::Fault;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};

/// The request's method, URI, version and header fields as
/// `http::request::Parts` (`http` 1), for
/// [`RequestContext::from_parts`](bouncer_core::RequestContext::from_parts)
/// and for the bouncer APIs that read headers (sessions, the client-address
/// resolver). Extensions are left empty.
pub fn request_parts(req: &HttpRequest) -> Result<http::request::Parts, Fault> {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = method(req.method())?;
    parts.uri = uri(req.uri())?;
    parts.version = version(req.version());
    parts.headers = headers(req.headers())?;
    Ok(parts)
}

/// The header fields as an `http` 1 [`HeaderMap`], every field line kept.
pub fn headers(headers: &ActixHeaders) -> Result<HeaderMap, Fault> {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let name = HeaderName::from_bytes(name.as_str().as_bytes())
            .map_err(|e| Fault::internal("header name from actix-web", e))?;
        let value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|e| Fault::internal("header value from actix-web", e))?;
        out.append(name, value);
    }
    Ok(out)
}

fn method(m: &actix_web::http::Method) -> Result<Method, Fault> {
    Method::from_bytes(m.as_str().as_bytes())
        .map_err(|e| Fault::internal("method from actix-web", e))
}

fn uri(u: &actix_web::http::Uri) -> Result<Uri, Fault> {
    // Origin-form requests (nearly all) have a path and query only.
    let text = match (u.scheme(), u.path_and_query()) {
        (None, Some(pq)) if u.authority().is_none() => pq.as_str().to_owned(),
        _ => u.to_string(),
    };
    Uri::try_from(text).map_err(|e| Fault::internal("request target from actix-web", e))
}

fn version(v: ActixVersion) -> Version {
    match v {
        ActixVersion::HTTP_09 => Version::HTTP_09,
        ActixVersion::HTTP_10 => Version::HTTP_10,
        ActixVersion::HTTP_2 => Version::HTTP_2,
        ActixVersion::HTTP_3 => Version::HTTP_3,
        _ => Version::HTTP_11,
    }
}

/// core's rendered denial as an actix-web response: the same status, the
/// same field lines in the same order, the same body bytes.
pub(crate) fn response(
    status: http::StatusCode,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<actix_web::HttpResponse, Fault> {
    use actix_web::http::header::{HeaderName as AName, HeaderValue as AValue};
    let status = actix_web::http::StatusCode::from_u16(status.as_u16())
        .map_err(|e| Fault::internal("status to actix-web", e))?;
    let mut res = actix_web::HttpResponse::with_body(status, body);
    let out = res.headers_mut();
    for (name, value) in headers {
        let name = AName::from_bytes(name.as_str().as_bytes())
            .map_err(|e| Fault::internal("header name to actix-web", e))?;
        let value = AValue::from_bytes(value.as_bytes())
            .map_err(|e| Fault::internal("header value to actix-web", e))?;
        out.append(name, value);
    }
    Ok(res.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn repeated_fields_stay_repeated_and_in_order() {
        let req = TestRequest::get()
            .uri("/orgs/acme/documents?x=%2F1")
            .append_header(("authorization", "Bearer a"))
            .append_header(("authorization", "Basic b"))
            .append_header(("cf-ipcountry", "DE"))
            .to_http_request();
        let parts = request_parts(&req).unwrap();
        assert_eq!(parts.method, Method::GET);
        assert_eq!(parts.uri.path(), "/orgs/acme/documents");
        assert_eq!(parts.uri.query(), Some("x=%2F1"));
        let auth: Vec<_> = parts.headers.get_all("authorization").iter().collect();
        assert_eq!(auth, ["Bearer a", "Basic b"]);
        assert_eq!(parts.headers["cf-ipcountry"], "DE");
    }

    #[test]
    fn raw_paths_are_not_decoded() {
        // The blocked-path guard decodes and normalises itself.
        let req = TestRequest::get()
            .uri("/static/%2e%2e/.env")
            .to_http_request();
        assert_eq!(
            request_parts(&req).unwrap().uri.path(),
            "/static/%2e%2e/.env"
        );
    }

    #[test]
    fn obs_text_values_survive() {
        let req = TestRequest::get()
            .insert_header((
                "x-name",
                actix_web::http::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
            ))
            .to_http_request();
        assert_eq!(
            request_parts(&req).unwrap().headers["x-name"].as_bytes(),
            b"caf\xe9"
        );
    }

    #[test]
    fn responses_keep_every_field_line() {
        let mut h = HeaderMap::new();
        h.append(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"a\""),
        );
        h.append(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=\"a\""),
        );
        let res = response(http::StatusCode::UNAUTHORIZED, &h, b"{}".to_vec()).unwrap();
        assert_eq!(res.status().as_u16(), 401);
        let got: Vec<_> = res.headers().get_all("www-authenticate").collect();
        assert_eq!(got, ["Basic realm=\"a\"", "Bearer realm=\"a\""]);
    }
}
