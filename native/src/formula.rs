//! Which entries of a cleaned CSV copy may hold a cell that starts a formula, or a line break: the rows
//! `ppcti.cleaned.CleanedWriter` rewrites cell by cell. One byte scan per entry, where the Python side's
//! pattern `(?:^|D)"?[=+\-@\t]|[\r\n]` (D the delimiter) cost a regex search from every delimiter.

use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::DataType;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// Whether `text` matches `(?:^|D)"?[=+\-@\t]|[\r\n]`.
fn risky(text: &[u8], delimiter: u8) -> bool {
    if memchr::memchr2(b'\r', b'\n', text).is_some() {
        return true;
    }
    let starts_formula = |at: usize| {
        let at = if text.get(at) == Some(&b'"') {
            at + 1
        } else {
            at
        };
        matches!(text.get(at), Some(b'=' | b'+' | b'-' | b'@' | b'\t'))
    };
    // a quote alone cannot start one, so a cell is risky only when one of these follows its start
    starts_formula(0) || memchr::memchr_iter(delimiter, text).any(|at| starts_formula(at + 1))
}

/// The indexes of the risky entries of a table's only column, strings (a null is an empty entry);
/// `delimiter` is one ASCII character.
#[pyfunction]
pub(crate) fn risky_rows(py: Python<'_>, table: PyTable, delimiter: &str) -> PyResult<Vec<u32>> {
    let delimiter = match delimiter.as_bytes() {
        [c] if c.is_ascii() => *c,
        _ => return Err(PyValueError::new_err("not a one-byte ASCII delimiter")),
    };
    let (batches, _) = table.into_inner();
    py.detach(|| {
        let mut found = Vec::new();
        let mut row = 0u32;
        for batch in &batches {
            if batch.num_columns() != 1 {
                return Err(PyValueError::new_err("expected one column"));
            }
            let column = batch.column(0);
            let mut check = |value: Option<&str>| {
                if risky(value.unwrap_or("").as_bytes(), delimiter) {
                    found.push(row);
                }
                row += 1;
            };
            match column.data_type() {
                DataType::Utf8View => column.as_string_view().iter().for_each(&mut check),
                DataType::Utf8 => column.as_string::<i32>().iter().for_each(&mut check),
                DataType::LargeUtf8 => column.as_string::<i64>().iter().for_each(&mut check),
                other => return Err(PyValueError::new_err(format!("not strings: {other}"))),
            }
        }
        Ok(found)
    })
}

#[cfg(test)]
mod tests {
    use super::risky;

    #[test]
    fn cells_that_start_a_formula() {
        for text in [
            "=1", "a,=1", "a,\"+1", "\"-1", "a,@x", "a,\tb", "a\nb", "a\rb",
        ] {
            assert!(risky(text.as_bytes(), b','), "{text:?}");
        }
        for text in ["", "a", "a,b-1", "a,\"\"=1", "a;=1", "\"", "a,\""] {
            assert!(!risky(text.as_bytes(), b','), "{text:?}");
        }
    }
}
