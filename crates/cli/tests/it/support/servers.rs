//! Real protocol peers for the sync and action tests: `moto_server` (S3, IoT thing groups,
//! STS) and the emulators under `tests/emulators/` (Device Defender API, Splunk), each started
//! on a free port and killed when dropped. They run from the Python venv that `scripts/test.sh`
//! creates (`.ci-venv`, or `DDESK_TEST_VENV`); without it the tests fail and say so.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("DDESK_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci-venv"));
    let p = venv.join("bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run `bash scripts/test.sh` (it creates the venv with moto, boto3 and splunk-sdk)",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway test root: `home/` for HOME, the cache at `data/cache.sqlite`.
pub struct Env {
    _dir: tempfile::TempDir,
    /// The root folder.
    pub root: PathBuf,
    /// HOME of the `ddesk` processes.
    pub home: PathBuf,
    /// The cache database.
    pub db: PathBuf,
}

pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let home = root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    Env {
        db: root.join("data/cache.sqlite"),
        home,
        root,
        _dir: dir,
    }
}

/// The content fingerprint of a cache (see `Store::fingerprint`).
pub fn fingerprint(db: &Path) -> String {
    desk_engine::store::Store::open(db)
        .unwrap()
        .fingerprint()
        .unwrap()
}

/// A child process killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = url.trim_start_matches("http://").to_string();
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not come up");
}

pub fn moto() -> Server {
    let port = free_port();
    let child = Command::new(venv_bin("moto_server"))
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let url = format!("http://127.0.0.1:{port}");
    wait_for(&url.clone());
    Server { child, url }
}

pub fn python_server(script: &str, args: &[&str]) -> Server {
    let mut child = Command::new(venv_bin("python"))
        .arg(repo().join("tests/emulators").join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{script}: {line}"))
        .parse()
        .unwrap();
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Writes a dataset (`defender` or `splunk`) generated for `now` (epoch seconds).
pub fn dataset(kind: &str, now: i64, out: &Path) -> serde_json::Value {
    let status = Command::new(venv_bin("python"))
        .arg(repo().join("tests/emulators/dataset.py"))
        .args([kind, "--out"])
        .arg(out)
        .args(["--now", &now.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

pub fn defender(data: &Path, moto: &Server) -> Server {
    python_server(
        "defender_emulator.py",
        &["--data", data.to_str().unwrap(), "--moto", &moto.url],
    )
}

pub fn splunk(data: &Path, token: &str) -> Server {
    python_server(
        "splunk_emulator.py",
        &["--data", data.to_str().unwrap(), "--token", token],
    )
}

/// The Splunk emulator over HTTPS with `cert`/`key` (URL `https://127.0.0.1:PORT`).
pub fn splunk_tls(data: &Path, token: &str, cert: &Path, key: &Path) -> Server {
    let mut s = python_server(
        "splunk_emulator.py",
        &[
            "--data",
            data.to_str().unwrap(),
            "--token",
            token,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    s.url = s.url.replace("http://", "https://");
    s
}

/// POSTs a JSON control message to an emulator.
pub fn control(server: &Server, path: &str, body: &serde_json::Value) {
    control_at(&server.url, path, body)
}

/// [`control`] of a server another process started.
pub fn control_at(url: &str, path: &str, body: &serde_json::Value) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body.to_string()).unwrap();
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", "--data-binary"])
        .arg(format!("@{}", file.path().display()))
        .arg(format!("{url}{path}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "control {path} failed");
}

/// Environment for a `ddesk` process talking to the test servers: static test credentials,
/// no shared config files, no instance metadata.
pub fn aws_env(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DDESK_DB");
}
