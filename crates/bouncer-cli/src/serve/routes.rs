//! The route table: method and path pattern → what the route needs.
//!
//! Patterns are `/`-separated segments: literals, `{name}` (one segment)
//! and, last only, `{*name}` (the rest of the path, one segment or more).
//! A request path is split on `/` and each segment percent-decoded before
//! it is compared, so `%2F` stays inside its segment. A path with a `.` or
//! `..` segment (after decoding) matches no route: what the backend would
//! make of it is not for the service to guess, so it is 404 like every
//! unknown route. The first route in file order whose method and path
//! match decides; a `GET` route also answers `HEAD`.

use std::borrow::Cow;

use bouncer_core::route::RouteRequirement;
use http::Method;
use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Rest(String),
}

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    segments: Vec<Segment>,
    /// As written, for the decision log's route.
    text: String,
}

fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Pattern {
    /// Parses `/a/{b}/c` (see the module docs).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let Some(rest) = text.strip_prefix('/') else {
            return Err("a path pattern starts with `/`".into());
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) => {
                    let (name, rest) = match inner.strip_prefix('*') {
                        Some(name) => (name, true),
                        None => (inner, false),
                    };
                    if !is_param_name(name) {
                        return Err(format!(
                            "`{{{inner}}}`: a parameter name is letters, digits, `_` or `-`"
                        ));
                    }
                    if rest && !last {
                        return Err(format!("`{{{inner}}}` must be the last segment"));
                    }
                    if rest {
                        Segment::Rest(name.to_owned())
                    } else {
                        Segment::Param(name.to_owned())
                    }
                }
                None if part.contains(['{', '}']) => {
                    return Err(format!(
                        "`{part}`: a parameter is a whole segment, `{{name}}`"
                    ))
                }
                None if *part == "." || *part == ".." => {
                    return Err("a pattern has no `.` or `..` segments".into())
                }
                None if part.contains(['?', '#', '%']) => {
                    return Err(format!(
                        "`{part}`: write the segment decoded, without `?`, `#` or `%`"
                    ))
                }
                None => Segment::Literal((*part).to_owned()),
            };
            if let Segment::Param(name) | Segment::Rest(name) = &segment {
                if segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param(n) | Segment::Rest(n) if n == name))
                {
                    return Err(format!("the parameter `{{{name}}}` appears twice"));
                }
            }
            segments.push(segment);
        }
        Ok(Self {
            segments,
            text: text.to_owned(),
        })
    }

    /// Whether `{name}` (or `{*name}`) is a parameter of the pattern.
    pub(crate) fn has_param(&self, name: &str) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Param(n) | Segment::Rest(n) if n == name))
    }

    /// The parameters, if `path` (decoded segments) matches.
    fn matches(&self, path: &[Cow<'_, str>]) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut given = path.iter();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Rest(name) => {
                    let rest: Vec<&str> = path.iter().skip(i).map(AsRef::as_ref).collect();
                    if rest.is_empty() || rest.iter().all(|s| s.is_empty()) {
                        return None;
                    }
                    params.push((name.clone(), rest.join("/")));
                    return Some(params);
                }
                Segment::Literal(l) => {
                    if given.next()? != l {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = given.next()?;
                    if value.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), value.to_string()));
                }
            }
        }
        given.next().is_none().then_some(params)
    }
}

/// One route.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    methods: Option<Vec<Method>>,
    pattern: Pattern,
    requirement: RouteRequirement,
}

impl Route {
    /// A route for `methods` (`None`: all) and `pattern`.
    pub(crate) fn new(
        methods: Option<Vec<Method>>,
        pattern: Pattern,
        requirement: RouteRequirement,
    ) -> Self {
        Self {
            methods,
            pattern,
            requirement,
        }
    }

    /// The path pattern as written (`/orgs/{org}/documents`).
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern.text
    }

    /// What the route needs.
    pub(crate) fn requirement(&self) -> &RouteRequirement {
        &self.requirement
    }

    fn accepts_method(&self, method: &Method) -> bool {
        match &self.methods {
            None => true,
            Some(list) => {
                list.contains(method) || (*method == Method::HEAD && list.contains(&Method::GET))
            }
        }
    }
}

/// A matched route and its path parameters.
#[derive(Debug)]
pub(crate) struct Matched<'r> {
    pub(crate) route: &'r Route,
    pub(crate) params: Vec<(String, String)>,
}

impl Matched<'_> {
    /// The parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The routes, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
}

/// The decoded segments of a raw path, or `None` when it cannot match any
/// route (not UTF-8 once decoded, or a dot segment).
fn decoded_segments(path: &str) -> Option<Vec<Cow<'_, str>>> {
    let rest = path.strip_prefix('/')?;
    let mut out = Vec::new();
    for raw in rest.split('/') {
        let segment = percent_decode_str(raw).decode_utf8().ok()?;
        if segment == "." || segment == ".." {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

impl RouteTable {
    /// A table of `routes`.
    pub(crate) fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    /// How many routes.
    pub(crate) fn len(&self) -> usize {
        self.routes.len()
    }

    /// The first route matching `method` and the raw `path` (no query).
    pub(crate) fn find(&self, method: &Method, path: &str) -> Option<Matched<'_>> {
        let segments = decoded_segments(path)?;
        self.routes.iter().find_map(|route| {
            if !route.accepts_method(method) {
                return None;
            }
            let params = route.pattern.matches(&segments)?;
            Some(Matched { route, params })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&[&str], &str)]) -> RouteTable {
        RouteTable::new(
            routes
                .iter()
                .map(|(methods, path)| {
                    let methods = (!methods.is_empty()).then(|| {
                        methods
                            .iter()
                            .map(|m| Method::from_bytes(m.as_bytes()).unwrap())
                            .collect()
                    });
                    Route::new(
                        methods,
                        Pattern::parse(path).unwrap(),
                        RouteRequirement::authenticated(),
                    )
                })
                .collect(),
        )
    }

    fn found(
        t: &RouteTable,
        method: Method,
        path: &str,
    ) -> Option<(String, Vec<(String, String)>)> {
        t.find(&method, path).map(|m| {
            let shown = format!("{:?}", m.route.pattern);
            (shown, m.params)
        })
    }

    #[test]
    fn patterns_parse_and_refuse_mistakes() {
        assert!(Pattern::parse("/orgs/{org}/documents/{id}").is_ok());
        assert!(Pattern::parse("/").is_ok());
        assert!(Pattern::parse("/static/{*file}").is_ok());
        for bad in [
            "orgs",
            "/a/{b",
            "/a/b}",
            "/a/x{b}",
            "/{*rest}/x",
            "/{}",
            "/{a b}",
            "/{a}/{a}",
            "/a/../b",
            "/a%20b",
            "/a?x",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameters_are_decoded_segments() {
        let t = table(&[(&["GET"], "/orgs/{org}/documents/{id}")]);
        let (_, params) = found(&t, Method::GET, "/orgs/acme/documents/road%20map").unwrap();
        assert_eq!(
            params,
            [
                ("org".into(), "acme".into()),
                ("id".into(), "road map".into())
            ]
        );
        // %2F stays inside its segment.
        let (_, params) = found(&t, Method::GET, "/orgs/acme/documents/a%2Fb").unwrap();
        assert_eq!(params[1].1, "a/b");
        // Literals compare decoded.
        assert!(found(&t, Method::GET, "/org%73/acme/documents/x").is_some());
        assert!(found(&t, Method::GET, "/orgs/acme/documents").is_none());
        assert!(found(&t, Method::GET, "/orgs/acme/documents/x/y").is_none());
        assert!(found(&t, Method::GET, "/orgs//documents/x").is_none());
        assert!(found(&t, Method::GET, "/Orgs/acme/documents/x").is_none());
    }

    #[test]
    fn methods_match_and_get_answers_head() {
        let t = table(&[(&["GET"], "/a"), (&["DELETE"], "/a"), (&[], "/any")]);
        assert!(found(&t, Method::GET, "/a").is_some());
        assert!(found(&t, Method::HEAD, "/a").is_some());
        assert!(found(&t, Method::DELETE, "/a").is_some());
        assert!(found(&t, Method::POST, "/a").is_none());
        assert!(found(&t, Method::PATCH, "/any").is_some());
    }

    #[test]
    fn the_first_matching_route_wins() {
        let t = table(&[(&[], "/orgs/{org}"), (&[], "/orgs/acme")]);
        let (shown, params) = found(&t, Method::GET, "/orgs/acme").unwrap();
        assert!(shown.contains("Param"), "{shown}");
        assert_eq!(params[0].1, "acme");
    }

    #[test]
    fn dot_segments_and_bad_encodings_match_nothing() {
        let t = table(&[(&[], "/orgs/{org}/documents"), (&[], "/{*rest}")]);
        for path in [
            "/orgs/globex/../acme/documents",
            "/orgs/./documents",
            "/orgs/%2e%2e/documents",
            "/orgs/%2E/documents",
            "/orgs/%ff/documents",
            "relative",
            "",
        ] {
            assert!(t.find(&Method::GET, path).is_none(), "{path}");
        }
    }

    #[test]
    fn a_rest_parameter_takes_one_segment_or_more() {
        let t = table(&[(&[], "/static/{*file}")]);
        let (_, params) = found(&t, Method::GET, "/static/css/site.css").unwrap();
        assert_eq!(params[0].1, "css/site.css");
        assert!(found(&t, Method::GET, "/static/").is_none());
        assert!(found(&t, Method::GET, "/static").is_none());
    }

    #[test]
    fn the_root_is_a_route_like_any_other() {
        let t = table(&[(&[], "/")]);
        assert!(found(&t, Method::GET, "/").is_some());
        assert!(found(&t, Method::GET, "/x").is_none());
    }
}
