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

/// `(path, include_str!(repo path))` rows.
macro_rules! files {
    ($($rel:expr => $src:literal),* $(,)?) => {
        vec![$(($rel, include_str!(concat!("../../../", $src)))),*]
    };
}

/// The project's scenarios: Baton's conformance suite for http-status, which
/// the example check is (the same as the builtin and its Python and
/// JavaScript ports).
fn scenarios() -> Vec<(&'static str, &'static str)> {
    files![
        "bad-expect.toml" => "policies/conformance/http-status/bad-expect.toml",
        "bad-max-body.toml" => "policies/conformance/http-status/bad-max-body.toml",
        "bad-timeout.toml" => "policies/conformance/http-status/bad-timeout.toml",
        "body-contains.toml" => "policies/conformance/http-status/body-contains.toml",
        "body-missing.toml" => "policies/conformance/http-status/body-missing.toml",
        "denied-host-name.toml" => "policies/conformance/http-status/denied-host-name.toml",
        "denied.toml" => "policies/conformance/http-status/denied.toml",
        "expect-200-got-204.toml" => "policies/conformance/http-status/expect-200-got-204.toml",
        "expect-503.toml" => "policies/conformance/http-status/expect-503.toml",
        "failed.toml" => "policies/conformance/http-status/failed.toml",
        "healthy.toml" => "policies/conformance/http-status/healthy.toml",
        "max-body-ignored.toml" => "policies/conformance/http-status/max-body-ignored.toml",
        "missing-url.toml" => "policies/conformance/http-status/missing-url.toml",
        "refused.toml" => "policies/conformance/http-status/refused.toml",
        "status-503.toml" => "policies/conformance/http-status/status-503.toml",
        "timeout.toml" => "policies/conformance/http-status/timeout.toml",
    ]
}

/// (path in the project, contents) of the Rust project, less what all share.
fn rust_files() -> Vec<(&'static str, &'static str)> {
    let mut v = files![
        "Cargo.toml" => "templates/policy/rust/Cargo.toml",
        "src/lib.rs" => "policies/http-status/src/lib.rs",
        "build.sh" => "templates/policy/rust/build.sh",
        "sdk/Cargo.toml" => "templates/policy/rust/sdk-Cargo.toml",
        "sdk/README.md" => "guest-sdk/README.md",
        "sdk/src/lib.rs" => "guest-sdk/src/lib.rs",
        "sdk/src/hook.rs" => "guest-sdk/src/hook.rs",
        "sdk/src/brain.rs" => "guest-sdk/src/brain.rs",
    ];
    v.push((".gitignore", "/target\n*.wasm\n"));
    v
}

/// The Python project: the policy and Baton's SDK under src/ (what
/// componentize-py bundles), built in a virtualenv of its own.
fn python_files() -> Vec<(&'static str, &'static str)> {
    let mut v = files![
        "src/app.py" => "policies/python/http-status/app.py",
        "build.sh" => "templates/policy/python/build.sh",
        "src/baton_policy/README.md" => "guest-sdk/python/README.md",
        "src/baton_policy/__init__.py" => "guest-sdk/python/baton_policy/__init__.py",
        "src/baton_policy/_bindings.py" => "guest-sdk/python/baton_policy/_bindings.py",
        "src/baton_policy/_core.py" => "guest-sdk/python/baton_policy/_core.py",
        "src/baton_policy/_rust.py" => "guest-sdk/python/baton_policy/_rust.py",
        "src/baton_policy/clock.py" => "guest-sdk/python/baton_policy/clock.py",
        "src/baton_policy/log.py" => "guest-sdk/python/baton_policy/log.py",
        "src/baton_policy/probe.py" => "guest-sdk/python/baton_policy/probe.py",
        "src/baton_policy/remedy.py" => "guest-sdk/python/baton_policy/remedy.py",
        "src/baton_policy/system.py" => "guest-sdk/python/baton_policy/system.py",
        "src/baton_policy/vrrp.py" => "guest-sdk/python/baton_policy/vrrp.py",
    ];
    v.push((".gitignore", "/.venv\n__pycache__/\n*.wasm\n"));
    v
}

/// The JavaScript project: the policy, Baton's SDK in sdk/, and npm's
/// package.json and lock with the exact toolchain Baton's own build uses.
fn js_files() -> Vec<(&'static str, &'static str)> {
    let mut v = files![
        "src/policy.js" => "policies/js/http-status/policy.js",
        "build.sh" => "templates/policy/js/build.sh",
        "sdk/README.md" => "guest-sdk/js/README.md",
        "sdk/index.d.ts" => "guest-sdk/js/index.d.ts",
        "sdk/index.js" => "guest-sdk/js/src/index.js",
        "sdk/errors.js" => "guest-sdk/js/src/errors.js",
        "sdk/escapes.js" => "guest-sdk/js/src/escapes.js",
        "sdk/format.js" => "guest-sdk/js/src/format.js",
        "sdk/pure.js" => "guest-sdk/js/src/pure.js",
        "sdk/settings.js" => "guest-sdk/js/src/settings.js",
        "sdk/state.js" => "guest-sdk/js/src/state.js",
        "sdk/verdict.js" => "guest-sdk/js/src/verdict.js",
    ];
    v.push((".gitignore", "/node_modules\n/build\n*.wasm\n"));
    v
}

const JS_TOOLCHAIN: &str = include_str!("../../../scripts/js-toolchain/package.json");
const JS_LOCK: &str = include_str!("../../../scripts/js-toolchain/package-lock.json");
const SETUP: &str = include_str!("../../../scripts/setup");

/// The componentize-py version Baton's own build pins (scripts/setup).
fn componentize_py_version() -> &'static str {
    SETUP
        .lines()
        .find_map(|l| l.strip_prefix("COMPONENTIZE_PY_VERSION="))
        .map(str::trim)
        .expect("scripts/setup pins COMPONENTIZE_PY_VERSION")
}

/// package.json and package-lock.json for a JavaScript project `name`: the
/// toolchain's, renamed, so `npm ci` installs exactly what Baton builds with.
fn js_package(name: &str) -> Result<(String, String), String> {
    let tool: serde_json::Value =
        serde_json::from_str(JS_TOOLCHAIN).map_err(|e| format!("scripts/js-toolchain/package.json: {e}"))?;
    let package = serde_json::json!({
        "name": name,
        "private": true,
        "type": "module",
        "description": format!("{name}: a Baton health policy; ./build.sh makes {name}.wasm"),
        "dependencies": tool["dependencies"],
    });
    let mut lock: serde_json::Value =
        serde_json::from_str(JS_LOCK).map_err(|e| format!("scripts/js-toolchain/package-lock.json: {e}"))?;
    lock["name"] = name.into();
    lock["packages"][""]["name"] = name.into();
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    Ok((
        pretty(&package).map_err(|e| e.to_string())?,
        pretty(&lock).map_err(|e| e.to_string())?,
    ))
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
            "./build.sh    # componentize-py -d wit -w health componentize app -p src",
            "Needs python3 with venv; `build.sh` installs componentize-py from PyPI\ninto `.venv` the first time. The policy is `src/app.py`; `src/baton_policy`\nis Baton's Python SDK (its README says what it offers).",
            "an uncaught exception (its last traceback line is the reason)",
        ),
        Lang::Js => (
            "./build.sh    # esbuild src/policy.js + sdk/, then componentize-js",
            "Needs Node.js with npm; `build.sh` runs `npm ci` the first time, which\ninstalls esbuild and componentize-js at the versions package-lock.json\npins. The policy is `src/policy.js`; `sdk/` is Baton's JavaScript SDK\n(`@baton/policy`; its README says what it offers).",
            "an uncaught exception (its message is the reason)",
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
        .replace("{{componentize_py}}", componentize_py_version())
}

/// Writes the project; returns its directory.
pub fn create(a: &NewArgs) -> Result<PathBuf, String> {
    if let Some(p) = name_problem(&a.name) {
        return Err(p);
    }
    let files = match a.lang {
        Lang::Rust => rust_files(),
        Lang::Python => python_files(),
        Lang::Js => js_files(),
    };
    let npm = match a.lang {
        Lang::Js => Some(js_package(&a.name)?),
        _ => None,
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
    for (file, text) in scenarios() {
        write(&format!("scenarios/{file}"), text)?;
    }
    for (rel, text) in files {
        write(rel, &render(text, &a.name, a.lang))?;
    }
    if let Some((package, lock)) = npm {
        write("package.json", &package)?;
        write("package-lock.json", &lock)?;
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
        let own = [
            "Cargo.toml",
            "src/lib.rs",
            "src/app.py",
            "src/policy.js",
            "build.sh",
        ];
        for (lang, files) in [
            (Lang::Rust, rust_files()),
            (Lang::Python, python_files()),
            (Lang::Js, js_files()),
        ] {
            for (rel, text) in files {
                if own.contains(&rel) {
                    assert!(!render(text, "x", lang).contains("{{"), "{lang:?} {rel}");
                }
            }
            assert!(!render(README, "x", lang).contains("{{"));
        }
    }

    #[test]
    fn the_scenarios_are_the_whole_conformance_suite() {
        let copied: Vec<&str> = scenarios().iter().map(|(f, _)| *f).collect();
        let suite = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../policies/conformance/http-status"
        );
        let mut n = 0;
        for e in std::fs::read_dir(suite).unwrap() {
            let f = e.unwrap().file_name().into_string().unwrap();
            assert!(copied.contains(&f.as_str()), "{f} is not in scenarios()");
            n += 1;
        }
        assert_eq!(n, copied.len());
    }

    #[test]
    fn the_python_sdk_is_copied_whole() {
        let copied: Vec<&str> = python_files()
            .iter()
            .filter_map(|(rel, _)| rel.strip_prefix("src/baton_policy/"))
            .filter(|f| f.ends_with(".py"))
            .collect();
        let sdk = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk/python/baton_policy");
        for e in std::fs::read_dir(sdk).unwrap() {
            let f = e.unwrap().file_name().into_string().unwrap();
            if f.ends_with(".py") {
                assert!(copied.contains(&f.as_str()), "{f} is not in python_files()");
            }
        }
    }

    #[test]
    fn the_js_sdk_is_copied_whole_and_npm_gets_the_pinned_toolchain() {
        let copied: Vec<&str> = js_files()
            .iter()
            .filter_map(|(rel, _)| rel.strip_prefix("sdk/"))
            .collect();
        let sdk = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk/js/src");
        for e in std::fs::read_dir(sdk).unwrap() {
            let f = e.unwrap().file_name().into_string().unwrap();
            assert!(copied.contains(&f.as_str()), "{f} is not in js_files()");
        }
        let (package, lock) = js_package("web-check").unwrap();
        let package: serde_json::Value = serde_json::from_str(&package).unwrap();
        let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
        assert_eq!(package["name"], "web-check");
        assert_eq!(lock["packages"][""]["name"], "web-check");
        assert_eq!(package["dependencies"], lock["packages"][""]["dependencies"]);
        assert_eq!(
            package["dependencies"]["@bytecodealliance/componentize-js"],
            "0.23.0"
        );
        assert_eq!(componentize_py_version(), "0.25.1");
    }
}
