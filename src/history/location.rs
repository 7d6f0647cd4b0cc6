//! `Location`: where the history store is, from `--history [URL]`, `GAUNTLET_HISTORY` or the
//! default `.gauntlet/history.db`.

use std::path::PathBuf;

/// The default SQLite file, relative to the working directory (git-ignored with `.gauntlet/`).
pub const DEFAULT_SQLITE: &str = ".gauntlet/history.db";

/// The environment variable that names the store when `--history` has no value.
pub const ENV: &str = "GAUNTLET_HISTORY";

/// A resolved store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created with its folder when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL, `postgres://user@host:port/db`.
    Postgres(String),
}

/// Why a history URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("history `{0}` has an unknown scheme (hint: postgres://user@host/db, sqlite://FILE or a file path)")]
    UnknownScheme(String),
    #[error("history URL is empty")]
    Empty,
}

impl Location {
    /// `flag`: the value of `--history` (`Some("")` when given without one); `env`: the value
    /// of `GAUNTLET_HISTORY`. The flag wins, then the variable, then the default file.
    pub fn resolve(flag: Option<&str>, env: Option<&str>) -> Result<Location, LocationError> {
        let chosen = flag
            .filter(|f| !f.is_empty())
            .or(env.filter(|e| !e.trim().is_empty()));
        match chosen {
            None => Ok(Location::Sqlite(PathBuf::from(DEFAULT_SQLITE))),
            Some(url) => Location::parse(url),
        }
    }

    /// A URL (`postgres://`, `postgresql://`, `sqlite://`, `sqlite:`) or a plain file path.
    pub fn parse(url: &str) -> Result<Location, LocationError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(LocationError::Empty);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(LocationError::Empty);
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        // `C:\…` aside, anything with a scheme we do not know is a typo, not a file name.
        match url.split_once("://") {
            Some(_) => Err(LocationError::UnknownScheme(url.to_string())),
            None => Ok(Location::Sqlite(PathBuf::from(url))),
        }
    }

    /// For messages: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => without_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: URLs end up in messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_env_then_default() {
        let pg = "postgres://u@localhost/h";
        assert_eq!(
            Location::resolve(None, None),
            Ok(Location::Sqlite(DEFAULT_SQLITE.into()))
        );
        assert_eq!(
            Location::resolve(Some(""), Some(pg)),
            Ok(Location::Postgres(pg.into()))
        );
        assert_eq!(
            Location::resolve(Some("h.db"), Some(pg)),
            Ok(Location::Sqlite("h.db".into()))
        );
        assert_eq!(
            Location::resolve(Some("sqlite://x/h.db"), None),
            Ok(Location::Sqlite("x/h.db".into()))
        );
        assert_eq!(
            Location::resolve(Some("mysql://x"), None),
            Err(LocationError::UnknownScheme("mysql://x".into()))
        );
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        let l = Location::parse("postgresql://me:hunter2@db:5432/h").unwrap();
        assert_eq!(l.display(), "postgresql://me:***@db:5432/h");
    }
}
