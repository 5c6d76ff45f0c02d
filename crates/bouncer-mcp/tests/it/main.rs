//! The MCP profile over real HTTP against a loopback authorization server.
