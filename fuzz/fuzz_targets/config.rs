//! `/etc/zevac.toml` and profile files: any text gives a config or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(config) = zevac::config::Config::parse(text) {
        // What a parsed config is asked later must not panic either.
        let _ = (config.special_bytes(), config.cache_bytes(), config.cow_bytes());
        // And what tests and the benchmark write reads back as the same config.
        let again = zevac::config::Config::parse(&config.to_toml()).expect("written config reads");
        assert_eq!(again, config);
    }
    let _ = zevac::profile::Profile::parse("fuzz", "fuzz input", text);
});
