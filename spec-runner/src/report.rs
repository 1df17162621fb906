//! Per-directive outcomes of one script, and directive counts summed over many.

use std::fmt;
use std::ops::AddAssign;

/// A 1-based line and column in a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number (in bytes), starting at 1.
    pub col: usize,
}

impl Location {
    /// The start of a script: where failures that belong to no directive are reported.
    pub const START: Location = Location { line: 1, col: 1 };

    /// The location of `span` in `text` (which `wast` reports 0-based).
    pub fn of_span(span: wast::token::Span, text: &str) -> Location {
        let (line, col) = span.linecol_in(text);
        Location {
            line: line + 1,
            col: col + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// What happened to one directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The directive did what the script asserts.
    Passed,
    /// The directive did not; the message reads `expected ..., got ...`.
    Failed(String),
    /// The directive needs an engine feature that does not exist yet; the reason names it.
    Skipped(String),
}

/// The outcome of one directive, with where it is and what kind it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectiveReport {
    /// Where the directive starts.
    pub location: Location,
    /// The directive's keyword, e.g. `assert_return` or `module definition`; `parse` for a
    /// script that failed to parse.
    pub kind: &'static str,
    /// Passed, failed or skipped.
    pub outcome: Outcome,
    /// Extra detail for `--verbose`: the expected and actual error messages of
    /// `assert_invalid`, `assert_malformed` and `assert_unlinkable`.
    pub note: Option<String>,
}

/// Everything that happened while running one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptReport {
    /// The script's name as given to [`run_script`](crate::run_script), used as the path in
    /// failure messages.
    pub name: String,
    /// One entry per directive, in script order.
    pub directives: Vec<DirectiveReport>,
}

impl ScriptReport {
    /// An empty report for the script `name`.
    pub fn new(name: impl Into<String>) -> ScriptReport {
        ScriptReport {
            name: name.into(),
            directives: Vec::new(),
        }
    }

    /// A report holding a single failure, for a script that could not be run at all.
    pub fn single_failure(
        name: impl Into<String>,
        location: Location,
        kind: &'static str,
        message: impl Into<String>,
    ) -> ScriptReport {
        let mut report = ScriptReport::new(name);
        report.record(location, kind, Outcome::Failed(message.into()), None);
        report
    }

    /// Appends one directive's outcome.
    pub fn record(
        &mut self,
        location: Location,
        kind: &'static str,
        outcome: Outcome,
        note: Option<String>,
    ) {
        self.directives.push(DirectiveReport {
            location,
            kind,
            outcome,
            note,
        });
    }

    /// The directive counts of this script.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for d in &self.directives {
            match d.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }

    /// Number of directives that passed.
    pub fn passed(&self) -> usize {
        self.counts().passed
    }

    /// Number of directives that failed (a parse error counts as one).
    pub fn failed(&self) -> usize {
        self.counts().failed
    }

    /// Number of directives skipped for a missing engine feature.
    pub fn skipped(&self) -> usize {
        self.counts().skipped
    }

    /// Whether no directive failed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }

    /// The failed directives, in script order.
    pub fn failures(&self) -> impl Iterator<Item = &DirectiveReport> {
        self.directives
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Failed(_)))
    }

    /// One line per failed directive: `path:line:col: kind: expected ..., got ...`.
    pub fn failure_message(&self) -> String {
        let mut out = String::new();
        for d in self.failures() {
            if let Outcome::Failed(message) = &d.outcome {
                self.push_line(&mut out, d, message);
            }
        }
        out
    }

    /// The verdict on this report when the directives starting on `known` lines are expected
    /// to fail: `Ok(n)` with the number of those that did fail, or `Err` with a message
    /// naming every other failure and every listed directive that passed.
    pub fn check_known_directives(
        &self,
        known: &std::collections::HashMap<usize, String>,
    ) -> Result<usize, String> {
        let mut out = String::new();
        let mut known_failed = 0;
        for d in &self.directives {
            match (&d.outcome, known.contains_key(&d.location.line)) {
                (Outcome::Failed(_), true) => known_failed += 1,
                (Outcome::Failed(message), false) => self.push_line(&mut out, d, message),
                (_, true) => self.push_line(
                    &mut out,
                    d,
                    "unexpected pass; remove this line from known-failures.txt",
                ),
                (_, false) => {}
            }
        }
        if out.is_empty() {
            Ok(known_failed)
        } else {
            Err(out)
        }
    }

    /// What `--verbose` shows: each skipped directive with its reason and each note.
    pub fn verbose_message(&self) -> String {
        let mut out = String::new();
        for d in &self.directives {
            if let Outcome::Skipped(reason) = &d.outcome {
                self.push_line(&mut out, d, &format!("skipped: {reason}"));
            }
            if let Some(note) = &d.note {
                self.push_line(&mut out, d, note);
            }
        }
        out
    }

    fn push_line(&self, out: &mut String, d: &DirectiveReport, message: &str) {
        use fmt::Write as _;
        // Indent continuation lines (engine errors can span several) under their header.
        let message = message.trim_end().replace('\n', "\n    ");
        let _ = writeln!(out, "{}:{}: {}: {message}", self.name, d.location, d.kind);
    }
}

/// Directive counts, summed over any number of scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Directives that passed.
    pub passed: usize,
    /// Directives that failed.
    pub failed: usize,
    /// Directives skipped for a missing engine feature.
    pub skipped: usize,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "directives: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize) -> Location {
        Location { line, col }
    }

    #[test]
    fn counts_and_messages() {
        let mut r = ScriptReport::new("dir/x.wast");
        r.record(at(1, 1), "module", Outcome::Passed, None);
        r.record(
            at(3, 2),
            "assert_return",
            Outcome::Failed("expected i32:1, got i32:2".into()),
            None,
        );
        r.record(
            at(4, 2),
            "assert_return",
            Outcome::Skipped("externref not supported yet".into()),
            None,
        );
        r.record(
            at(5, 2),
            "assert_invalid",
            Outcome::Passed,
            Some("expected \"type mismatch\", got \"bad\"".into()),
        );
        r.record(
            at(7, 2),
            "assert_trap",
            Outcome::Failed("expected trap \"unreachable\", got error:\nline two".into()),
            None,
        );
        assert_eq!(
            r.counts(),
            Counts {
                passed: 2,
                failed: 2,
                skipped: 1
            }
        );
        assert!(!r.is_success());
        assert_eq!(
            r.failure_message(),
            "dir/x.wast:3:2: assert_return: expected i32:1, got i32:2\n\
             dir/x.wast:7:2: assert_trap: expected trap \"unreachable\", got error:\n    line two\n"
        );
        assert_eq!(
            r.verbose_message(),
            "dir/x.wast:4:2: assert_return: skipped: externref not supported yet\n\
             dir/x.wast:5:2: assert_invalid: expected \"type mismatch\", got \"bad\"\n"
        );
    }

    #[test]
    fn totals() {
        let mut total = Counts::default();
        total += Counts {
            passed: 3,
            failed: 1,
            skipped: 0,
        };
        total += Counts {
            passed: 2,
            failed: 0,
            skipped: 4,
        };
        assert_eq!(
            total.to_string(),
            "directives: 5 passed, 1 failed, 4 skipped"
        );
    }

    #[test]
    fn span_locations_are_one_based() {
        let text = "(module)\n  (assert_return)";
        let span = wast::token::Span::from_offset(11);
        assert_eq!(Location::of_span(span, text), at(2, 3));
    }
}
