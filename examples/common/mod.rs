//! What the benchmarks share.

use std::path::{Path, PathBuf};

/// The release binary beside the running example (`target/release/orderbridge`).
pub(crate) fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("orderbridge"))
        .ok_or_else(|| anyhow::anyhow!("no target dir"))?;
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    Ok(bin)
}
