//! The journal behind `--state DIR`: one JSON record per line in `DIR/journal.jsonl`, appended
//! for every acknowledged change (a successful mutating request, with the model-level input, the
//! time and the ARN suffix it assigned, or the service's clean-up after a rotation function
//! finished) and synced to disk before the answer is sent. On start the records are replayed.
//!
//! A crash can cut the last record short: only that is tolerated (the torn tail is cut off, since
//! no answer was sent for it). Any other unreadable line is a startup error naming the line, so
//! that no acknowledged write is ever silently lost.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File name of the journal inside the state folder.
pub const FILE_NAME: &str = "journal.jsonl";

/// One acknowledged change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Record {
    /// A successful mutating request, as the model took it.
    Request {
        /// Wall-clock time of the request, epoch milliseconds.
        t: u64,
        region: String,
        op: String,
        /// The model-level input (`Request::input_json`: names resolved, unknown members gone).
        input: Value,
        /// The ARN suffix given to the secret this request created, if it created one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suffix: Option<String>,
        /// The tags a CreateSecret gave the secret it created (kept beside the model).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Value>,
    },
    /// A successful change to what the server keeps beside the model (tags, resource policy).
    Meta { t: u64, region: String, op: String, name: String, input: Value },
    /// A URL rotation function completed finishSecret; the service cleaned up (R6).
    RotationFinished { t: u64, region: String, name: String, token: String },
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("journal {path} line {line} is damaged ({reason}); refusing to start rather than lose acknowledged writes (move the file away to start empty)")]
    Damaged { path: PathBuf, line: usize, reason: String },
    #[error("journal {path} line {line}: replaying {what} no longer succeeds ({reason}); refusing to start")]
    Diverged { path: PathBuf, line: usize, what: String, reason: String },
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens (creating the folder and file if needed) and reads the journal in `dir`. Returns the
    /// journal and its records with their line numbers. A torn final record is cut off.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<(usize, Record)>), JournalError> {
        let path = dir.join(FILE_NAME);
        let io = |source| JournalError::Io { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let (records, good_len) = parse(&path, &bytes)?;
        if good_len < bytes.len() {
            // The torn tail: no answer was sent for it.
            file.set_len(good_len as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((Journal { file, path }, records))
    }

    /// Appends `record` and syncs it to disk.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| JournalError::Io { path: self.path.clone(), source: std::io::Error::other(e) })?;
        line.push(b'\n');
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    /// Empties the journal (a reset).
    pub fn clear(&mut self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        self.file.set_len(0).map_err(io)?;
        self.file.sync_all().map_err(io)
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses the journal's bytes: the records, and how many bytes hold complete records.
fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<(usize, Record)>, usize), JournalError> {
    let mut records = Vec::new();
    let mut start = 0;
    let mut line = 0;
    while start < bytes.len() {
        line += 1;
        let end = bytes[start..].iter().position(|b| *b == b'\n').map(|p| start + p);
        let text = &bytes[start..end.unwrap_or(bytes.len())];
        let parsed = std::str::from_utf8(text)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Record>(t).map_err(|e| e.to_string()));
        match (parsed, end) {
            (Ok(r), Some(e)) => {
                records.push((line, r));
                start = e + 1;
            }
            // The last line has no newline: the write was cut short, so it was never
            // acknowledged. Drop it whether or not it happens to parse.
            (_, None) => return Ok((records, start)),
            (Err(reason), Some(_)) => {
                return Err(JournalError::Damaged { path: path.to_path_buf(), line, reason });
            }
        }
    }
    Ok((records, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: u64) -> Record {
        Record::Request {
            t,
            region: "us-east-1".into(),
            op: "CreateSecret".into(),
            input: serde_json::json!({"Name": "s"}),
            suffix: Some("abcdef".into()),
            tags: None,
        }
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sm-server-journal-{tag}-{}", crate::random::uuid()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut() {
        let dir = temp_dir("torn");
        {
            let (mut j, recs) = Journal::open(&dir).unwrap();
            assert!(recs.is_empty());
            j.append(&rec(1)).unwrap();
            j.append(&rec(2)).unwrap();
        }
        let path = dir.join(FILE_NAME);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"kind\":\"request\",\"t\":3,\"reg").unwrap();
        drop(f);
        let (mut j, recs) = Journal::open(&dir).unwrap();
        assert_eq!(recs.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), vec![rec(1), rec(2)]);
        j.append(&rec(4)).unwrap();
        drop(j);
        let (_, recs) = Journal::open(&dir).unwrap();
        assert_eq!(recs.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_middle_line_is_an_error() {
        let dir = temp_dir("damaged");
        let path = dir.join(FILE_NAME);
        let good = serde_json::to_string(&rec(1)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        let err = Journal::open(&dir).unwrap_err();
        assert!(matches!(err, JournalError::Damaged { line: 2, .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
