//! `cargo xtask testkit --rust-error-names`: run a copy of the suite that knows Quiver's error
//! names.
//!
//! About 26 of TestKit's assertion helpers compare `errorType` with each official driver's
//! exception class names and end in `self.fail("no error mapping is defined for %s driver")`
//! for any other driver; the official drivers keep their branch in the suite upstream. Those
//! tests therefore fail for Quiver whatever it does. With this option xtask copies the suite
//! into `target/testkit/suite-rust/` and adds an `elif driver in ["rust"]:` branch to each of
//! those helpers, asserting Quiver's counterpart of what the other drivers' branches assert (the
//! same kind of error; code and message checks kept). The checkout in `--testkit-dir` is not
//! changed, and the unmodified suite stays the reference: report both runs.
//!
//! Each branch is anchored on its helper's name; if the suite changed so that an anchor is
//! missing, the command stops instead of running a half-patched suite.

use std::fs;
use std::path::Path;

use crate::Error;

/// The line every such helper ends with.
const NO_MAPPING: &str = "self.fail(\"no error mapping is defined for %s driver\" % driver)";

/// One helper: its file under `tests/stub/`, its name, and the body of the rust branch (Python
/// lines, without the branch's own indentation).
struct Branch {
    file: &'static str,
    helper: &'static str,
    body: &'static [&'static str],
}

/// A server failure: the helpers have already checked its code and message; `_assert_retryable`
/// after them checks whether it is retryable.
const SERVER_ERROR: &[&str] = &["expected_type = \"ServerError\""];
const SERVICE_UNAVAILABLE: &[&str] = &["self.assertEqual(\"ServiceUnavailable\", error.errorType)"];
const AUTHORIZATION: &str = "authorization/test_authorization.py";

const BRANCHES: &[Branch] = &[
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_authorization_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "_assert_is_retryable_authorization_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_token_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "_assert_is_retryable_token_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_unauthorized_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "_assert_is_retryable_unauthorized_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_security_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "_assert_is_retryable_security_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_transient_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_is_random_error",
        body: SERVER_ERROR,
    },
    Branch {
        file: AUTHORIZATION,
        helper: "assert_re_auth_unsupported_error",
        // Python: ConfigurationError "user switching is not supported for bolt protocol
        // version(5, 0)".
        body: &[
            "self.assertEqual(\"Configuration\", error.errorType)",
            "self.assertIn(\"per-session auth\", error.msg.lower())",
            "self.assertIn(\"bolt 5.0\", error.msg.lower())",
        ],
    },
    Branch {
        file: "configuration_hints/test_connection_recv_timeout_seconds.py",
        helper: "_assert_is_timeout_exception",
        // Python: ServiceUnavailable. Quiver reports a connection lost inside a transaction as
        // SessionExpired (retryable, like ServiceUnavailable), the timeout as its reason.
        body: &[
            "self.assertIn(e.errorType, [\"ServiceUnavailable\", \"SessionExpired\"])",
            "self.assertIn(\"sent nothing for\", e.msg)",
        ],
    },
    Branch {
        file: "configuration_hints/test_connection_recv_timeout_seconds.py",
        helper: "_assert_is_tx_terminated_exception",
        // Python: TransactionError, for a failed and for a closed transaction alike.
        body: &["self.assertIn(e.errorType, [\"TransactionFailed\", \"TransactionClosed\"])"],
    },
    Branch {
        file: "tx_run/test_tx_run.py",
        helper: "_assert_is_client_exception",
        body: &[
            "self.assertEqual(\"ServerError\", e.exception.errorType)",
            "self.assertIn(\"Neo.ClientError.\", e.exception.code)",
        ],
    },
    Branch {
        file: "tx_run/test_tx_run.py",
        helper: "_assert_is_tx_terminated_exception",
        body: &["self.assertEqual(\"TransactionFailed\", e.exception.errorType)"],
    },
    Branch {
        file: "tx_lifetime/test_tx_lifetime.py",
        helper: "_asserts_tx_closed_error",
        body: &[
            "self.assertEqual(exc.errorType, \"TransactionClosed\")",
            "self.assertIn(\"closed\", exc.msg.lower())",
        ],
    },
    Branch {
        file: "tx_lifetime/test_tx_lifetime.py",
        helper: "_asserts_tx_managed_error",
        // Python: AttributeError (its managed transaction has no commit/rollback); Quiver's
        // transaction function's transaction refuses them.
        body: &[
            "self.assertEqual(exc.errorType, \"TransactionClosed\")",
            "self.assertIn(\"transaction function\", exc.msg.lower())",
        ],
    },
    Branch {
        file: "server_side_routing/test_server_side_routing.py",
        helper: "test_direct_connection_with_url_params",
        body: &[
            "self.assertEqual(\"Configuration\", exc.exception.errorType)",
            "self.assertIn(uri, exc.exception.msg)",
        ],
    },
    Branch {
        file: "iteration/test_result_list.py",
        helper: "_assert_connection_error",
        body: SERVICE_UNAVAILABLE,
    },
    Branch {
        file: "iteration/test_result_optional_single.py",
        helper: "_assert_not_exactly_one_record_warning",
        body: &["self.assertIn(\"multiple\", warning)"],
    },
    Branch {
        file: "iteration/test_result_optional_single.py",
        helper: "_assert_connection_error",
        body: SERVICE_UNAVAILABLE,
    },
    Branch {
        file: "iteration/test_result_peek.py",
        helper: "_assert_connection_error",
        body: SERVICE_UNAVAILABLE,
    },
    Branch {
        file: "iteration/test_result_scope.py",
        helper: "_assert_result_out_of_scope_exception",
        body: &[
            "self.assertEqual(exc.errorType, \"ResultConsumed\")",
            "self.assertIn(\"closed\", exc.msg.lower())",
            "self.assertIn(\"transaction\", exc.msg.lower())",
        ],
    },
    Branch {
        file: "iteration/test_result_scope.py",
        helper: "_assert_result_consumed_exception",
        body: &[
            "self.assertEqual(exc.errorType, \"ResultConsumed\")",
            "self.assertIn(\"consume\", exc.msg.lower())",
        ],
    },
    Branch {
        file: "iteration/test_result_single.py",
        helper: "_assert_not_exactly_one_record_error",
        body: &["self.assertEqual(\"ResultNotSingle\", error.errorType)"],
    },
    Branch {
        file: "iteration/test_result_single.py",
        helper: "_assert_connection_error",
        body: SERVICE_UNAVAILABLE,
    },
];

/// Copy the suite at `checkout` to `copy` (without its `.venv`, `.git` and caches) and add the
/// rust branches. Returns how many helpers got one.
pub(crate) fn prepare(checkout: &Path, copy: &Path) -> Result<usize, Error> {
    if copy.exists() {
        fs::remove_dir_all(copy).map_err(Error::io(format!("removing {}", copy.display())))?;
    }
    copy_tree(checkout, copy)?;
    let stub = copy.join("tests").join("stub");
    let mut patched = 0;
    let mut files: Vec<&str> = BRANCHES.iter().map(|branch| branch.file).collect();
    files.sort_unstable();
    files.dedup();
    for file in files {
        let path = stub.join(file);
        let mut source =
            fs::read_to_string(&path).map_err(Error::io(format!("reading {}", path.display())))?;
        for branch in BRANCHES.iter().filter(|branch| branch.file == file) {
            source = add_branch(&source, branch).map_err(|why| {
                Error::Failed(format!(
                    "--rust-error-names: {file} `{}`: {why}; this suite version differs from the \
                     one the rust branches were written for",
                    branch.helper
                ))
            })?;
            patched += 1;
        }
        fs::write(&path, source).map_err(Error::io(format!("writing {}", path.display())))?;
    }
    Ok(patched)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to).map_err(Error::io(format!("creating {}", to.display())))?;
    let entries = fs::read_dir(from).map_err(Error::io(format!("reading {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("reading {}", from.display())))?;
        let name = entry.file_name();
        if [".venv", ".git", "__pycache__"]
            .iter()
            .any(|skip| name == *skip)
        {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(Error::io(format!("reading {}", entry.path().display())))?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)
                .map_err(Error::io(format!("copying {}", entry.path().display())))?;
        }
    }
    Ok(())
}

/// Insert `branch` before the `else:` that leads to the helper's "no error mapping" failure.
fn add_branch(source: &str, branch: &Branch) -> Result<String, &'static str> {
    let def = format!("\n    def {}(", branch.helper);
    let start = source.find(&def).ok_or("helper not found")? + def.len();
    let fail = start
        + source[start..]
            .find(NO_MAPPING)
            .ok_or("no `no error mapping` line")?;
    if source[start..fail].contains("\n    def ") {
        return Err("its `no error mapping` line is in another function");
    }
    // The `else:` line just before the failure line.
    let fail_line = source[..fail]
        .rfind('\n')
        .ok_or("no line before the failure")?;
    let else_line = source[..fail_line].rfind('\n').ok_or("no `else:` line")? + 1;
    let else_text = &source[else_line..fail_line];
    if else_text.trim() != "else:" {
        return Err("the failure does not follow an `else:`");
    }
    let indent = &else_text[..else_text.len() - else_text.trim_start().len()];
    // Test methods call get_driver_name() inline (one of them has no `driver` variable).
    let condition = if branch.helper.starts_with("test_") {
        "elif get_driver_name() in [\"rust\"]:"
    } else {
        "elif driver in [\"rust\"]:"
    };
    let mut patched = String::with_capacity(source.len() + 256);
    patched.push_str(&source[..else_line]);
    patched.push_str(indent);
    patched.push_str(condition);
    patched.push('\n');
    for line in branch.body {
        patched.push_str(indent);
        patched.push_str("    ");
        patched.push_str(line);
        patched.push('\n');
    }
    patched.push_str(&source[else_line..]);
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELPER: &str = "class T:\n    def _assert_connection_error(self, error):\n        driver = get_driver_name()\n        if driver in [\"python\"]:\n            pass\n        else:\n            self.fail(\"no error mapping is defined for %s driver\" % driver)\n\n    def other(self):\n        pass\n";

    #[test]
    fn a_branch_goes_before_the_else() {
        let branch = Branch {
            file: "x.py",
            helper: "_assert_connection_error",
            body: SERVICE_UNAVAILABLE,
        };
        let patched = add_branch(HELPER, &branch).unwrap();
        assert!(patched.contains(
            "            pass\n        elif driver in [\"rust\"]:\n            self.assertEqual(\"ServiceUnavailable\", error.errorType)\n        else:\n"
        ));
    }

    #[test]
    fn a_missing_anchor_is_refused() {
        let missing = Branch {
            file: "x.py",
            helper: "_assert_something_else",
            body: SERVICE_UNAVAILABLE,
        };
        assert_eq!(add_branch(HELPER, &missing), Err("helper not found"));
        let elsewhere = Branch {
            file: "x.py",
            helper: "other",
            body: SERVICE_UNAVAILABLE,
        };
        assert!(add_branch(HELPER, &elsewhere).is_err());
    }
}
