//! `praxi audit verify`: walks the audit log's hash chain (docs/data-protection.md) and
//! reports the first broken link; exits non-zero when there is one.

use anyhow::bail;
use clap::Subcommand;
use praxi_store::audit::ChainCheck;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Recompute every audit row's hash in id order; print OK with the count, or the first
    /// broken link (its id) and exit with status 1.
    Verify,
}

pub(crate) async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => {
            let store = crate::open_store(config).await?;
            let check = store.verify_audit_chain().await;
            store.close().await?;
            match check? {
                ChainCheck::Intact { chained, legacy } => {
                    println!(
                        "OK: {chained} audit rows verified ({legacy} written before the chain)"
                    );
                    Ok(())
                }
                ChainCheck::Broken { id, reason } => {
                    println!("BROKEN: audit row {id}: {reason}");
                    bail!("the audit log's hash chain is broken at row {id}: {reason}")
                }
            }
        }
    }
}
