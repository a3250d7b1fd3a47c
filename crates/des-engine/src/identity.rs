//! The target's identity token: a random token placed in the target's state
//! (`Sink::identify`) and kept in the control store, per profile. The start-up check
//! compares the two: a target without the token, or with another one, is not the database
//! the engine wrote (a new or emptied file, another database behind the same connection
//! string, a restore from before the profile first ran, another data folder's copy), so
//! nothing the control store believes about it can be trusted and the profile resyncs.

use des_core::ports::Sink;
use uuid::Uuid;

use crate::error::EngineError;
use crate::ports::EnginePorts;

/// Why the target is not the one the control store knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// The control store has a token the target lacks.
    Missing,
    /// The target holds another token for the profile.
    Different,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => {
                "the target lacks the identity token written when the profile first ran (a new, emptied or replaced database, or one restored from before)"
            }
            Self::Different => {
                "the target holds another identity token for the profile (another database, or a copy written by another data folder)"
            }
        })
    }
}

/// Compares the token of the control store with the target's, placing one in both when the
/// control store has none. `None`: the target is the one the engine wrote (or the profile's
/// first target).
pub async fn confirm(
    ports: &EnginePorts,
    sink: &dyn Sink,
    profile_id: Uuid,
) -> Result<Option<Lost>, EngineError> {
    let known = ports.control.target_token(profile_id).await?;
    let token = known
        .clone()
        .unwrap_or_else(|| Uuid::new_v4().simple().to_string());
    // The target first: a token in the control store was always placed in the target.
    let held = sink.identify(profile_id, &token).await?;
    if known.is_none() {
        ports.control.put_target_token(profile_id, &token).await?;
    }
    Ok(match (known, held) {
        (_, Some(held)) if held == token => None,
        (None, None) => None,
        (Some(_), None) => Some(Lost::Missing),
        (_, Some(_)) => Some(Lost::Different),
    })
}

/// At activation: places the token when the control store has none yet, so a target
/// replaced before the first start is noticed too. A target that cannot be reached now is
/// only logged: the start-up check places the token then.
pub(crate) async fn place_at_activation(ports: &EnginePorts, profile: &des_core::profile::Profile) {
    let placed = async {
        if ports.control.target_token(profile.id).await?.is_some() {
            return Ok(None);
        }
        let sink = ports.sinks.sink(profile).await?;
        confirm(ports, sink.as_ref(), profile.id).await
    };
    match placed.await {
        Ok(_) => {}
        Err(error) => tracing::warn!(
            profile = %profile.id,
            %error,
            "Cannot place the target identity token at activation; the start-up check will."
        ),
    }
}
