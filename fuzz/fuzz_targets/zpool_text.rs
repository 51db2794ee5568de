//! OpenZFS 2.1/2.2's text: `zpool status -p` and `zpool list -Hpv` (the input's two halves,
//! split at the first NUL byte), `zdb -l` and `zpool status`'s scrub line: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (status, list) = text.split_once('\0').unwrap_or((text, ""));
    if let Ok(st) = zevac::zfs::text::status_from_text(status, list, "rpool") {
        if let Some(r) = &st.removal {
            let _ = r.percent();
        }
    }
    let _ = zevac::zfs::text::label_ashift(text);
    let _ = zevac::zfs::text::human_bytes(text);
    let _ = zevac::zfs::text::scrub_from_status(text);
});
