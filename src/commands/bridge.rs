//! `hcp bridge CONFIG`: the validated policy against a fleet, in shadow
//! mode unless `--arm` (or the API's arm call) arms sites the
//! configuration allows; `hcp bridge replay LOG` replays an audit log
//! through the policy; `hcp bridge token` issues an operator API token;
//! `hcp bridge check CONFIG` checks a configuration without running it.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hcp_bridge::api::auth::TokenStore;
use hcp_bridge::control::{Bridge, RunFor};
use hcp_bridge::operator::Role;

/// Options of `hcp bridge`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BridgeArgs {
    #[command(subcommand)]
    command: Option<BridgeCommand>,
    #[command(flatten)]
    run: RunArgs,
}

/// The bridge's other commands.
#[derive(Debug, Subcommand)]
enum BridgeCommand {
    /// Feed an audit log's observations to its policy again and check it
    /// makes the same decisions.
    Replay(ReplayArgs),
    /// Issue an operator API token: prints it once, appends its hash to
    /// the token file.
    Token(TokenArgs),
    /// Check a configuration (feeds, files, limits) without running it.
    Check(CheckArgs),
}

/// Options of a bridge run.
#[derive(Debug, Args)]
struct RunArgs {
    /// The bridge configuration (TOML; docs/bridge.md).
    config: Option<PathBuf>,
    /// Arm these sites at start (`all`: every site the configuration
    /// allows). Without it the bridge runs in shadow mode.
    #[arg(long, value_name = "SITE")]
    arm: Vec<String>,
    /// Stop after this many epochs.
    #[arg(long)]
    epochs: Option<u64>,
    /// Print the run's summary as one JSON document on stdout at the end.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The audit log: its folder, or one segment.
    log: PathBuf,
    /// Print the report as one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The role: viewer, operator or admin.
    #[arg(long)]
    role: String,
    /// Who the token is for (no spaces).
    #[arg(long)]
    name: String,
    /// The token file to append to (created if missing).
    #[arg(long)]
    file: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The bridge configuration.
    config: PathBuf,
}

/// Runs `hcp bridge …`.
///
/// # Errors
/// A bad configuration, an unreachable feed, a site that may not be armed.
pub fn run(args: &BridgeArgs) -> Result<()> {
    match &args.command {
        Some(BridgeCommand::Replay(a)) => replay(a),
        Some(BridgeCommand::Token(a)) => token(a),
        Some(BridgeCommand::Check(a)) => {
            let loaded = hcp_bridge::config::load(&a.config)?;
            let miners: usize = loaded
                .config
                .sites
                .iter()
                .flat_map(|s| &s.miners)
                .map(|c| c.socket_addrs().map_or(0, |a| a.len()))
                .sum();
            eprintln!(
                "{}: {} sites, {miners} miners, policy {}; ok",
                loaded.file,
                loaded.config.sites.len(),
                loaded.config.policy.name()
            );
            Ok(())
        }
        None => bridge(&args.run),
    }
}

fn replay(args: &ReplayArgs) -> Result<()> {
    let report = hcp_bridge::replay::replay(&args.log).map_err(anyhow::Error::msg)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        eprintln!(
            "{}: {} runs, {} observations, {} decisions replayed, {} differ",
            args.log.display(),
            report.runs,
            report.observations,
            report.decisions,
            report.differing
        );
        for m in &report.mismatches {
            eprintln!("  {m}");
        }
    }
    if !report.identical() {
        bail!("the replay does not reproduce the logged decisions");
    }
    Ok(())
}

fn token(args: &TokenArgs) -> Result<()> {
    let role = match args.role.as_str() {
        "viewer" => Role::Viewer,
        "operator" => Role::Operator,
        "admin" => Role::Admin,
        other => bail!("--role {other}: expected viewer, operator or admin"),
    };
    if args.name.is_empty() || args.name.chars().any(char::is_whitespace) {
        bail!("--name must be a non-empty name without spaces");
    }
    let token =
        TokenStore::new_token().map_err(|e| anyhow::anyhow!("drawing a random token: {e}"))?;
    let line = TokenStore::hash_line(role, &args.name, &token);
    let mut text = std::fs::read_to_string(&args.file).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    let tmp = args.file.with_extension("partial");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.file)
        .with_context(|| format!("writing {}", args.file.display()))?;
    // The token itself goes to stdout once, and nowhere else.
    println!("{token}");
    eprintln!(
        "{} token for {} added to {}",
        role.name(),
        args.name,
        args.file.display()
    );
    Ok(())
}

fn bridge(args: &RunArgs) -> Result<()> {
    let Some(path) = &args.config else {
        bail!("hcp bridge needs a configuration file: hcp bridge CONFIG (docs/bridge.md)");
    };
    let loaded = hcp_bridge::config::load(path)?;
    let miners: u64 = loaded
        .config
        .sites
        .iter()
        .flat_map(|s| &s.miners)
        .map(|c| c.socket_addrs().map_or(0, |a| a.len() as u64))
        .sum();
    super::fleet::raise_open_files(miners.min(60_000) + 4_096)?;
    let tokens = match &loaded.config.api.tokens_file {
        Some(f) => Some(std::sync::Arc::new(TokenStore::load(f)?)),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let bridge = Bridge::start(&loaded, &args.arm).await?;
        let shared = bridge.shared();
        let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
        let mut api_task = None;
        if let Some(tokens) = tokens {
            let listen = loaded.config.api.listen;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("{}: api.listen: cannot listen on {listen}", loaded.file))?;
            let router = hcp_bridge::api::router(shared.clone(), tokens, std::sync::Arc::clone(&shared.metrics));
            api_task = Some(tokio::spawn(hcp_bridge::api::serve(listener, router, async {
                let _ = api_stopped.await;
            })));
            eprintln!("operator API on http://{listen}");
        }
        let mode = if shared.armed().is_empty() { "shadow mode (nothing is sent)".to_owned() } else { format!("ARMED: {}", shared.armed().join(", ")) };
        eprintln!("{}: {} miners, policy {}, {mode}; Ctrl-C stops", loaded.file, miners, loaded.config.policy.name());
        let summary = bridge
            .run(RunFor { epochs: args.epochs }, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        let _ = stop_api.send(());
        if let Some(task) = api_task {
            let _ = task.await;
        }
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            eprintln!(
                "{} epochs, {} decisions, {} commands sent, {} held back (shadow), {} failed, {} clips, {} faults",
                summary.epochs, summary.decisions, summary.commands_sent, summary.commands_shadowed, summary.commands_failed, summary.clips, summary.faults
            );
        }
        anyhow::Ok(())
    })
}
