//! The one-line parsers: `zpool get -Hp all`, `zpool version`, `dmsetup status`, ZFS's debug
//! log, sizes and rates as people write them, the kernel command line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(props) = zevac::zfs::props::PoolProps::parse(text) {
        let _ = (props.checkpoint_bytes(), props.device_removal_available(), props.ashift());
    }
    let _ = zevac::zfs::ZfsVersion::parse(text);
    if let Ok(usage) = zevac::devmapper::CowUsage::parse(text) {
        let _ = usage.fraction();
    }
    let _ = zevac::zfs::dbgmsg::last_removal_io_errors(text, Some(0));
    let _ = zevac::config::parse_size(text);
    let _ = zevac::profile::Rate::parse(text);
    let _ = zevac::config::Cmdline::parse(text);
    let _ = zevac::devmapper::cow_header(text.as_bytes());
});
