//! keepalived.conf front end: whatever the text, parsing (preprocessor,
//! blocks, keyword readers, validation) and, when it succeeds, converting
//! to TOML must neither panic, hang nor allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The front end takes text; the file reader refuses non-UTF-8 before it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = baton_config::parse_keepalived_isolated(text) {
        let _ = baton_config::to_toml(&config, std::path::Path::new("/fuzz"));
    }
});
