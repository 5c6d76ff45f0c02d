//! An HTTP response as `curl -si` (or `curl -i`, or a raw HTTP/1.1
//! capture) prints it: status line, header fields, blank line, body. When
//! several responses are printed (`100 Continue`, redirects followed with
//! `-L`), the last is the one explained.

use http::{HeaderMap, HeaderName, HeaderValue};

/// A response read back.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Splits `raw` at the first blank line (CRLF or LF).
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < raw.len() {
        if raw.get(i..i + 4) == Some(b"\r\n\r\n") {
            return (
                raw.get(..i).unwrap_or_default(),
                raw.get(i + 4..).unwrap_or_default(),
            );
        }
        if raw.get(i..i + 2) == Some(b"\n\n") {
            return (
                raw.get(..i).unwrap_or_default(),
                raw.get(i + 2..).unwrap_or_default(),
            );
        }
        i += 1;
    }
    (raw, &[])
}

fn status_of(line: &str) -> Result<u16, String> {
    let mut words = line.split_whitespace();
    let version = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(format!(
            "the first line {line:?} is not a status line (HTTP/1.1 401 ...)"
        ));
    }
    words
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| format!("no status code in {line:?}"))
}

/// Reads the last response in `raw`.
pub(crate) fn parse(raw: &[u8]) -> Result<Response, String> {
    let mut rest = raw;
    // Leading blank lines (a pasted capture).
    while let Some(r) = rest
        .strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
    {
        rest = r;
    }
    loop {
        let (head, body) = split_head(rest);
        let text = String::from_utf8_lossy(head);
        let mut lines = text.lines();
        let status = status_of(lines.next().unwrap_or_default().trim())?;
        let mut headers = HeaderMap::new();
        for line in lines {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!("{line:?} is not a header field (Name: value)"));
            };
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("{name:?} is not a field name"))?;
            let value = HeaderValue::from_bytes(value.trim().as_bytes())
                .map_err(|_| format!("the value of {name} cannot be a field value"))?;
            headers.append(name, value);
        }
        // curl prints interim and redirected responses first.
        let next_is_response = body.starts_with(b"HTTP/");
        if next_is_response && (status < 200 || (300..400).contains(&status)) {
            rest = body;
            continue;
        }
        return Ok(Response {
            status,
            headers,
            body: body.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_curl_output_with_crlf_or_lf_and_skips_interim_responses() {
        let r = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer realm=\"x\"\r\n\r\n{\"code\":\"missing_credentials\"}").unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"x\"");
        assert_eq!(r.body, b"{\"code\":\"missing_credentials\"}");
        let r = parse(b"HTTP/2 403\ncontent-type: application/problem+json\n\n{}").unwrap();
        assert_eq!(r.status, 403);
        assert!(parse(b"hello").is_err());
        assert!(parse(b"").is_err());
    }
}
