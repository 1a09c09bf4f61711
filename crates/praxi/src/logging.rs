//! Log output: human-readable text (the default) or one JSON object per line
//! (`--log-format json` / `PRAXI_LOG_FORMAT=json`) for log collectors. Colour codes are written
//! only when standard output is a terminal, so log files and journald stay clean.

use std::io::IsTerminal;

use clap::ValueEnum;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields, span).
    Json,
}

/// Installs the global subscriber. `RUST_LOG` filters as usual.
pub(crate) fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
