//! Settings: command-line flags, then `HIWAR_*` environment variables, then the
//! optional TOML file (`--config`), then built-in defaults.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

use hiwar_server::Config as ServerConfig;

/// The optional TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub secure_cookies: Option<bool>,
    pub logins_per_minute: Option<u32>,
    pub trusted_proxy: Option<std::net::IpAddr>,
    pub public_url: Option<String>,
    pub request_timeout: Option<u64>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
        let file: FileConfig = toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
        if let Some(seconds) = file.request_timeout.filter(|s| !(1..=3600).contains(s)) {
            anyhow::bail!("config file {}: request_timeout is {seconds}; it must be 1 to 3600 seconds", path.display());
        }
        Ok(file)
    }
}

/// Where the data lives.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database [default: ./hiwar-data].
    #[arg(long, env = "HIWAR_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use PostgreSQL instead, e.g. postgres://user@host/db (several servers may share it).
    #[arg(long, env = "HIWAR_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

/// How the server listens and behaves.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080]; port 0 picks a free one.
    #[arg(long, env = "HIWAR_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Mark cookies Secure: set this when users reach hiwar over https.
    #[arg(long, env = "HIWAR_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Login attempts allowed per client address per minute [default: 10].
    #[arg(long, env = "HIWAR_LOGINS_PER_MINUTE", value_name = "N")]
    pub logins_per_minute: Option<u32>,
    /// The address of the TLS proxy in front of hiwar: for its connections, the client
    /// address (for login limits only; never logged) is read from X-Forwarded-For.
    #[arg(long, env = "HIWAR_TRUSTED_PROXY", value_name = "IP")]
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// The address users reach hiwar at, e.g. https://hiwar.example, for the absolute
    /// addresses shown on pages (never taken from the request's Host header).
    #[arg(long, env = "HIWAR_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds a client may take to send a request's head, or each next piece of its
    /// body, before it is cut off [default: 30].
    #[arg(long, env = "HIWAR_REQUEST_TIMEOUT", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: Option<u64>,
}

impl ServerArgs {
    pub fn config(&self, file: &FileConfig) -> ServerConfig {
        let defaults = ServerConfig::default();
        ServerConfig {
            secure_cookies: self.secure_cookies || file.secure_cookies.unwrap_or(false),
            logins_per_minute: self.logins_per_minute.or(file.logins_per_minute).unwrap_or(defaults.logins_per_minute),
            trusted_proxy: self.trusted_proxy.or(file.trusted_proxy),
            public_url: self
                .public_url
                .clone()
                .or_else(|| file.public_url.clone())
                .map(|u| u.trim_end_matches('/').to_string()),
            request_timeout: self
                .request_timeout
                .or(file.request_timeout)
                .map_or(defaults.request_timeout, std::time::Duration::from_secs),
            ..defaults
        }
    }
}
