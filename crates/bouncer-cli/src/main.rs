//! `bouncer`: the command-line program of the bouncer workspace.
//!
//! `bouncer serve --config FILE` runs the decision service: reverse
//! proxies (nginx `auth_request`, Traefik `ForwardAuth`, Caddy
//! `forward_auth`, Envoy `ext_authz` over HTTP and gRPC) ask it about each
//! request and get the library's own answer — allow with the caller's
//! identity, or the 401/403/404/500/503 that bouncer's HTTP adapter would
//! send, byte for byte. See `examples/forward-auth/` for a configuration
//! of each proxy.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod explain;
mod policy;
mod proof;
mod serve;
mod token;

/// bouncer: allow, 401 or 403 — and never the wrong one.
#[derive(Debug, Parser)]
#[command(name = "bouncer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the decision service for reverse proxies (forward auth, Envoy
    /// ext_authz over HTTP and gRPC).
    Serve {
        /// The service's TOML configuration file.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
    /// Explain an HTTP response (`curl -si` output, from FILE or stdin):
    /// meaning, fix, RFCs, problems; or run the gate offline on --request.
    Explain(explain::ExplainArgs),
    /// JWT tools.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Policy-file tools.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Decode a token (untrusted), its times, and with --jwks verify it.
    Inspect(token::InspectArgs),
    /// Make a DPoP proof (RFC 9449) for one request, with the demo key or
    /// --key.
    Proof(proof::ProofArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => serve::main(&config),
        Command::Explain(args) => explain::main(&args),
        Command::Token(TokenCommand::Inspect(args)) => token::inspect(&args),
        Command::Token(TokenCommand::Proof(args)) => proof::main(&args),
        Command::Policy(cmd) => policy::main(&cmd),
    }
}
