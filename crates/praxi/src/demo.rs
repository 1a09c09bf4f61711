//! The demo practice: a realistic small practice, created through the same store calls and
//! domain rules as the API, so the demo data is valid. Idempotent: running it again adds
//! nothing that is already there.

use std::fmt::Write as _;

use chrono::NaiveDate;
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::patient::{PatientChanges, PatientId};
use praxi_store::Store;
use praxi_store::audit::AuditEntry;
use praxi_store::users::NewUser;

const DOCTORS: [(&str, &str, &str, &str); 5] = [
    ("dr.mueller", "Anna", "Müller", "#1E90FF"),
    ("dr.schmidt", "Thomas", "Schmidt", "#32CD32"),
    ("dr.meier", "Julia", "Meier", "#FF8C00"),
    ("dr.lehmann", "David", "Lehmann", "#8A2BE2"),
    ("dr.klein", "Sarah", "Klein", "#C71585"),
];

const STAFF: [(&str, &str, &str, Role); 2] = [
    ("mfa.walter", "Lisa", "Walter", Role::Assistant),
    ("abrechnung", "Klara", "Vogel", Role::Billing),
];

const MALE: [&str; 6] = ["Ali", "Omar", "Karim", "Hassan", "Yusuf", "Mahmoud"];
const FEMALE: [&str; 6] = ["Sara", "Layla", "Mariam", "Amina", "Noura", "Fatima"];
const LAST: [&str; 8] = [
    "Ahmad", "Salim", "Jabari", "Haddad", "Khalil", "Rahman", "Hamidi", "Faruq",
];

fn system_audit(action: &str, patient_id: i32) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "praxi seed-demo".to_owned(),
        role_name: String::new(),
        action: action.to_owned(),
        patient_id: Some(patient_id),
        meta: Some(serde_json::json!({"source": "seed-demo"})),
        request_id: None,
    }
}

/// Seeds what is missing and reports what it created (with one-time passwords).
pub(crate) async fn seed(store: &Store, tz: Tz) -> anyhow::Result<String> {
    let mut report = String::new();
    let now = chrono::Utc::now();
    let today = now.with_timezone(&tz).date_naive();

    let mut created_users = Vec::new();
    for (username, first, last, colour) in DOCTORS {
        if store.user_by_username(username).await?.is_none() {
            created_users.push((username, Role::Doctor, first, last, Some(colour)));
        }
    }
    for (username, first, last, role) in STAFF {
        if store.user_by_username(username).await?.is_none() {
            created_users.push((username, role, first, last, None));
        }
    }
    for (username, role, first, last, colour) in created_users {
        let password = crate::random_token(16);
        let hash = praxi_server::auth::hash_password_blocking(&password)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        store
            .create_user(
                NewUser {
                    username: username.to_owned(),
                    password_hash: hash,
                    role: Some(role),
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
                    email: Some(format!("{username}@praxi.example")),
                    calendar_color: colour.map(str::to_owned),
                    is_staff: true,
                    is_superuser: false,
                },
                now,
            )
            .await?;
        writeln!(
            report,
            "  demo user {username:<12} role {role:<9} password {password}"
        )?;
    }

    if store.count_patients().await? == 0 {
        for idx in 0..20_i32 {
            let first = if idx % 2 == 0 {
                MALE[(idx as usize / 2) % MALE.len()]
            } else {
                FEMALE[(idx as usize / 2) % FEMALE.len()]
            };
            let last = LAST[(idx as usize * 3) % LAST.len()];
            let year = 1940 + (idx * 7) % 70;
            let birth_date =
                NaiveDate::from_ymd_opt(year, (idx % 12 + 1) as u32, (idx % 28 + 1) as u32);
            let changes = PatientChanges {
                first_name: Some(first.to_owned()),
                last_name: Some(last.to_owned()),
                birth_date: Some(birth_date),
                gender: Some(Some(
                    if idx % 2 == 0 { "male" } else { "female" }.to_owned(),
                )),
                phone: Some(Some(format!("+49 170 {:07}", 1_234_567 + idx * 7919))),
                email: Some(Some(format!(
                    "{}.{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ))),
            };
            let fields = changes.apply(Default::default(), today)?;
            let id = PatientId::new(i64::from(idx) + 1)?;
            store
                .create_patient(Some(id), fields, now, |id| {
                    system_audit("patient_created", id)
                })
                .await?;
        }
        writeln!(report, "  demo patients: 20")?;
    }
    if report.is_empty() {
        report.push_str("  demo practice already present: nothing to add\n");
    } else {
        report.insert_str(0, "Seeded the demo practice:\n");
    }
    Ok(report)
}
