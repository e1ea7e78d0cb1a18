//! `baton`: the VRRP daemon and its command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "baton",
    version,
    about = "VRRP high availability with WebAssembly policies"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the daemon in the foreground.
    Run {
        /// A TOML config or a keepalived.conf.
        #[arg(long, short)]
        config: PathBuf,
        /// Control socket (overrides the config's `socket`).
        #[arg(long)]
        socket: Option<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Validate config files (TOML or keepalived.conf); print every error
    /// as FILE:LINE:COL. With several, check them as the nodes of one LAN.
    Check {
        /// `FILE`, or `FILE@ID` for one keepalived.conf shared by the nodes,
        /// read with config id ID (`ka.conf@lb01 ka.conf@lb02`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Print the TOML equivalent of a keepalived.conf, with comments where
    /// meaning moved.
    Convert {
        file: PathBuf,
        /// What `@ID` lines are compared with (keepalived's -i).
        #[arg(long, short = 'i')]
        config_id: Option<String>,
    },
    /// Show each instance's state, priority, master, VIPs and counters.
    Status {
        #[arg(long, default_value = baton::DEFAULT_SOCKET)]
        socket: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Demo: a two-node failover in network namespaces on this machine.
    Lab(baton::demo::LabArgs),
    /// Work with WebAssembly policies.
    Policy {
        #[command(subcommand)]
        cmd: PolicyCmd,
    },
    /// Notifications: mail, webhooks, notify commands.
    Notify {
        #[command(subcommand)]
        cmd: NotifyCmd,
    },
}

/// How a config file is read.
#[derive(clap::Args, Debug)]
struct ReadArgs {
    /// The config's language; by default recognised by its content.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// For a keepalived.conf: what `@ID` lines are compared with
    /// (keepalived's -i; default the host name up to its first dot).
    #[arg(long, short = 'i')]
    config_id: Option<String>,
    /// For a keepalived.conf: run each vrrp_script that matches no builtin
    /// policy as keepalived ran it (builtin:exec: healthy iff it exits 0)
    /// instead of refusing the file.
    #[arg(long)]
    allow_exec: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    Toml,
    Keepalived,
}

impl ReadArgs {
    fn options(&self) -> baton::config::LoadOptions {
        baton::config::LoadOptions {
            keepalived: self.format.map(|f| matches!(f, FormatArg::Keepalived)),
            config_id: self.config_id.clone(),
            allow_exec: self.allow_exec,
        }
    }
}

#[derive(Subcommand, Debug)]
enum NotifyCmd {
    /// Send a test notice through every sink of a config and print each
    /// result. Exit 0 if all were delivered, 1 if any failed.
    Test(baton::notify_cmd::NotifyTestArgs),
}

#[derive(Subcommand, Debug)]
enum PolicyCmd {
    /// Run a policy once in the real host and print its decision, time and
    /// instruction count. Exit 0 healthy, 1 failed, 2 if it does not load.
    Test(Box<baton::checks::TestArgs>),
    /// Make a policy project (Rust, Python or JavaScript) that builds with
    /// its language's public toolchain: an example check, build.sh,
    /// scenarios for `baton policy test --scenario`, a README.
    New(baton::scaffold::NewArgs),
    /// Push a component to an OCI registry (wasm-pkg-tools' layout) at a
    /// tag; prints the reference by digest to put in a config's `source`.
    Push(baton::oci_cmd::PushArgs),
    /// Pull a policy from an OCI registry into the policy cache, verifying
    /// its digest; prints the reference by digest and the cached file.
    Pull(baton::oci_cmd::PullArgs),
    /// Show a component's world and version, imports (capabilities), size,
    /// sha256 and producers (language, toolchain).
    Inspect(baton::oci_cmd::InspectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { config, socket, read } => {
            let cfg = match baton::config::load_for_run(&config, &read.options()) {
                Ok(c) => c,
                Err(diags) => {
                    for d in diags {
                        eprintln!("{d}");
                    }
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = baton::logging::init(cfg.log_file.as_deref()) {
                eprintln!("baton: {e:#}");
                return ExitCode::FAILURE;
            }
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("baton: starting the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(baton::driver::run(cfg, socket)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("baton: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Check { files, read } => {
            if baton::config::check_files_with(&files, &read.options(), &baton::checks::run_as_errors) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Cmd::Convert { file, config_id } => {
            // Convert always writes builtin:exec for a script that matches
            // no builtin: the TOML states it, which is the opt-in there.
            let opts = baton::config::LoadOptions {
                keepalived: Some(true),
                config_id,
                allow_exec: true,
            };
            match baton::config::convert_keepalived(&file, &opts) {
                Ok(toml) => {
                    print!("{toml}");
                    ExitCode::SUCCESS
                }
                Err(diags) => {
                    for d in diags {
                        eprintln!("{d}");
                    }
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Status { socket, json } => match baton::control::query_status(&socket) {
            Ok(s) => {
                if json {
                    match serde_json::to_string_pretty(&s) {
                        Ok(j) => println!("{j}"),
                        Err(e) => {
                            eprintln!("baton: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                } else {
                    print!("{}", s.render());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("baton: {e:#}");
                ExitCode::FAILURE
            }
        },
        Cmd::Lab(args) => baton::demo::run(args),
        Cmd::Policy {
            cmd: PolicyCmd::Test(args),
        } => baton::checks::test_command(&args),
        Cmd::Policy {
            cmd: PolicyCmd::New(args),
        } => baton::scaffold::new_command(&args),
        Cmd::Policy {
            cmd: PolicyCmd::Push(args),
        } => baton::oci_cmd::push_command(&args),
        Cmd::Policy {
            cmd: PolicyCmd::Pull(args),
        } => baton::oci_cmd::pull_command(&args),
        Cmd::Policy {
            cmd: PolicyCmd::Inspect(args),
        } => baton::oci_cmd::inspect_command(&args),
        Cmd::Notify {
            cmd: NotifyCmd::Test(args),
        } => baton::notify_cmd::test_command(&args),
    }
}
