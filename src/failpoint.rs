//! Test failpoints: with the `failpoints` feature (the tests' builds only),
//! `ORDERBRIDGE_FAILPOINT=NAME` stops the process at the point named NAME, as a crash would.
//! Without the feature, `hit` is empty and the variable is never read.

/// Stops the process (exit 70) when the failpoint `name` is armed.
#[cfg(feature = "failpoints")]
pub(crate) fn hit(name: &str) {
    if std::env::var("ORDERBRIDGE_FAILPOINT").is_ok_and(|v| v == name) {
        tracing::error!(
            failpoint = name,
            "failpoint reached: exiting as a crash would"
        );
        std::process::exit(70);
    }
}

#[cfg(not(feature = "failpoints"))]
pub(crate) fn hit(_name: &str) {}

/// Whether the failpoint `name` is armed, for a failpoint that does something else than
/// stopping the process (losing the store's connection).
#[cfg(feature = "failpoints")]
pub(crate) fn armed(name: &str) -> bool {
    std::env::var("ORDERBRIDGE_FAILPOINT").is_ok_and(|v| v == name)
}

#[cfg(not(feature = "failpoints"))]
pub(crate) fn armed(_name: &str) -> bool {
    false
}
