//! SQLite's binary JSON (JSONB, <https://sqlite.org/jsonb.html>), as much
//! of it as the audit rows need: an array of arrays of text and nulls.
//!
//! Written here rather than through `serde_sqlite_jsonb`, which it
//! replaces: that crate writes every string through `fmt` and a nine-byte
//! header it then shrinks, 2,500 instructions of each failed login's row
//! (callgrind, bench/instructions.sh), where these few lines copy bytes.
//! A test reads what they write back through SQLite's own `json()`.

/// The element types the rows use (the low four bits of a header).
const NULL: u8 = 0x0;
/// Text stored as it is, without JSON's escapes: SQLite escapes it if it
/// ever renders it as JSON, and `->>` hands it back unchanged.
const TEXT_RAW: u8 = 0xa;
const ARRAY: u8 = 0xb;

/// Appends the header of an element of `kind` whose payload is `size`
/// bytes, in the fewest bytes: a size up to 11 in the header's own upper
/// four bits, a larger one in the 1, 2, 4 or 8 big-endian bytes after it
/// (upper bits 12 to 15).
fn header(out: &mut Vec<u8>, kind: u8, size: usize) {
    if size <= 11 {
        // Fits: at most 11, shifted into the upper four bits.
        out.push(((size as u8) << 4) | kind);
    } else if let Ok(size) = u8::try_from(size) {
        out.extend_from_slice(&[0xc0 | kind, size]);
    } else if let Ok(size) = u16::try_from(size) {
        out.push(0xd0 | kind);
        out.extend_from_slice(&size.to_be_bytes());
    } else if let Ok(size) = u32::try_from(size) {
        out.push(0xe0 | kind);
        out.extend_from_slice(&size.to_be_bytes());
    } else {
        out.push(0xf0 | kind);
        out.extend_from_slice(&(size as u64).to_be_bytes());
    }
}

/// An array of rows, each an array of text or null, built one row at a
/// time: `text`/`null` add to the row being built, `end_row` closes it.
#[derive(Debug, Default)]
pub struct Rows {
    /// The rows closed so far, each with its header.
    rows: Vec<u8>,
    /// The row being built, without its header (its size is not known
    /// until it ends).
    row: Vec<u8>,
}

impl Rows {
    /// Room for `rows` rows of a failed login's size (about 150 bytes).
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            rows: Vec::with_capacity(rows * 160),
            row: Vec::with_capacity(256),
        }
    }

    pub fn text(&mut self, text: &str) {
        header(&mut self.row, TEXT_RAW, text.len());
        self.row.extend_from_slice(text.as_bytes());
    }

    pub fn null(&mut self) {
        self.row.push(NULL);
    }

    pub fn text_or_null(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.text(text),
            None => self.null(),
        }
    }

    pub fn end_row(&mut self) {
        header(&mut self.rows, ARRAY, self.row.len());
        self.rows.extend_from_slice(&self.row);
        self.row.clear();
    }

    /// The array of every row ended.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rows.len() + 9);
        header(&mut out, ARRAY, self.rows.len());
        out.extend_from_slice(&self.rows);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    /// What SQLite makes of `rows`: its `json()` of them, and whether its
    /// `json_valid(…, 8)` (strict JSONB) takes them.
    async fn read_back(db: &sea_orm::DatabaseConnection, rows: Vec<u8>) -> (String, bool) {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT json(?1), json_valid(?1, 8)",
                [rows.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        (
            row.try_get_by_index(0).unwrap(),
            row.try_get_by_index(1).unwrap(),
        )
    }

    #[tokio::test]
    async fn sqlite_reads_the_rows_as_the_json_they_stand_for() {
        let db = crate::db::in_memory().await;
        // Texts on each side of every header size, and ones JSON must escape.
        let texts: Vec<String> = [0, 1, 11, 12, 255, 256, 65_535, 65_536]
            .iter()
            .map(|&n| "é".repeat(n / 2) + &"x".repeat(n % 2))
            .chain(["\"quoted\" \\ \n\t\u{1}".to_owned(), String::new()])
            .collect();
        let mut rows = Rows::with_capacity(2);
        let mut expected = Vec::new();
        for text in &texts {
            rows.text(text);
            rows.null();
            rows.text_or_null(Some(text));
            rows.text_or_null(None);
            rows.end_row();
            expected.push(serde_json::json!([text, null, text, null]));
        }
        // An empty row, and a row whose payload is exactly 11 and 12 bytes.
        rows.end_row();
        expected.push(serde_json::json!([]));
        rows.text("123456789");
        rows.end_row();
        expected.push(serde_json::json!(["123456789"]));
        rows.text("1234567890");
        rows.end_row();
        expected.push(serde_json::json!(["1234567890"]));
        let (json, valid) = read_back(&db, rows.finish()).await;
        assert!(valid, "strict JSONB");
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json, serde_json::Value::Array(expected));

        let (json, valid) = read_back(&db, Rows::default().finish()).await;
        assert!(valid);
        assert_eq!(json, "[]");
    }

    #[test]
    fn headers_are_as_short_as_their_size_allows() {
        let head = |size| {
            let mut out = Vec::new();
            header(&mut out, TEXT_RAW, size);
            out
        };
        assert_eq!(head(0), [0x0a]);
        assert_eq!(head(11), [0xba]);
        assert_eq!(head(12), [0xca, 12]);
        assert_eq!(head(255), [0xca, 255]);
        assert_eq!(head(256), [0xda, 1, 0]);
        assert_eq!(head(65_536), [0xea, 0, 1, 0, 0]);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(head(1 << 32), [0xfa, 0, 0, 0, 1, 0, 0, 0, 0]);
    }
}
