//! More application users for a real environment: Dataverse's service-protection limits are
//! per user, so Microsoft's advice for high throughput is several app users. The config file's
//! `more-app-users` lists them besides `client-id`, each with the environment variable that
//! holds its own secret (never the secret itself, so it stays out of files and history).

use anyhow::bail;
use des_core::Secret;
use serde::Deserialize;

use crate::config::CLIENT_SECRET_ENV;

/// One entry of `more-app-users` in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AppUserEntry {
    pub client_id: String,
    /// The environment variable holding this app's client secret.
    pub secret_env: String,
}

/// An app user ready to sign in.
#[derive(Debug, Clone)]
pub struct AppUser {
    pub client_id: String,
    pub secret: Secret,
}

/// Checks `more` against the first user (`first`, whose secret is in `DES_CLIENT_SECRET`) and
/// reads each secret through `var`. Errors name the entry and the problem, never a value.
pub fn resolve(
    first: &str,
    more: &[AppUserEntry],
    var: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<AppUser>> {
    let mut ids = vec![first.trim().to_lowercase()];
    let mut vars = vec![CLIENT_SECRET_ENV.to_owned()];
    let mut users = Vec::with_capacity(more.len());
    for (n, entry) in more.iter().enumerate() {
        let at = format!("more-app-users[{n}]");
        let id = entry.client_id.trim();
        if id.is_empty() {
            bail!("{at}: client-id is empty");
        }
        if ids.contains(&id.to_lowercase()) {
            bail!("{at}: client id {id} is listed twice; each app user has its own client id");
        }
        let name = entry.secret_env.trim();
        if !is_variable_name(name) {
            bail!("{at} (client id {id}): secret-env must name an environment variable");
        }
        if vars.iter().any(|v| v == name) {
            bail!("{at} (client id {id}): secret-env {name} is another app user's secret");
        }
        let Some(secret) = var(name).filter(|s| !s.trim().is_empty()) else {
            bail!("{at} (client id {id}): the secret variable {name} is not set");
        };
        ids.push(id.to_lowercase());
        vars.push(name.to_owned());
        users.push(AppUser {
            client_id: id.to_owned(),
            secret: Secret::new(secret),
        });
    }
    Ok(users)
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(client_id: &str, secret_env: &str) -> AppUserEntry {
        AppUserEntry {
            client_id: client_id.into(),
            secret_env: secret_env.into(),
        }
    }

    fn env(name: &str) -> Option<String> {
        (name == "SECOND_SECRET").then(|| "s3cr3t-value".to_owned())
    }

    fn error(more: &[AppUserEntry]) -> String {
        let err = resolve("first-app", more, env).expect_err("refused");
        let text = format!("{err:#}");
        assert!(!text.contains("s3cr3t-value"), "no secret in: {text}");
        text
    }

    #[test]
    fn none_more_is_the_single_user_form() {
        assert!(resolve("first-app", &[], env).expect("fine").is_empty());
    }

    #[test]
    fn each_more_user_reads_its_own_secret() {
        let users = resolve("first-app", &[entry("second-app", "SECOND_SECRET")], env).unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].client_id, "second-app");
        assert_eq!(users[0].secret.expose(), "s3cr3t-value");
    }

    #[test]
    fn bad_entries_are_named_without_their_secrets() {
        let cases = [
            (vec![entry(" ", "SECOND_SECRET")], "client-id is empty"),
            (vec![entry("FIRST-APP", "SECOND_SECRET")], "listed twice"),
            (
                vec![entry("b", "SECOND_SECRET"), entry("b", "X")],
                "listed twice",
            ),
            (
                vec![entry("b", "NOT SET")],
                "must name an environment variable",
            ),
            (
                vec![entry("b", CLIENT_SECRET_ENV)],
                "another app user's secret",
            ),
            (vec![entry("b", "MISSING")], "MISSING is not set"),
        ];
        for (more, expected) in cases {
            let text = error(&more);
            assert!(text.contains(expected), "{expected:?} in {text}");
            assert!(text.contains("more-app-users["), "names the entry: {text}");
        }
    }
}
