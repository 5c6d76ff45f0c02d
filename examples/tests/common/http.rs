//! The HTTP client the interop tests call their servers with.

use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub type HttpClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

/// A plain-HTTP client.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends `req`: the status, the header fields and the body as JSON
/// (`Null` when it is not JSON).
pub async fn call(
    client: &HttpClient,
    req: Request<Full<bytes::Bytes>>,
) -> (u16, http::HeaderMap, Value) {
    let res = client.request(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}
