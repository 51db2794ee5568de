//! Lab tests: real OpenZFS in a QEMU guest. Slow (minutes), so `#[ignore]`d for a plain
//! `cargo test`; the README's test command runs them with `--include-ignored`. One test binary,
//! so one lock keeps one guest at a time; a file per subject, the shared scenario helpers in
//! `scene`.

mod apply;
mod bench;
mod crashes;
mod scene;
mod selftest;
mod systemd;
mod watch;
