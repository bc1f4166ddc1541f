//! Writing export files safely: in a folder the app owns (`Downloads/Defender Desk`) under a
//! portable name made from untrusted parts (thing and metric names come from devices), always
//! a new file — never through a symbolic link, never over an existing file — and a numbered
//! name when one is taken; at a path the user gave, through a new file renamed into place, so a
//! link at that path is replaced rather than followed.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Longest file name written, in characters.
const MAX_NAME: usize = 120;

/// Names Windows reserves for devices, whatever the extension (`NUL.csv` is the null device).
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file name from untrusted parts that is valid on Windows, macOS and Linux: letters, digits,
/// `-`, `_` and `.` only (anything else becomes `_`), no leading dot, no trailing dot, not a
/// reserved device name, at most [`MAX_NAME`] characters (the end, with the extension, kept).
pub fn portable_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim_end_matches('.');
    let skip = cleaned.chars().count().saturating_sub(MAX_NAME);
    let mut out: String = cleaned.chars().skip(skip).collect();
    if out.is_empty() {
        out = "export".into();
    }
    let stem = out.split('.').next().unwrap_or_default();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        out.insert(0, '_');
    }
    out
}

/// Writes `bytes` to a new file named from `name` in `dir` (created if missing): `name`,
/// else `name-2`, `name-3`, … before the extension. Returns the path written.
pub fn save_new(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = portable_name(name);
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    for n in 1..=1000u32 {
        let candidate = if n == 1 {
            name.clone()
        } else {
            format!("{stem}-{n}{ext}")
        };
        let path = dir.join(&candidate);
        // create_new is O_CREAT|O_EXCL (CREATE_NEW on Windows): it fails on any existing
        // entry, a symbolic link (even a dangling one) included, and never follows it.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "{name}: 1000 files of that name exist already in {}",
            dir.display()
        ),
    ))
}

/// Writes a file at a path the user chose: into a new temporary file beside it, then renamed
/// over it, so an existing file is replaced whole and a symbolic link at `path` is replaced,
/// not followed.
pub fn write_replacing(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_portable() {
        assert_eq!(portable_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(portable_name("cam:1.csv"), "cam_1.csv");
        assert_eq!(portable_name("NUL.csv"), "_NUL.csv");
        assert_eq!(portable_name("com1"), "_com1");
        assert_eq!(portable_name("CONSOLE.csv"), "CONSOLE.csv");
        assert_eq!(portable_name("report."), "report");
        assert_eq!(portable_name("..."), "export");
        assert_eq!(
            portable_name(&format!("{}.png", "x".repeat(500))).len(),
            MAX_NAME
        );
    }

    #[test]
    fn saving_never_overwrites_and_never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        // Regression: `cam:1` and `cam_1` wrote the same file, the second replacing the first.
        let a = save_new(dir.path(), "cam:1.csv", b"first").unwrap();
        let b = save_new(dir.path(), "cam_1.csv", b"second").unwrap();
        assert_ne!(a, b);
        assert_eq!(b.file_name().unwrap(), "cam_1-2.csv");
        assert_eq!(std::fs::read(&a).unwrap(), b"first");
        #[cfg(unix)]
        {
            let target = dir.path().join("victim");
            std::fs::write(&target, b"keep").unwrap();
            std::os::unix::fs::symlink(&target, dir.path().join("link.csv")).unwrap();
            let c = save_new(dir.path(), "link.csv", b"payload").unwrap();
            assert_eq!(c.file_name().unwrap(), "link-2.csv");
            assert_eq!(std::fs::read(&target).unwrap(), b"keep");
            // A path the user gave that is a link: the link is replaced, the target kept.
            let link = dir.path().join("out.csv");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            write_replacing(&link, |w| w.write_all(b"new")).unwrap();
            assert_eq!(std::fs::read(&target).unwrap(), b"keep");
            assert_eq!(std::fs::read(&link).unwrap(), b"new");
            assert!(!std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
        }
    }
}
