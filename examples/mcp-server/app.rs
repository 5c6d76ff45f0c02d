//! The MCP server of `cargo run --example mcp-server`: two tools over
//! rmcp's Streamable HTTP transport, behind bouncer's MCP resource-server
//! profile. Shared with `tests/mcp_server.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bouncer_authn::jwt::JwksConfig;
use bouncer_mcp::{McpError, McpResourceServer};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

/// The scope `echo` needs.
pub const ECHO_SCOPE: &str = "mcp:tools:echo";
/// The scope `reset` needs.
pub const RESET_SCOPE: &str = "mcp:tools:reset";

/// The tools: `echo` returns its `text`; `reset` zeroes the echo counter.
#[derive(Clone, Default)]
pub struct Tools {
    echoes: Arc<AtomicU64>,
}

fn schema(properties: serde_json::Value) -> Arc<JsonObject> {
    let schema = serde_json::json!({"type": "object", "properties": properties});
    Arc::new(match schema {
        serde_json::Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            Tool::new(
                "echo",
                "Returns its text (scope mcp:tools:echo)",
                schema(serde_json::json!({"text": {"type": "string"}})),
            ),
            Tool::new(
                "reset",
                "Zeroes the echo counter (scope mcp:tools:reset)",
                schema(serde_json::json!({})),
            ),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // bouncer has checked the scopes before this runs.
        let text = match request.name.as_ref() {
            "echo" => {
                self.echoes.fetch_add(1, Ordering::Relaxed);
                request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("text"))
                    .and_then(|t| t.as_str())
                    .unwrap_or_default()
                    .to_owned()
            }
            "reset" => {
                let n = self.echoes.swap(0, Ordering::Relaxed);
                format!("reset after {n} echoes")
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool `{other}`"),
                    None,
                ))
            }
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// The settings (`BOUNCER_ADDR`, `BOUNCER_MCP_ISSUER`,
/// `BOUNCER_MCP_RESOURCE`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The canonical resource URL tokens must name in `aud`.
    pub resource: String,
    /// The trusted authorization server.
    pub issuer: String,
    /// Hosts the MCP transport accepts in `Host` (DNS-rebinding defence).
    pub allowed_hosts: Vec<String>,
}

/// The profile: the two tools' scopes, loopback `http` issuers allowed
/// (this is a local demo), and refetches at most once a second so a key
/// rotated at the authorization server is picked up at once.
pub fn profile(settings: &Settings) -> Result<McpResourceServer, McpError> {
    McpResourceServer::builder(settings.resource.clone(), settings.issuer.clone())
        .allow_loopback_http_issuer()
        .jwks_config(
            JwksConfig::default()
                .with_unknown_kid_interval(Duration::from_secs(1))
                .with_retry_after(Duration::from_secs(2))
                .with_timeout(Duration::from_secs(3)),
        )
        .tool("echo", [ECHO_SCOPE])
        .tool("reset", [RESET_SCOPE])
        .build()
}

/// The router: rmcp's service at the resource's path behind the profile's
/// layer, and the RFC 9728 document at its path-aware URL.
pub fn router(mcp: &McpResourceServer, settings: &Settings) -> Router {
    let config =
        StreamableHttpServerConfig::default().with_allowed_hosts(settings.allowed_hosts.clone());
    let service: StreamableHttpService<Tools, LocalSessionManager> =
        StreamableHttpService::new(|| Ok(Tools::default()), Default::default(), config);
    mcp.router(service)
}
