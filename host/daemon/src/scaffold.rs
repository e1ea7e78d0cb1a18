//! `baton policy new NAME --lang rust|python|js`: a policy project that
//! builds with its language's public toolchain and tests offline. It carries
//! its own copy of the WIT and of Baton's guest SDK for the language (from
//! this binary), so it needs nothing from Baton's repository: an example
//! check, the exact build command (`build.sh`), scenarios for
//! `baton policy test --scenario` and a README.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The languages a project can be made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        }
    }
}

/// `baton policy new`'s arguments.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The policy's name: lower-case letters, digits and `-`, starting with a
    /// letter. The project is made in a new directory of that name.
    pub name: String,
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,
    /// Where to make the project's directory.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

const WIT: &str = include_str!("../../../wit/policy.wit");
const README: &str = include_str!("../../../templates/policy/common/README.md");
const SCENARIOS: &[(&str, &str)] = &[
    (
        "healthy.toml",
        include_str!("../../../templates/policy/common/healthy.toml"),
    ),
    (
        "down.toml",
        include_str!("../../../templates/policy/common/down.toml"),
    ),
    (
        "refused.toml",
        include_str!("../../../templates/policy/common/refused.toml"),
    ),
    (
        "denied.toml",
        include_str!("../../../templates/policy/common/denied.toml"),
    ),
];

/// (path in the project, contents) of the Rust project, less what all share.
fn rust_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "Cargo.toml",
            include_str!("../../../templates/policy/rust/Cargo.toml"),
        ),
        (
            "src/lib.rs",
            include_str!("../../../templates/policy/rust/lib.rs"),
        ),
        (
            "build.sh",
            include_str!("../../../templates/policy/rust/build.sh"),
        ),
        (
            "sdk/Cargo.toml",
            include_str!("../../../templates/policy/rust/sdk-Cargo.toml"),
        ),
        ("sdk/README.md", include_str!("../../../guest-sdk/README.md")),
        ("sdk/src/lib.rs", include_str!("../../../guest-sdk/src/lib.rs")),
        ("sdk/src/hook.rs", include_str!("../../../guest-sdk/src/hook.rs")),
        (
            "sdk/src/brain.rs",
            include_str!("../../../guest-sdk/src/brain.rs"),
        ),
        (".gitignore", "/target\n*.wasm\n"),
    ]
}

/// Why `name` cannot name a policy, if it cannot.
fn name_problem(name: &str) -> Option<String> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    (!ok).then(|| {
        format!("`{name}`: a policy name is lower-case letters, digits and `-`, starting with a letter (at most 64)")
    })
}

/// What the README says of building it.
fn build_text(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Rust => (
            "./build.sh    # cargo build --release --target wasm32-wasip2",
            "Needs Rust (rustup, stable) with the `wasm32-wasip2` target, which\n`build.sh` adds; the SDK's one dependency, wit-bindgen, comes from crates.io.",
            "a panic",
        ),
        Lang::Python => (
            "./build.sh    # componentize-py ... componentize app",
            "Needs componentize-py from PyPI (`pip install componentize-py`).",
            "an uncaught exception",
        ),
        Lang::Js => (
            "./build.sh    # componentize-js ...",
            "Needs componentize-js from npm.",
            "an uncaught exception",
        ),
    }
}

fn render(text: &str, name: &str, lang: Lang) -> String {
    let (build, toolchain, trap) = build_text(lang);
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{lang}}", lang.name())
        .replace("{{build}}", build)
        .replace("{{toolchain}}", toolchain)
        .replace("{{trap}}", trap)
}

/// Writes the project; returns its directory.
pub fn create(a: &NewArgs) -> Result<PathBuf, String> {
    if let Some(p) = name_problem(&a.name) {
        return Err(p);
    }
    let files = match a.lang {
        Lang::Rust => rust_files(),
        Lang::Python | Lang::Js => {
            return Err(format!("--lang {}: not yet", a.lang.name()));
        }
    };
    let root = a.dir.join(&a.name);
    if root.exists() {
        return Err(format!("{} already exists: nothing written", root.display()));
    }
    let write = |rel: &str, text: &str| -> Result<(), String> {
        let path = root.join(rel);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("wit/policy.wit", WIT)?;
    write("README.md", &render(README, &a.name, a.lang))?;
    for (file, text) in SCENARIOS {
        write(&format!("scenarios/{file}"), text)?;
    }
    for (rel, text) in files {
        write(rel, &render(text, &a.name, a.lang))?;
    }
    make_executable(&root.join("build.sh"))?;
    Ok(root)
}

fn make_executable(p: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", p.display()))
}

pub fn new_command(a: &NewArgs) -> ExitCode {
    match create(a) {
        Ok(root) => {
            println!(
                "made {} ({} policy): build it with {}/build.sh, test it with\n  baton policy test {}/{}.wasm --scenario {}/scenarios",
                root.display(),
                a.lang.name(),
                root.display(),
                root.display(),
                a.name,
                root.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("baton policy new: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(name_problem("web-check2"), None);
        for bad in ["", "Web", "2web", "web_check", "web-", "a/b", "../x"] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn templates_are_filled_in() {
        let t = render("{{name}} {{crate}} {{lang}}", "web-check", Lang::Rust);
        assert_eq!(t, "web-check web_check Rust");
        for (rel, text) in rust_files() {
            if matches!(rel, "Cargo.toml" | "src/lib.rs" | "build.sh") {
                assert!(!render(text, "x", Lang::Rust).contains("{{"), "{rel}");
            }
        }
        assert!(!render(README, "x", Lang::Python).contains("{{"));
    }
}
