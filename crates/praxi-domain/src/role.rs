//! Staff roles. Roles are the only source of permissions (spec README, rule 3).

use serde::{Deserialize, Serialize};

/// A role that the API knows. Other role names stored in `core_role` (nurse, reception, …)
/// carry no API permission and map to `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Assistant,
    Doctor,
    Billing,
}

impl Role {
    /// All API roles, in a stable order.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Assistant, Role::Doctor, Role::Billing];

    /// The machine name stored in `core_role.name`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assistant => "assistant",
            Role::Doctor => "doctor",
            Role::Billing => "billing",
        }
    }

    /// The German label used when Praxi creates the role row.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Assistant => "Assistent",
            Role::Doctor => "Arzt",
            Role::Billing => "Abrechnung",
        }
    }

    /// Parses a stored role name; unknown names are not API roles.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_and_unknown_names_are_not_roles() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
        assert_eq!(Role::from_name("nurse"), None);
        assert_eq!(Role::from_name("Admin"), None);
    }
}
