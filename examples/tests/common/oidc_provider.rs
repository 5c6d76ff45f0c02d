//! The pinned `oidc-provider` of `interop/oidc-provider`, started on a
//! loopback port for one test and killed when dropped. Shared by the
//! interop tests (`#[path = "common/oidc_provider.rs"] mod oidc_provider;`).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running provider.
pub struct Provider {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub issuer: String,
}

impl Provider {
    /// Kills it (as dropping does), for tests of an unreachable provider.
    #[allow(dead_code)] // not every interop test stops its provider
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `provider.mjs` on `port` with the extra arguments (its signing
/// key's `kid`), once it says `ready`.
pub fn start(port: u16, args: &[&str]) -> Provider {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "oidc-provider is not installed: run `cargo xtask test` (it runs `npm ci` in interop/oidc-provider)"
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .args(args)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed for the interop tests");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the provider's first line");
    assert!(line.starts_with("ready "), "provider said: {line}");
    // Keep reading: oidc-provider prints hints on a feature's first use
    // (introspection's allowedPolicy), and a closed pipe would kill it
    // with EPIPE.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Provider {
        child,
        issuer: format!("http://127.0.0.1:{port}"),
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
