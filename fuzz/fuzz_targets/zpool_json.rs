//! `zpool status -j --json-int -p` (OpenZFS 2.3+): any text gives a status or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(status) = zevac::zfs::status::from_json(text, "rpool") {
        if let Some(r) = &status.removal {
            let _ = r.percent();
        }
    }
});
