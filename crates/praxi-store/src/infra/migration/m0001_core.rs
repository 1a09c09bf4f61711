//! Roles, users, the Django auth leftovers kept for imports, and the append-only audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::helpers::*;
use super::idens::{
    AuthGroup, AuthPermission, CoreAuditlog, CoreRole, CoreUser, CoreUserGroups,
    CoreUserUserPermissions,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// SQLite: abort every UPDATE and DELETE on the audit log.
const SQLITE_AUDIT_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog \
     BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END;",
    "CREATE TRIGGER core_auditlog_no_delete BEFORE DELETE ON core_auditlog \
     BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END;",
];

/// PostgreSQL: one function raising an exception, fired before UPDATE/DELETE of any row and
/// before TRUNCATE (which bypasses row triggers).
const PG_AUDIT_TRIGGERS: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION core_auditlog_append_only() RETURNS trigger \
     LANGUAGE plpgsql AS $$ \
     BEGIN \
       RAISE EXCEPTION 'core_auditlog is append-only' USING ERRCODE = 'restrict_violation'; \
     END; $$",
    "CREATE TRIGGER core_auditlog_no_update_delete BEFORE UPDATE OR DELETE ON core_auditlog \
     FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only()",
    "CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON core_auditlog \
     FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CoreRole::Table)
                    .col(pk_bigint(CoreRole::Id))
                    .col(varchar(CoreRole::Name, 64).unique_key())
                    .col(varchar(CoreRole::Label, 128))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CoreUser::Table)
                    .col(pk_bigint(CoreUser::Id))
                    .col(varchar(CoreUser::Password, 255))
                    .col(timestamptz_null(CoreUser::LastLogin))
                    .col(boolean(CoreUser::IsSuperuser, false))
                    .col(varchar(CoreUser::Username, 150).unique_key())
                    .col(varchar_default(CoreUser::FirstName, 150, ""))
                    .col(varchar_default(CoreUser::LastName, 150, ""))
                    .col(boolean(CoreUser::IsStaff, false))
                    .col(boolean(CoreUser::IsActive, true))
                    .col(timestamptz_now(CoreUser::DateJoined))
                    // NULL instead of '' for "no e-mail" (§15 item 8); case-insensitive
                    // uniqueness is the application's job.
                    .col(varchar_null(CoreUser::Email, 254).unique_key())
                    .col(bigint_null(CoreUser::RoleId))
                    .col(varchar_default(CoreUser::CalendarColor, 7, "#1E90FF"))
                    .col(integer(CoreUser::VacationDaysPerYear).default(30).take())
                    // Bumped to revoke every access token of the user at once.
                    .col(integer(CoreUser::TokenVersion).default(0).take())
                    .check(colour_check(
                        "core_user_calendar_color_check",
                        "calendar_color",
                    ))
                    .check(check(
                        "core_user_vacation_days_per_year_check",
                        Expr::col(CoreUser::VacationDaysPerYear).gte(0),
                    ))
                    .foreign_key(&mut fk(
                        "core_user_role_id_fkey",
                        CoreUser::Table,
                        CoreUser::RoleId,
                        CoreRole::Table,
                        CoreRole::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "core_user_role_id_idx",
                CoreUser::Table,
                [CoreUser::RoleId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthGroup::Table)
                    .col(pk_bigint(AuthGroup::Id))
                    .col(varchar(AuthGroup::Name, 150).unique_key())
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthPermission::Table)
                    .col(pk_bigint(AuthPermission::Id))
                    .col(varchar(AuthPermission::Name, 255))
                    .col(varchar(AuthPermission::Codename, 100))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CoreUserGroups::Table)
                    .col(pk_bigint(CoreUserGroups::Id))
                    .col(bigint(CoreUserGroups::UserId))
                    .col(bigint(CoreUserGroups::GroupId))
                    .foreign_key(&mut fk(
                        "core_user_groups_user_id_fkey",
                        CoreUserGroups::Table,
                        CoreUserGroups::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "core_user_groups_group_id_fkey",
                        CoreUserGroups::Table,
                        CoreUserGroups::GroupId,
                        AuthGroup::Table,
                        AuthGroup::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "core_user_groups_user_id_group_id_key",
                CoreUserGroups::Table,
                [CoreUserGroups::UserId, CoreUserGroups::GroupId],
            ))
            .await?;
        manager
            .create_index(index(
                "core_user_groups_group_id_idx",
                CoreUserGroups::Table,
                [CoreUserGroups::GroupId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CoreUserUserPermissions::Table)
                    .col(pk_bigint(CoreUserUserPermissions::Id))
                    .col(bigint(CoreUserUserPermissions::UserId))
                    .col(bigint(CoreUserUserPermissions::PermissionId))
                    .foreign_key(&mut fk(
                        "core_user_user_permissions_user_id_fkey",
                        CoreUserUserPermissions::Table,
                        CoreUserUserPermissions::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "core_user_user_permissions_permission_id_fkey",
                        CoreUserUserPermissions::Table,
                        CoreUserUserPermissions::PermissionId,
                        AuthPermission::Table,
                        AuthPermission::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "core_user_user_permissions_user_id_permission_id_key",
                CoreUserUserPermissions::Table,
                [
                    CoreUserUserPermissions::UserId,
                    CoreUserUserPermissions::PermissionId,
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "core_user_user_permissions_permission_id_idx",
                CoreUserUserPermissions::Table,
                [CoreUserUserPermissions::PermissionId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CoreAuditlog::Table)
                    .col(pk_bigint(CoreAuditlog::Id))
                    .col(bigint_null(CoreAuditlog::UserId))
                    // Snapshots, so the trail stays readable whatever happens to the user.
                    .col(varchar_default(CoreAuditlog::Username, 150, ""))
                    .col(varchar_default(CoreAuditlog::RoleName, 50, ""))
                    .col(varchar(CoreAuditlog::Action, 50))
                    // Plain integer on purpose: the trail must outlive the patient row.
                    .col(integer_null(CoreAuditlog::PatientId))
                    .col(timestamptz_now(CoreAuditlog::Timestamp))
                    .col(ColumnDef::new(CoreAuditlog::Meta).json_binary().null())
                    .col(varchar_null(CoreAuditlog::RequestId, 64))
                    // Users are never hard-deleted; an audited user must not vanish.
                    .foreign_key(&mut fk(
                        "core_auditlog_user_id_fkey",
                        CoreAuditlog::Table,
                        CoreAuditlog::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        for stmt in [
            index(
                "core_auditlog_user_id_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::UserId],
            ),
            index(
                "core_auditlog_role_name_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::RoleName],
            ),
            index(
                "core_auditlog_action_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::Action],
            ),
            index(
                "core_auditlog_patient_id_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::PatientId],
            ),
            index(
                "core_auditlog_timestamp_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::Timestamp],
            ),
            index(
                "core_auditlog_action_timestamp_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::Action, CoreAuditlog::Timestamp],
            ),
            index(
                "core_auditlog_patient_id_timestamp_idx",
                CoreAuditlog::Table,
                [CoreAuditlog::PatientId, CoreAuditlog::Timestamp],
            ),
        ] {
            manager.create_index(stmt).await?;
        }

        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                for sql in SQLITE_AUDIT_TRIGGERS {
                    conn.execute_unprepared(sql).await?;
                }
            }
            DbBackend::Postgres => {
                for sql in PG_AUDIT_TRIGGERS {
                    conn.execute_unprepared(sql).await?;
                }
            }
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its triggers on both backends.
        for table in [
            drop_table(CoreAuditlog::Table),
            drop_table(CoreUserUserPermissions::Table),
            drop_table(CoreUserGroups::Table),
            drop_table(AuthPermission::Table),
            drop_table(AuthGroup::Table),
            drop_table(CoreUser::Table),
            drop_table(CoreRole::Table),
        ] {
            manager.drop_table(table).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS core_auditlog_append_only()")
                .await?;
        }
        Ok(())
    }
}
