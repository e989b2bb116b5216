//! CSV as people export it from spreadsheets and other tools (RFC 4180: quoted fields,
//! doubled quotes, CRLF, a leading byte-order mark), read from text and written to
//! text. Errors name the line and column, so a person can find and fix the cell.

use std::fmt;

/// A malformed CSV text: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based line of the file.
    pub line: usize,
    /// 1-based field number within the record.
    pub column: usize,
    pub message: String,
}

impl CsvError {
    pub fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        CsvError { line, column, message: message.into() }
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for CsvError {}

/// Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, CRLF).
/// Each record comes with its 1-based starting line; errors name line and column.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let mut records = Vec::new();
    let mut field = String::new();
    let mut record = Vec::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            '"' => return Err(CsvError::new(line, record.len() + 1, "a quote inside an unquoted field")),
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].is_empty()) {
                    records.push((record_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                record_line = line;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::new(record_line, record.len() + 1, "a quoted field is never closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

/// One field as CSV, quoted when it holds a comma, quote or line break.
///
/// A cell that a spreadsheet would run as a formula — one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return — is written with a leading apostrophe (OWASP's
/// advice against CSV injection), since the texts in hiwar's files come from the
/// public. Numbers such as `-1` are left as they are.
pub fn field(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err();
    let value = if formula { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One record as a CSV line, with its newline.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_errors_with_positions() {
        let rows = parse("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",z\n").unwrap();
        assert_eq!(rows[1], (2, vec!["x, y".to_string(), "say \"hi\"".to_string()]));
        assert_eq!(rows[2], (3, vec!["two\nlines".to_string(), "z".to_string()]));
        assert_eq!(parse("a\n\"open\n").unwrap_err(), CsvError::new(2, 1, "a quoted field is never closed"));
        assert_eq!(parse("a,b\nx,y\"z\n").unwrap_err().column, 2);
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for cell in ["+1+1 ", "-2+3 x", "@SUM(A1)", "\tx", "\rx"] {
            assert!(field(cell).trim_start_matches('"').starts_with('\''), "{cell:?}");
        }
        assert_eq!(field("-1"), "-1");
        assert_eq!(field("+0.5"), "+0.5");
        assert_eq!(field("plain"), "plain");
    }

    #[test]
    fn what_is_written_reads_back() {
        let fields = ["plain", "a,b", "say \"hi\"", "two\nlines", ""];
        let text = line(&fields);
        assert_eq!(parse(&text).unwrap()[0].1, fields);
    }
}
