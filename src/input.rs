//! Reading the JSON files Airbyte hands us (config, catalog, state) safely:
//! bounded size, clear messages naming the file, never a panic.

use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Largest input file we read (a configured catalog of 22 streams with schemas is
/// well under 1 MiB; anything this large is not an Airbyte input).
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Read `path` as JSON. `what` names the file's role in messages ("config", ...).
pub fn read_json_file(path: &Path, what: &str) -> Result<Value, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("Cannot read the {what} file {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("Cannot read the {what} file {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "The {what} file {} is larger than {} MiB; it is not a valid {what}",
            path.display(),
            MAX_INPUT_BYTES / 1024 / 1024
        ));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(format!("The {what} file {} is empty", path.display()));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "The {what} file {} is not valid JSON (line {}, column {}: {})",
            path.display(),
            e.line(),
            e.column(),
            match e.classify() {
                serde_json::error::Category::Syntax => "syntax error",
                serde_json::error::Category::Eof => "unexpected end of file",
                serde_json::error::Category::Data => "unexpected data",
                serde_json::error::Category::Io => "read error",
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(content: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "sa-input-{}-{}",
            std::process::id(),
            crate::protocol::now_ms() ^ content.len() as i64
        ));
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn names_the_file_and_the_problem() {
        let missing = read_json_file(Path::new("/nonexistent/c.json"), "config").unwrap_err();
        assert!(missing.contains("/nonexistent/c.json") && missing.contains("config"));
        let p = tmp(b"  \n");
        assert!(read_json_file(&p, "config").unwrap_err().contains("empty"));
        let p = tmp(b"{\"a\": ");
        assert!(
            read_json_file(&p, "catalog")
                .unwrap_err()
                .contains("not valid JSON")
        );
        let p = tmp(&[0xff, 0x00, 0x13]);
        assert!(
            read_json_file(&p, "state")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn secret_values_in_bad_json_are_not_echoed() {
        let p = tmp(b"{\"api_key\": \"abc-123456789\", oops}");
        let e = read_json_file(&p, "config").unwrap_err();
        assert!(!e.contains("abc-123456789"));
    }
}
