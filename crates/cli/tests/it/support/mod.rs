//! What every `ddesk` test shares: the binary under test with a private cache (and, for tests
//! against real peers, a private HOME and test AWS credentials), the fixtures, and reading its
//! JSON output. [`servers`] starts the real protocol peers (moto, the emulators).

#![allow(dead_code)]

pub mod servers;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A document under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    servers::repo().join("tests/fixtures").join(name)
}

/// `ddesk --db DB`, never the caller's `DDESK_DB`; with `home`, a private HOME and test AWS
/// credentials that reach only the peers the test names (see [`servers::aws_env`]).
pub fn command(db: &Path, home: Option<&Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ddesk"));
    match home {
        Some(h) => servers::aws_env(&mut c, h),
        None => {
            c.env_remove("DDESK_DB");
        }
    }
    c.arg("--db").arg(db);
    c
}

/// [`command`] for assertions (`.assert()`), cut off after two minutes: a hang fails the test.
pub fn ddesk(db: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::from_std(command(db, None));
    c.timeout(Duration::from_secs(120));
    c
}

/// Its stdout as JSON (`null` when it is not JSON).
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Runs it; its output and its stdout as JSON.
pub fn run(cmd: &mut Command) -> (Output, Value) {
    let out = cmd.output().unwrap();
    let v = json(&out);
    (out, v)
}

/// Runs it with `stdin` written to its standard input (a token, a confirmation).
pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> (Output, Value) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v = json(&out);
    (out, v)
}

/// Runs it, asserting success (the failure message shows the command, its exit code and
/// stderr); its stdout as JSON.
pub fn ok(cmd: &mut Command) -> Value {
    let (out, v) = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} exit {:?}: {}\n{v}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

/// `ddesk --db DB ARGS…` run and asserted successful; its JSON.
pub fn json_out(db: &Path, args: &[&str]) -> Value {
    ok(command(db, None).args(args))
}

/// Runs it, asserts success, returns its stdout as text.
pub fn ok_text(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
