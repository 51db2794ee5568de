//! zevac: boot a ZFS root from its EBS volume, then move it onto the instance stores in the
//! background. The discover/inspect/plan/apply flow is issue 3; this binary only reports its version
//! so far, and the lab already carries it into the guest.

use clap::Parser;

/// Moves a ZFS root pool from its EBS volume onto the instance stores, in the background.
#[derive(Parser)]
#[command(version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    Cli::parse();
    anyhow::bail!("zevac's commands are not written yet (issue 3); only --version and --help work")
}
